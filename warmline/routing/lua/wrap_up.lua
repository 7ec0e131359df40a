-- ARGV: now, peer id, action (extend | end), until (for extend).
-- Returns {status, presence, wrap_until}.
local peer_id, action = ARGV[2], ARGV[3]
plan_peer(peer_id)
local need = plan_reply()
if need then return need end
local pk = key_peer(peer_id)
local p = redis.call('HMGET', pk, 'presence', 'wrap_until')
if p[1] ~= 'wrap_up' then return {'not_in_wrap_up', p[1] or '', ''} end
if action == 'extend' then
  local wanted = tonumber(ARGV[4])
  if wanted > (tonumber(p[2]) or 0) then
    local wrap_until = num(wanted)
    redis.call('HSET', pk, 'wrap_until', wrap_until)
    redis.call('ZADD', key_wrap_ups(), wrap_until, peer_id)
    return {'extended', 'wrap_up', wrap_until}
  end
  return {'unchanged', 'wrap_up', p[2]}
end
-- end: only once it is due, so an early or repeated job changes nothing.
if (tonumber(p[2]) or 0) > NOW then return {'not_due', 'wrap_up', p[2]} end
return {'ended', become_available(peer_id, true), ''}
