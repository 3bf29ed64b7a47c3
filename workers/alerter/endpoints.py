"""Endpoint health per subscriber in Redis: failing since when, disabled or not, and why.

An endpoint that answers no 2xx for ``disable_after_s`` is disabled, as is one that answers 410 Gone
(Standard Webhooks). A disabled endpoint gets no delivery attempts: its alerts go to the alerts
dead-letter topic with the reason, from where `wirewatch subscribers enable NAME` + `replay NAME`
bring them back. The alerter reads the disabled set at most once a second (not per alert), so a
CLI enable takes effect within a second. This state is operational, not configuration: no expiry.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from redis import Redis

from workers.core.names import Names

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EndpointState:
    subscriber: str
    failing_since: float | None
    disabled_at: float | None
    reason: str

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


def _num(raw: Any) -> float | None:
    return float(raw) if raw is not None else None


class Endpoints:
    def __init__(self, redis: Redis, names: Names, disable_after_s: float, refresh_s: float = 1.0) -> None:
        self.redis = redis
        self.names = names
        self.disable_after_s = disable_after_s
        self.refresh_s = refresh_s
        self._disabled: set[str] = set()
        self._read_at = 0.0

    def state(self, subscriber: str) -> EndpointState:
        raw: dict[Any, Any] = self.redis.hgetall(self.names.endpoint(subscriber))
        return EndpointState(
            subscriber,
            _num(raw.get(b"failing_since")),
            _num(raw.get(b"disabled_at")),
            raw.get(b"reason", b"").decode(),
        )

    @property
    def last_disabled(self) -> set[str]:
        """The last reading of ``disabled``, with no I/O: what an attempt on the event loop looks at."""
        return self._disabled

    def disabled(self, subscribers: list[str]) -> set[str]:
        """The disabled subscribers, read from Redis at most every ``refresh_s``."""
        now = time.monotonic()
        if now - self._read_at >= self.refresh_s:
            self._read_at = now  # first: the lanes' other workers keep the last reading meanwhile, not read too
            with self.redis.pipeline(transaction=False) as pipe:
                for name in subscribers:
                    pipe.hexists(self.names.endpoint(name), "disabled_at")
                flags = pipe.execute()
            self._disabled = {name for name, flag in zip(subscribers, flags, strict=True) if flag}
        return self._disabled

    def succeeded(self, subscriber: str) -> None:
        self.redis.hdel(self.names.endpoint(subscriber), "failing_since")

    def failed(self, subscriber: str, reason: str, *, gone: bool = False) -> bool:
        """Record a failure; disable the endpoint when it is gone or failing too long. True when disabled now."""
        key = self.names.endpoint(subscriber)
        now = time.time()
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "failing_since", now)
            pipe.hget(key, "failing_since")
            _, since = pipe.execute()
        if not gone and now - float(since or now) < self.disable_after_s:
            return False
        why = "endpoint answered 410 Gone" if gone else f"failing for {now - float(since):.0f}s: {reason}"
        self.disable(subscriber, why)
        return True

    def disable(self, subscriber: str, reason: str) -> None:
        self.redis.hset(self.names.endpoint(subscriber), mapping={"disabled_at": time.time(), "reason": reason})
        self._disabled.add(subscriber)
        logger.error("endpoint disabled subscriber=%s reason=%s", subscriber, reason)

    def enable(self, subscriber: str) -> None:
        self.redis.delete(self.names.endpoint(subscriber))
        self._disabled.discard(subscriber)
        logger.info("endpoint enabled subscriber=%s", subscriber)
