-- Shared by every routing script (prepended after the constants and key builders).
-- ARGV[1] is always `now` (epoch seconds): the caller's clock, never Redis's, so tests control time.
-- ARGV[2] is the rebuild token ('' outside a rebuild), ARGV[3] the offer ids the engine reserved
-- for this call (comma-separated, see take_offer). Both are taken out here, so every script's
-- own arguments start at ARGV[2].
local REBUILD_TOKEN = table.remove(ARGV, 2)
local OFFER_IDS_ARG = table.remove(ARGV, 2)
-- Redis can come back empty (a restart without persistence, a failover): no script may act on
-- state that is not there, or it would build a new truth on nothing (peers `off` mid-call,
-- callers forgotten). The marker is set by the rebuild; only the rebuild, holding the lock's
-- token, runs scripts without it. The caller rebuilds and retries (warmline.routing.engine).
if redis.call('EXISTS', key_state_marker()) == 0
    and (REBUILD_TOKEN == '' or redis.call('GET', key_rebuild_lock()) ~= REBUILD_TOKEN) then
  return redis.error_reply(STATE_LOST_ERROR)
end
local NOW_S = ARGV[1]
local NOW = tonumber(NOW_S)
-- Offer endings the peer is answerable for; two in a row set the peer off.
local MISS = {no_answer = true, declined = true, busy = true, failed = true, expired = true}

local function num(x) return string.format('%.17g', x) end

local function split(s)
  local out = {}
  if not s or s == '' then return out end
  for part in string.gmatch(s, '[^,]+') do out[#out + 1] = part end
  return out
end

-- Plan ---------------------------------------------------------------------------------------
-- Every key a script touches is in its KEYS (Redis Cluster). Before it writes anything, each
-- script names every key it may touch (a superset), reading only keys it was given: a key not
-- given is noted in MISSING_LIST and not read, so the plan stops there. If anything is missing
-- (or fewer offer ids were reserved than the pass may take), the script returns
-- {NEED_REPLY, missing keys, offer ids wanted, generation} having written nothing, and the engine
-- calls it again with them (warmline.routing.engine). The body's key builders check KEYS too
-- (`declared_key`), so a plan that missed a key fails loudly, never half-done in silence...
-- except that a Lua error does not undo writes already made: the plans are kept supersets.
local MISSING, MISSING_LIST = {}, {}
local PLANNED = {}
local IDS_WANTED = 0

local function want(k)
  if DECLARED[k] then return true end
  if not MISSING[k] then MISSING[k] = true; MISSING_LIST[#MISSING_LIST + 1] = k end
  return false
end

-- A read of a key the plan wants: nil while the key was not given.
local function plan_call(cmd, k, ...)
  if want(k) then return redis.call(cmd, k, ...) end
  return nil
end

-- The generation (the state marker) starts every offer id; ids of another are not used.
local GEN = redis.call('GET', key_state_marker()) or ''
local OFFER_IDS = {}
for _, oid in ipairs(split(OFFER_IDS_ARG)) do
  if GEN ~= '' and string.sub(oid, 1, #GEN + 1) == GEN .. '-' then OFFER_IDS[#OFFER_IDS + 1] = oid end
end

-- The keys of one class on a line (its queue, pool, staffed set and observed waits).
local function plan_class(line_id, ch, e, lang)
  want(name_line_classes(line_id))
  want(name_line(line_id))
  want(name_waiting(line_id, ch, e, lang))
  want(name_pool(line_id, ch, e, lang))
  want(name_staffed(line_id, ch, e, lang))
  want(name_recent_waits(line_id, ch, e))
end

local plan_offer

-- Everything `refresh` and presence changes may touch, short of the peer's pending offer; returns
-- that offer's id (nil: none, or not known yet). Arguments as for plan_peer.
local function plan_peer_own(peer_id, extra_line, profile)
  local h = plan_call('HMGET', name_peer(peer_id), 'lines', 'experiences', 'languages',
    'channels', 'offer') or {}
  local lines, exps, langs, chans = {}, {['*'] = true}, {}, {}
  local function add(to, list) for _, x in ipairs(list) do to[x] = true end end
  add(lines, split(h[1])); add(exps, split(h[2])); add(langs, split(h[3])); add(chans, split(h[4]))
  if profile then
    add(lines, split(profile[1])); add(exps, split(profile[2])); add(langs, split(profile[3]))
    add(chans, split(profile[4]))
  end
  add(lines, plan_call('SMEMBERS', name_peer_shift_lines(peer_id)) or {})
  add(lines, plan_call('HKEYS', name_peer_drop_ins(peer_id)) or {})
  if extra_line then lines[extra_line] = true end
  for l in pairs(lines) do
    want(name_line(l))
    for c in pairs(chans) do
      for e in pairs(exps) do
        for lang in pairs(langs) do
          want(name_pool(l, c, e, lang))
          want(name_staffed(l, c, e, lang))
        end
      end
    end
  end
  for _, k in ipairs(plan_call('SMEMBERS', name_peer_memberships(peer_id)) or {}) do want(k) end
  for _, ch in ipairs({'voice', 'sms', 'chat'}) do
    for _, cid in ipairs(plan_call('SMEMBERS', name_peer_contacts(peer_id, ch)) or {}) do
      want(name_contact(cid))
    end
  end
  if h[5] and h[5] ~= '' then return h[5] end
  return nil
end

-- Everything `refresh`, presence changes, wrap-up and the peer's pending offer may touch.
-- `extra_line`: a line the script adds to the peer's shifts or drop-ins; `profile`: a new
-- {lines, experiences, languages, channels} (comma-separated) the script writes.
local function plan_peer(peer_id, extra_line, profile)
  local tag = 'p:' .. peer_id
  if PLANNED[tag] and not extra_line and not profile then return end
  PLANNED[tag] = true
  local oid = plan_peer_own(peer_id, extra_line, profile)
  if oid then plan_offer(oid) end
end

-- A contact's record, its class (as asked, as "any", and `extra_e`: an experience the script
-- moves it to), its offer and its peer.
local function plan_contact(cid, extra_e, extra_lang)
  local tag = 'c:' .. cid
  if PLANNED[tag] and not extra_e and not extra_lang then return end
  PLANNED[tag] = true
  local c = plan_call('HMGET', name_contact(cid), 'line', 'channel', 'experience', 'language',
    'any', 'offer', 'peer')
  if not c or not c[1] then return end
  local e = c[3]
  if c[5] == '1' or not e or e == '' then e = '*' end
  plan_class(c[1], c[2], e, c[4])
  plan_class(c[1], c[2], '*', c[4])
  if extra_e then plan_class(c[1], c[2], extra_e, c[4]) end
  if extra_lang then
    -- a new language: the contact's classes in it, with the (new) experience and 'anyone'
    plan_class(c[1], c[2], extra_e or e, extra_lang)
    plan_class(c[1], c[2], '*', extra_lang)
  end
  if c[6] and c[6] ~= '' then plan_offer(c[6]) end
  if c[7] and c[7] ~= '' then plan_peer(c[7]) end
end

plan_offer = function(oid)
  local tag = 'o:' .. oid
  if PLANNED[tag] then return end
  PLANNED[tag] = true
  local o = plan_call('HMGET', name_offer(oid), 'contact', 'peer')
  if not o then return end
  if o[1] then plan_contact(o[1]) end
  if o[2] then plan_peer(o[2]) end
end

-- A match pass on the line (see match_pass), played in advance without writing: the same
-- choices in the same order, so the plan names exactly the heads the pass looks at, the peers it
-- offers (and all they touch) and as many new offer ids, O(offers x classes) like the pass.
-- `moved`: {cid, class ("channel:experience:language"), score} of a contact the script puts
-- into that queue before the pass (out of any other), or nil.
local function plan_match(line_id, limit, moved, offered_first)
  local classes, seen = {}, {}
  local listed = plan_call('SMEMBERS', name_line_classes(line_id)) or {}
  for _, cls in ipairs(listed) do
    if not seen[cls] then seen[cls] = true; classes[#classes + 1] = cls end
  end
  if moved and not seen[moved[2]] then classes[#classes + 1] = moved[2] end
  local cands = {}
  for _, cls in ipairs(classes) do
    local ch, e, l = string.match(cls, '^([^:]+):([^:]+):([^:]+)$')
    local wk, pk = name_waiting(line_id, ch, e, l), name_pool(line_id, ch, e, l)
    local queued = plan_call('EXISTS', wk)
    local pooled = plan_call('EXISTS', pk)
    local virtual = moved and moved[2] == cls
    if queued and pooled and pooled == 1 and (queued == 1 or virtual) then
      cands[#cands + 1] = {wk = wk, pk = pk, qi = 0, pi = 0, virtual = virtual}
    end
  end
  local taken_peer, taken_contact, offers = {}, {}, 0
  if moved then taken_contact[moved[1]] = 'moved' end
  -- a peer the script offers a contact before the pass (see may_reconnect) is taken already
  if offered_first then taken_peer[offered_first] = true end
  -- the first peer of a pool not yet offered in this pass (nil: the pool is empty by now)
  local function pool_head(cand)
    while true do
      local m = DECLARED[cand.pk] and redis.call('ZRANGE', cand.pk, cand.pi, cand.pi) or {}
      if #m == 0 then return nil end
      if not taken_peer[m[1]] then return m[1] end
      cand.pi = cand.pi + 1
    end
  end
  -- the first live contact of a queue (its id and score), as the pass finds it. A contact whose
  -- key was not given yet is taken for a caller (a ghost is rare): the plan goes on, naming
  -- every head of this round at once, and the next round, given the keys, finds any ghost.
  local function queue_head(cand)
    local real, real_score
    while true do
      local m = DECLARED[cand.wk] and redis.call('ZRANGE', cand.wk, cand.qi, cand.qi, 'WITHSCORES') or {}
      if #m == 0 then break end
      if not taken_contact[m[1]] then
        if not want(name_contact(m[1])) or redis.call('EXISTS', name_contact(m[1])) == 1 then
          real, real_score = m[1], tonumber(m[2])
          break
        end
      end
      cand.qi = cand.qi + 1
    end
    if cand.virtual and taken_contact[moved[1]] == 'moved' then
      local s = tonumber(moved[3])
      if not real or s < real_score or (s == real_score and moved[1] < real) then
        return moved[1], s
      end
    end
    return real, real_score
  end
  while offers < limit and #cands > 0 do
    local best, best_score, best_cid
    local live = {}
    for _, cand in ipairs(cands) do
      if pool_head(cand) then
        local cid, score = queue_head(cand)
        if cid then
          live[#live + 1] = cand
          if not best or score < best_score or (score == best_score and cid < best_cid) then
            best, best_score, best_cid = cand, score, cid
          end
        end
      end
    end
    cands = live
    if not best then break end
    local peer_id = pool_head(best)
    taken_peer[peer_id] = true
    taken_contact[best_cid] = true
    plan_peer(peer_id)
    offers = offers + 1
  end
  IDS_WANTED = IDS_WANTED + offers
end

-- The plan's verdict: nil when everything is given (the script goes on), else the reply.
local function plan_reply()
  if IDS_WANTED <= #OFFER_IDS then
    for i = 1, IDS_WANTED do want(name_offer(OFFER_IDS[i])) end
  end
  if #MISSING_LIST > 0 or IDS_WANTED > #OFFER_IDS then
    return {NEED_REPLY, MISSING_LIST, IDS_WANTED, GEN}
  end
  return nil
end

-- An offer id the engine reserved (INCRBY on key_offer_sequence), in order.
local NEXT_ID = 0
local function next_offer_id()
  NEXT_ID = NEXT_ID + 1
  local oid = OFFER_IDS[NEXT_ID]
  if not oid then error({err = UNDECLARED_KEY_ERROR .. ': no offer id reserved'}) end
  return oid
end

local function set_presence(peer_id, presence)
  local pk = key_peer(peer_id)
  local old = redis.call('HGET', pk, 'presence')
  if old == presence then return end
  if old then redis.call('SREM', key_presence_members(old), peer_id) end
  redis.call('HSET', pk, 'presence', presence)
  redis.call('SADD', key_presence_members(presence), peer_id)
  -- A break (or going off) is what the back-to-back limit asks for: the count starts again.
  if presence == 'break' or presence == 'off' then redis.call('HSET', pk, 'in_a_row', 0) end
  if old == 'wrap_up' then
    redis.call('ZREM', key_wrap_ups(), peer_id)
    redis.call('HDEL', pk, 'wrap_until')
  end
end

-- Web chats count against the text capacity (max_texts): both are conversations a peer
-- holds in the dashboard's texts pane, several at once.
local function load_of(peer_id)
  return redis.call('SCARD', key_peer_contacts(peer_id, 'voice')),
    redis.call('SCARD', key_peer_contacts(peer_id, 'sms'))
      + redis.call('SCARD', key_peer_contacts(peer_id, 'chat'))
end

-- DESIGN.md's capacity rule; the same as warmline.domain.matching.has_capacity.
local function has_capacity(calls, texts, channel, max_texts, calls_while_texting)
  if channel == 'voice' then return calls == 0 and (texts == 0 or calls_while_texting) end
  return calls == 0 and texts < max_texts
end

-- Lines the peer may take contacts on now: on shift (and assigned), or an unexpired drop-in.
local function working_lines(peer_id)
  local assigned = {}
  for _, l in ipairs(split(redis.call('HGET', key_peer(peer_id), 'lines'))) do assigned[l] = true end
  local out, seen = {}, {}
  for _, l in ipairs(redis.call('SMEMBERS', key_peer_shift_lines(peer_id))) do
    if assigned[l] and not seen[l] then seen[l] = true; out[#out + 1] = l end
  end
  local d = redis.call('HGETALL', key_peer_drop_ins(peer_id))
  for i = 1, #d, 2 do
    if tonumber(d[i + 1]) > NOW and not seen[d[i]] then seen[d[i]] = true; out[#out + 1] = d[i] end
  end
  return out
end

-- Put the peer into exactly the pools (may be offered now) and staffed sets (could serve) that
-- its state allows. Every state change ends here, so the indexes never drift from the peer.
local function refresh(peer_id)
  local mk = key_peer_memberships(peer_id)
  for _, k in ipairs(redis.call('SMEMBERS', mk)) do redis.call('ZREM', k, peer_id) end
  redis.call('DEL', mk)
  local p = redis.call('HMGET', key_peer(peer_id), 'presence', 'offer', 'experiences',
    'languages', 'channels', 'max_texts', 'idle_since', 'in_a_row')
  local presence = p[1]
  if not presence or presence == 'off' then return end
  local exps = split(p[3]); exps[#exps + 1] = '*'
  local langs, chans = split(p[4]), split(p[5])
  local max_texts = tonumber(p[6]) or 0
  local ready = presence == 'available' and (not p[2] or p[2] == '')
  local idle = p[7] or NOW_S
  local calls, texts = load_of(peer_id)
  local in_a_row = tonumber(p[8]) or 0
  for _, line_id in ipairs(working_lines(peer_id)) do
    local cwt = redis.call('HGET', key_line(line_id), 'calls_while_texting') == '1'
    -- DESIGN.md's back-to-back rule; the same as warmline.domain.matching.is_rested.
    local limit = tonumber(redis.call('HGET', key_line(line_id), 'back_to_back_limit')) or 0
    local rested = limit <= 0 or in_a_row < limit
    for _, c in ipairs(chans) do
      local cap = ready and rested and has_capacity(calls, texts, c, max_texts, cwt)
      for _, e in ipairs(exps) do
        for _, l in ipairs(langs) do
          local sk = key_staffed(line_id, c, e, l)
          redis.call('ZADD', sk, 0, peer_id)
          redis.call('SADD', mk, sk)
          if cap then
            local pk = key_pool(line_id, c, e, l)
            redis.call('ZADD', pk, idle, peer_id)
            redis.call('SADD', mk, pk)
          end
        end
      end
    end
  end
end

local function set_off(peer_id)
  set_presence(peer_id, 'off')
  redis.call('HSET', key_peer(peer_id), 'misses', 0)
  refresh(peer_id)
end

-- Available if the peer works a line now, else off. Returns the presence reached.
local function become_available(peer_id, reset_idle)
  if #working_lines(peer_id) == 0 then set_off(peer_id); return 'off' end
  set_presence(peer_id, 'available')
  if reset_idle then redis.call('HSET', key_peer(peer_id), 'idle_since', NOW_S) end
  refresh(peer_id)
  return 'available'
end

local function start_wrap_up(peer_id, line_id)
  local secs = tonumber(redis.call('HGET', key_line(line_id), 'wrap_up_seconds')) or 0
  if secs <= 0 then return become_available(peer_id, true), '' end
  local wrap_until = num(NOW + secs)
  set_presence(peer_id, 'wrap_up')
  redis.call('HSET', key_peer(peer_id), 'wrap_until', wrap_until)
  redis.call('ZADD', key_wrap_ups(), wrap_until, peer_id)
  refresh(peer_id)
  return 'wrap_up', wrap_until
end

local function contact_class(ck)
  local c = redis.call('HMGET', ck, 'line', 'channel', 'experience', 'language', 'any')
  local e = c[3]
  if c[5] == '1' or not e or e == '' then e = '*' end
  return c[1], c[2], e, c[4]
end

-- Into the waiting queue at the contact's own score: a lapsed offer returns it to its place.
local function enqueue_contact(cid)
  local ck = key_contact(cid)
  local line_id, ch, e, l = contact_class(ck)
  local s = redis.call('HMGET', ck, 'score', 'arrived')
  redis.call('ZADD', key_waiting(line_id, ch, e, l), s[1], cid)
  redis.call('ZADD', key_waiting_all(), s[2], cid)
  redis.call('SADD', key_line_classes(line_id), ch .. ':' .. e .. ':' .. l)
  redis.call('HSET', ck, 'state', 'waiting', 'offer', '', 'peer', '')
  redis.call('EXPIRE', ck, CONTACT_TTL)
end

local function dequeue_contact(cid)
  local line_id, ch, e, l = contact_class(key_contact(cid))
  redis.call('ZREM', key_waiting(line_id, ch, e, l), cid)
  redis.call('ZREM', key_waiting_all(), cid)
end

local function resume_wrap_up(peer_id, wrap_until)
  set_presence(peer_id, 'wrap_up')
  redis.call('HSET', key_peer(peer_id), 'wrap_until', wrap_until)
  redis.call('ZADD', key_wrap_ups(), wrap_until, peer_id)
  refresh(peer_id)
end

-- Ends a pending offer for `reason`. Returns {status, contact, peer, line, off_reason}.
local function end_offer(oid, reason)
  local ok = key_offer(oid)
  local o = redis.call('HMGET', ok, 'state', 'contact', 'peer', 'channel', 'line', 'reconnect',
    'resume_wrap')
  if not o[1] then return {'unknown', '', '', '', ''} end
  if o[1] ~= 'pending' then return {'already_' .. o[1], o[2], o[3], o[5], ''} end
  redis.call('HSET', ok, 'state', reason)
  redis.call('ZREM', key_pending_offers(o[4]), oid)
  local cid, peer_id = o[2], o[3]
  if redis.call('HGET', key_contact(cid), 'offer') == oid then enqueue_contact(cid) end
  local off_reason = ''
  local pk = key_peer(peer_id)
  if redis.call('HGET', pk, 'offer') == oid then
    redis.call('HSET', pk, 'offer', '')
    -- A caller asking for them again (may_reconnect) is a favour the peer may decline freely.
    local reconnect = o[6] == '1'
    local missed = MISS[reason] and not reconnect
    if missed and redis.call('HINCRBY', pk, 'misses', 1) >= MISSES_BEFORE_OFF then
      set_off(peer_id)
      off_reason = 'missed_offers'
    elseif reconnect and o[7] and o[7] ~= '' and tonumber(o[7]) > NOW
        and redis.call('HGET', pk, 'presence') == 'offered' then
      resume_wrap_up(peer_id, o[7])  -- the rest of the wrap-up the offer interrupted
    elseif redis.call('HGET', pk, 'presence') == 'offered' then
      -- A miss sends the peer to the back of the line; a caller who left costs them nothing.
      if become_available(peer_id, missed) == 'off' then off_reason = 'shift_ended' end
    else
      refresh(peer_id)
    end
  end
  return {'ended', cid, peer_id, o[5], off_reason}
end

local function take_offer(cid, peer_id, wk)
  local ck = key_contact(cid)
  local c = redis.call('HMGET', ck, 'line', 'channel', 'experience', 'language')
  local channel = c[2]
  -- The generation keeps ids unique across Redis lifetimes: a peer still ringing for an offer
  -- of the lost Redis can never accept a new offer that reused its number (next_offer_id).
  local oid = next_offer_id()
  local seconds = TEXT_OFFER
  if channel == 'voice' then
    -- Twilio rings one call a second per account: wait behind the voice offers already out.
    seconds = RING + MARGIN + PACING * redis.call('ZCARD', key_pending_offers('voice'))
    if seconds > MAX_OFFER then seconds = MAX_OFFER end
  end
  local expires = num(NOW + seconds)
  local ok = key_offer(oid)
  redis.call('HSET', ok, 'contact', cid, 'peer', peer_id, 'line', c[1], 'channel', channel,
    'experience', c[3] or '', 'language', c[4], 'expires', expires, 'state', 'pending')
  redis.call('EXPIRE', ok, OFFER_RECORD_TTL)
  redis.call('ZADD', key_pending_offers(channel), expires, oid)
  redis.call('ZREM', wk, cid)
  redis.call('ZREM', key_waiting_all(), cid)
  redis.call('HSET', ck, 'state', 'offered', 'offer', oid, 'peer', peer_id)
  redis.call('EXPIRE', ck, CONTACT_TTL)
  redis.call('HSET', key_peer(peer_id), 'offer', oid)
  set_presence(peer_id, 'offered')
  refresh(peer_id)
  return {oid, cid, peer_id, c[1], channel, c[3] or '', c[4], expires}
end

-- May the contact be offered to this peer before anyone else (DESIGN step 10: a caller whose
-- call dropped asked for the same peer again)? Yes when the peer is available or in wrap-up,
-- has no offer, works the line now, speaks the language and has room on the channel. The
-- experience is not asked (they just shared it with this caller), nor the back-to-back limit:
-- it is the same conversation going on, and declining it costs the peer nothing (end_offer).
local function may_reconnect(peer_id, line_id, channel, lang)
  local p = redis.call('HMGET', key_peer(peer_id), 'presence', 'offer', 'languages', 'channels',
    'max_texts')
  if p[1] ~= 'available' and p[1] ~= 'wrap_up' then return false end
  if p[2] and p[2] ~= '' then return false end
  local speaks, serves = false, false
  for _, l in ipairs(split(p[3])) do if l == lang then speaks = true end end
  for _, c in ipairs(split(p[4])) do if c == channel then serves = true end end
  if not speaks or not serves then return false end
  local works = false
  for _, l in ipairs(working_lines(peer_id)) do if l == line_id then works = true end end
  if not works then return false end
  local cwt = redis.call('HGET', key_line(line_id), 'calls_while_texting') == '1'
  local calls, texts = load_of(peer_id)
  return has_capacity(calls, texts, channel, tonumber(p[5]) or 0, cwt)
end

-- The contact's offer to that peer, marked so that its ending is no miss and gives back the
-- rest of an interrupted wrap-up.
local function offer_again(cid, peer_id)
  local line_id, ch, e, l = contact_class(key_contact(cid))
  local wrap_until = ''
  if redis.call('HGET', key_peer(peer_id), 'presence') == 'wrap_up' then
    wrap_until = redis.call('HGET', key_peer(peer_id), 'wrap_until') or ''
  end
  local offer = take_offer(cid, peer_id, key_waiting(line_id, ch, e, l))
  redis.call('HSET', key_offer(offer[1]), 'reconnect', '1', 'resume_wrap', wrap_until)
  return offer
end

-- One match pass: repeatedly the first waiting contact (priority, arrival) among the classes
-- that have a free peer gets that class's longest-idle peer. Costs O(classes) per offer, never
-- O(peers) or O(waiting): pools and queues are kept per class.
local function match_pass(line_id, limit)
  local offers, cands = {}, {}
  local lk = key_line_classes(line_id)
  for _, cls in ipairs(redis.call('SMEMBERS', lk)) do
    local ch, e, l = string.match(cls, '^([^:]+):([^:]+):([^:]+)$')
    local wk = key_waiting(line_id, ch, e, l)
    if redis.call('EXISTS', wk) == 0 then
      redis.call('SREM', lk, cls)
    else
      local pk = key_pool(line_id, ch, e, l)
      if redis.call('EXISTS', pk) == 1 then cands[#cands + 1] = {wk, pk} end
    end
  end
  while #offers < limit and #cands > 0 do
    local best, best_score, best_cid
    local live = {}
    for _, cand in ipairs(cands) do
      if redis.call('EXISTS', cand[2]) == 1 then
        local head = redis.call('ZRANGE', cand[1], 0, 0, 'WITHSCORES')
        while #head > 0 and redis.call('EXISTS', key_contact(head[1])) == 0 do
          -- a record that expired under a crash: drop the ghost, look again
          redis.call('ZREM', cand[1], head[1])
          redis.call('ZREM', key_waiting_all(), head[1])
          head = redis.call('ZRANGE', cand[1], 0, 0, 'WITHSCORES')
        end
        if #head > 0 then
          live[#live + 1] = cand
          local s = tonumber(head[2])
          if not best or s < best_score or (s == best_score and head[1] < best_cid) then
            best, best_score, best_cid = cand, s, head[1]
          end
        end
      end
    end
    cands = live
    if not best then break end
    local peer_id = redis.call('ZRANGE', best[2], 0, 0)[1]
    offers[#offers + 1] = take_offer(best_cid, peer_id, best[1])
  end
  return offers
end

-- Ends a contact in any state (withdrawn while waiting or offered, or completed when connected).
-- Returns {status, state, line, peer, presence_after, wrap_until, off_reason}.
local function end_contact(cid)
  local ck = key_contact(cid)
  local c = redis.call('HMGET', ck, 'state', 'line', 'channel', 'offer', 'peer')
  if not c[1] then return {'unknown', '', '', '', '', '', ''} end
  local state, line_id, channel = c[1], c[2], c[3]
  local peer_id = c[5] or ''
  local presence_after, wrap_until, off_reason = '', '', ''
  if state == 'offered' then
    off_reason = end_offer(c[4], 'withdrawn')[5]
    dequeue_contact(cid)
  elseif state == 'waiting' then
    dequeue_contact(cid)
  elseif state == 'connected' then
    redis.call('SREM', key_peer_contacts(peer_id, channel), cid)
    redis.call('ZREM', key_connected(), cid)
    local presence = redis.call('HGET', key_peer(peer_id), 'presence')
    local calls, texts = load_of(peer_id)
    if (channel == 'voice' and presence == 'busy')
        or (channel ~= 'voice' and presence == 'available' and calls + texts == 0) then
      presence_after, wrap_until = start_wrap_up(peer_id, line_id)
      if presence_after == 'off' then off_reason = 'shift_ended' end
    else
      refresh(peer_id)
    end
  end
  redis.call('DEL', ck)
  return {'ended', state, line_id, peer_id, presence_after, wrap_until, off_reason}
end

-- What the verdict needs: the contact's state after the pass, how many could serve it, and
-- the waits observed lately for its class.
local function outlook_of(cid)
  local ck = key_contact(cid)
  local state = redis.call('HGET', ck, 'state')
  if not state then return {'unknown', 0, {}} end
  local line_id, ch, e, l = contact_class(ck)
  return {state, redis.call('ZCARD', key_staffed(line_id, ch, e, l)),
    redis.call('LRANGE', key_recent_waits(line_id, ch, e), 0, -1)}
end

-- Takes the peer out of any pending offer (not their miss) and sets them off.
local function stop_working(peer_id)
  local oid = redis.call('HGET', key_peer(peer_id), 'offer')
  local line_id = ''
  if oid and oid ~= '' then line_id = end_offer(oid, 'peer_left')[4] end
  set_off(peer_id)
  return line_id
end
