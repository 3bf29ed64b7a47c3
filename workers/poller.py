"""The poller: fetch each feed when due, parse it, and produce every story not seen before to Kafka.

Which feeds: the shared Redis schedule (workers.schedule) leases due feeds to this process, as many
as it has free fetch slots, so several pollers split the list and a dead one's feeds come back due.

Per feed, in order: load the conditional-GET validators from Redis; fetch from the stored URL (the
one a 301/308 moved it to, else the configured one); 304 ends here; parse; drop entries whose story id
Redis has seen; produce the rest and wait for Kafka's acknowledgement; only then mark them seen and
store the new validators. If producing fails, nothing is marked and the validators are kept old, so
the next poll fetches and offers the same stories again: repeats are possible, losses are not.

Then the next due time: the feed's interval with +-10% jitter, never before Cache-Control max-age
runs out; after an error, exponential backoff from the interval up to ``max_backoff``, never before
a 429/503's Retry-After; a 410 disables the feed. Health is written for `wirewatch feeds health`.
One feed's failure never touches another's schedule.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
from kafka import KafkaProducer
from redis import Redis

from workers import feeds as feedio
from workers import metrics
from workers.config import Feed, PollerSettings
from workers.daemon import Stopper
from workers.errors import FeedFetchError, FeedParseError
from workers.feedhealth import HealthStore
from workers.fetcher import FeedGoneError, FeedThrottledError, Fetched, fetch
from workers.kafka_io import send_all
from workers.names import Names, as_text
from workers.schedule import Schedule
from workers.stories import Story

logger = logging.getLogger(__name__)

JITTER = 0.1
SUMMARY_EVERY_S = 60.0
PARSE_SLOTS = 2  # feeds parsed at once: fetches overlap, CPU-bound parses only cost memory when they do


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    new: int = 0
    error: str | None = None
    status: int | None = None
    next_in: float = 0.0  # seconds until the next poll


def next_delay(interval: float, consecutive_errors: int, rand: random.Random, max_backoff: float = 3600.0) -> float:
    """Interval with +-10% jitter; after errors, exponential backoff from the interval up to max_backoff."""
    if consecutive_errors == 0:
        base = interval
    else:
        base = min(max(max_backoff, interval), interval * 2 ** min(consecutive_errors, 16))
    return base * (1 + rand.uniform(-JITTER, JITTER))


def polite_delay(delay: float, floor: float | None, ceiling: float) -> float:
    """At least what the publisher asked (max-age, Retry-After), but never more than the ceiling."""
    return max(delay, min(floor, ceiling)) if floor is not None else delay


def new_stories(stories: list[Story], seen_flags: list[int]) -> list[Story]:
    """Stories whose id Redis has not seen, each id once (some feeds repeat a guid)."""
    out, ids = [], set()
    for story, seen in zip(stories, seen_flags, strict=True):
        if not seen and story.id not in ids:
            ids.add(story.id)
            out.append(story)
    return out


class Poller:
    def __init__(
        self,
        feeds: list[Feed],
        producer: KafkaProducer,
        redis: Redis,
        http: httpx.Client,
        names: Names,
        settings: PollerSettings,
        stopper: Stopper,
    ) -> None:
        self.feeds = {f.name: f for f in feeds}
        self.producer = producer
        self.redis = redis
        self.http = http
        self.names = names
        self.settings = settings
        self.stopper = stopper
        self.schedule = Schedule(redis, names, settings.lease_seconds)
        self.health = HealthStore(redis, names)
        self.rand = random.Random()
        self.pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="poll")
        self.in_flight = 0  # polls submitted and not yet collected
        self.finished: queue.Queue[PollOutcome] = queue.Queue()
        self.totals = {"polls": 0, "new": 0, "errors": 0}
        self._lock = threading.Lock()
        self.parse_slots = threading.BoundedSemaphore(PARSE_SLOTS)
        self._registered = False
        self._last_summary = time.monotonic()

    # --- the loop -------------------------------------------------------------------------------------

    def run_once(self) -> list[PollOutcome]:
        """Lease due feeds into free slots, then wait briefly for polls to finish; return those finished."""
        if not self._registered:
            self.schedule.register(self.feeds, time.time())
            self._registered = True
        free = self.settings.concurrency - self.in_flight
        # claim in batches while busy: one script call per few finished polls, not one per poll
        if free < max(1, self.settings.concurrency // 8) and self.in_flight:
            free = 0
        for name in self.schedule.claim(free, time.time()):
            feed = self.feeds.get(name)
            if feed is not None:
                self.in_flight += 1
                self.pool.submit(self._poll_and_report, feed)
        done = self._collect(self._idle_wait())
        self._maybe_summarise()
        return done

    def _poll_and_report(self, feed: Feed) -> None:
        self.finished.put(self.poll_feed(feed))

    def _collect(self, timeout: float) -> list[PollOutcome]:
        """Outcomes of finished polls: wait up to ``timeout`` for the first, then take what else is ready."""
        try:
            done = [self.finished.get(timeout=timeout)] if self.in_flight else []
        except queue.Empty:
            return []
        if not done:
            self.stopper.sleep(timeout)
        while True:
            try:
                done.append(self.finished.get_nowait())
            except queue.Empty:
                break
        self.in_flight -= len(done)
        return done

    def run_cycle(self, timeout: float = 60.0) -> list[PollOutcome]:
        """Poll every feed that is due now and wait until all are done (tests and benchmarks)."""
        outcomes: list[PollOutcome] = []
        deadline = time.monotonic() + timeout
        started = time.time()
        while time.monotonic() < deadline:
            outcomes += self.run_once()
            if self.in_flight:
                continue
            due = self.schedule.next_due()
            if due is None or due > started:
                break
        return outcomes

    def _idle_wait(self) -> float:
        if self.in_flight:  # woken by the next finished poll; a feed falling due meanwhile waits <= 0.2 s
            return 1.0 if self.in_flight >= self.settings.concurrency else 0.2
        due = self.schedule.next_due()
        return 1.0 if due is None else min(1.0, max(0.02, due - time.time()))

    # --- one feed -------------------------------------------------------------------------------------

    def poll_feed(self, feed: Feed) -> PollOutcome:
        """Poll one feed and schedule its next poll; never raises for the feed's own failures."""
        try:
            outcome = self._poll_and_schedule(feed)
        except Exception as exc:  # Redis down while recording: the lease runs out and the feed is retried
            logger.warning("poll bookkeeping failed feed=%s error=%s: %s", feed.name, type(exc).__name__, exc)
            outcome = PollOutcome(feed.name, error=f"{type(exc).__name__}: {exc}")
        with self._lock:
            self.totals["polls"] += 1
            self.totals["new"] += outcome.new
            self.totals["errors"] += outcome.error is not None
        return outcome

    def _poll_and_schedule(self, feed: Feed) -> PollOutcome:
        s = self.settings
        try:
            fetched, new = self._poll(feed)
        except FeedGoneError as exc:
            logger.warning("feed gone, disabled feed=%s reason=%s", feed.name, exc.reason)
            metrics.STORIES_FAILED.labels(feed=feed.name, reason="http_410").inc()
            self.health.disable(feed.name, exc.reason)
            self.schedule.disable(feed.name)
            return PollOutcome(feed.name, error=exc.reason, status=410, next_in=float("inf"))
        except (FeedFetchError, FeedParseError) as exc:
            return self._failed(feed, exc.reason, exc.retry_after if isinstance(exc, FeedThrottledError) else None)
        except Exception as exc:  # Kafka or Redis trouble: back off this feed, mark nothing
            return self._failed(feed, f"{type(exc).__name__}: {exc}", None)
        delay = polite_delay(next_delay(feed.interval, 0, self.rand, s.max_backoff), fetched.max_age, s.max_backoff)
        with self.redis.pipeline(transaction=False) as pipe:  # one round trip: this runs for every poll
            self.schedule.reschedule(feed.name, time.time() + delay, pipe)
            self.health.record_success(
                feed.name,
                status=fetched.status,
                new=new,
                next_poll=time.time() + delay,
                moved_to=fetched.moved_to,
                pipe=pipe,
            )
            pipe.execute()
        return PollOutcome(feed.name, new=new, status=fetched.status, next_in=delay)

    def _failed(self, feed: Feed, reason: str, retry_after: float | None) -> PollOutcome:
        s = self.settings
        metrics.STORIES_FAILED.labels(feed=feed.name, reason=metrics.failure_reason(reason)).inc()
        errors = self.health.record_error(feed.name, reason)
        delay = polite_delay(next_delay(feed.interval, errors, self.rand, s.max_backoff), retry_after, s.max_backoff)
        logger.warning("feed failed feed=%s errors=%d retry_in=%.0fs reason=%s", feed.name, errors, delay, reason)
        self.schedule.reschedule(feed.name, time.time() + delay)
        self.health.set_next_poll(feed.name, time.time() + delay)
        return PollOutcome(feed.name, error=reason, next_in=delay)

    def _poll(self, feed: Feed) -> tuple[Fetched, int]:
        s = self.settings
        vkey = self.names.validators(feed.url)
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self.names.feed_health(feed.name), "moved_to")
            pipe.hgetall(vkey)
            moved_to, stored = pipe.execute()
        url = as_text(moved_to) if moved_to else feed.url
        validators = {as_text(k): as_text(v) for k, v in stored.items()}
        started = time.monotonic()
        fetched = fetch(
            self.http,
            feed.name,
            url,
            validators,
            timeout=s.fetch_timeout,
            max_bytes=s.max_body_bytes,
            user_agent=s.user_agent,
        )
        metrics.FETCH_LATENCY.labels(feed=feed.name).observe(time.monotonic() - started)
        if fetched.moved_to:
            logger.info("feed moved permanently feed=%s url=%s", feed.name, fetched.moved_to)
        if fetched.status == 304:
            logger.debug("not modified feed=%s", feed.name)
            return fetched, 0
        with self.parse_slots:  # parsing holds the GIL anyway; more at once would only add memory
            stories = feedio.parse(feed, fetched)  # ids stay scoped to the configured URL, even after a move
        metrics.STORIES_FETCHED.labels(feed=feed.name).inc(len(stories))
        with self.redis.pipeline(transaction=False) as pipe:
            for story in stories:
                pipe.exists(self.names.seen(story.id))
            fresh = new_stories(stories, pipe.execute())
        if fresh:
            send_all(self.producer, [(self.names.stories, st.id.encode(), st.to_json()) for st in fresh])
        ttl = int(s.seen_retention_hours * 3600)
        with self.redis.pipeline(transaction=False) as pipe:
            for story in fresh:  # marked seen only now that Kafka acknowledged them
                pipe.set(self.names.seen(story.id), 1, ex=ttl)
            pipe.delete(vkey)
            if fetched.validators:
                pipe.hset(vkey, mapping=dict(fetched.validators))  # type: ignore[arg-type]
                pipe.expire(vkey, ttl)
            pipe.execute()
        metrics.STORIES_NEW.labels(feed=feed.name).inc(len(fresh))
        if fresh:
            logger.info("new stories feed=%s count=%d", feed.name, len(fresh))
        return fetched, len(fresh)

    # --- reporting ------------------------------------------------------------------------------------

    def _maybe_summarise(self) -> None:
        if time.monotonic() - self._last_summary < SUMMARY_EVERY_S:
            return
        self._last_summary = time.monotonic()
        states = [h.state for h in self.health.get_many(list(self.feeds))]
        logger.info(
            "poller health feeds=%d ok=%d failing=%d disabled=%d polls=%d new=%d errors=%d",
            len(states),
            states.count("ok"),
            states.count("failing"),
            states.count("disabled"),
            self.totals["polls"],
            self.totals["new"],
            self.totals["errors"],
        )

    def reload(self, cfg: Any) -> None:
        """The feeds of a reloaded config (SIGHUP): registered in the shared schedule on the next run_once
        (new feeds due now, kept feeds keep their due time, removed feeds dropped)."""
        self.feeds = {f.name: f for f in cfg.feeds}
        self._registered = False

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        logger.info(
            "poller stopped polls=%d new=%d errors=%d", self.totals["polls"], self.totals["new"], self.totals["errors"]
        )
