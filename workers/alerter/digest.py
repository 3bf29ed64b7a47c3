"""Digest batching: a subscriber with ``digest_seconds`` gets its alerts as one signed POST per period.

Buffering is a state of the subscriber's outbox (``workers.alerter.outbox``): its fresh alerts are appended to
the buffer instead of the queue, with the same markers, so a batch done again buffers nothing twice.

Sealing: a digest is due ``digest_seconds`` after the oldest buffered alert was buffered (not on a fixed
clock: an idle subscriber costs nothing and the first alert waits at most that long). The subscriber's lane
cuts the buffer, oldest first, into digests of at most ``digest_max_alerts``; one script per digest checks
every alert is still buffered, then moves them out of the buffer into one queue item, due now. A concurrent
sealer (another alerter) fails that check, so an alert never enters two digests. From there a digest is an
item like any other: same schedule, same dead-letter path, the same webhook-id (the digest id, a hash of its
alert ids) on every attempt, settled once on its 2xx.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from workers.alerter.outbox import Item, Outbox

logger = logging.getLogger(__name__)

DIGEST_TYPE = "digest"
DIGEST_SCHEMA_VERSION = 1


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


def seal_due(outbox: Outbox, subscriber: str, period_s: float, max_alerts: int, now: float) -> int:
    """Seal the subscriber's buffer into digests once its oldest alert waited ``period_s`` (0: at once).
    Returns how many digests were sealed."""
    oldest = outbox.oldest_buffered(subscriber)
    if oldest is None or oldest + period_s > now:
        return 0
    sealed = 0
    while True:
        _, items = outbox.buffered(subscriber, max_alerts)
        if not items:
            return sealed
        ids = [i.id for i in items]
        did = digest_id(subscriber, ids)
        digest = Item(
            did,
            subscriber,
            build_digest(subscriber, [i.alert for i in items], did),
            queued_at=min(i.queued_at for i in items),
            clusters=[c for i in items for c in i.clusters],
        )
        if not outbox.seal(digest, ids):
            logger.info("digest not sealed subscriber=%s digest=%s: another alerter sealed it", subscriber, did)
            return sealed
        logger.info("digest sealed subscriber=%s digest=%s alerts=%d", subscriber, did, len(items))
        sealed += 1
