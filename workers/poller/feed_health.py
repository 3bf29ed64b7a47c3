"""Each feed's health in Redis, written by whichever poller polled it and read by `wirewatch feeds health`.

One hash per feed: last success, last error and when, consecutive errors (shared, so backoff holds
across pollers and restarts), next poll, last HTTP status, new stories of the last poll, the URL a
permanent redirect moved the feed to, why it was disabled, and its publishing record with the quiet flag
(``workers.poller.quiet``). The hash expires after
HEALTH_RETENTION_S without a poll, so removed feeds leave nothing behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from workers.core.names import Names, as_text
from workers.infra.redis import RedisClient, RedisPipeline
from workers.poller.quiet import Activity

HEALTH_RETENTION_S = 30 * 86400


@dataclass(frozen=True)
class FeedHealth:
    name: str
    last_success: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    consecutive_errors: int = 0
    next_poll: float | None = None
    last_status: int | None = None
    last_new: int = 0
    moved_to: str | None = None
    disabled: str | None = None  # the reason, when disabled
    quiet: bool = False  # answering, but silent for k of its usual publishing gaps
    last_new_at: float | None = None

    @classmethod
    def from_hash(cls, name: str, raw: dict[bytes | str, bytes | str]) -> FeedHealth:
        h = {as_text(k): as_text(v) for k, v in raw.items()}

        def num(key: str) -> float | None:
            return float(h[key]) if h.get(key) else None

        return cls(
            name=name,
            last_success=num("last_success"),
            last_error=h.get("last_error") or None,
            last_error_at=num("last_error_at"),
            consecutive_errors=int(h.get("consecutive_errors") or 0),
            next_poll=num("next_poll"),
            last_status=int(h["last_status"]) if h.get("last_status") else None,
            last_new=int(h.get("last_new") or 0),
            moved_to=h.get("moved_to") or None,
            disabled=h.get("disabled") or None,
            quiet=h.get("quiet") == "1",
            last_new_at=Activity.from_json(h.get("activity")).last_new_at,
        )

    @property
    def state(self) -> str:
        if self.disabled:
            return "disabled"
        if self.consecutive_errors:
            return "failing"
        if self.quiet:
            return "quiet"
        return "ok" if self.last_success else "new"


class HealthStore:
    def __init__(self, redis: RedisClient, names: Names) -> None:
        self.redis = redis
        self.names = names

    def get(self, name: str) -> FeedHealth:
        return FeedHealth.from_hash(name, self.redis.hgetall(self.names.feed_health(name)))

    def get_many(self, feed_names: list[str]) -> list[FeedHealth]:
        with self.redis.pipeline(transaction=False) as pipe:
            for name in feed_names:
                pipe.hgetall(self.names.feed_health(name))
            return [FeedHealth.from_hash(n, raw) for n, raw in zip(feed_names, pipe.execute(), strict=True)]

    def _write(self, name: str, fields: dict[str, str | int | float], pipe: RedisPipeline | None = None) -> None:
        key = self.names.feed_health(name)
        if pipe is not None:  # the caller executes
            pipe.hset(key, mapping=fields)  # type: ignore[arg-type]
            pipe.expire(key, HEALTH_RETENTION_S)
            return
        with self.redis.pipeline(transaction=False) as own:
            self._write(name, fields, own)
            own.execute()

    def record_success(
        self,
        name: str,
        *,
        status: int,
        new: int,
        next_poll: float,
        moved_to: str | None,
        activity: Activity | None = None,
        quiet: bool = False,
        pipe: RedisPipeline | None = None,
    ) -> None:
        fields: dict[str, str | int | float] = {
            "last_success": time.time(),
            "consecutive_errors": 0,
            "next_poll": next_poll,
            "last_status": status,
            "last_new": new,
            "quiet": int(quiet),
        }
        if activity is not None:
            fields["activity"] = activity.to_json()
        if moved_to:
            fields["moved_to"] = moved_to
        self._write(name, fields, pipe)

    def record_error(
        self, name: str, reason: str, *, errors: int, next_poll: float, pipe: RedisPipeline | None = None
    ) -> None:
        """The poll's error; ``errors`` is the new consecutive count (the poller computed the backoff from it)."""
        fields: dict[str, str | int | float] = {
            "last_error": reason[:500],
            "last_error_at": time.time(),
            "consecutive_errors": errors,
            "next_poll": next_poll,
        }
        self._write(name, fields, pipe)

    def disable(self, name: str, reason: str, pipe: RedisPipeline | None = None) -> None:
        self._write(name, {"disabled": reason[:500], "next_poll": "inf"}, pipe)

    def enable(self, name: str) -> None:
        self.redis.hdel(self.names.feed_health(name), "disabled", "consecutive_errors")
