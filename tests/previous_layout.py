"""The per-subscriber dedup layout of the previous version (until the story clusters), as it wrote Redis.

Kept only so the upgrade test writes the state an install of that version leaves behind with the code that
wrote it (its claim script, verbatim), then runs the new alerter on it. Not used by wirewatch itself.
"""

from __future__ import annotations

import json
import time
from typing import Any

from redis import Redis

from workers.alerter import neardup
from workers.alerter.dedup import StoryPrints, alert_id, fingerprints
from workers.core.names import Names
from workers.core.stories import Story, normalise_for_fingerprint

SLICES = 4

CLAIM_LUA = """
-- KEYS: the subscriber's slice hashes, oldest first (the last is the current one), then ARGV[7] keys of the
--       old layout (n exact keys, then the band hashes), then the sent marker of ARGV[1]
-- ARGV: 1 my alert id, 2 the same as 16 bytes, 3 retention s, 4 now (s), 5 TTL of the current slice,
--       6 number of slices, 7 number of old-layout keys, 8 n: number of exact fields, 9 max distance,
--       10 prefix of duplicate counter keys, 11 my story url, 12 my SimHash as 8 bytes ('' when none),
--       13... the n exact fields, then the band fields
local mine, mine_raw = ARGV[1], ARGV[2]
local ttl, now, slice_ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local nslices, nold, n, maxd = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local simhash = ARGV[12]
local fields = {}
for i = 13, #ARGV do fields[#fields + 1] = ARGV[i] end
local nbands = #fields - n

local function live(value, at)  -- the 4-byte time at `at` is within retention
  return struct.unpack('>I4', value, at) + ttl > now
end
local function hex(raw)
  return 'msg_' .. (string.gsub(raw, '.', function(c) return string.format('%02x', string.byte(c)) end))
end
local function unhex(id)
  return (string.gsub(string.sub(id, 5), '..', function(h) return string.char(tonumber(h, 16)) end))
end
local function popcount(x)
  local c = 0
  for _ = 1, 32 do
    c = c + bit.band(x, 1)
    x = bit.rshift(x, 1)
  end
  return c
end

local got = {}
for s = 1, nslices do got[s] = redis.call('HMGET', KEYS[s], unpack(fields)) end

local owner, how = false, 'new'
local known = {}  -- exact fields with a live entry: never rewritten
for i = 1, n do
  for s = 1, nslices do
    local v = got[s][i]
    if v and live(v, 17) then
      known[i] = true
      if not owner then owner, how = hex(string.sub(v, 1, 16)), 'exact' end
    end
  end
  if nold > 0 and not known[i] then
    local v = redis.call('GET', KEYS[nslices + i])
    if v then
      known[i] = true
      if not owner then owner, how = v, 'exact' end
    end
  end
end

local function near_owner()  -- the oldest story within the distance under one of my bands
  local hi, lo = struct.unpack('>I4I4', simhash)
  local function close(h2, l2) return popcount(bit.bxor(hi, h2)) + popcount(bit.bxor(lo, l2)) <= maxd end
  for b = 1, nbands do
    if nold > 0 then
      local entries = redis.call('HGETALL', KEYS[nslices + n + b])
      for j = 1, #entries, 2 do
        local v = entries[j + 1]  -- '<16 hex digits>:<expiry>'
        if tonumber(string.sub(v, 18)) >= now
          and close(tonumber(string.sub(v, 1, 8), 16), tonumber(string.sub(v, 9, 16), 16)) then
          return entries[j]
        end
      end
    end
    for s = 1, nslices do
      local v = got[s][n + b]
      if v then
        for at = 1, #v, 28 do
          if live(v, at + 24) and close(struct.unpack('>I4I4', v, at + 16)) then
            return hex(string.sub(v, at, at + 15))
          end
        end
      end
    end
  end
  return false
end
if not owner and nbands > 0 then
  owner = near_owner()
  if owner then how = 'near' end
end

local stamp = struct.pack('>I4', now)
local writes = {}
if not owner then
  owner, how = mine, 'new'
  for b = 1, nbands do
    writes[#writes + 1] = fields[n + b]
    writes[#writes + 1] = (got[nslices][n + b] or '') .. mine_raw .. simhash .. stamp
  end
end
local owner_raw = owner == mine and mine_raw or unhex(owner)
for i = 1, n do
  if not known[i] then
    writes[#writes + 1] = fields[i]
    writes[#writes + 1] = owner_raw .. stamp
  end
end
if #writes > 0 then
  redis.call('HSET', KEYS[nslices], unpack(writes))
  redis.call('EXPIRE', KEYS[nslices], slice_ttl)
end

local dupkey = ARGV[10] .. owner
local delivered = 0
if owner == mine then
  delivered = redis.call('EXISTS', KEYS[#KEYS])
else
  redis.call('HSET', dupkey, mine, ARGV[11])
  redis.call('EXPIRE', dupkey, ttl)
end
return {owner, delivered, how, redis.call('HLEN', dupkey)}
"""


class PreviousDedup:
    """``workers.alerter.dedup.Dedup`` as it was: claim a (subscriber, story), mark it delivered."""

    def __init__(self, redis: Redis, names: Names, retention_s: int) -> None:
        self.redis = redis
        self.names = names
        self.retention_s = retention_s
        self.slice_s = max(1, retention_s // SLICES)
        self._claim = redis.register_script(CLAIM_LUA)

    def claim(self, subscriber: str, story: Story) -> str:
        """The owner alert id of the story's content for this subscriber, as the previous claim decided."""
        body = normalise_for_fingerprint(story.text)
        prints = StoryPrints(exact=fingerprints(story, body), simhash=neardup.normalised_simhash(body))
        mine = alert_id(subscriber, story.id)
        t = int(time.time())
        first, last = (t - self.retention_s + 1) // self.slice_s, t // self.slice_s
        slices = [self.names.dedup_slice(subscriber, self.slice_s, i) for i in range(first, last + 1)]
        h = prints.simhash
        args: list[Any] = [
            mine,
            bytes.fromhex(mine.removeprefix("msg_")),
            self.retention_s,
            t,
            (t // self.slice_s + 1) * self.slice_s + self.retention_s - t,
            len(slices),
            0,
            len(prints.exact),
            neardup.MAX_DISTANCE,
            self.names.dups(""),
            story.link,
            b"" if h is None else h.to_bytes(8, "big"),
            *prints.fields,
        ]
        owner = self._claim(keys=[*slices, self.names.sent(mine)], args=args)[0]
        return owner.decode() if isinstance(owner, bytes) else str(owner)

    def mark_delivered(self, aid: str) -> None:
        self.redis.set(self.names.sent(aid), 1, ex=self.retention_s)

    def park(self, subscriber: str, alert: dict[str, Any], due: float) -> None:
        """The previous retry queue's park: one payload hash for all, one due set per subscriber."""
        item = {
            "alert_id": alert["alert_id"],
            "subscriber": subscriber,
            "alert": alert,
            "attempts": 1,
            "last_error": "x",
        }
        self.redis.hset(self.names.retry_payloads, alert["alert_id"], json.dumps(item))
        self.redis.zadd(f"{self.names.retry_due}:{subscriber}", {alert["alert_id"]: due})

    def buffer(self, subscriber: str, alert: dict[str, Any]) -> None:
        """The previous digest buffer: a sorted set of alert ids and a hash of their payloads."""
        self.redis.zadd(self.names.digest_buffer(subscriber), {alert["alert_id"]: time.time()})
        self.redis.hset(self.names.digest_alerts(subscriber), alert["alert_id"], json.dumps(alert))


# The first outbox version's enqueue (its slices' fragments and body, verbatim): one 12-byte field per delivered
# cluster, 12-byte value (8 bytes of the alert id + time), in ``Names.old_delivered_markers``.
MARKERS_ENQUEUE_LUA = """
-- an entry whose 4-byte stamp starts at byte ``at`` (1-based) of ``value`` is within ``ttl`` s of ``now``
local function live(value, at, ttl, now) return struct.unpack('>I4', value, at) + ttl > now end

-- HMGET of ``fields`` in the ``n`` slices that start at KEYS[first]: got[slice][field]
local function read_slices(first, n, fields)
  local got = {}
  for s = 1, n do got[s] = redis.call('HMGET', KEYS[first + s - 1], unpack(fields)) end
  return got
end

-- ``writes`` (field, value, ...) into the current slice ``key``, which then expires after ``slice_ttl``
local function write_current(key, writes, slice_ttl)
  if #writes > 0 then
    redis.call('HSET', key, unpack(writes))
    redis.call('EXPIRE', key, slice_ttl)
  end
end

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
"""


class PreviousMarkers:
    """The delivered markers and queue as the first outbox version wrote them, with its own enqueue script."""

    def __init__(self, redis: Redis, names: Names, retention_s: int) -> None:
        self.redis, self.names, self.retention_s = redis, names, retention_s
        self.width = max(1, retention_s // SLICES)
        self._enqueue = redis.register_script(MARKERS_ENQUEUE_LUA)

    def enqueue(self, subscriber: str, cluster: str, item_id: str, item_json: str) -> int:
        """Mark ``cluster`` as sent to ``subscriber`` and queue the item; the script's state (0 queued)."""
        now = int(time.time())
        first, last = (now - self.retention_s + 1) // self.width, now // self.width
        keys = [self.names.old_delivered_markers(subscriber, self.width, i) for i in range(first, last + 1)]
        keys += [self.names.outbox_queue(subscriber), self.names.outbox_items(subscriber)]
        ttl = (now // self.width + 1) * self.width + self.retention_s - now
        field = bytes.fromhex(cluster.removeprefix("cl_"))[:12]
        owner = bytes.fromhex(item_id.removeprefix("msg_"))[:8]
        args: list[Any] = [now, self.retention_s, ttl, len(keys) - 2, 1, field, owner, item_id, now, item_json]
        return int(self._enqueue(keys=keys, args=args)[0][0])
