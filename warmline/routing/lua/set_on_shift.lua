-- ARGV: now, line, mode, peer ids. Mode `exactly`: these are the peers on shift for the line now
-- (the schedule's answer); `join` / `leave`: these peers start / end a shift on it.
-- Peers whose shift ended and who work no other line go off. Returns {went_off, lines_to_match}.
local line_id, mode = ARGV[2], ARGV[3]
for _, peer_id in ipairs(plan_call('SMEMBERS', name_line_on_shift(line_id)) or {}) do
  plan_peer(peer_id, line_id)
end
for i = 4, #ARGV do plan_peer(ARGV[i], line_id) end
local need = plan_reply()
if need then return need end
local lk = key_line_on_shift(line_id)
local given = {}
for i = 4, #ARGV do given[ARGV[i]] = true end
local leaving = {}
if mode == 'exactly' then
  for _, peer_id in ipairs(redis.call('SMEMBERS', lk)) do
    if not given[peer_id] then leaving[#leaving + 1] = peer_id end
  end
elseif mode == 'leave' then
  for i = 4, #ARGV do leaving[#leaving + 1] = ARGV[i] end
end
local went_off, lines_to_match = {}, {}
for _, peer_id in ipairs(leaving) do
  redis.call('SREM', lk, peer_id)
  redis.call('SREM', key_peer_shift_lines(peer_id), line_id)
  local presence = redis.call('HGET', key_peer(peer_id), 'presence')
  -- A peer on a call finishes it; wrap-up's end finds the shift over and sets them off.
  if #working_lines(peer_id) == 0 and presence and presence ~= 'off' and presence ~= 'busy' then
    local returned = stop_working(peer_id)
    if returned ~= '' then lines_to_match[#lines_to_match + 1] = returned end
    went_off[#went_off + 1] = peer_id
  else
    refresh(peer_id)
  end
end
if mode ~= 'leave' then
  for i = 4, #ARGV do
    local peer_id = ARGV[i]
    if redis.call('SADD', lk, peer_id) == 1 then
      redis.call('SADD', key_peer_shift_lines(peer_id), line_id)
      refresh(peer_id)
    end
  end
end
redis.call('SADD', key_lines(), line_id)
return {went_off, lines_to_match}
