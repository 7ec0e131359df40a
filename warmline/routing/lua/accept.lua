-- ARGV: now, offer id. Returns {status, contact, peer, line, channel, off_reason}; a late accept
-- (after expiry) is refused and the offer lapses, so the peer can be told.
local oid = ARGV[2]
plan_offer(oid)
local need = plan_reply()
if need then return need end
local ok = key_offer(oid)
local o = redis.call('HMGET', ok, 'state', 'contact', 'peer', 'channel', 'line', 'expires')
if not o[1] then return {'unknown', '', '', '', '', ''} end
if o[1] == 'accepted' then return {'accepted', o[2], o[3], o[5], o[4], ''} end
if o[1] ~= 'pending' then return {'lapsed', o[2], o[3], o[5], o[4], ''} end
if tonumber(o[6]) <= NOW then
  -- The peer did press 1, only too late: not counted as a miss.
  local ended = end_offer(oid, 'late')
  return {'lapsed', o[2], o[3], o[5], o[4], ended[5]}
end
local cid, peer_id, channel, line_id = o[2], o[3], o[4], o[5]
local ck = key_contact(cid)
redis.call('HSET', ok, 'state', 'accepted')
redis.call('ZREM', key_pending_offers(channel), oid)
local _, _, e = contact_class(ck)
local arrived = tonumber(redis.call('HGET', ck, 'arrived'))
redis.call('HSET', ck, 'state', 'connected', 'offer', '', 'peer', peer_id)
redis.call('EXPIRE', ck, CONTACT_TTL)
redis.call('SADD', key_peer_contacts(peer_id, channel), cid)
redis.call('ZADD', key_connected(), NOW_S, cid)
redis.call('HSET', key_peer(peer_id), 'offer', '', 'misses', 0, 'idle_since', NOW_S)
-- Counted here, in the same script that takes the contact, so no race can slip one past it.
redis.call('HINCRBY', key_peer(peer_id), 'in_a_row', 1)
-- A call takes the whole peer; texts leave them available up to max_texts.
if channel == 'voice' then set_presence(peer_id, 'busy') else set_presence(peer_id, 'available') end
refresh(peer_id)
if arrived then
  local wk = key_recent_waits(line_id, channel, e)
  redis.call('LPUSH', wk, num(NOW - arrived))
  redis.call('LTRIM', wk, 0, RECENT_WAITS_KEPT - 1)
  redis.call('EXPIRE', wk, RECENT_WAITS_TTL)
end
return {'accepted', cid, peer_id, line_id, channel, ''}
