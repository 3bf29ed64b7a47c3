"""Alerts parked for a later delivery attempt: a due-time sorted set plus a hash of payloads in Redis.

Parking is one MULTI round trip, so an alert is either fully parked or not at all; the Kafka offset
of its match is committed only after parking succeeded. It survives alerter restarts. Several
alerters may share the queue: taking due items is one script that moves their due time forward by a
lease, so an item taken by an alerter that then dies is due again when the lease ends.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis

from workers.core.names import Names

TAKE_LUA = """
-- KEYS[1] due zset, KEYS[2] payload hash; ARGV: now, lease end, limit
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local raw = redis.call('HGET', KEYS[2], id)
  if raw then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, raw)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""


@dataclass
class Parked:
    alert_id: str
    subscriber: str
    alert: dict[str, Any]
    attempts: int  # attempts made so far
    last_error: str


def retry_delay(schedule: list[float], attempts: int, rand: random.Random) -> float | None:
    """Delay before the next attempt after ``attempts`` failures, with +-10% jitter; None when exhausted."""
    if attempts > len(schedule):
        return None
    return schedule[max(attempts, 1) - 1] * (1 + rand.uniform(-0.1, 0.1))


class RetryQueue:
    def __init__(self, redis: Redis, names: Names, lease_s: float = 120.0) -> None:
        self.redis = redis
        self.names = names
        self.lease_s = lease_s
        self._take = redis.register_script(TAKE_LUA)

    def due_key(self, subscriber: str) -> str:
        # one due set per subscriber, so a hanging endpoint's backlog never holds up another's retries
        return f"{self.names.retry_due}:{subscriber}"

    def park(self, item: Parked, due: float) -> None:
        """Park (or re-park) an item; the same alert id parked twice is one item."""
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.names.retry_payloads, item.alert_id, json.dumps(asdict(item), ensure_ascii=False))
            pipe.zadd(self.due_key(item.subscriber), {item.alert_id: due})
            pipe.execute()

    def take_due(self, subscriber: str, limit: int = 20, now: float | None = None) -> list[Parked]:
        """Lease and return up to ``limit`` of a subscriber's items whose time has come, in one round trip."""
        now = time.time() if now is None else now
        raws = self._take(
            keys=[self.due_key(subscriber), self.names.retry_payloads], args=[now, now + self.lease_s, limit]
        )
        return [Parked(**json.loads(raw)) for raw in raws]

    def done(self, item: Parked) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.due_key(item.subscriber), item.alert_id)
            pipe.hdel(self.names.retry_payloads, item.alert_id)
            pipe.execute()

    def size(self, subscriber: str) -> int:
        return int(self.redis.zcard(self.due_key(subscriber)))

    def items(self, subscriber: str) -> list[tuple[Parked, float]]:
        """A subscriber's parked items with their due times (for the CLI)."""
        out = []
        entries: Any = self.redis.zrange(self.due_key(subscriber), 0, -1, withscores=True)
        for raw_id, due in entries:
            raw: Any = self.redis.hget(self.names.retry_payloads, raw_id)
            if raw is not None:
                out.append((Parked(**json.loads(raw)), float(due)))
        return out
