-- ARGV: now, peer, lines, experiences, languages, channels (comma-separated), max_texts.
-- A new peer starts off; a known one keeps its presence and load.
local peer_id = ARGV[2]
plan_peer(peer_id, nil, {ARGV[3], ARGV[4], ARGV[5], ARGV[6]})
local need = plan_reply()
if need then return need end
local pk = key_peer(peer_id)
redis.call('HSET', pk, 'lines', ARGV[3], 'experiences', ARGV[4], 'languages', ARGV[5],
  'channels', ARGV[6], 'max_texts', ARGV[7])
redis.call('SADD', key_peers(), peer_id)
if not redis.call('HGET', pk, 'presence') then
  redis.call('HSET', pk, 'offer', '', 'misses', 0, 'idle_since', NOW_S)
  set_presence(peer_id, 'off')
end
refresh(peer_id)
return 1
