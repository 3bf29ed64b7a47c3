"""The outbox's Lua scripts (``workers.alerter.outbox`` runs them): each touches the keys of one subscriber, all
passed in ``KEYS`` (one hash slot: the ``{s:<name>}`` tag), so they run on Redis Cluster as on one Redis; the
enqueue takes several subscribers only where they share a slot."""

from __future__ import annotations

from workers.alerter.slices import LIVE_LUA, READ_LUA, WRITE_LUA, script

# The packed markers (``workers.alerter.outbox``): a slice hash's field is a group of clusters (the digest's first
# byte modulo ``MARK_GROUPS``), its value the group's records of ``MARK_BYTES``: key (digest bytes 2-7), owner
# (4 bytes of the alert id), time (4), version (2). A fragment, so the enqueue and the update decode them alike.
MARK_GROUPS = 32  # few fields, so each carries many records and a hash table's cost per field is shared
MARK_BYTES = 16
MARKS_LUA = f"""
local MARK_BYTES = {MARK_BYTES}
local function group_of(digest) return string.char(string.byte(digest, 1) % {MARK_GROUPS}) end
local function key_of(digest) return string.sub(digest, 2, 7) end
-- the position of ``key``'s record in a group's ``blob`` (records start at 1, 1 + MARK_BYTES, ...), or nil
local function find_mark(blob, key)
  if not blob then return nil end
  local at = 1
  while true do
    local p = string.find(blob, key, at, true)
    if not p then return nil end
    if (p - 1) % MARK_BYTES == 0 then return p end
    at = p + 1
  end
end
"""

ENQUEUE_LUA = script(
    """
-- One call per hash slot (on one Redis, one for the whole batch): the subscribers whose keys share it, each a
-- group of keys: its marker slices, oldest first (the last is the current one), the slices of the markers'
-- previous layout (read only, none once that window is over), its target set (q or buf), its items hash.
-- ARGV: 1 now, 2 retention s, 3 TTL of the current slice, 4 slices per subscriber, 5 old slices per
--       subscriber, then per subscriber: the number of its alerts, then per alert: cluster digest (16 bytes),
--       marker owner (4 bytes), item id, score, item json
-- returns, per subscriber, one state per alert: 0 queued, 1 this alert had the marker already, 2 another
-- alert had it
local now, ttl, slice_ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local nslices, nold = tonumber(ARGV[4]), tonumber(ARGV[5])
local stamp = struct.pack('>I4', now)
local replies = {}
local first, j = 1, 6  -- the group's first key, its first argument
while j <= #ARGV do
  local nalerts = tonumber(ARGV[j])
  local old0 = first + nslices
  local target, items = KEYS[old0 + nold], KEYS[old0 + nold + 1]
  local groups, gi, oldf = {}, {}, {}
  for a = 1, nalerts do
    local d = ARGV[j + 1 + (a - 1) * 5]
    local g = group_of(d)
    if not gi[g] then groups[#groups + 1] = g; gi[g] = #groups end
    oldf[a] = string.sub(d, 1, 12)
  end
  local got = read_slices(first, nslices, groups)
  local old = {}
  if nold > 0 then old = read_slices(old0, nold, oldf) end
  local cur = {}  -- the current slice's records per group, as this call leaves them
  for i, g in ipairs(groups) do cur[g] = got[nslices][i] or '' end
  local changed, out = {}, {}
  for a = 1, nalerts do
    local k = j + 1 + (a - 1) * 5
    local d, mine = ARGV[k], ARGV[k + 1]
    local g, key = group_of(d), key_of(d)
    local owner = nil
    for s = 1, nold do
      local v = old[s][a]
      if v and live(v, 9, ttl, now) then owner = string.sub(v, 1, 4) end
    end
    for s = 1, nslices do
      local blob = got[s][gi[g]]
      if s == nslices then blob = cur[g] end
      local p = find_mark(blob, key)
      if p and live(blob, p + 10, ttl, now) then owner = string.sub(blob, p + 6, p + 9) end
    end
    if not owner then
      local p = find_mark(cur[g], key)  -- an expired record of the current slice is overwritten in place
      local rec = key .. mine .. stamp .. '\0\1'
      if p then cur[g] = string.sub(cur[g], 1, p - 1) .. rec .. string.sub(cur[g], p + MARK_BYTES)
      else cur[g] = cur[g] .. rec end
      changed[g] = true
      if redis.call('HSETNX', items, ARGV[k + 2], ARGV[k + 4]) == 1 then
        redis.call('ZADD', target, ARGV[k + 3], ARGV[k + 2])
      end
      out[a] = 0
    elseif owner == mine then
      out[a] = 1
    else
      out[a] = 2
    end
  end
  local writes = {}
  for _, g in ipairs(groups) do
    if changed[g] then writes[#writes + 1] = g; writes[#writes + 1] = cur[g] end
  end
  write_current(KEYS[first + nslices - 1], writes, slice_ttl)
  replies[#replies + 1] = out
  first, j = old0 + nold + 2, j + 1 + nalerts * 5
end
return replies
""",
    LIVE_LUA,
    READ_LUA,
    WRITE_LUA,
    MARKS_LUA,
)

UPDATE_LUA = script(
    """
-- KEYS: 1 the current marker slice, 2 queue, 3 items
-- ARGV: 1 TTL of the slice, then per event: cluster digest (16 bytes), the record's tail (owner, time, version
--       sent: 10 bytes), item id, score, item json. Queues each event and records in the subscriber's marker
--       which version it got, in one step, so a redone batch sees the event as sent.
local cur, groups = {}, {}
for j = 2, #ARGV, 5 do
  local d = ARGV[j]
  local g, key = group_of(d), key_of(d)
  if cur[g] == nil then
    cur[g] = redis.call('HGET', KEYS[1], g) or ''
    groups[#groups + 1] = g
  end
  local p, rec = find_mark(cur[g], key), key .. ARGV[j + 1]
  if p then cur[g] = string.sub(cur[g], 1, p - 1) .. rec .. string.sub(cur[g], p + MARK_BYTES)
  else cur[g] = cur[g] .. rec end
  if redis.call('HSETNX', KEYS[3], ARGV[j + 2], ARGV[j + 4]) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[j + 3], ARGV[j + 2])
  end
end
local writes = {}
for _, g in ipairs(groups) do writes[#writes + 1] = g; writes[#writes + 1] = cur[g] end
write_current(KEYS[1], writes, ARGV[1])
return #groups
""",
    WRITE_LUA,
    MARKS_LUA,
)

TAKE_LUA = """
-- KEYS: 1 queue, 2 items; ARGV: 1 now, 2 lease end, 3 limit, 4 n, then n ids of items to settle, then pairs
-- (id, due) of leased items given back unstarted. Settles those, puts the given-back ones at their due again
-- (only if still queued), then leases and returns the first due items, in order, each as id, json, due (the
-- id, so an item that does not decode can be settled by it).
local n = tonumber(ARGV[4])
if n > 0 then
  local done = {unpack(ARGV, 5, 4 + n)}
  redis.call('ZREM', KEYS[1], unpack(done))
  redis.call('HDEL', KEYS[2], unpack(done))
end
for i = 5 + n, #ARGV, 2 do redis.call('ZADD', KEYS[1], 'XX', ARGV[i + 1], ARGV[i]) end
local out = {}
if tonumber(ARGV[3]) <= 0 then return out end
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
for i = 1, #due, 2 do
  local raw = redis.call('HGET', KEYS[2], due[i])
  if raw then
    redis.call('ZADD', KEYS[1], ARGV[2], due[i])
    out[#out + 1] = due[i]
    out[#out + 1] = raw
    out[#out + 1] = due[i + 1]
  else
    redis.call('ZREM', KEYS[1], due[i])
  end
end
return out
"""

SETTLE_LUA = """
-- KEYS: 1 queue, 2 items; ARGV: the item ids
redis.call('ZREM', KEYS[1], unpack(ARGV))
return redis.call('HDEL', KEYS[2], unpack(ARGV))
"""

RESCHEDULE_LUA = """
-- KEYS: 1 queue, 2 items; ARGV: item id, item json, due. An item settled meanwhile stays settled.
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

PUT_LUA = """
-- KEYS: 1 queue, 2 items; ARGV: item id, item json, due. Adds an item unless it is queued already.
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"""

SEAL_LUA = """
-- KEYS: 1 buffer, 2 queue, 3 items; ARGV: 1 digest id, 2 digest item json, 3 due, then the alert ids
for i = 4, #ARGV do
  if not redis.call('ZSCORE', KEYS[1], ARGV[i]) then return 0 end
end
for i = 4, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

UNBUFFER_LUA = """
-- KEYS: 1 buffer, 2 queue; ARGV: 1 due, then item ids. Moves buffered items to the queue (an item that does not
-- decode cannot join a digest: the queue's take dead-letters it).
local moved = 0
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[1], ARGV[i])
    moved = moved + 1
  end
end
return moved
"""
