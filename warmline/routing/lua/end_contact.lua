-- ARGV: now, contact id.
plan_contact(ARGV[2])
local need = plan_reply()
if need then return need end
return end_contact(ARGV[2])
