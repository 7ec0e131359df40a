-- ARGV: now, contact id, line, channel, experience ('' for none), language, score, any (1/0),
-- arrived at, peer, accepted at. The rebuild after a Redis loss: a contact still live with its
-- peer (SQL says answered, Twilio says the call is there) is connected again, so a call keeps
-- its peer `busy` and a text keeps its place in the peer's load. Idempotent; 0 if nothing done.
local cid, line_id, channel, peer_id = ARGV[2], ARGV[3], ARGV[4], ARGV[10]
want(name_contact(cid))
plan_peer(peer_id)
local need = plan_reply()
if need then return need end
local ck = key_contact(cid)
if redis.call('EXISTS', ck) == 1 then return 0 end
if not redis.call('HGET', key_peer(peer_id), 'presence') then return 0 end
redis.call('HSET', ck, 'line', line_id, 'channel', channel, 'experience', ARGV[5],
  'language', ARGV[6], 'score', ARGV[7], 'any', ARGV[8], 'arrived', ARGV[9],
  'state', 'connected', 'offer', '', 'peer', peer_id)
redis.call('EXPIRE', ck, CONTACT_TTL)
redis.call('SADD', key_lines(), line_id)
redis.call('SADD', key_peer_contacts(peer_id, channel), cid)
redis.call('ZADD', key_connected(), ARGV[11], cid)
if channel == 'voice' then set_presence(peer_id, 'busy') end
refresh(peer_id)
return 1
