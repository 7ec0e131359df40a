-- ARGV: now, peer, line, until. An admin let the peer work the line outside a shift.
local peer_id = ARGV[2]
plan_peer(peer_id, ARGV[3])
local need = plan_reply()
if need then return need end
redis.call('HSET', key_peer_drop_ins(peer_id), ARGV[3], ARGV[4])
local latest = redis.call('ZSCORE', key_drop_in_ends(), peer_id)
if not latest or tonumber(latest) < tonumber(ARGV[4]) then
  redis.call('ZADD', key_drop_in_ends(), ARGV[4], peer_id)
end
refresh(peer_id)
return 1
