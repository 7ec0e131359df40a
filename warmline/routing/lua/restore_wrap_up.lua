-- ARGV: now, peer, until. The rebuild after a Redis loss: a peer whose call ended less than the
-- line's wrap_up_seconds ago (SQL says when) is in wrap-up again until then. Only a peer the
-- rebuild made `available`: one on a call, on break or off keeps that. 0 if nothing done.
local peer_id, wrap_until = ARGV[2], ARGV[3]
plan_peer(peer_id)
local need = plan_reply()
if need then return need end
local pk = key_peer(peer_id)
if redis.call('HGET', pk, 'presence') ~= 'available' or tonumber(wrap_until) <= NOW then
  return 0
end
set_presence(peer_id, 'wrap_up')
redis.call('HSET', pk, 'wrap_until', wrap_until)
redis.call('ZADD', key_wrap_ups(), wrap_until, peer_id)
refresh(peer_id)
return 1
