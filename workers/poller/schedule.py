"""The feeds' due-time schedule in Redis, shared by every poller process of one install.

One sorted set maps each feed name to the Unix time it is next due. A poller *claims* due feeds in
one atomic script that also pushes each claimed feed's due time ``lease_seconds`` ahead: that push is
the lease. Other pollers no longer see the feed as due, so no feed is polled twice in an interval;
if the claiming poller dies, the lease runs out, the feed is due again and another poller takes it.
When the poll ends, the owner sets the real next due time (interval, backoff, Retry-After...).
A disabled feed (410 Gone) is parked at +inf: never due, and kept so across restarts.

Choices: feeds are registered with ZADD NX (a restart does not reset anyone's schedule, a new feed
is due at once); names no longer in the config are dropped at registration, so every poller sharing
a key prefix must run the same feed list.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

from workers.core.names import Names, as_text
from workers.infra.redis import RedisClient, RedisPipeline

logger = logging.getLogger(__name__)

# KEYS[1] schedule; ARGV: now, lease seconds, max count. Returns the claimed names.
_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local until_ = tonumber(ARGV[1]) + tonumber(ARGV[2])
for _, name in ipairs(due) do
  redis.call('ZADD', KEYS[1], until_, name)
end
return due
"""


class Schedule:
    def __init__(self, redis: RedisClient, names: Names, lease_seconds: float) -> None:
        self.redis = redis
        self.key = names.feed_schedule
        self.lease_seconds = lease_seconds
        self._claim = redis.register_script(_CLAIM)

    def register(self, feed_names: Iterable[str], now: float) -> None:
        """Add new feeds as due now, keep known feeds' due times, drop feeds no longer configured."""
        wanted = set(feed_names)
        members: list[Any] = self.redis.zrange(self.key, 0, -1)
        known = {as_text(m) for m in members}
        with self.redis.pipeline(transaction=False) as pipe:
            if wanted:
                pipe.zadd(self.key, {name: now for name in wanted}, nx=True)
            stale = known - wanted
            if stale:
                pipe.zrem(self.key, *stale)
            pipe.execute()
        if stale:
            logger.info("dropped feeds no longer configured count=%d", len(stale))

    def claim(self, limit: int, now: float) -> list[str]:
        """Lease up to ``limit`` due feeds to this poller; they are not due for anyone else meanwhile."""
        if limit <= 0:
            return []
        return [as_text(n) for n in self._claim(keys=[self.key], args=[now, self.lease_seconds, limit])]

    def reschedule(self, name: str, due: float, pipe: RedisPipeline | None = None) -> None:
        (pipe or self.redis).zadd(self.key, {name: due}, xx=True)

    def disable(self, name: str, pipe: RedisPipeline | None = None) -> None:
        (pipe or self.redis).zadd(self.key, {name: "+inf"})

    def enable(self, name: str, now: float) -> None:
        self.redis.zadd(self.key, {name: now})

    def next_due(self) -> float | None:
        first = self.redis.zrange(self.key, 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def due_times(self) -> dict[str, float]:
        """Every feed's next due time (inf when disabled)."""
        pairs: list[Any] = self.redis.zrange(self.key, 0, -1, withscores=True)
        return {as_text(n): float(s) for n, s in pairs}


def is_disabled(due: float | None) -> bool:
    return due is not None and math.isinf(due)
