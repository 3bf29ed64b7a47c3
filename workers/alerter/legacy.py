"""Reading the per-subscriber layout of earlier versions, for one retention window after an upgrade.

Before story clusters, each subscriber had its own dedup index (``dedup:<sub>:slice:<width>:<index>``: exact
fingerprint -> owner alert + time; band -> 28-byte records of owner + SimHash + time), ``sent:<alert>``
markers, a shared retry queue (``retry:due:<sub>`` + ``retry:payloads``) and digest buffers
(``digest:buffer:<sub>`` + ``digest:alerts:<sub>``). An upgraded alerter that finds any of those keys at start:

- drains the retry queue and the digest buffers into each subscriber's outbox (due times kept), and marks each
  drained alert ``sent`` in the old layout, so a re-read of its story is not queued a second time;
- for one retention window, also looks each (subscriber, story) of a batch up in the old index: a story whose
  content another alert owned there is a copy; one whose own alert owned it and was sent (or drained) is a
  repeat. Old near-duplicate records are compared only when the fingerprint kept its 8-byte width.

Those keys are never written again (apart from the drain's ``sent`` marks) and expire by themselves. The old
layout only ever ran on a single Redis primary; on Redis Cluster there is nothing to read.

The first outbox version kept one 12-byte field per delivered cluster (``Names.old_delivered_markers``); the
markers are packed now (``workers.alerter.outbox``). An alerter that finds such a slice at start
(``has_old_markers``) reads them too, never writing them, for one retention window (``Outbox.old_markers_until``):
the last of them expire by themselves within it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from workers.alerter import neardup
from workers.alerter.dedup import FP_BYTES, StoryPrints
from workers.alerter.outbox import Item, Outbox
from workers.alerter.slices import Slices
from workers.core.names import Names, as_text

logger = logging.getLogger(__name__)

OLD_BAND_RECORD = 28  # owner (16) + SimHash (8) + time (4)


def has_old_layout(redis: Any, names: Names) -> bool:
    """Whether any key of the per-subscriber layout is left (a bounded scan, once at start-up)."""
    for pattern in ("dedup:*", "sent:*", "retry:*", "digest:*"):
        for _ in redis.scan_iter(f"{names.key_prefix}{pattern}", count=1000):
            return True
    return False


def has_old_markers(redis: Any, names: Names) -> bool:
    """Whether a slice of the delivered markers' unpacked layout (``Names.old_delivered_markers``, the layout of
    the first outbox version) is left: a bounded scan, once at start-up, on every primary of a Redis Cluster."""
    pattern = names.old_delivered_markers("*", 0, 0).removesuffix("0:0") + "*"
    for _ in redis.scan_iter(match=pattern, count=1000):
        return True
    return False


def old_owner(
    slices: Sequence[dict[bytes, bytes]], prints: StoryPrints, retention_s: int, now: int, max_distance: int
) -> bytes | None:
    """The 16-byte owner alert the old index names for a story's fingerprints, or None. Pure."""
    window = Slices(retention_s)
    n = len(prints.exact)
    for f in prints.fields[:n]:
        for entries in slices:
            v = entries.get(f)
            if v is not None and window.live(v, 16, now):
                return v[:16]
    if prints.simhash is None or FP_BYTES != 8 or max_distance < 0:
        return None
    for f in prints.fields[n:]:
        for entries in slices:
            v = entries.get(f) or b""
            for at in range(0, len(v) - OLD_BAND_RECORD + 1, OLD_BAND_RECORD):
                rec = v[at : at + OLD_BAND_RECORD]
                if not window.live(rec, 24, now):
                    continue
                if neardup.distance(prints.simhash, int.from_bytes(rec[16:24], "big")) <= max_distance:
                    return rec[:16]
    return None


class OldLayout:
    def __init__(
        self,
        redis: Any,
        names: Names,
        retention_s: int,
        max_distance: int,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.names = names
        self.slices = Slices(retention_s)
        self.retention_s = self.slices.retention_s
        self.max_distance = max_distance
        self.clock = clock
        self.until = clock() + self.retention_s  # every old key was written before this process started

    @property
    def active(self) -> bool:
        return self.clock() < self.until

    def _slices(self, subscriber: str, now: int) -> list[str]:
        return self.slices.keys(lambda width, i: self.names.dedup_slice(subscriber, width, i), now)

    def seen(self, wanted: Sequence[tuple[str, str, StoryPrints]]) -> list[bool]:
        """For each (subscriber, alert id, story prints): whether the old layout already had it, one pipeline."""
        if not wanted:
            return []
        now = int(self.clock())
        per: list[int] = []
        with self.redis.pipeline(transaction=False) as pipe:
            for sub, aid, prints in wanted:
                keys = self._slices(sub, now)
                per.append(len(keys))
                for key in keys:
                    pipe.hmget(key, prints.fields)
                pipe.exists(self.names.sent(aid), self.names.in_digest(aid))
                pipe.hexists(self.names.retry_payloads, aid)
            replies = iter(pipe.execute())
        out = []
        for (_, aid, prints), count in zip(wanted, per, strict=True):
            slices = [dict(zip(prints.fields, next(replies), strict=True)) for _ in range(count)]
            sent_or_sealed, retrying = next(replies), next(replies)  # both read: the replies stay in step
            handled = bool(sent_or_sealed) or bool(retrying)
            owner = old_owner(slices, prints, self.retention_s, now, self.max_distance)
            mine = bytes.fromhex(aid.removeprefix("msg_"))
            out.append(owner is not None and (owner != mine or handled))
        return out

    def drain(self, outbox: Outbox, digests: dict[str, bool]) -> int:
        """Move the old retry queue and digest buffers into the outbox (subscriber -> digest?); return how many
        items moved. Each move is put first, deleted after: a crash in between repeats a put, which is a no-op."""
        moved = 0
        for key in list(self.redis.scan_iter(f"{self.names.retry_due}:*")):
            sub = as_text(key).rsplit(":", 1)[1]
            for raw_id, due in self.redis.zrange(key, 0, -1, withscores=True):
                aid = as_text(raw_id)
                raw = self.redis.hget(self.names.retry_payloads, aid)
                if raw is not None:
                    p = json.loads(raw)
                    alert = p["alert"]
                    item = Item(aid, sub, alert, int(p.get("attempts", 0)), str(p.get("last_error", "")), time.time())
                    outbox.put(item, float(due))
                    self.redis.set(self.names.sent(aid), 1, ex=self.retention_s)
                    moved += 1
                self.redis.zrem(key, raw_id)
                self.redis.hdel(self.names.retry_payloads, aid)
        for key in list(self.redis.scan_iter(f"{self.names.key_prefix}digest:buffer:*")):
            sub = as_text(key).rsplit(":", 1)[1]
            alerts_key = self.names.digest_alerts(sub)
            for raw_id, at in self.redis.zrange(key, 0, -1, withscores=True):
                aid = as_text(raw_id)
                raw = self.redis.hget(alerts_key, aid)
                if raw is not None:
                    item = Item(aid, sub, json.loads(raw), queued_at=float(at))
                    outbox.put(item, float(at), buffered=digests.get(sub, False))
                    self.redis.set(self.names.sent(aid), 1, ex=self.retention_s)
                    moved += 1
                self.redis.zrem(key, raw_id)
                self.redis.hdel(alerts_key, aid)
        if moved:
            logger.info("upgrade: moved %d item(s) of the old retry queue and digest buffers into the outbox", moved)
        return moved
