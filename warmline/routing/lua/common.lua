-- Shared by every routing script (prepended after the constants and key builders).
-- ARGV[1] is always `now` (epoch seconds): the caller's clock, never Redis's, so tests control time.
-- ARGV[2] is the rebuild token ('' outside a rebuild). It is taken out here, so every script's own
-- arguments start at ARGV[2].
local REBUILD_TOKEN = table.remove(ARGV, 2)
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

-- Ends a pending offer for `reason`. Returns {status, contact, peer, line, off_reason}.
local function end_offer(oid, reason)
  local ok = key_offer(oid)
  local o = redis.call('HMGET', ok, 'state', 'contact', 'peer', 'channel', 'line')
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
    local missed = MISS[reason]
    if missed and redis.call('HINCRBY', pk, 'misses', 1) >= MISSES_BEFORE_OFF then
      set_off(peer_id)
      off_reason = 'missed_offers'
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
  -- of the lost Redis can never accept a new offer that reused its number.
  local oid = redis.call('GET', key_state_marker()) .. '-' ..
    tostring(redis.call('INCR', key_offer_sequence()))
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
