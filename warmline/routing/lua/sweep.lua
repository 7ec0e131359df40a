-- ARGV: now. Repairs what a crash or a lost callback left behind, a batch of each kind at a time.
-- Returns {lapsed offers {offer, contact, peer, line, off_reason}, peers made ready
-- {peer, presence}, stale contacts withdrawn, peers set off {peer, reason}}.
local lapsed, readied, stale, went_off = {}, {}, {}, {}

-- The plan: every offer, peer and contact the steps below may reach.
for _, ch in ipairs({'voice', 'sms', 'chat'}) do
  for _, oid in ipairs(redis.call('ZRANGEBYSCORE', key_pending_offers(ch), '-inf', NOW_S, 'LIMIT', 0, SWEEP_BATCH)) do
    plan_offer(oid)
  end
end
for _, peer_id in ipairs(redis.call('ZRANGEBYSCORE', key_wrap_ups(), '-inf', NOW_S, 'LIMIT', 0, SWEEP_BATCH)) do
  plan_peer(peer_id)
end
for _, peer_id in ipairs(redis.call('ZRANGEBYSCORE', key_drop_in_ends(), '-inf', NOW_S, 'LIMIT', 0, SWEEP_BATCH)) do
  plan_peer(peer_id)
end
for _, cid in ipairs(redis.call('ZRANGE', key_connected(), 0, -1)) do want(name_contact(cid)) end
-- step 4 reads a busy or offered peer's own keys only (whether its offer is pending is in the
-- pending sets): a new offer or contact made by another process meanwhile does not make this
-- plan ask again, so the sweep's plan settles while others keep routing
for _, presence in ipairs({'busy', 'offered'}) do
  for _, peer_id in ipairs(redis.call('SMEMBERS', key_presence_members(presence))) do plan_peer_own(peer_id) end
end
-- step 1 may return contacts to the queue ahead of those waiting: they are planned with their
-- offers, so the batch below is planned for all it may hold
for _, cid in ipairs(redis.call('ZRANGEBYSCORE', key_waiting_all(), '-inf', num(NOW - math.min(STALE_VOICE, STALE_SMS)), 'LIMIT', 0, SWEEP_BATCH)) do
  plan_contact(cid)
end
local need = plan_reply()
if need then return need end

-- An offer is pending while it is in its channel's pending set (accept and end_offer take it
-- out as they end it; an offer's record that expired first is taken out by step 1 once due).
local function offer_pending(oid)
  for _, ch in ipairs({'voice', 'sms', 'chat'}) do
    if redis.call('ZSCORE', key_pending_offers(ch), oid) then return true end
  end
  return false
end

-- 1. Offers past their expiry: nobody answered in time.
for _, ch in ipairs({'voice', 'sms', 'chat'}) do
  local due = redis.call('ZRANGEBYSCORE', key_pending_offers(ch), '-inf', NOW_S, 'LIMIT', 0, SWEEP_BATCH)
  for _, oid in ipairs(due) do
    local r = end_offer(oid, 'expired')
    if r[1] == 'ended' then
      lapsed[#lapsed + 1] = {oid, r[2], r[3], r[4], r[5]}
      if r[5] ~= '' then went_off[#went_off + 1] = {r[3], r[5]} end
    else
      redis.call('ZREM', key_pending_offers(ch), oid)
    end
  end
end

-- 2. Wrap-ups whose time is up (the end_wrap_up job may have been lost).
for _, peer_id in ipairs(redis.call('ZRANGEBYSCORE', key_wrap_ups(), '-inf', NOW_S, 'LIMIT', 0, SWEEP_BATCH)) do
  if redis.call('HGET', key_peer(peer_id), 'presence') == 'wrap_up' then
    local presence = become_available(peer_id, true)
    readied[#readied + 1] = {peer_id, presence}
    if presence == 'off' then went_off[#went_off + 1] = {peer_id, 'shift_ended'} end
  else
    redis.call('ZREM', key_wrap_ups(), peer_id)
  end
end

-- 3. Drop-ins that ended.
for _, peer_id in ipairs(redis.call('ZRANGEBYSCORE', key_drop_in_ends(), '-inf', NOW_S, 'LIMIT', 0, SWEEP_BATCH)) do
  redis.call('ZREM', key_drop_in_ends(), peer_id)
  local d = redis.call('HGETALL', key_peer_drop_ins(peer_id))
  local latest = nil
  for i = 1, #d, 2 do
    local until_ = tonumber(d[i + 1])
    if until_ <= NOW then redis.call('HDEL', key_peer_drop_ins(peer_id), d[i])
    elseif not latest or until_ > latest then latest = until_ end
  end
  if latest then redis.call('ZADD', key_drop_in_ends(), num(latest), peer_id) end
  local presence = redis.call('HGET', key_peer(peer_id), 'presence')
  if #working_lines(peer_id) == 0 and presence and presence ~= 'off' and presence ~= 'busy' then
    stop_working(peer_id)
    went_off[#went_off + 1] = {peer_id, 'shift_ended'}
  else
    refresh(peer_id)
  end
end

-- 4. Connected contacts whose record is gone, then peers whose load points at nothing.
for _, cid in ipairs(redis.call('ZRANGE', key_connected(), 0, -1)) do
  if redis.call('EXISTS', key_contact(cid)) == 0 then redis.call('ZREM', key_connected(), cid) end
end
-- Only busy and offered peers: the states a lost callback can strand someone in.
for _, presence in ipairs({'busy', 'offered'}) do
  for _, peer_id in ipairs(redis.call('SMEMBERS', key_presence_members(presence))) do
    local changed = false
    for _, ch in ipairs({'voice', 'sms', 'chat'}) do
      local sk = key_peer_contacts(peer_id, ch)
      for _, cid in ipairs(redis.call('SMEMBERS', sk)) do
        local c = redis.call('HMGET', key_contact(cid), 'state', 'peer')
        if c[1] ~= 'connected' or c[2] ~= peer_id then redis.call('SREM', sk, cid); changed = true end
      end
    end
    local p = redis.call('HMGET', key_peer(peer_id), 'offer')
    if presence == 'busy' and redis.call('SCARD', key_peer_contacts(peer_id, 'voice')) == 0 then
      -- busy with no live call: the completion was lost
      local reached = become_available(peer_id, true)
      readied[#readied + 1] = {peer_id, reached}
    elseif presence == 'offered' and (not p[1] or p[1] == '' or not offer_pending(p[1])) then
      local reached = become_available(peer_id, false)
      readied[#readied + 1] = {peer_id, reached}
    elseif changed then
      refresh(peer_id)
    end
  end
end

-- 5. Waiting contacts nobody saw leave.
local oldest = NOW - math.min(STALE_VOICE, STALE_SMS)
for _, cid in ipairs(redis.call('ZRANGEBYSCORE', key_waiting_all(), '-inf', num(oldest), 'LIMIT', 0, SWEEP_BATCH)) do
  local ck = key_contact(cid)
  local c = redis.call('HMGET', ck, 'channel', 'arrived')
  if not c[1] then
    redis.call('ZREM', key_waiting_all(), cid)
  else
    local limit = STALE_SMS
    if c[1] == 'voice' then limit = STALE_VOICE end
    if tonumber(c[2]) <= NOW - limit then
      end_contact(cid)
      stale[#stale + 1] = cid
    end
  end
end
return {lapsed, readied, stale, went_off}
