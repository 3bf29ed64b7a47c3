"""Per-subscriber deduplication in Redis: one atomic claim per (subscriber, story), one round trip.

A story has exact fingerprints (its id, its canonical link, a hash of its normalised body) and, when its
body is long enough, a SimHash filed under four bands (``workers.neardup``). The claim script decides in
this order: the first exact fingerprint found names the alert that owns this content (a re-poll, or a
syndicated copy under another URL); else a story filed under one of the bands within the distance
threshold owns it (a copy with another headline, a credit line or a few edited words); else this
story's alert becomes the owner of all its fingerprints and is filed under its bands. A copy is
counted on its owner (a hash of copy alert id -> URL), so the owner's alert can say ``duplicates: N``.
The same call says whether the owner was already delivered (``sent:<alert id>``), so a batch re-read
after a crash re-sends only what was not delivered, under the same webhook-id. Claims of a batch go in
one pipeline; delivered marks of a batch go in another.

Every key expires after the retention window; band entries carry their own expiry and are pruned when
their band is read, so a busy band does not keep stale entries alive. The script builds the duplicate
counter's key from a prefix (it depends on the owner found), so it is not Redis Cluster safe as is.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

from redis import Redis

from workers import neardup
from workers.names import Names, as_text
from workers.stories import Story, canonical_url, normalise_for_fingerprint, normalised_content_hash

CLAIM_LUA = """
-- KEYS: n exact fingerprint keys, then 0 or 4 band keys, then the sent marker of ARGV[1]
-- ARGV: 1 my alert id, 2 retention s, 3 n, 4 simhash high 32 bits hex, 5 low 32 bits hex,
--       6 max distance, 7 now (s), 8 prefix of duplicate counter keys, 9 my story url
local mine, ttl, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local nbands = #KEYS - n - 1
local now = tonumber(ARGV[7])
local function popcount(x)
  local c = 0
  for _ = 1, 32 do
    c = c + bit.band(x, 1)
    x = bit.rshift(x, 1)
  end
  return c
end
local owner, how = false, 'new'
for i = 1, n do
  owner = redis.call('GET', KEYS[i])
  if owner then how = 'exact' break end
end
if nbands > 0 then
  local hi, lo, maxd = tonumber(ARGV[4], 16), tonumber(ARGV[5], 16), tonumber(ARGV[6])
  for b = 1, nbands do
    local key = KEYS[n + b]
    local entries = redis.call('HGETALL', key)
    for j = 1, #entries, 2 do
      local v = entries[j + 1]
      if tonumber(string.sub(v, 18)) < now then
        redis.call('HDEL', key, entries[j])
      elseif not owner then
        local d = popcount(bit.bxor(hi, tonumber(string.sub(v, 1, 8), 16)))
          + popcount(bit.bxor(lo, tonumber(string.sub(v, 9, 16), 16)))
        if d <= maxd then owner, how = entries[j], 'near' end
      end
    end
  end
end
if not owner then
  owner, how = mine, 'new'
  local entry = ARGV[4] .. ARGV[5] .. ':' .. tostring(now + ttl)
  for b = 1, nbands do
    redis.call('HSET', KEYS[n + b], mine, entry)
    redis.call('EXPIRE', KEYS[n + b], ttl)
  end
end
for i = 1, n do
  redis.call('SET', KEYS[i], owner, 'NX', 'EX', ttl)
end
local dupkey = ARGV[8] .. owner
local delivered = 0
if owner == mine then
  delivered = redis.call('EXISTS', KEYS[#KEYS])
else
  redis.call('HSET', dupkey, mine, ARGV[9])
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
    ) -> None:
        self.redis = redis
        self.names = names
        self.retention_s = retention_s
        self.max_distance = max_distance
        self.min_tokens = min_tokens
        self._claim = redis.register_script(CLAIM_LUA)

    def story_prints(self, story: Story) -> StoryPrints:
        """A story's fingerprints; they depend on the story alone, so a batch computes them once per story,
        and the body is normalised once for both the content hash and the SimHash."""
        body = normalise_for_fingerprint(story.text)
        h = neardup.normalised_simhash(body, self.min_tokens) if self.max_distance >= 0 else None
        return StoryPrints(exact=fingerprints(story, body), simhash=h)

    def _call(self, req: ClaimRequest, prints: StoryPrints, now: float) -> tuple[list[str], list[str | int]]:
        exact = [self.names.dedup(req.subscriber, kind, value) for kind, value in prints.exact]
        h = prints.simhash
        band_keys = [] if h is None else [self.names.dedup(req.subscriber, "nd", b) for b in neardup.bands(h)]
        hexed = f"{h or 0:016x}"
        keys = exact + band_keys + [self.names.sent(req.alert_id)]
        args: list[str | int] = [
            req.alert_id,
            self.retention_s,
            len(exact),
            hexed[:8],
            hexed[8:],
            self.max_distance,
            int(now),
            self.names.dups(""),
            req.story.link,
        ]
        return keys, args

    def claim_many(self, requests: Sequence[ClaimRequest]) -> list[Claim]:
        """Claim every (subscriber, story) of a batch in one pipeline; scripts run in order, so copies
        within the batch see each other."""
        if not requests:
            return []
        now = time.time()
        prints: dict[str, StoryPrints] = {}  # a story matching several subscribers is normalised once
        with self.redis.pipeline(transaction=False) as pipe:
            for req in requests:
                if req.story.id not in prints:
                    prints[req.story.id] = self.story_prints(req.story)
                keys, args = self._call(req, prints[req.story.id], now)
                self._claim(keys=keys, args=args, client=pipe)
            replies = pipe.execute()
        return [_claim_from(r) for r in replies]

    def claim(self, subscriber: str, story: Story, mine: str) -> Claim:
        keys, args = self._call(ClaimRequest(subscriber, story, mine), self.story_prints(story), time.time())
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
