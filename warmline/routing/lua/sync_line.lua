-- ARGV: now, line, wrap_up_seconds, calls_while_texting (1/0), back_to_back_limit (0: none).
local line_id = ARGV[2]
want(name_line(line_id))
for _, peer_id in ipairs(plan_call('SMEMBERS', name_line_on_shift(line_id)) or {}) do
  plan_peer(peer_id)
end
local need = plan_reply()
if need then return need end
redis.call('HSET', key_line(line_id), 'wrap_up_seconds', ARGV[3], 'calls_while_texting', ARGV[4],
  'back_to_back_limit', ARGV[5] or '0')
redis.call('SADD', key_lines(), line_id)
for _, peer_id in ipairs(redis.call('SMEMBERS', key_line_on_shift(line_id))) do refresh(peer_id) end
return 1
