"""Digest batching: a subscriber with ``digest_seconds`` gets its alerts as one signed POST per period.

Buffering: instead of a POST, each fresh alert is added to the subscriber's buffer in Redis (a sorted set
of alert id -> time buffered, plus a hash of payloads), in one script per alert and one pipeline per
batch, before the batch's offsets are committed. The script adds nothing for an alert already delivered
or already sealed into a digest, and adding an alert already buffered changes nothing, so a Kafka batch
done again does not put an alert in two digests.

Sealing: a digest is due ``digest_seconds`` after the oldest alert in the buffer was buffered (not on a
fixed clock: an idle subscriber costs nothing and the first alert waits at most that long). The alerter
that takes the subscriber's lease (SET NX EX) cuts the buffer, oldest first, into digests of at most
``digest_max_alerts``. One script per digest checks every alert is still buffered, then moves them out of
the buffer and into the retry queue as one parked item (due now), and records each alert's digest id.
From there a digest is delivered like any parked alert: same schedule, same dead-letter path, the same
webhook-id (the digest id, a hash of its alert ids) on every attempt. After its 2xx every alert it holds
is marked delivered, so dedup's sent markers stay right. An alerter killed between sealing and
delivering leaves the digest in the retry queue, where the queue's lease hands it to another.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from redis import Redis

from workers.alerter.retryqueue import Parked, RetryQueue
from workers.core.names import Names, as_text

logger = logging.getLogger(__name__)

DIGEST_TYPE = "digest"
DIGEST_SCHEMA_VERSION = 1
LEASE_S = 30  # sealing takes milliseconds; a flusher that died frees the subscriber after this

BUFFER_LUA = """
-- KEYS: 1 buffer zset, 2 payload hash, 3 sent marker, 4 in-digest marker; ARGV: 1 alert id, 2 now, 3 alert json
if redis.call('EXISTS', KEYS[3]) == 1 or redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
redis.call('ZADD', KEYS[1], 'NX', ARGV[2], ARGV[1])
redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3])
return 1
"""

SEAL_LUA = """
-- KEYS: 1 buffer zset, 2 payload hash, 3 retry payload hash, 4 retry due zset, then one in-digest marker per alert
-- ARGV: 1 digest id, 2 parked item json, 3 due time, 4 retention s, then the alert ids in KEYS order
local n = #ARGV - 4
for i = 1, n do
  if not redis.call('ZSCORE', KEYS[1], ARGV[4 + i]) then return 0 end
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
for i = 1, n do
  redis.call('ZREM', KEYS[1], ARGV[4 + i])
  redis.call('HDEL', KEYS[2], ARGV[4 + i])
  redis.call('SET', KEYS[4 + i], ARGV[1], 'EX', tonumber(ARGV[4]))
end
return 1
"""

RELEASE_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def digest_id(subscriber: str, alert_ids: Sequence[str]) -> str:
    """The webhook-id of a digest: stable for its set of alerts, so every attempt carries the same one."""
    joined = "\x1f".join([subscriber, *sorted(alert_ids)])
    return "dig_" + hashlib.sha256(joined.encode()).hexdigest()[:32]


def build_digest(subscriber: str, alerts: list[dict[str, Any]], did: str) -> dict[str, Any]:
    return {
        "schema": DIGEST_SCHEMA_VERSION,
        "type": DIGEST_TYPE,
        "digest_id": did,
        "subscriber": subscriber,
        "alerts": alerts,
        "count": len(alerts),
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


def is_digest(payload: dict[str, Any]) -> bool:
    return payload.get("type") == DIGEST_TYPE


def payload_id(payload: dict[str, Any]) -> str:
    """The webhook-id of an alert or a digest payload."""
    return str(payload["digest_id"] if is_digest(payload) else payload["alert_id"])


def delivered_ids(item: Parked) -> list[str]:
    """What a 2xx of this item delivered: the item, and for a digest every alert in it."""
    if not is_digest(item.alert):
        return [item.alert_id]
    return [item.alert_id, *(str(a["alert_id"]) for a in item.alert["alerts"])]


class Digests:
    def __init__(self, redis: Redis, names: Names, retries: RetryQueue, retention_s: int, max_alerts: int) -> None:
        self.redis = redis
        self.names = names
        self.retries = retries
        self.retention_s = retention_s
        self.max_alerts = max_alerts
        self._buffer = redis.register_script(BUFFER_LUA)
        self._seal = redis.register_script(SEAL_LUA)
        self._release = redis.register_script(RELEASE_LUA)

    def buffer(self, items: Sequence[Parked]) -> list[bool]:
        """Buffer fresh alerts in one pipeline; False for one already delivered or sealed into a digest."""
        if not items:
            return []
        now = time.time()
        with self.redis.pipeline(transaction=False) as pipe:
            for item in items:
                keys = [
                    self.names.digest_buffer(item.subscriber),
                    self.names.digest_alerts(item.subscriber),
                    self.names.sent(item.alert_id),
                    self.names.in_digest(item.alert_id),
                ]
                body = json.dumps(item.alert, ensure_ascii=False)
                self._buffer(keys=keys, args=[item.alert_id, now, body], client=pipe)
            return [bool(r) for r in pipe.execute()]

    def due(self, periods: dict[str, float], now: float | None = None) -> list[str]:
        """Subscribers (name -> digest_seconds) whose oldest buffered alert has waited its period, one round trip."""
        if not periods:
            return []
        now = time.time() if now is None else now
        with self.redis.pipeline(transaction=False) as pipe:
            for name in periods:
                pipe.zrange(self.names.digest_buffer(name), 0, 0, withscores=True)
            oldest = pipe.execute()
        waited = zip(periods, oldest, strict=True)
        return [name for name, first in waited if first and first[0][1] + periods[name] <= now]

    def flush(self, subscriber: str) -> int:
        """Seal the whole buffer into digests parked for delivery now, if this alerter gets the lease.
        Returns how many digests were sealed."""
        token = secrets.token_hex(8)
        lease = self.names.digest_lease(subscriber)
        if not self.redis.set(lease, token, nx=True, ex=LEASE_S):
            return 0  # another alerter is sealing this subscriber's buffer
        sealed = 0
        try:
            while self._seal_one(subscriber):
                sealed += 1
        finally:
            self._release(keys=[lease], args=[token])
        return sealed

    def _seal_one(self, subscriber: str) -> bool:
        raw_ids: Any = self.redis.zrange(self.names.digest_buffer(subscriber), 0, self.max_alerts - 1)
        ids = [as_text(i) for i in raw_ids]
        if not ids:
            return False
        raws: Any = self.redis.hmget(self.names.digest_alerts(subscriber), ids)
        alerts = [json.loads(raw) for raw in raws if raw is not None]
        did = digest_id(subscriber, ids)
        item = Parked(did, subscriber, build_digest(subscriber, alerts, did), attempts=0, last_error="")
        keys = [
            self.names.digest_buffer(subscriber),
            self.names.digest_alerts(subscriber),
            self.names.retry_payloads,
            self.retries.due_key(subscriber),
            *(self.names.in_digest(i) for i in ids),
        ]
        args: list[str | float | int] = [
            did,
            json.dumps(asdict(item), ensure_ascii=False),
            time.time(),
            self.retention_s,
            *ids,
        ]
        if not self._seal(keys=keys, args=args):
            logger.warning("digest not sealed subscriber=%s digest=%s: buffer changed under it", subscriber, did)
            return False
        logger.info("digest sealed subscriber=%s digest=%s alerts=%d", subscriber, did, len(alerts))
        return True

    def size(self, subscriber: str) -> int:
        return int(self.redis.zcard(self.names.digest_buffer(subscriber)))
