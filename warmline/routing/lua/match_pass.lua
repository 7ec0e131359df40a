-- ARGV: now, line, limit.
return match_pass(ARGV[2], tonumber(ARGV[3]))
