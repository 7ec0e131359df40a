-- ARGV: now, contact id, pass limit. The contact accepts any peer, keeping its place.
local cid = ARGV[2]
plan_contact(cid, '*')
local c = DECLARED[name_contact(cid)] and redis.call('HMGET', name_contact(cid), 'line', 'channel', 'language', 'state', 'score') or {}
if c[1] then
  plan_match(c[1], tonumber(ARGV[3]), c[4] == 'waiting' and {cid, c[2] .. ':*:' .. c[3], c[5]} or nil)
end
local need = plan_reply()
if need then return need end
local ck = key_contact(cid)
local state = redis.call('HGET', ck, 'state')
if not state then return {'unknown', 0, {}, {}} end
if state == 'waiting' then
  dequeue_contact(cid)
  redis.call('HSET', ck, 'any', '1')
  enqueue_contact(cid)
else
  redis.call('HSET', ck, 'any', '1')
end
local offers = match_pass(redis.call('HGET', ck, 'line'), tonumber(ARGV[3]))
local result = outlook_of(cid)
result[4] = offers
return result
