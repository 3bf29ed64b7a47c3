"""Per-subscriber deduplication in Redis: one atomic claim per (subscriber, story), one round trip.

A story has exact fingerprints (its id, its canonical link, a hash of its normalised body) and, when its
body is long enough, a MinHash filed under eight bands (``workers.alerter.neardup``). The claim script decides in
this order: the first exact fingerprint found names the alert that owns this content (a re-poll, or a
syndicated copy under another URL); else a story filed under one of the bands within the distance
threshold owns it (a copy with another headline, a credit line or a few edited words); else this
story's alert becomes the owner of all its fingerprints and is filed under its bands. A copy is
counted on its owner (a hash of copy alert id -> URL), so the owner's alert can say ``duplicates: N``.
The same call says whether the owner was already delivered (``sent:<alert id>``), so a batch re-read
after a crash re-sends only what was not delivered, under the same webhook-id. Claims of a batch go in
one pipeline; delivered marks of a batch go in another.

Layout, and why. A top-level Redis key with an expiry costs about 200 bytes before its value (entries in
the keyspace and expiry tables, the key name, a value object). The first layout spent one per exact
fingerprint and one per band: ~1.6 kB per story (``python -m tests.bench alerter``). Now a subscriber's
entries live in one hash per time slice of a quarter of the retention window
(``dedup:<sub>:slice:<width>:<index>``), with binary fields and values:

- exact fingerprint: field = kind tag + 16-byte digest, value = owner (the alert id's 16 bytes) + time;
- band: field = band index + its 16 bits, value = one 36-byte record per story filed under it in that
  slice: owner (16 bytes) + MinHash (16, ``neardup.FINGERPRINT_BYTES``) + time (4, Unix seconds, big-endian).
  Band indexes start at ``neardup.BAND_INDEX_BASE``, so these fields never meet the 28-byte records of the
  SimHash (indexes 0-3) that slices written before issue 13 hold.

That is about 80 bytes per entry, ~0.75 kB per story with its sent marker. A hash of more than 128 entries
(the default ``hash-max-listpack-entries``, also on managed Redis) is a hash table, which these figures
measure; smaller ones are listpacks and smaller still, so no non-default server setting is needed.

Retention. Every entry carries the time it was written and counts only while ``time + retention > now``,
so copies are suppressed for exactly the retention window, as before. A slice hash expires one retention
window after its slice ends, taking its entries with it: memory is freed at most a quarter window after
an entry's retention ends. A claim reads every slice that can still hold a live entry (the current one and,
for a window of whole hours, four before it at most; one HMGET each, inside the script) and writes only to
the current one. An exact fingerprint with a live entry
is never rewritten (as ``SET NX`` did), so it suppresses copies for one window from its first claim.
The slice width follows the retention: after a change of ``dedup_retention_hours`` slices of the old
width are no longer read (see README, Upgrading the dedup layout).

Upgrade from the layout of one key per fingerprint (``dedup:<sub>:<kind>:<value>`` and band hashes
``dedup:<sub>:nd:<band>``): for one retention window after it starts, a ``Dedup`` also reads those keys,
so stories delivered before the upgrade still suppress their copies; they are never written again and
expire by themselves. Sent markers and duplicate counters kept their layout.

The script builds the duplicate counter's key from a prefix (it depends on the owner found), so it is not
Redis Cluster safe as is.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from redis import Redis

from workers.alerter import neardup
from workers.core.names import Names, as_text
from workers.core.stories import Story, normalise_for_fingerprint, normalised_content_hash
from workers.core.urls import canonical_url

SLICES = 4  # time slices per retention window: an entry's memory outlives its retention by at most one slice
_TAGS = {"id": b"i", "content": b"c", "url": b"u"}  # first byte of an exact fingerprint's field

CLAIM_LUA = """
-- KEYS: the subscriber's slice hashes, oldest first (the last is the current one), then ARGV[7] keys of the
--       old layout (n exact keys, then the band hashes), then the sent marker of ARGV[1]
-- ARGV: 1 my alert id, 2 the same as 16 bytes, 3 retention s, 4 now (s), 5 TTL of the current slice,
--       6 number of slices, 7 number of old-layout keys, 8 n: number of exact fields, 9 max distance,
--       10 prefix of duplicate counter keys, 11 my story url, 12 my MinHash as bytes ('' when none),
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
local function close(other)  -- neardup.distance: one-byte MinHash slots that differ, at most maxd
  if #other ~= #simhash then return false end  -- a SimHash of the old layout: another fingerprint
  local d = 0
  for i = 1, #simhash do
    if string.byte(simhash, i) ~= string.byte(other, i) then
      d = d + 1
      if d > maxd then return false end
    end
  end
  return true
end
local rec = 20 + #simhash  -- band record: owner (16) + MinHash + time (4)

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
  for b = 1, nbands do
    for s = 1, nslices do
      local v = got[s][n + b]
      if v then
        for at = 1, #v, rec do
          if live(v, at + rec - 4) and close(string.sub(v, at + 16, at + rec - 5)) then
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


def alert_id(subscriber: str, story_id: str) -> str:
    """The webhook-id: stable for a (subscriber, story), so a receiver can drop repeats."""
    return "msg_" + hashlib.sha256(f"{subscriber}\x1f{story_id}".encode()).hexdigest()[:32]


def fingerprints(story: Story, body: str | None = None) -> list[tuple[str, str]]:
    """The exact fingerprints of a story; ``body`` is its text already normalised, when the caller has it."""
    if body is None:
        body = normalise_for_fingerprint(story.text)
    prints = [("id", story.id), ("content", normalised_content_hash(story.title, body))]
    if story.link:
        prints.append(("url", hashlib.sha256(canonical_url(story.link).encode()).hexdigest()[:32]))
    return prints


@dataclass(frozen=True)
class Claim:
    owner: str  # the alert id that owns this content for this subscriber
    delivered: bool  # whether the owner's alert was already delivered (only known when the owner is mine)
    how: str  # 'new', 'exact' or 'near': how the owner was found
    duplicates: int  # copies counted on the owner so far

    def is_duplicate_of_other(self, mine: str) -> bool:
        return self.owner != mine


@dataclass(frozen=True)
class StoryPrints:
    exact: list[tuple[str, str]]  # (kind, value): id, normalised body hash, canonical URL hash
    simhash: int | None  # None: body too short for near-duplicate comparison, or near-duplicates off
    fields: list[bytes] = field(init=False)  # the slice hash fields: the exact fingerprints, then the bands

    def __post_init__(self) -> None:
        exact = [_TAGS[kind] + hashlib.blake2b(value.encode(), digest_size=16).digest() for kind, value in self.exact]
        bands = [] if self.simhash is None else neardup.band_fields(self.simhash)
        object.__setattr__(self, "fields", exact + bands)


@dataclass(frozen=True)
class ClaimRequest:
    subscriber: str
    story: Story
    alert_id: str


class Dedup:
    def __init__(
        self,
        redis: Redis,
        names: Names,
        retention_s: int,
        *,
        max_distance: int = neardup.MAX_DISTANCE,
        min_tokens: int = neardup.MIN_TOKENS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.names = names
        self.retention_s = max(1, retention_s)
        self.slice_s = max(1, self.retention_s // SLICES)
        self.max_distance = max_distance
        self.min_tokens = min_tokens
        self.clock = clock  # Unix seconds; entries are stamped with it, so tests can step past retention
        # keys of the old layout were written before this process started: all expire within one window
        self.old_layout_until = clock() + self.retention_s
        self._claim = redis.register_script(CLAIM_LUA)

    def story_prints(self, story: Story) -> StoryPrints:
        """A story's fingerprints; they depend on the story alone, so a batch computes them once per story,
        and the body is normalised once for both the content hash and the SimHash."""
        body = normalise_for_fingerprint(story.text)
        h = neardup.normalised_simhash(body, self.min_tokens) if self.max_distance >= 0 else None
        return StoryPrints(exact=fingerprints(story, body), simhash=h)

    def slice_keys(self, subscriber: str, now: int) -> list[str]:
        """The slices that can hold an entry still within retention at ``now``, oldest first, current last."""
        first, last = (now - self.retention_s + 1) // self.slice_s, now // self.slice_s
        return [self.names.dedup_slice(subscriber, self.slice_s, i) for i in range(first, last + 1)]

    def _old_layout_keys(self, subscriber: str, prints: StoryPrints) -> list[str]:
        # only its exact keys: its band hashes hold SimHashes, which no MinHash can be compared to (issue 13)
        return [self.names.dedup(subscriber, kind, value) for kind, value in prints.exact]

    def _call(self, req: ClaimRequest, prints: StoryPrints, now: float) -> tuple[list[str], list[str | int | bytes]]:
        t = int(now)
        slices = self.slice_keys(req.subscriber, t)
        old = self._old_layout_keys(req.subscriber, prints) if now < self.old_layout_until else []
        h = prints.simhash
        args: list[str | int | bytes] = [
            req.alert_id,
            bytes.fromhex(req.alert_id.removeprefix("msg_")),
            self.retention_s,
            t,
            (t // self.slice_s + 1) * self.slice_s + self.retention_s - t,  # slice TTL: its last entry gets a window
            len(slices),
            len(old),
            len(prints.exact),
            self.max_distance,
            self.names.dups(""),
            req.story.link,
            b"" if h is None else neardup.to_bytes(h),
            *prints.fields,
        ]
        return slices + old + [self.names.sent(req.alert_id)], args

    def claim_many(self, requests: Sequence[ClaimRequest]) -> list[Claim]:
        """Claim every (subscriber, story) of a batch in one pipeline; scripts run in order, so copies
        within the batch see each other."""
        if not requests:
            return []
        now = self.clock()
        prints: dict[str, StoryPrints] = {}  # a story matching several subscribers: once
        with self.redis.pipeline(transaction=False) as pipe:
            for req in requests:
                if req.story.id not in prints:
                    prints[req.story.id] = self.story_prints(req.story)
                keys, args = self._call(req, prints[req.story.id], now)
                self._claim(keys=keys, args=args, client=pipe)
            replies = pipe.execute()
        return [_claim_from(r) for r in replies]

    def claim(self, subscriber: str, story: Story, mine: str) -> Claim:
        keys, args = self._call(ClaimRequest(subscriber, story, mine), self.story_prints(story), self.clock())
        return _claim_from(self._claim(keys=keys, args=args))

    def mark_delivered(self, alert_ids: Sequence[str]) -> None:
        if not alert_ids:
            return
        with self.redis.pipeline(transaction=False) as pipe:
            for aid in alert_ids:
                pipe.set(self.names.sent(aid), 1, ex=self.retention_s)
            pipe.execute()

    def is_delivered(self, alert_id: str) -> bool:
        return bool(self.redis.exists(self.names.sent(alert_id)))

    def copies(self, owner: str) -> dict[str, str]:
        """The later copies counted on an alert: copy alert id -> its URL."""
        raw = self.redis.hgetall(self.names.dups(owner))
        return {as_text(k): as_text(v) for k, v in raw.items()}


def _claim_from(reply: list[bytes | str | int]) -> Claim:
    owner, delivered, how, dups = reply
    return Claim(owner=as_text(owner), delivered=bool(delivered), how=as_text(how), duplicates=int(dups))
