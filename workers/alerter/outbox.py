"""The outbox: each subscriber's durable queue of alerts in Redis, and its "cluster delivered" markers.

A batch of matches ends here: ``enqueue`` checks each alert's cluster against the subscriber's markers and,
for a cluster the subscriber has not had, writes the marker and appends the alert to the subscriber's queue
in one script per subscriber. After that the batch's offsets are committed; no endpoint is ever waited for.

An item lives in one hash (``items``: id -> payload, attempts, last error) and in one of two sorted sets:

- ``q``: deliverable, scored by when it may be attempted: its enqueue time (so first in, first attempted), a
  retry's due time, or, while a lane holds it, the end of its lease. ``take`` leases the first due items in
  one script; the lane renews the leases of what it holds until each item is settled, so an item is never
  due again while a lane still works on it, and an alerter killed with items in hand lets them fall due
  again when their leases end.
- ``buf``: a digest subscriber's alerts waiting to be sealed into one digest item of ``q``.

``settle`` (or ``take``, which settles what a lane finished before it leases more) is the one place an item
leaves the queue: delivered, or dead-lettered. A retry is the same item
with a new due time (``reschedule``). The markers say "this cluster went to this subscriber": written with
the enqueue, in hashes of time slices like the cluster index, so a later copy or a re-poll within retention is
recognised. They are packed: a slice hash has at most ``MARK_GROUPS`` (32) fields, a group of clusters each
(the digest's first byte modulo 32), whose value is the group's 16-byte records: 6 more bytes of the digest,
4 bytes of the alert id (whose alert it was), the time (4, Unix seconds) and the version of the story sent
last (2; 1 for the first alert, ``enqueue_updates`` rewrites it). A small slice is listpack-encoded; a larger
one is a hash table of 32 entries whose cost (~50 B an entry) is shared by the records each carries: 18-23 B
a marker from 300 markers a slice up (decision 0016 has the figures), where one field per cluster cost ~70 B.
Two clusters are confused only when 53 bits of their digests agree (the rate is in decision 0016). Every key of
a subscriber shares its ``{s:<name>}`` hash tag: one Redis Cluster slot per subscriber.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from workers.alerter.outbox_scripts import (
    ENQUEUE_LUA,
    MARK_BYTES,
    MARK_GROUPS,
    PUT_LUA,
    RESCHEDULE_LUA,
    SEAL_LUA,
    SETTLE_LUA,
    TAKE_LUA,
    UNBUFFER_LUA,
    UPDATE_LUA,
)
from workers.alerter.slices import Slices
from workers.core.names import Names, as_text
from workers.core.stories import compact_json, read_json
from workers.infra.redis import is_cluster, run_scripts

logger = logging.getLogger(__name__)

# a script runs alone on its server: a batch's enqueue is cut into calls of about this many alerts (a few MB)
MAX_ALERTS_PER_CALL = 2000
QUEUED, REPEAT, COPY = 0, 1, 2  # what ``enqueue`` did with an alert: queued, already had it, had its cluster


@dataclass
class Item:
    """One entry of a subscriber's queue: an alert, or a digest of alerts."""

    id: str  # the webhook-id: the alert id, or the digest id
    subscriber: str
    alert: dict[str, Any]
    attempts: int = 0  # attempts made so far
    last_error: str = ""
    queued_at: float = 0.0
    clusters: list[str] = field(default_factory=list)  # the cluster of each alert it carries (for `duplicates`)

    def to_json(self) -> bytes:
        # not dataclasses.asdict: it deep-copies the alert, and that was a quarter of the alerter's CPU
        return compact_json({f.name: getattr(self, f.name) for f in _FIELDS})

    @classmethod
    def from_json(cls, raw: bytes | str) -> Item:
        # a tolerant reader: during a rolling upgrade a newer alerter may queue items with fields this one does
        # not know; refusing them would stall the subscriber's lane on that item at every lease
        data = read_json(raw)
        if not isinstance(data, dict):
            raise TypeError(f"an item is a JSON object, not {type(data).__name__}")
        return cls(**{k: v for k, v in data.items() if k in _ITEM_FIELDS})


_FIELDS = dataclasses.fields(Item)
_ITEM_FIELDS = frozenset(f.name for f in _FIELDS)


@dataclass(frozen=True)
class Undecodable:
    """An item whose stored bytes are no Item (broken JSON, a required field missing): it can only be
    dead-lettered, with its bytes and why."""

    id: str
    subscriber: str
    raw: bytes
    reason: str


def decode(item_id: str, subscriber: str, raw: bytes | str) -> Item | Undecodable:
    """The item stored under ``item_id``, or why it is none. Pure."""
    try:
        item = Item.from_json(raw)
        if not isinstance(item.id, str) or not isinstance(item.alert, dict):
            raise TypeError("'id' must be a string and 'alert' an object")
        return item
    except (ValueError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        data = raw.encode() if isinstance(raw, str) else bytes(raw)
        return Undecodable(item_id, subscriber, data, f"undecodable outbox item: {type(exc).__name__}: {exc}"[:300])


def decoded(subscriber: str, ids: Sequence[Any], raws: Sequence[Any]) -> list[Item]:
    """The items of ``raws`` that decode (for the views that only read the queue: depth, the CLI)."""
    items = (decode(as_text(i), subscriber, r) for i, r in zip(ids, raws, strict=True) if r is not None)
    return [i for i in items if isinstance(i, Item)]


@dataclass(frozen=True)
class Outgoing:
    """An alert to enqueue: its item and the cluster it belongs to."""

    item: Item
    cluster: str  # ``cl_`` + hex


@dataclass(frozen=True)
class Had:
    """What a subscriber's marker says of a cluster it received: whose alert it was, and the latest version
    of the cluster's story it was sent since (1: only the first alert)."""

    owner: bytes  # the first 8 bytes of the first alert's id
    version: int


@dataclass(frozen=True)
class Depth:
    queued: int  # items in the queue (new, retrying, leased)
    buffered: int  # alerts waiting for their digest
    oldest_age_s: float  # how long the oldest of them has waited (0 when empty)


def marker_field(cluster: str) -> bytes:
    """A cluster's 12-byte field in the markers' previous layout (and in ``story.spreading`` marks)."""
    return bytes.fromhex(cluster.removeprefix("cl_"))[:12]


MAX_VERSION = 0xFFFF  # the version a record can say; a later one is recorded as this


def cluster_digest(cluster: str) -> bytes:
    return bytes.fromhex(cluster.removeprefix("cl_"))


def mark_group(digest: bytes) -> bytes:
    """The field of a slice hash that holds a cluster's record (MARKS_LUA's ``group_of``)."""
    return bytes([digest[0] % MARK_GROUPS])


def find_mark(blob: bytes, digest: bytes) -> int | None:
    """Where a cluster's record starts in its group's value, or None (MARKS_LUA's ``find_mark``)."""
    key, at = digest[1:7], 0
    while (p := blob.find(key, at)) >= 0:
        if p % MARK_BYTES == 0:
            return p
        at = p + 1
    return None


def marker_owner(alert_id: str) -> bytes:
    """What a marker keeps of the alert that took it: 4 bytes of its id."""
    return bytes.fromhex(alert_id.removeprefix("msg_"))[:4]


class Outbox:
    def __init__(self, redis: Any, names: Names, retention_s: int, *, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.names = names
        self.slices = Slices(retention_s)
        self.retention_s = self.slices.retention_s
        self.slice_s = self.slices.width_s
        self.clock = clock
        # until when the markers' previous layout (``Names.old_delivered_markers``) is read too: set by the
        # alerter when it finds that layout at start (``legacy.has_old_markers``)
        self.old_markers_until = 0.0
        self._enqueue = redis.register_script(ENQUEUE_LUA)
        self._update = redis.register_script(UPDATE_LUA)
        self._take = redis.register_script(TAKE_LUA)
        self._settle = redis.register_script(SETTLE_LUA)
        self._reschedule = redis.register_script(RESCHEDULE_LUA)
        self._put = redis.register_script(PUT_LUA)
        self._seal = redis.register_script(SEAL_LUA)
        self._unbuffer = redis.register_script(UNBUFFER_LUA)
        # dead-letters an item that does not decode (``Deliverer.dead_undecodable``); raises when it could not,
        # and the item then stays leased, to be tried again at its lease end. None: such items are only logged.
        self.undecodable: Callable[[Undecodable], None] | None = None

    def marker_keys(self, subscriber: str, now: int) -> list[str]:
        return self.slices.keys(lambda width, i: self.names.delivered_markers(subscriber, width, i), now)

    def old_marker_keys(self, subscriber: str, now: int) -> list[str]:
        """The previous layout's slices, while they may hold a live marker; none after that window."""
        if now >= self.old_markers_until:
            return []
        return self.slices.keys(lambda width, i: self.names.old_delivered_markers(subscriber, width, i), now)

    def _q(self, subscriber: str) -> list[str]:
        return [self.names.outbox_queue(subscriber), self.names.outbox_items(subscriber)]

    def enqueue(self, batches: Mapping[str, tuple[bool, Sequence[Outgoing]]]) -> dict[str, list[int]]:
        """Per subscriber (name -> (digest?, alerts in batch order)): mark and enqueue its alerts, in one script
        per hash slot (one Redis: one for the whole batch) and one pipeline for all. Returns each alert's state
        (QUEUED, REPEAT, COPY)."""
        now = self.clock()
        t = int(now)
        names = [n for n, (_, outs) in batches.items() if outs]
        if not names:
            return {}
        slots: dict[int, list[list[str]]] = {}
        sizes: dict[int, int] = {}  # alerts in each slot's last call so far
        for name in names:  # subscribers of one slot share a call, up to about MAX_ALERTS_PER_CALL alerts
            slot, n = self._slot(name), len(batches[name][1])
            chunks = slots.setdefault(slot, [[]])
            if chunks[-1] and sizes[slot] + n > MAX_ALERTS_PER_CALL:
                chunks.append([])
                sizes[slot] = 0
            chunks[-1].append(name)
            sizes[slot] = sizes.get(slot, 0) + n
        groups = [members for chunks in slots.values() for members in chunks]
        calls = []
        for members in groups:
            keys: list[str] = []
            nslices, nold = len(self.marker_keys(members[0], t)), len(self.old_marker_keys(members[0], t))
            args: list[Any] = [t, self.retention_s, self.slices.ttl(t), nslices, nold]
            for name in members:
                digest, outs = batches[name]
                target = self.names.outbox_buffer(name) if digest else self.names.outbox_queue(name)
                keys += [*self.marker_keys(name, t), *self.old_marker_keys(name, t), target]
                keys.append(self.names.outbox_items(name))
                args.append(len(outs))
                for i, out in enumerate(outs):
                    out.item.queued_at = now
                    # scores a microsecond apart keep a batch's order within one subscriber
                    args += [cluster_digest(out.cluster), marker_owner(out.item.id), out.item.id, now + i * 1e-6]
                    args.append(out.item.to_json())
            calls.append((self._enqueue, keys, args))
        replies = run_scripts(self.redis, calls)
        states: dict[str, list[int]] = {}
        for members, reply in zip(groups, replies, strict=True):
            for name, r in zip(members, reply, strict=True):
                states[name] = [int(x) for x in r]
        return states

    def _slot(self, subscriber: str) -> int:
        """The hash slot of a subscriber's keys on Redis Cluster; 0 for all of them on one Redis."""
        if not is_cluster(self.redis):
            return 0
        return int(self.redis.keyslot(self.names.outbox_queue(subscriber)))

    def had(self, wanted: Mapping[str, Sequence[str]]) -> dict[str, list[Had | None]]:
        """Per subscriber (name -> clusters): whether it received each cluster within retention, and which
        version it got last; one pipeline. The newest live marker wins (an update rewrites it)."""
        t = int(self.clock())
        names = [n for n, cl in wanted.items() if cl]
        with self.redis.pipeline(transaction=False) as pipe:
            for name in names:
                olds = [marker_field(c) for c in wanted[name]]
                for key in self.old_marker_keys(name, t):
                    pipe.hmget(key, olds)
                groups = [mark_group(cluster_digest(c)) for c in wanted[name]]
                for key in self.marker_keys(name, t):
                    pipe.hmget(key, groups)
            replies = iter(pipe.execute())
        out: dict[str, list[Had | None]] = {}
        for name in names:
            found: list[Had | None] = [None] * len(wanted[name])
            # the previous layout first, then oldest slice first: a newer live marker overwrites
            for _ in self.old_marker_keys(name, t):
                for i, v in enumerate(next(replies)):
                    if v is not None and self.slices.live(v, 8, t):
                        found[i] = Had(bytes(v[:4]), int.from_bytes(v[12:16], "big") if len(v) >= 16 else 1)
            digests = [cluster_digest(c) for c in wanted[name]]
            for _ in self.marker_keys(name, t):
                for i, blob in enumerate(next(replies)):
                    p = None if blob is None else find_mark(blob, digests[i])
                    if p is not None and self.slices.live(blob, p + 10, t):
                        found[i] = Had(bytes(blob[p + 6 : p + 10]), int.from_bytes(blob[p + 14 : p + 16], "big"))
            out[name] = found
        return out

    def enqueue_updates(self, updates: Mapping[str, Sequence[tuple[Outgoing, Had, int]]]) -> None:
        """Per subscriber: queue each (event, what its marker said, the version it carries) and record the
        version in the marker, one script per subscriber, one pipeline."""
        now = self.clock()
        t = int(now)
        calls = []
        for name, ups in updates.items():
            if not ups:
                continue
            keys = [self.marker_keys(name, t)[-1], *self._q(name)]
            args: list[Any] = [self.slices.ttl(t)]
            for i, (out, had, version) in enumerate(ups):
                out.item.queued_at = now
                tail = had.owner[:4] + t.to_bytes(4, "big") + min(version, MAX_VERSION).to_bytes(2, "big")
                args += [cluster_digest(out.cluster), tail, out.item.id, now + i * 1e-6, out.item.to_json()]
            calls.append((self._update, keys, args))
        if calls:
            run_scripts(self.redis, calls)

    def take(
        self,
        subscriber: str,
        limit: int,
        lease_s: float,
        settle: Sequence[str] = (),
        give_back: Mapping[str, float] | None = None,
    ) -> list[tuple[Item, float]]:
        """Settle the items ``settle`` names (see ``settle``), put the leased items of ``give_back`` (id -> the
        due they had) back in line unstarted, then lease and return up to ``limit`` of a subscriber's due items
        with their due times, first due first: a lane's one round trip per round."""
        now = self.clock()
        args: list[Any] = [now, now + lease_s, limit, len(settle), *settle]
        for item_id, due in (give_back or {}).items():
            args += [item_id, due]
        raws = self._take(keys=self._q(subscriber), args=args)
        taken: list[tuple[Item, float]] = []
        broken: list[str] = []
        for i in range(0, len(raws), 3):
            item = decode(as_text(raws[i]), subscriber, raws[i + 1])
            if isinstance(item, Item):
                taken.append((item, float(raws[i + 2])))
            elif self._dead(item):
                broken.append(item.id)
        self.settle(subscriber, broken)
        return taken

    def _dead(self, item: Undecodable) -> bool:
        """Dead-letter an item that does not decode, so it leaves the queue instead of failing every take of its
        lane; False (it stays leased) when that could not be done now."""
        if self.undecodable is None:
            logger.error("undecodable outbox item=%s subscriber=%s reason=%s", item.id, item.subscriber, item.reason)
            return False
        try:
            self.undecodable(item)
        except Exception:  # Kafka unreachable and the like: the item comes due again at its lease end
            logger.exception("could not dead-letter undecodable item=%s subscriber=%s", item.id, item.subscriber)
            return False
        return True

    def renew(self, subscriber: str, ids: Sequence[str], lease_s: float) -> None:
        """Push the leases of items a lane still holds (only those still queued) to ``lease_s`` from now."""
        if ids:
            end = self.clock() + lease_s
            self.redis.zadd(self.names.outbox_queue(subscriber), dict.fromkeys(ids, end), xx=True)

    def settle(self, subscriber: str, ids: Sequence[str]) -> None:
        """These items are done with: delivered (2xx) or dead-lettered. The only way out of the queue; a lane
        settles what its workers finished since it last looked, in one call."""
        if ids:
            self._settle(keys=self._q(subscriber), args=list(ids))

    def reschedule(self, item: Item, due: float) -> bool:
        """Keep the item, with its attempts and last error, due again at ``due``."""
        return bool(self._reschedule(keys=self._q(item.subscriber), args=[item.id, item.to_json(), due]))

    def put(self, item: Item, due: float | None = None, *, buffered: bool = False) -> bool:
        """Queue (or buffer for a digest) an item built elsewhere: a replayed dead letter, an item of the old
        retry queue. An item already there is left as it is."""
        due = self.clock() if due is None else due
        n = item.subscriber
        target = self.names.outbox_buffer(n) if buffered else self.names.outbox_queue(n)
        return bool(self._put(keys=[target, self.names.outbox_items(n)], args=[item.id, item.to_json(), due]))

    def buffered(self, subscriber: str, limit: int) -> tuple[float | None, list[Item]]:
        """When the oldest buffered alert was buffered, and the first ``limit`` buffered items."""
        entries: Any = self.redis.zrange(self.names.outbox_buffer(subscriber), 0, limit - 1, withscores=True)
        if not entries:
            return None, []
        ids = [as_text(i) for i, _ in entries]
        raws: Any = self.redis.hmget(self.names.outbox_items(subscriber), ids)
        items = [decode(i, subscriber, r) for i, r in zip(ids, raws, strict=True) if r is not None]
        broken = [i.id for i in items if isinstance(i, Undecodable)]
        if broken:  # no digest can carry them: to the queue, whose take dead-letters them
            keys = [self.names.outbox_buffer(subscriber), self.names.outbox_queue(subscriber)]
            self._unbuffer(keys=keys, args=[self.clock(), *broken])
        return float(entries[0][1]), [i for i in items if isinstance(i, Item)]

    def oldest_buffered(self, subscriber: str) -> float | None:
        first: Any = self.redis.zrange(self.names.outbox_buffer(subscriber), 0, 0, withscores=True)
        return float(first[0][1]) if first else None

    def seal(self, digest: Item, alert_ids: Sequence[str]) -> bool:
        """Move buffered alerts into one digest item, due now; False when one of them left the buffer."""
        keys = [self.names.outbox_buffer(digest.subscriber), *self._q(digest.subscriber)]
        args = [digest.id, digest.to_json(), self.clock(), *alert_ids]
        return bool(self._seal(keys=keys, args=args))

    def depth(self, subscribers: Sequence[str]) -> dict[str, Depth]:
        """Queue depth and oldest item's age per subscriber, one pipeline. The age is read from the first ten
        items in line and the oldest buffered alert, not from every item."""
        if not subscribers:
            return {}
        now = self.clock()
        with self.redis.pipeline(transaction=False) as pipe:
            for name in subscribers:
                pipe.zcard(self.names.outbox_queue(name))
                pipe.zcard(self.names.outbox_buffer(name))
                pipe.zrange(self.names.outbox_queue(name), 0, 9)
                pipe.zrange(self.names.outbox_buffer(name), 0, 0, withscores=True)
            replies = pipe.execute()
        first: dict[str, list[Any]] = {}
        with self.redis.pipeline(transaction=False) as pipe:
            for i, name in enumerate(subscribers):
                ids = replies[4 * i + 2]
                first[name] = ids
                if ids:
                    pipe.hmget(self.names.outbox_items(name), ids)
            heads = iter(pipe.execute())
        out = {}
        for i, name in enumerate(subscribers):
            queued, buffered, _, head = replies[4 * i : 4 * i + 4]
            times = [float(head[0][1])] if head else []
            if first[name]:
                times += [i.queued_at for i in decoded(name, first[name], next(heads))]
            out[name] = Depth(int(queued), int(buffered), max(0.0, now - min(times)) if times else 0.0)
        return out

    def queues(self) -> set[str]:
        """The subscribers that have a queue, a buffer or items in Redis (one scan of the keyspace, at start-up)."""
        head = self.names.outbox_queue("\x00").split("\x00")[0]  # the prefix and the tag's opening
        tails = {as_text(k).removeprefix(head + "\x00") for k in self._keys_of("\x00")}  # "}:q", "}:buf", "}:items"
        found = set()
        for key in self.redis.scan_iter(match=head + "*", count=1000):
            rest = as_text(key)[len(head) :]
            for tail in tails:
                if rest.endswith(tail) and len(rest) > len(tail):
                    found.add(rest[: -len(tail)])
        return found

    def keep(self, subscribers: Sequence[str]) -> None:
        """Configured subscribers: their queues never expire (undoing ``forget`` for one that came back)."""
        with self.redis.pipeline(transaction=False) as pipe:
            for name in subscribers:
                for key in self._keys_of(name):
                    pipe.persist(key)
            pipe.execute()

    def forget(self, subscribers: Sequence[str]) -> dict[str, int]:
        """Removed subscribers: their queues and buffers expire one retention window from now, unless they are
        configured again before (``keep``); an expiry already set is left as it is, so restarts do not push it
        back. Returns each one's queued and buffered items."""
        depth = self.depth(list(subscribers))
        with self.redis.pipeline(transaction=False) as pipe:
            for name in subscribers:
                for key in self._keys_of(name):
                    pipe.expire(key, self.retention_s, nx=True)
            pipe.execute()
        return {name: d.queued + d.buffered for name, d in depth.items()}

    def _keys_of(self, subscriber: str) -> list[str]:
        n = self.names
        return [n.outbox_queue(subscriber), n.outbox_buffer(subscriber), n.outbox_items(subscriber)]

    def items(self, subscriber: str) -> list[tuple[Item, float]]:
        """A subscriber's queued items with their due times, first due first (for the CLI and tests)."""
        entries: Any = self.redis.zrange(self.names.outbox_queue(subscriber), 0, -1, withscores=True)
        if not entries:
            return []
        raws: Any = self.redis.hmget(self.names.outbox_items(subscriber), [i for i, _ in entries])
        out = []
        for (item_id, due), raw in zip(entries, raws, strict=True):
            item = None if raw is None else decode(as_text(item_id), subscriber, raw)
            if isinstance(item, Item):
                out.append((item, float(due)))
        return out
