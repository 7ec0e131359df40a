-- ARGV: now, contact id, line, channel, experience ('' for none), language, score, any (1/0),
-- arrived at, pass limit, a peer to offer it first ('' for none: see may_reconnect).
-- Idempotent: a second arrival of the same contact changes nothing.
local cid, line_id = ARGV[2], ARGV[3]
local arriving_e = ARGV[5]
local again = ARGV[11] or ''
if ARGV[8] == '1' or arriving_e == '' then arriving_e = '*' end
plan_contact(cid)
plan_class(line_id, ARGV[4], arriving_e, ARGV[6])
local line_now = DECLARED[name_contact(cid)] and redis.call('HGET', name_contact(cid), 'line')
-- The plan decides about the peer asked for once all it reads is given; the body then finds
-- the same (a script's reads and writes happen in one go).
local first_peer
if again ~= '' and not line_now then
  plan_peer(again)
  if #MISSING_LIST == 0 and may_reconnect(again, line_id, ARGV[4], ARGV[6]) then
    first_peer = again
  end
end
if line_now then
  plan_match(line_now, tonumber(ARGV[10]))  -- known already: nothing is queued anew
elseif first_peer then
  IDS_WANTED = IDS_WANTED + 1
  plan_match(line_id, tonumber(ARGV[10]), nil, first_peer)
else
  plan_match(line_id, tonumber(ARGV[10]), {cid, ARGV[4] .. ':' .. arriving_e .. ':' .. ARGV[6], ARGV[7]})
end
local need = plan_reply()
if need then return need end
line_id = ARGV[3]
local ck = key_contact(cid)
local offers = {}
if redis.call('EXISTS', ck) == 0 then
  redis.call('HSET', ck, 'line', line_id, 'channel', ARGV[4], 'experience', ARGV[5],
    'language', ARGV[6], 'score', ARGV[7], 'any', ARGV[8], 'arrived', ARGV[9])
  redis.call('SADD', key_lines(), line_id)
  enqueue_contact(cid)
  if first_peer then offers[1] = offer_again(cid, first_peer) end
end
for _, offer in ipairs(match_pass(redis.call('HGET', ck, 'line'), tonumber(ARGV[10]))) do
  offers[#offers + 1] = offer
end
local result = outlook_of(cid)
result[4] = offers
return result
