"""Per-subscriber deduplication in Redis: one atomic claim per (subscriber, story).

A story has several fingerprints: its id, its canonical link and a hash of its normalised body. The
claim script looks them up; the first one found names the alert that already owns this content (a
re-poll, or a syndicated copy under another URL). If none is found, this story's alert id becomes the
owner of all of them. Missing fingerprints are linked to the owner, so later copies are caught by any
of them. The script also says whether the owner was already delivered, so a batch re-read after a
crash re-sends only what was not delivered, under the same webhook-id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from redis import Redis

from workers.names import Names
from workers.stories import Story, canonical_url, content_hash

CLAIM_LUA = """
-- KEYS[1..n-1]: the story's fingerprint keys for one subscriber; KEYS[n]: the sent marker of ARGV[1]
-- ARGV[1]: this story's alert id; ARGV[2]: retention in seconds
local n = #KEYS - 1
local owner = false
for i = 1, n do
  owner = redis.call('GET', KEYS[i])
  if owner then break end
end
if not owner then owner = ARGV[1] end
for i = 1, n do
  redis.call('SET', KEYS[i], owner, 'NX', 'EX', ARGV[2])
end
local delivered = 0
if owner == ARGV[1] then delivered = redis.call('EXISTS', KEYS[n + 1]) end
return {owner, delivered}
"""


def alert_id(subscriber: str, story_id: str) -> str:
    """The webhook-id: stable for a (subscriber, story), so a receiver can drop repeats."""
    return "msg_" + hashlib.sha256(f"{subscriber}\x1f{story_id}".encode()).hexdigest()[:32]


def fingerprints(story: Story) -> list[tuple[str, str]]:
    prints = [("id", story.id), ("content", content_hash(story.title, story.text))]
    if story.link:
        prints.append(("url", hashlib.sha256(canonical_url(story.link).encode()).hexdigest()[:32]))
    return prints


@dataclass(frozen=True)
class Claim:
    owner: str  # the alert id that owns this content for this subscriber
    delivered: bool  # whether the owner's alert was already delivered

    def is_duplicate_of_other(self, mine: str) -> bool:
        return self.owner != mine


class Dedup:
    def __init__(self, redis: Redis, names: Names, retention_s: int) -> None:
        self.redis = redis
        self.names = names
        self.retention_s = retention_s
        self._claim = redis.register_script(CLAIM_LUA)

    def claim(self, subscriber: str, story: Story, mine: str) -> Claim:
        keys = [self.names.dedup(subscriber, kind, value) for kind, value in fingerprints(story)]
        keys.append(self.names.sent(mine))
        owner, delivered = self._claim(keys=keys, args=[mine, self.retention_s])
        owner = owner.decode() if isinstance(owner, bytes) else str(owner)
        return Claim(owner=owner, delivered=bool(delivered))

    def mark_delivered(self, mine: str) -> None:
        self.redis.set(self.names.sent(mine), 1, ex=self.retention_s)
