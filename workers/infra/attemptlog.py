"""A bounded log of each subscriber's delivery attempts in Redis, for the subscriber portal.

One list per subscriber (``Names.attempts``), newest first, trimmed to ``KEEP`` entries and expiring
``RETENTION_S`` after the last write, so a removed subscriber leaves nothing behind. Each entry is one
attempt: the alert id, when, the HTTP status (0 when nothing answered), the latency and the error, as a compact
JSON array (``Attempt.to_json``): the log is kept per subscriber whatever its volume, and an object with its
field names cost twice the bytes (157 B an entry, 78 KB a subscriber at ``KEEP``). It is
written by the alerter where it settles an attempt (``alerter.delivery.Deliverer.attempt``) and read by the
web console. A delivery lane writes the attempts of a round together (``record_many``): one pipelined round
trip for all of them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from workers.core.names import Names
from workers.core.stories import compact_json, read_json
from workers.infra.redis import RedisClient

KEEP = 500
RETENTION_S = 30 * 86400


@dataclass(frozen=True)
class Attempt:
    alert_id: str
    at: float
    status: int  # the HTTP status; 0 when the endpoint did not answer (timeout, refused, unreachable)
    latency_ms: float
    error: str = ""  # empty when delivered
    outcome: str = ""  # delivered, parked or dead, as the alerter decided

    def to_json(self) -> bytes:
        """``[alert id, at, status, latency ms, error, outcome]``: about 80 bytes for a delivery."""
        row = [self.alert_id, round(self.at, 3), self.status, self.latency_ms, self.error[:300], self.outcome]
        return compact_json(row)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Attempt | None:
        try:
            doc = read_json(raw)
            if isinstance(doc, list):
                alert, at, status, latency, error, outcome = doc
                return cls(str(alert), float(at), int(status or 0), float(latency or 0.0), str(error), str(outcome))
            # an object: the entries written before the compact form, until the log has turned over
            return cls(
                alert_id=str(doc["alert_id"]),
                at=float(doc["at"]),
                status=int(doc.get("status") or 0),
                latency_ms=float(doc.get("latency_ms") or 0.0),
                error=str(doc.get("error") or ""),
                outcome=str(doc.get("outcome") or ""),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None  # an entry of another version: skipped, never an error page


class AttemptLog:
    def __init__(self, redis: RedisClient, names: Names, keep: int = KEEP) -> None:
        self.redis = redis
        self.names = names
        self.keep = keep

    def record(
        self,
        subscriber: str,
        alert_id: str,
        *,
        status: int,
        latency_s: float,
        error: str = "",
        outcome: str = "",
        at: float | None = None,
    ) -> None:
        when = time.time() if at is None else at
        self.record_many(subscriber, [Attempt(alert_id, when, status, round(latency_s * 1000, 1), error, outcome)])

    def record_many(self, subscriber: str, entries: list[Attempt]) -> None:
        """Several attempts of one subscriber, oldest first, in one pipeline (one round trip)."""
        if not entries:
            return
        key = self.names.attempts(subscriber)
        raws = [e.to_json() for e in entries]
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.lpush(key, *raws)
            pipe.ltrim(key, 0, self.keep - 1)
            pipe.expire(key, RETENTION_S)
            pipe.execute()

    def recent(self, subscriber: str, limit: int = 100) -> list[Attempt]:
        raws: Any = self.redis.lrange(self.names.attempts(subscriber), 0, limit - 1)
        return [a for a in (Attempt.from_json(r) for r in raws) if a is not None]

    def latest(self, subscribers: list[str]) -> dict[str, Attempt]:
        """Each subscriber's newest attempt, in one round trip (the console's subscribers page)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for name in subscribers:
                pipe.lindex(self.names.attempts(name), 0)
            raws = pipe.execute()
        out = {}
        for name, raw in zip(subscribers, raws, strict=True):
            entry = Attempt.from_json(raw) if raw is not None else None
            if entry is not None:
                out[name] = entry
        return out
