"""Story clusters in Redis: a story's fingerprints resolve, once for every subscriber, to a cluster id.

A story has exact fingerprints (its id, its canonical link, a hash of its normalised body) and, when its
body is long enough, a near-duplicate fingerprint filed under bands (``workers.alerter.neardup``). One
script per story (``RESOLVE_LUA``) decides in this order: the first exact fingerprint with a live entry
names the cluster (a re-poll, or a syndicated copy under another URL); else a story filed under one of the
bands within the near-duplicate distance (differing MinHash slots) names it (a copy with another headline, a
credit line, an edited number); else the story founds a cluster of its own, whose id is derived from the
story id. The story's fingerprints are then filed under that cluster, so its later copies find it too.

The cluster record (``Names.cluster``) keeps its members: story id -> feed, URL, first seen, at most
``MAX_MEMBERS`` of them, and the count of every story the cluster gathered. It also keeps the latest version
of the story that founded it (``#vs`` story id, ``#vn`` version, ``#v`` title and bounded body, ``#vp`` the
version before), so a new version is described once against the last, whatever the number of subscribers.
An alert reports that count minus one as ``duplicates`` when it is sent: the copies seen before this alert went out.

What is per subscriber is only "this cluster went to this subscriber", in ``workers.alerter.outbox``.

Layout, and why. A top-level key with an expiry costs about 200 bytes before its value, so the index lives
in one hash per time slice of a quarter of the retention window (``{fp}:ix:<width>:<index>``), with binary
fields and values:

- exact fingerprint: field = kind tag + 16-byte digest, value = cluster (16 bytes) + time (4);
- band: field = ``neardup.band_fields``, value = one record per story filed under it in that slice:
  cluster (16 bytes) + fingerprint (``FP_BYTES``) + time (4, Unix seconds, big-endian).

Every entry counts only while ``time + retention > now``; a slice expires one retention window after it
ends. Redis Cluster: the index slices share the ``{fp}`` hash tag (one script reads several of them), each
cluster record has its own (``{c:<id>}``), and every key a script touches is passed in ``KEYS``.
"""

from __future__ import annotations

import hashlib
import json
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from workers.alerter import neardup
from workers.alerter.slices import LIVE_LUA, READ_LUA, WRITE_LUA, Slices, script
from workers.core import revisions
from workers.core.names import Names, as_text
from workers.core.stories import Story, normalise_for_fingerprint, normalised_content_hash
from workers.core.urls import canonical_url
from workers.infra.redis import is_cluster, run_scripts

MAX_MEMBERS = 50  # members a cluster record keeps; the count goes on past it
# each key's count field, 0 where the record expired (a nil would end a Lua array early); one Redis only
COUNTS_LUA = """
local out = {}
for i, key in ipairs(KEYS) do
  out[i] = tonumber(redis.call('HGET', key, ARGV[1]) or '0')
end
return out
"""
COUNT_FIELD = b"#n"  # the cluster record's count of every story it gathered (story ids never start with '#')
FP_BYTES = neardup.FINGERPRINT_BYTES  # the near-duplicate fingerprint as stored (one byte per MinHash slot)
_TAGS = {"id": b"i", "content": b"c", "url": b"u"}  # first byte of an exact fingerprint's field

RESOLVE_LUA = script(
    """
-- KEYS: the index slices, oldest first (the last is the current one)
-- ARGV: 1 the story's own cluster id (16 bytes), 2 retention s, 3 now (s), 4 TTL of the current slice,
--       5 n: number of exact fields (the first is the story id's), 6 max distance, 7 fingerprint bytes
--       ('' when none), 8... the n exact fields, then the band fields
-- returns {cluster id (16 bytes), how ('new', 'exact', 'near'), 1 when the story id was not filed yet}
local mine = ARGV[1]
local ttl, now, slice_ttl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n, maxd, fp = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local fields = {}
for i = 8, #ARGV do fields[#fields + 1] = ARGV[i] end
local nbands, nslices, width = #fields - n, #KEYS, 20 + #fp

local function close(other)  -- neardup.distance: one-byte MinHash slots that differ, at most maxd
  local d = 0
  for i = 1, #fp do
    if string.byte(fp, i) ~= string.byte(other, i) then
      d = d + 1
      if d > maxd then return false end
    end
  end
  return true
end

local got = read_slices(1, nslices, fields)

local cluster, how = false, 'new'
local known = {}  -- exact fields with a live entry: never rewritten, so the first filing wins
for i = 1, n do
  for s = 1, nslices do
    local v = got[s][i]
    if v and live(v, 17, ttl, now) then
      known[i] = true
      if not cluster then cluster, how = string.sub(v, 1, 16), 'exact' end
    end
  end
end
if not cluster and nbands > 0 then
  for b = 1, nbands do
    for s = 1, nslices do
      local v = got[s][n + b]
      if v then
        for at = 1, #v, width do
          if live(v, at + 16 + #fp, ttl, now) and close(string.sub(v, at + 16, at + 15 + #fp)) then
            cluster, how = string.sub(v, at, at + 15), 'near'
            break
          end
        end
      end
      if cluster then break end
    end
    if cluster then break end
  end
end

local stamp = struct.pack('>I4', now)
local writes = {}
if not cluster then
  cluster = mine
  for b = 1, nbands do
    writes[#writes + 1] = fields[n + b]
    writes[#writes + 1] = (got[nslices][n + b] or '') .. mine .. fp .. stamp
  end
end
for i = 1, n do
  if not known[i] then
    writes[#writes + 1] = fields[i]
    writes[#writes + 1] = cluster .. stamp
  end
end
write_current(KEYS[nslices], writes, slice_ttl)
return {cluster, how, known[1] and 0 or 1}
""",
    LIVE_LUA,
    READ_LUA,
    WRITE_LUA,
)

MEMBER_LUA = """
-- KEYS[1] the cluster record; ARGV: 1 story id, 2 member json, 3 max members, 4 TTL, 5 '1' when the story
-- was new to the index (past the member bound, only that tells a new copy from a re-poll), 6 the story's
-- version, 7 that version's state (title and bounded body, compressed)
-- returns {count, how the version relates to the one the record keeps, the state to compare it with}:
-- 'base' (the record keeps this version now, nothing before it), 'new' (a later version of the kept story:
-- it replaces the kept one, which is returned), 'redo' (this version is the kept one: the one before it is
-- returned, so a redone batch describes the same change), 'other' (a version of another story of the
-- cluster: a copy's revision), 'stale' (older than the kept one)
local added = false
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  -- the count and the kept version's fields are entries too
  local extra = redis.call('HEXISTS', KEYS[1], '#vs') * 3 + redis.call('HEXISTS', KEYS[1], '#vp')
  if redis.call('HLEN', KEYS[1]) - extra <= tonumber(ARGV[3]) then
    redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
    added = true
  elseif ARGV[5] == '1' then
    added = true
  end
end
local count
if added then count = redis.call('HINCRBY', KEYS[1], '#n', 1)
else count = tonumber(redis.call('HGET', KEYS[1], '#n') or '1') end
local n = tonumber(ARGV[6])
local kept = redis.call('HMGET', KEYS[1], '#vs', '#vn', '#v', '#vp')
local how, old = 'base', ''
if not kept[1] then
  redis.call('HSET', KEYS[1], '#vs', ARGV[1], '#vn', n, '#v', ARGV[7])
elseif kept[1] ~= ARGV[1] then
  how = 'other'
else
  local have = tonumber(kept[2])
  if n > have then
    redis.call('HSET', KEYS[1], '#vn', n, '#v', ARGV[7], '#vp', kept[3])
    how, old = 'new', kept[3]
  elseif n == have then
    if kept[4] then how, old = 'redo', kept[4] end
  else
    how = 'stale'
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
return {count, how, old}
"""

# The kept version's body, bounded: enough paragraphs to tell what a later version added or removed.
KEPT_PARAGRAPHS = 20
KEPT_BYTES = 8 * 1024


def version_state(story: Story) -> bytes:
    """What a cluster record keeps of its story's latest version: title and bounded body, zlib-compressed
    (Lua only moves it; Python compares it)."""
    body = "\n\n".join(revisions.paragraphs(story.text)[:KEPT_PARAGRAPHS])
    raw = body.encode()[:KEPT_BYTES].decode(errors="ignore")
    return zlib.compress(json.dumps({"t": story.title, "b": raw}, ensure_ascii=False).encode())


def read_state(blob: bytes) -> tuple[str, str]:
    """(title, body) of a kept version."""
    data = json.loads(zlib.decompress(blob))
    return str(data["t"]), str(data["b"])


def alert_id(subscriber: str, story_id: str, version: int = 1) -> str:
    """The webhook-id: stable for a (subscriber, story, version), so a receiver can drop repeats; version 1
    (the story's first alert) keeps the id it had before versions existed."""
    key = f"{subscriber}\x1f{story_id}" + (f"\x1f{version}" if version > 1 else "")
    return "msg_" + hashlib.sha256(key.encode()).hexdigest()[:32]


def founding_cluster(story_id: str) -> bytes:
    """The 16-byte id of the cluster a story founds when it is the first of its kind."""
    return hashlib.blake2b(story_id.encode(), digest_size=16).digest()


def cluster_name(raw: bytes) -> str:
    """A cluster id as alerts, logs and the CLI show it."""
    return "cl_" + raw.hex()


def fingerprints(story: Story, body: str | None = None) -> list[tuple[str, str]]:
    """The exact fingerprints of a story, its id first; ``body`` is its text already normalised, when known."""
    if body is None:
        body = normalise_for_fingerprint(story.text)
    prints = [("id", story.id), ("content", normalised_content_hash(story.title, body))]
    if story.link:
        prints.append(("url", hashlib.sha256(canonical_url(story.link).encode()).hexdigest()[:32]))
    return prints


@dataclass(frozen=True)
class StoryPrints:
    exact: list[tuple[str, str]]  # (kind, value): id, normalised body hash, canonical URL hash
    simhash: int | None  # None: body too short for near-duplicate comparison, or near-duplicates off
    fields: list[bytes] = field(init=False)  # the index hash fields: the exact fingerprints, then the bands

    def __post_init__(self) -> None:
        exact = [_TAGS[kind] + hashlib.blake2b(value.encode(), digest_size=16).digest() for kind, value in self.exact]
        bands = [] if self.simhash is None else list(neardup.band_fields(self.simhash))
        object.__setattr__(self, "fields", exact + bands)


@dataclass(frozen=True)
class Resolved:
    cluster: str  # ``cl_`` + 32 hex digits
    how: str  # 'new', 'exact' or 'near'
    new_story: bool  # the story id was not in the index yet (not a re-poll or a redone batch)
    count: int = 1  # stories in the cluster, this one included, once members are recorded
    version: str = "base"  # how the story's version relates to the one the record keeps (MEMBER_LUA)
    previous: tuple[str, str] | None = None  # (title, body) of the version before this one, when known


@dataclass(frozen=True)
class ClusterView:
    """A cluster as ``wirewatch stories show`` prints it."""

    cluster: str
    count: int
    members: list[dict[str, Any]]


class Clusters:
    def __init__(
        self,
        redis: Any,
        names: Names,
        retention_s: int,
        *,
        max_distance: int = neardup.MAX_DISTANCE,
        min_tokens: int = neardup.MIN_TOKENS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.names = names
        self.slices = Slices(retention_s)
        self.retention_s = self.slices.retention_s
        self.slice_s = self.slices.width_s
        self.max_distance = max_distance
        self.min_tokens = min_tokens
        self.clock = clock  # Unix seconds; entries are stamped with it, so tests can step past retention
        self._resolve = redis.register_script(RESOLVE_LUA)
        self._member = redis.register_script(MEMBER_LUA)
        self._counts = redis.register_script(COUNTS_LUA)

    def story_prints(self, story: Story) -> StoryPrints:
        """A story's fingerprints; the body is normalised once for both the content hash and the SimHash."""
        body = normalise_for_fingerprint(story.text)
        h = neardup.normalised_simhash(body, self.min_tokens) if self.max_distance >= 0 else None
        return StoryPrints(exact=fingerprints(story, body), simhash=h)

    def slice_keys(self, now: int) -> list[str]:
        """The slices that can hold an entry still within retention at ``now``, oldest first, current last."""
        return self.slices.keys(self.names.cluster_index, now)

    def slice_ttl(self, now: int) -> int:
        return self.slices.ttl(now)

    def _resolve_args(self, story: Story, prints: StoryPrints, now: int) -> list[bytes | int]:
        h = prints.simhash
        return [
            founding_cluster(story.id),
            self.retention_s,
            now,
            self.slice_ttl(now),
            len(prints.exact),
            self.max_distance,
            b"" if h is None else neardup.to_bytes(h),
            *prints.fields,
        ]

    def resolve_many(self, stories: Sequence[Story]) -> list[Resolved]:
        """Resolve each story to its cluster and record it as a member: two pipelines for the whole batch,
        whatever the number of subscribers. Scripts run in order, so copies within the batch find each other;
        a story resolved again (a redone batch) gets the same cluster and is not counted twice."""
        if not stories:
            return []
        now = int(self.clock())
        keys = self.slice_keys(now)
        calls = [(self._resolve, keys, self._resolve_args(s, self.story_prints(s), now)) for s in stories]
        replies = run_scripts(self.redis, calls)
        resolved = [Resolved(cluster_name(bytes(r[0])), as_text(r[1]), bool(int(r[2]))) for r in replies]
        members = []
        for story, res in zip(stories, resolved, strict=True):
            member = json.dumps({"feed": story.feed, "url": story.link, "first_seen": now}, ensure_ascii=False)
            args = [story.id, member, MAX_MEMBERS, self.retention_s + self.slice_s, int(res.new_story)]
            args += [story.version, version_state(story)]
            members.append((self._member, [self.names.cluster(res.cluster)], args))
        replies = run_scripts(self.redis, members)
        return [
            Resolved(r.cluster, r.how, r.new_story, int(c), as_text(how), read_state(bytes(old)) if old else None)
            for r, (c, how, old) in zip(resolved, replies, strict=True)
        ]

    def resolve(self, story: Story) -> Resolved:
        return self.resolve_many([story])[0]

    def counts(self, clusters: Sequence[str]) -> list[int]:
        """The live story count of each cluster (0 once it expired): on one Redis one script call (a lane asks for
        a few dozen at a time, and a pipeline of as many commands costs the client several times the CPU); on a
        Redis Cluster, where each record has its own slot, one pipeline."""
        if not clusters:
            return []
        if not is_cluster(self.redis):
            keys = [self.names.cluster(c) for c in clusters]
            return [int(v) for v in self._counts(keys=keys, args=[COUNT_FIELD])]
        with self.redis.pipeline(transaction=False) as pipe:
            for c in clusters:
                pipe.hget(self.names.cluster(c), COUNT_FIELD)
            return [int(v or 0) for v in pipe.execute()]

    def show(self, cluster: str) -> ClusterView:
        raw: dict[Any, Any] = self.redis.hgetall(self.names.cluster(cluster))
        members = []
        for k, v in raw.items():
            if bytes(k).startswith(b"#"):  # the count and the kept version
                continue
            members.append({"story": as_text(k), **json.loads(v)})
        members.sort(key=lambda m: (m.get("first_seen", 0), m["story"]))
        return ClusterView(cluster, int(raw.get(COUNT_FIELD, 0)), members)

    def of_story(self, story_id: str) -> str | None:
        """The cluster a story id is filed under, if it is still within retention."""
        field_ = _TAGS["id"] + hashlib.blake2b(story_id.encode(), digest_size=16).digest()
        now = int(self.clock())
        for key in reversed(self.slice_keys(now)):
            v = self.redis.hget(key, field_)
            if v is not None and self.slices.live(v, 16, now):
                return cluster_name(bytes(v[:16]))
        return None
