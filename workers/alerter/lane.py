"""A subscriber's delivery lane: its feeder, its attempts, and the one exchange with Redis that feeds them.

See ``workers.alerter.delivery`` for what an attempt does and how it ends; this module is how a lane gets its items
and gives them back: the feeder thread's exchange (``Lane._exchange``) settles what the attempts finished and
leases up to ``PREFETCH`` items per unit of concurrency in one ``Outbox.take``, once its local line is down to
``LOW_WATER`` per unit; at most ``concurrency`` workers on the sender's event loop (``workers.alerter.sender``)
attempt the line's items in queue order; a stopping lane gives back what it did not start.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from aiohttp import ClientSession
from pydantic import SecretStr

from workers.alerter.delivery import Deliverer, refresh_duplicates
from workers.alerter.digest import seal_due
from workers.alerter.outbox import Item
from workers.alerter.sender import Sender
from workers.alerter.webhook import literal_refusal
from workers.infra import metrics
from workers.infra.attemptlog import Attempt
from workers.settings.config import Subscriber

T = TypeVar("T")

logger = logging.getLogger(__name__)

IDLE_POLL_S = 0.5  # a lane with nothing due looks again this often (a batch of this process wakes it sooner)
# a lane leases up to this many items per unit of concurrency: one round trip serves dozens. 8 rather than 4 (and
# 4 rather than 2 below): a busy lane's exchanges halve, about a tenth less CPU per alert at 10 subscribers x 8
PREFETCH = 8
LOW_WATER = 4  # it takes more once its line is down to this many per unit: the attempts go on while it looks
BLOCKING_THREADS = 4  # at most this many of a lane's attempts wait on Redis, Kafka or DNS at once
SEAL_EVERY_S = 0.5
# an alert's cluster count (``duplicates``) is at most about this old when it is POSTed: the feeder reads the
# counts again, for all the items of its line at once, of those that waited this long since the last reading
FRESH_S = 1.0


class Lane:
    """One subscriber's feeder, attempts, session and health as this process sees it."""

    def __init__(self, sub: Subscriber, secret: SecretStr, sender: Sender, deliverer: Deliverer) -> None:
        self.sub = sub
        self.secret = secret
        self.sender = sender
        self.session: ClientSession | None = None  # made on the sender's loop at start
        # decided once: every delivery to a URL whose IP literal is refused is dead-lettered with this reason
        self.refused = literal_refusal(sub.url, local=sub.local)
        self.deliverer = deliverer
        self.meters = metrics.LaneMeters.of(sub.name)
        self.failing = False
        self.maybe_failing_in_redis = True  # until the first 2xx clears what an earlier process left
        self.held: dict[str, float] = {}  # leased items (from take to settled) -> the due they had before
        self.line: deque[Item] = deque()  # leased, not started yet: attempts start in queue order
        self.done: list[str] = []  # held items delivered or dead-lettered, for the next exchange to settle
        self.attempts: list[Attempt] = []  # for the next exchange to write to the attempt log
        self._exchanged = 0.0  # monotonic time of the last exchange
        self.counted: dict[str, float] = {}  # item in line -> when its cluster counts were read (or it was queued)
        self.lock = threading.Lock()  # in-memory state only: the loop takes it too, so no I/O under it
        self.due_lock = threading.Lock()  # a lease renewal and a reschedule: the reschedule's due time wins
        self.wake = threading.Event()  # the feeder waits on it: new alerts queued, or the line running low
        self.closing = threading.Event()
        self.running = 0  # workers running on the loop, at most ``concurrency`` (the loop's own count)
        self.idle = threading.Event()  # no worker running: what a stopping lane waits for
        self.idle.set()
        self._tasks: set[asyncio.Task[None]] = set()  # the loop keeps only weak references to tasks
        self.pool = ThreadPoolExecutor(min(BLOCKING_THREADS, sub.concurrency), thread_name_prefix=f"lane-{sub.name}")
        self.thread = threading.Thread(target=self._feed, name=f"lane-{sub.name}", daemon=True)

    def start(self) -> Lane:
        if self.refused:
            logger.error("subscriber=%s will be refused: %s", self.sub.name, self.refused)
        self.session = self.sender.session(
            local=self.sub.local, max_connections=self.sub.concurrency, executor=self.pool
        )
        self.thread.start()
        return self

    async def blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run what may wait on Redis or Kafka off the loop, in this lane's own threads."""
        return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)

    @property
    def in_flight(self) -> int:
        with self.lock:
            return len(self.held)

    def release(self, item_id: str) -> None:
        with self.lock:
            self.held.pop(item_id, None)

    def settle_later(self, item_id: str) -> None:
        """The item is done: the next exchange settles it with the others done meanwhile; until then it stays
        held (its lease renewed), so no other alerter sends it again."""
        with self.lock:
            self.done.append(item_id)

    def log(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)

    def _feed(self) -> None:
        backoff, renewed, sealed = 0.2, time.monotonic(), 0.0
        while not self.closing.is_set():
            try:
                now = time.monotonic()
                if self.sub.digest_seconds is not None and now - sealed >= SEAL_EVERY_S:
                    sealed = now
                    d = self.deliverer
                    seal_due(
                        d.outbox, self.sub.name, self.sub.digest_seconds, d.settings.digest_max_alerts, time.time()
                    )
                if now - renewed >= self.deliverer.lease_s / 3:
                    renewed = now
                    self._renew()
                self.deliverer.endpoints.disabled(self.deliverer.subscribers())  # a reading at most 1 s old
                more = self._exchange()
                self._recount()
                backoff = 0.2
            except Exception as exc:  # Redis down: what is held stays leased; look again after a while
                logger.warning("lane feed failed subscriber=%s error=%s: %s", self.sub.name, type(exc).__name__, exc)
                self.closing.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if not more:
                self.wake.wait(IDLE_POLL_S)

    def _exchange(self, *, stopping: bool = False) -> bool:
        """The lane's one round with Redis: settle what the attempts finished, and lease due items until the lane
        holds ``PREFETCH`` per unit of concurrency (or, ``stopping``, give the unstarted ones back and lease none).
        Then the round's attempts go to the attempt log and the counts of taken items that waited are read, one
        pipeline each. True when there may be more to take at once."""
        self.wake.clear()  # before looking: a wake-up that comes while we look is kept for the next wait
        with self.lock:
            done, self.done = self.done, []
            logged, self.attempts = self.attempts, []
            give_back = {}
            if stopping:
                give_back = {item.id: self.held[item.id] for item in self.line if item.id in self.held}
                self.line.clear()
            # take once the line is down to LOW_WATER items per unit: the round trip is made while attempts go on
            low = len(self.line) <= LOW_WATER * self.sub.concurrency
            idle = self.sub.concurrency - (len(self.held) - len(done))  # attempts that could start at once
            want = PREFETCH * self.sub.concurrency - len(self.held) + len(done) if low and not stopping else 0
            # settling alone waits for the next take, or for the idle poll
            late = time.monotonic() - self._exchanged >= IDLE_POLL_S
            idle_round = want <= 0 and not give_back and not (done and (late or stopping))
            if idle_round:
                self.done = done + self.done
                if not late:  # the attempts too wait for the next round, unless they have waited long enough
                    self.attempts, logged = logged + self.attempts, []
                elif logged:
                    self._exchanged = time.monotonic()
        if idle_round:
            self._write_log(logged)
            return False
        d = self.deliverer
        self._exchanged = time.monotonic()
        try:
            taken = d.outbox.take(self.sub.name, max(want, 0), d.lease_s, done, give_back)
        except Exception:
            with self.lock:  # settled on the next round; their leases are renewed meanwhile
                self.done = done + self.done
                self.attempts = logged + self.attempts
                if give_back:  # still leased: they fall due when the lease ends
                    self.held = {k: v for k, v in self.held.items() if k not in give_back}
            raise
        now = time.time()
        # the counts of items that waited, or that will wait in line to start: one read now, not one each
        waited = [item for item, _ in taken if now - item.queued_at >= FRESH_S or len(taken) > idle]
        self._refresh(waited)
        counted = {id(i) for i in waited}
        with self.lock:
            for i in [*done, *give_back]:
                self.held.pop(i, None)
            for item, due in taken:
                self.held[item.id] = due
                self.line.append(item)
                self.counted[item.id] = now if id(item) in counted else item.queued_at
        if taken:
            self.sender.call_soon(self._kick)
        self._write_log(logged)  # after the attempts have their items: the log is a view, they are not
        return bool(taken) and len(taken) == want

    def _recount(self) -> None:
        """Read again the cluster counts of items that have waited in line ``FRESH_S`` since they were last read,
        all in one pipeline: an alert says how many copies were seen at most about ``FRESH_S`` before its POST."""
        now = time.time()
        with self.lock:
            stale = [item for item in self.line if now - self.counted.get(item.id, 0.0) >= FRESH_S]
        if not stale:
            return
        self._refresh(stale, in_line=True)
        with self.lock:
            for item in stale:
                self.counted[item.id] = now

    def _refresh(self, items: list[Item], *, in_line: bool = False) -> None:
        if not items:
            return
        counts = iter(self.deliverer.clusters.counts([c for item in items for c in item.clusters]))
        per = [[next(counts) for _ in item.clusters] for item in items]
        with self.lock:  # an item whose attempt started meanwhile is being sent as it is
            waiting = {id(i) for i in self.line} if in_line else None
            for item, n in zip(items, per, strict=True):
                if waiting is None or id(item) in waiting:
                    refresh_duplicates(item, n)

    def _write_log(self, entries: list[Attempt]) -> None:
        try:
            self.deliverer.attempts.record_many(self.sub.name, entries)
        except Exception as exc:  # Redis trouble: the delivery itself is settled elsewhere, this is a view
            logger.warning("attempt log not written subscriber=%s error=%s", self.sub.name, type(exc).__name__)

    def _renew(self) -> None:
        with self.due_lock:  # a rescheduling attempt waits, so its due time wins over this renewal
            with self.lock:
                held = list(self.held)
            if held:
                self.deliverer.outbox.renew(self.sub.name, held, self.deliverer.lease_s)

    def _kick(self) -> None:
        """On the loop: start workers while fewer than ``concurrency`` run and the line has items for them."""
        while self.running < self.sub.concurrency:
            with self.lock:  # with closing checked under it: a stopping lane starts nothing after close() looked
                if self.closing.is_set() or not self.line:
                    return
                self.running += 1
                self.idle.clear()
            task = asyncio.get_running_loop().create_task(self._work())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self) -> None:
        """A worker: attempt items from the head of the line until it is empty (or the lane stops). A busy lane's
        workers go from one item to the next, with no task made per attempt."""
        try:
            while True:
                with self.lock:
                    if self.closing.is_set() or not self.line:
                        return
                    item = self.line.popleft()
                    self.counted.pop(item.id, None)
                    # once, as the line comes down to the mark: the feeder's round then refills it in one take
                    low = len(self.line) == LOW_WATER * self.sub.concurrency
                if low:
                    self.wake.set()
                await self._run(item)
        finally:
            with self.lock:
                self.running -= 1
                if not self.running:
                    self.idle.set()

    async def _run(self, item: Item) -> None:
        try:
            self.deliverer.settled(await self.deliverer.attempt(self, item))
        except Exception as exc:  # Redis or Kafka down: the item's lease runs out and it is due again
            logger.warning(
                "attempt not settled alert=%s subscriber=%s error=%s: %s",
                item.id,
                self.sub.name,
                type(exc).__name__,
                exc,
            )
        finally:
            with self.lock:
                if item.id not in self.done:  # rescheduled, or not settled (Redis down): no longer held
                    self.held.pop(item.id, None)
                if not self.line:  # idle: settle what was done now rather than at the next poll
                    self.wake.set()

    def close(self) -> None:
        """Stop taking items, let the attempts finish what they started, then settle it and give back what is
        still in line, and close the lane's session."""
        with self.lock:
            self.closing.set()
        self.wake.set()
        limit = self.deliverer.settings.delivery_timeout + 10
        if self.thread.is_alive():
            self.thread.join(limit)
        self.idle.wait(limit)
        try:
            self._exchange(stopping=True)
        except Exception as exc:  # Redis down: those items fall due again at their lease end (same webhook-id)
            logger.warning("settle at close failed subscriber=%s error=%s", self.sub.name, type(exc).__name__)
        self.pool.shutdown(wait=False)
        if self.session is not None:
            self.sender.close_session(self.session)


def lanes_for(
    subscribers: Sequence[Subscriber], secrets: Mapping[str, SecretStr], sender: Sender, deliverer: Deliverer
) -> dict[str, Lane]:
    return {s.name: Lane(s, secrets[s.name], sender, deliverer) for s in subscribers}
