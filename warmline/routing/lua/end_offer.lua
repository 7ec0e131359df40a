-- ARGV: now, offer id, reason (declined, no_answer, busy, failed, expired, ...).
return end_offer(ARGV[2], ARGV[3])
