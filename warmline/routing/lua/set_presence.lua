-- ARGV: now, peer id, requested presence (available, break, off).
-- Returns {status, presence, line of a contact returned to the queue, off_reason}.
local peer_id, req = ARGV[2], ARGV[3]
plan_peer(peer_id)
local need = plan_reply()
if need then return need end
local pk = key_peer(peer_id)
local cur = redis.call('HGET', pk, 'presence')
if not cur then return {'unknown', '', '', ''} end
if req == cur then return {'unchanged', cur, '', ''} end
if req == 'available' then
  if cur == 'busy' or cur == 'offered' then return {'refused_' .. cur, cur, '', ''} end
  -- a peer who went on break mid-call comes back once the call has ended
  if redis.call('SCARD', key_peer_contacts(peer_id, 'voice')) > 0 then
    return {'refused_busy', cur, '', ''}
  end
  if #working_lines(peer_id) == 0 then return {'refused_not_on_shift', cur, '', ''} end
  become_available(peer_id, true)
  return {'changed', 'available', '', ''}
end
if req == 'break' or req == 'off' then
  local line_id = ''
  local oid = redis.call('HGET', pk, 'offer')
  if oid and oid ~= '' then line_id = end_offer(oid, 'peer_left')[4] end
  if req == 'off' then set_off(peer_id) else set_presence(peer_id, 'break'); refresh(peer_id) end
  return {'changed', req, line_id, ''}
end
return {'refused_invalid', cur, '', ''}
