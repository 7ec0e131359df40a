-- ARGV: now, line, limit.
plan_match(ARGV[2], tonumber(ARGV[3]))
local need = plan_reply()
if need then return need end
return match_pass(ARGV[2], tonumber(ARGV[3]))
