"""Alerts parked for a later delivery attempt: a due-time sorted set plus a hash of payloads in Redis.

Parking is one MULTI round trip, so an alert is either fully parked or not at all; the Kafka offset
of its match is committed only after parking succeeded. It survives alerter restarts. Several
alerters may share the queue: an item is leased with SET NX before an attempt.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from typing import Any

from redis import Redis

from workers.names import Names

LEASE_S = 120


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
    return schedule[attempts - 1] * (1 + rand.uniform(-0.1, 0.1))


class RetryQueue:
    def __init__(self, redis: Redis, names: Names) -> None:
        self.redis = redis
        self.names = names

    def park(self, item: Parked, due: float) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.names.retry_payloads, item.alert_id, json.dumps(asdict(item), ensure_ascii=False))
            pipe.zadd(self.names.retry_due, {item.alert_id: due})
            pipe.execute()

    def take_due(self, limit: int = 20, now: float | None = None) -> list[Parked]:
        """Lease and return up to ``limit`` items whose time has come."""
        now = time.time() if now is None else now
        ids = self.redis.zrangebyscore(self.names.retry_due, "-inf", now, start=0, num=limit)
        out = []
        for raw_id in ids:
            aid = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            if not self.redis.set(f"{self.names.retry_due}:lease:{aid}", 1, nx=True, ex=LEASE_S):
                continue  # another alerter is on it
            raw = self.redis.hget(self.names.retry_payloads, aid)
            if raw is None:  # finished by someone else meanwhile
                self.redis.zrem(self.names.retry_due, aid)
                continue
            out.append(Parked(**json.loads(raw)))
        return out

    def done(self, alert_id: str) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.names.retry_due, alert_id)
            pipe.hdel(self.names.retry_payloads, alert_id)
            pipe.delete(f"{self.names.retry_due}:lease:{alert_id}")
            pipe.execute()

    def reschedule(self, item: Parked, due: float) -> None:
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.names.retry_payloads, item.alert_id, json.dumps(asdict(item), ensure_ascii=False))
            pipe.zadd(self.names.retry_due, {item.alert_id: due})
            pipe.delete(f"{self.names.retry_due}:lease:{item.alert_id}")
            pipe.execute()

    def size(self) -> int:
        return int(self.redis.zcard(self.names.retry_due))
