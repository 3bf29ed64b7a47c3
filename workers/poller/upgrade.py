"""From the poller's previous Redis layout (no hash tags) to the one Redis Cluster can hold.

On start, before registering its feeds, a poller looks for the old schedule key. Found, it copies the
schedule (due times, disabled feeds), each configured feed's health and conditional-GET validators to
their ``{feeds}`` keys (keeping their expiry), records until when the old seen marks must still be read
(now + the seen retention), then deletes the old schedule, health and validators keys. Copying first and
deleting last makes a crash or two pollers starting at once harmless: the copies are idempotent, and the
end of the window is set once (HSETNX).

Old seen marks cannot be moved: their key holds the story id only, not the feed whose slot the new key
needs. So until the recorded time, a story not seen under its new key is also looked up under the old
one (``legacy_seen_until``). After that window every old mark has expired on its own.

The old layout can only be on a standalone Redis (the previous version had no cluster client), so the
old keys' reads and deletes are the only batches here that are not of one slot.
"""

from __future__ import annotations

import logging
from typing import Any

from workers.core.names import Names, as_text
from workers.infra.redis import RedisClient
from workers.settings.config import Feed

logger = logging.getLogger(__name__)


def legacy_seen_until(redis: RedisClient, names: Names, feeds: list[Feed], now: float, retention_s: float) -> float:
    """Migrate the old layout if it is there; the time until which old seen marks are still read (0: none)."""
    recorded = redis.hget(names.feeds_layout, "legacy_seen_until")
    if recorded is not None:
        return float(as_text(recorded))
    if not redis.exists(names.legacy_feed_schedule):
        return 0.0
    copied = _copy(redis, names, feeds)
    redis.hsetnx(names.feeds_layout, "legacy_seen_until", now + retention_s)
    until = float(as_text(redis.hget(names.feeds_layout, "legacy_seen_until") or 0))
    old = [names.legacy_feed_schedule]
    old += [names.legacy_feed_health(f.name) for f in feeds] + [names.legacy_validators(f.url) for f in feeds]
    with redis.pipeline(transaction=False) as pipe:
        for key in old:
            pipe.delete(key)
        pipe.execute()
    logger.info(
        "upgraded the feed layout feeds=%d copied_keys=%d old_seen_marks_read_until=%.0f", len(feeds), copied, until
    )
    return until


def _copy(redis: RedisClient, names: Names, feeds: list[Feed]) -> int:
    """Copy the old schedule, health and validators to the new keys; how many keys were copied."""
    pairs: list[Any] = redis.zrange(names.legacy_feed_schedule, 0, -1, withscores=True)
    sources = [(names.legacy_feed_health(f.name), names.feed_health(f.name)) for f in feeds]
    sources += [(names.legacy_validators(f.url), names.validators(f.url)) for f in feeds]
    with redis.pipeline(transaction=False) as pipe:
        for old, _ in sources:
            pipe.hgetall(old)
            pipe.pttl(old)
        replies = pipe.execute()
    copied = 0
    with redis.pipeline(transaction=False) as pipe:  # every new key is in the {feeds} slot
        if pairs:
            pipe.zadd(names.feed_schedule, {as_text(n): float(s) for n, s in pairs}, nx=True)
            copied += 1
        for (_, new), fields, ttl_ms in zip(sources, replies[::2], replies[1::2], strict=True):
            if not fields:
                continue
            pipe.hset(new, mapping=fields)
            if int(ttl_ms) > 0:
                pipe.pexpire(new, int(ttl_ms))
            copied += 1
        pipe.execute()
    return copied
