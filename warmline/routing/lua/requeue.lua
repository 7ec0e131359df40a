-- ARGV: now, contact id, score ('' keeps it), experience ('-' keeps it, '' for none), pass limit,
-- language ('-' keeps it).
-- A waiting contact changes its priority, requested experience or language and keeps its arrival
-- time (texts: a risk word, or a keyword sent while waiting). An offered or connected contact only
-- keeps the new values, so a lapsed offer returns it to the raised place, in the new class.
local cid = ARGV[2]
local moved_e = nil
local c = DECLARED[name_contact(cid)] and redis.call('HMGET', name_contact(cid), 'line', 'channel', 'language', 'any', 'state', 'score', 'experience') or {}
if ARGV[4] ~= '-' then
  moved_e = ARGV[4]
  if moved_e == '' or c[4] == '1' then moved_e = '*' end
end
local moved_lang = ARGV[6] ~= '-' and ARGV[6] or nil
plan_contact(cid, moved_e, moved_lang)
if c[1] then
  -- a waiting contact is queued again, in its (new) class at its (new) score, before the pass
  local e = moved_e or c[7]
  if c[4] == '1' or not e or e == '' then e = '*' end
  local score = ARGV[3] ~= '' and ARGV[3] or c[6]
  local lang = moved_lang or c[3]
  plan_match(c[1], tonumber(ARGV[5]), c[5] == 'waiting' and {cid, c[2] .. ':' .. e .. ':' .. lang, score} or nil)
end
local need = plan_reply()
if need then return need end
local ck = key_contact(cid)
local state = redis.call('HGET', ck, 'state')
if not state then return {'unknown', 0, {}, {}} end
local waiting = state == 'waiting'
if waiting then dequeue_contact(cid) end
if ARGV[3] ~= '' then redis.call('HSET', ck, 'score', ARGV[3]) end
if ARGV[4] ~= '-' then redis.call('HSET', ck, 'experience', ARGV[4]) end
if moved_lang then redis.call('HSET', ck, 'language', moved_lang) end
if waiting then enqueue_contact(cid) end
local offers = match_pass(redis.call('HGET', ck, 'line'), tonumber(ARGV[5]))
local result = outlook_of(cid)
result[4] = offers
return result
