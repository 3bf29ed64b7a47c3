"""The outbox's Lua scripts (``workers.alerter.outbox`` runs them): each touches the keys of one subscriber, all
passed in ``KEYS`` (one hash slot: the ``{s:<name>}`` tag), so they run on Redis Cluster as on one Redis; the
enqueue takes several subscribers only where they share a slot."""

from __future__ import annotations

from workers.alerter.slices import LIVE_LUA, READ_LUA, WRITE_LUA, script

ENQUEUE_LUA = script(
    """
-- One call per hash slot (on one Redis, one for the whole batch): the subscribers whose keys share it, each a
-- group of keys: its marker slices, oldest first (the last is the current one), its target set (q or buf), its
-- items hash.
-- ARGV: 1 now, 2 retention s, 3 TTL of the current slice, 4 slices per subscriber, then per subscriber: the
--       number of its alerts, then per alert: marker field, marker owner (8 bytes), item id, score, item json
-- returns, per subscriber, one state per alert: 0 queued, 1 this alert had the marker already, 2 another
-- alert had it
local now, ttl, slice_ttl, nslices = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local replies = {}
local first, j = 1, 5  -- the group's first key, its first argument
while j <= #ARGV do
  local nalerts = tonumber(ARGV[j])
  local target, items = KEYS[first + nslices], KEYS[first + nslices + 1]
  local fields = {}
  for a = 1, nalerts do fields[a] = ARGV[j + 1 + (a - 1) * 5] end
  local got = read_slices(first, nslices, fields)
  local written = {}  -- markers written by this call, so copies within one batch see each other
  local stamp = struct.pack('>I4', now)
  local out, writes = {}, {}
  for a = 1, nalerts do
    local k = j + 1 + (a - 1) * 5
    local f, mine = ARGV[k], ARGV[k + 1]
    local owner = written[f]
    if not owner then
      for s = 1, nslices do
        local v = got[s][a]
        if v and live(v, 9, ttl, now) then owner = string.sub(v, 1, 8) end
      end
    end
    if not owner then
      written[f] = mine
      writes[#writes + 1] = f
      writes[#writes + 1] = mine .. stamp
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
  write_current(KEYS[first + nslices - 1], writes, slice_ttl)
  replies[#replies + 1] = out
  first, j = first + nslices + 2, j + 1 + nalerts * 5
end
return replies
""",
    LIVE_LUA,
    READ_LUA,
    WRITE_LUA,
)

UPDATE_LUA = script(
    """
-- KEYS: 1 the current marker slice, 2 queue, 3 items
-- ARGV: 1 TTL of the slice, then per event: marker field, marker value (owner, time, version sent), item id,
--       score, item json. Queues each event and records in the subscriber's marker which version it got,
--       in one step, so a redone batch sees the event as sent.
local writes = {}
for j = 2, #ARGV, 5 do
  writes[#writes + 1] = ARGV[j]
  writes[#writes + 1] = ARGV[j + 1]
  if redis.call('HSETNX', KEYS[3], ARGV[j + 2], ARGV[j + 4]) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[j + 3], ARGV[j + 2])
  end
end
write_current(KEYS[1], writes, ARGV[1])
return #writes / 2
""",
    WRITE_LUA,
)

TAKE_LUA = """
-- KEYS: 1 queue, 2 items; ARGV: 1 now, 2 lease end, 3 limit, 4 n, then n ids of items to settle, then pairs
-- (id, due) of leased items given back unstarted. Settles those, puts the given-back ones at their due again
-- (only if still queued), then leases and returns the first due items, in order, each with its due.
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
