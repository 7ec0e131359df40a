-- ARGV: now, contact id, line, channel, experience ('' for none), language, score, any (1/0),
-- arrived at, peer, offer id, expires at. The rebuild after a Redis loss: a call offer whose
-- peer's phone is still ringing (SQL noted the ring, Twilio says it is live) is pending again, as
-- take_offer left it, so the peer's "1" is taken and the caller is not offered to anyone else.
-- Only for a peer the rebuild left free (off, with no offer: presences come after). 0 if not.
local cid, line_id, channel, peer_id, oid, expires = ARGV[2], ARGV[3], ARGV[4], ARGV[10],
  ARGV[11], ARGV[12]
want(name_contact(cid))
want(name_offer(oid))
plan_peer(peer_id)
local need = plan_reply()
if need then return need end
local ck, pk = key_contact(cid), key_peer(peer_id)
if redis.call('EXISTS', ck) == 1 or tonumber(expires) <= NOW then return 0 end
local p = redis.call('HMGET', pk, 'presence', 'offer')
if not p[1] or (p[2] and p[2] ~= '') or redis.call('SCARD', key_peer_contacts(peer_id, 'voice')) > 0 then
  return 0
end
redis.call('HSET', ck, 'line', line_id, 'channel', channel, 'experience', ARGV[5],
  'language', ARGV[6], 'score', ARGV[7], 'any', ARGV[8], 'arrived', ARGV[9],
  'state', 'offered', 'offer', oid, 'peer', peer_id)
redis.call('EXPIRE', ck, CONTACT_TTL)
redis.call('SADD', key_lines(), line_id)
local ok = key_offer(oid)
redis.call('HSET', ok, 'contact', cid, 'peer', peer_id, 'line', line_id, 'channel', channel,
  'experience', ARGV[5], 'language', ARGV[6], 'expires', expires, 'state', 'pending')
redis.call('EXPIRE', ok, OFFER_RECORD_TTL)
redis.call('ZADD', key_pending_offers(channel), expires, oid)
redis.call('HSET', pk, 'offer', oid)
set_presence(peer_id, 'offered')
refresh(peer_id)
return 1
