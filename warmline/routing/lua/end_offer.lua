-- ARGV: now, offer id, reason (declined, no_answer, busy, failed, expired, ...).
plan_offer(ARGV[2])
local need = plan_reply()
if need then return need end
return end_offer(ARGV[2], ARGV[3])
