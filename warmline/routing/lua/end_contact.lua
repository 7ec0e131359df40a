-- ARGV: now, contact id.
return end_contact(ARGV[2])
