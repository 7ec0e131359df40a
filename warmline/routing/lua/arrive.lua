-- ARGV: now, contact id, line, channel, experience ('' for none), language, score, any (1/0),
-- arrived at, pass limit. Idempotent: a second arrival of the same contact changes nothing.
local cid, line_id = ARGV[2], ARGV[3]
local arriving_e = ARGV[5]
if ARGV[8] == '1' or arriving_e == '' then arriving_e = '*' end
plan_contact(cid)
plan_class(line_id, ARGV[4], arriving_e, ARGV[6])
local line_now = DECLARED[name_contact(cid)] and redis.call('HGET', name_contact(cid), 'line')
if line_now then
  plan_match(line_now, tonumber(ARGV[10]))  -- known already: nothing is queued anew
else
  plan_match(line_id, tonumber(ARGV[10]), {cid, ARGV[4] .. ':' .. arriving_e .. ':' .. ARGV[6], ARGV[7]})
end
local need = plan_reply()
if need then return need end
line_id = ARGV[3]
local ck = key_contact(cid)
if redis.call('EXISTS', ck) == 0 then
  redis.call('HSET', ck, 'line', line_id, 'channel', ARGV[4], 'experience', ARGV[5],
    'language', ARGV[6], 'score', ARGV[7], 'any', ARGV[8], 'arrived', ARGV[9])
  redis.call('SADD', key_lines(), line_id)
  enqueue_contact(cid)
end
local offers = match_pass(redis.call('HGET', ck, 'line'), tonumber(ARGV[10]))
local result = outlook_of(cid)
result[4] = offers
return result
