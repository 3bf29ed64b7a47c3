"""The poller: fetch each feed when due, parse it, and produce every story not seen before to Kafka.

Which feeds: the shared Redis schedule (workers.poller.schedule) leases due feeds to this process, as many
as it has free fetch slots, so several pollers split the list and a dead one's feeds come back due.

Per feed, in order: fetch from the stored URL (the one a 301/308 moved it to, else the configured
one) with the conditional-GET validators, both read from Redis for the whole claimed batch at once;
304 ends here, and so does a 200 whose body has the SHA-256 of the last one stored (many publishers
send no validators; parsing is most of a poll's CPU); parse; drop entries whose story id Redis has seen with
the same title and body; produce the rest (a new story as version 1, a changed one as its next version)
and wait for Kafka's acknowledgement; only then mark them seen (version and content hash), and the new
validators and body digest go with the poll's outcome. If producing fails, nothing is marked and the
validators and digest are kept old, so the next poll fetches and offers the same stories again: repeats
are possible, losses are not.

Then the next due time: the feed's interval with +-10% jitter, never before Cache-Control max-age
runs out; after an error, exponential backoff from the interval up to ``max_backoff``, never before
a 429/503's Retry-After; a 410 disables the feed. The next due time and the health shown by
`wirewatch feeds health` (and the validators) are written for every finished poll of a batch in one
round trip. One feed's failure never touches another's schedule.

Redis Cluster: the schedule, health and validators share the ``{feeds}`` slot, a feed's seen marks its own
slot (``workers.core.names``), so each pipeline here touches one slot. ``workers.poller.upgrade`` moves
the previous layout on start.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpcore
from kafka import KafkaProducer

from workers.core.errors import FeedFetchError, FeedParseError
from workers.core.names import Names, as_text
from workers.core.opsevents import QuietFeed
from workers.core.stories import Story
from workers.core.tracing import child, headers, new_traceparent, seconds_between
from workers.infra import metrics, otel
from workers.infra.kafka import send_all
from workers.infra.lifecycle import Stopper
from workers.infra.redis import RedisClient
from workers.poller import parse as feedio
from workers.poller.decisions import (  # noqa: F401 - next_delay, polite_delay, new_versions...: tests import them here
    BODY_DIGEST,
    FeedState,
    PollOutcome,
    body_digest,
    new_versions,
    next_delay,
    polite_delay,
    seen_mark,
)
from workers.poller.feed_health import HealthStore
from workers.poller.fetch import FeedGoneError, FeedThrottledError, Fetched, feed_client, fetch
from workers.poller.quiet import Activity, expected_since, fold, is_quiet, note_quiet
from workers.poller.schedule import Schedule
from workers.poller.upgrade import legacy_seen_until
from workers.settings.config import Config, Feed, PollerSettings
from workers.settings.env import Env

logger = logging.getLogger(__name__)

SUMMARY_EVERY_S = 60.0
PARSE_SLOTS = 2  # feeds parsed at once: fetches overlap, CPU-bound parses only cost memory when they do


def spans(feed: str, stories: list[Story], traces: list[str], polled: float, sending: float, acked: float) -> None:
    """Each story version's root span ``poll`` (fetch to Kafka's acknowledgement; its id is the record's header)
    and its child ``produce`` (send to acknowledgement), for the OpenTelemetry export."""
    for story, tp in zip(stories, traces, strict=True):
        otel.span("poll", tp, None, polled, acked, feed=feed, story=story.id, version=story.version)
        otel.span("produce", child(tp), tp, sending, acked, story=story.id)


class Poller:
    def __init__(
        self,
        feeds: list[Feed],
        producer: KafkaProducer,
        redis: RedisClient,
        http: httpcore.ConnectionPool,
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
        self.legacy_seen_until = 0.0  # while upgrading: old seen marks are read too (workers.poller.upgrade)
        self._last_summary = time.monotonic()
        self._feed_states = FeedStates(self)
        metrics.configure_feeds(self.feeds, settings.per_feed_metrics_max)

    @classmethod
    def from_settings(
        cls, cfg: Config, env: Env, producer: KafkaProducer, redis: RedisClient, stopper: Stopper, stack: ExitStack
    ) -> Poller:
        """The poller of an install, with its own feed HTTP pool; ``stack`` closes what it opened."""
        http = feed_client(cfg.settings.poller.concurrency, cfg.settings.poller.proxy_url)
        stack.callback(http.close)
        poller = cls(cfg.feeds, producer, redis, http, cfg.names, cfg.settings.poller, stopper)
        stack.callback(poller.close)
        return poller

    def after_batch(self) -> None:
        """Called by the run loop after each batch: the feed-state gauge, from Redis every few seconds."""
        self._feed_states()

    # --- the loop -------------------------------------------------------------------------------------

    def run_once(self) -> list[PollOutcome]:
        """Lease due feeds into free slots, then wait briefly for polls to finish; return those finished."""
        if not self._registered:
            retention = self.settings.seen_retention_hours * 3600
            feeds = list(self.feeds.values())
            self.legacy_seen_until = legacy_seen_until(self.redis, self.names, feeds, time.time(), retention)
            self.schedule.register(self.feeds, time.time())
            self._registered = True
        free = self.settings.concurrency - self.in_flight
        # claim in batches while busy: one script call per few finished polls, not one per poll
        if free < max(1, self.settings.concurrency // 8) and self.in_flight:
            free = 0
        batch = [self.feeds[n] for n in self.schedule.claim(free, time.time()) if n in self.feeds]
        if batch:  # a claimed feed whose state cannot be read is retaken when its lease runs out
            for feed, state in zip(batch, self.load_states(batch), strict=True):
                self.in_flight += 1
                self.pool.submit(self._poll_and_report, feed, state)
        done = self._collect(self._idle_wait())
        self._maybe_summarise()
        return done

    def _poll_and_report(self, feed: Feed, state: FeedState) -> None:
        self.finished.put(self.poll(feed, state))

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
        self._record_or_warn(done)
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
        """Poll one feed now and record the outcome (health, next due time); never raises for the feed's
        own failures. The loop does the same for many feeds, with one Redis round trip per batch."""
        try:
            state = self.load_states([feed])[0]
        except Exception as exc:  # Redis down: the feed stays due
            logger.warning("poll bookkeeping failed feed=%s error=%s: %s", feed.name, type(exc).__name__, exc)
            return PollOutcome(feed.name, error=f"{type(exc).__name__}: {exc}")
        outcome = self.poll(feed, state)
        self._record_or_warn([outcome])
        return outcome

    def load_states(self, feeds: list[Feed]) -> list[FeedState]:
        with self.redis.pipeline(transaction=False) as pipe:
            for feed in feeds:
                pipe.hmget(self.names.feed_health(feed.name), ["moved_to", "consecutive_errors", "activity"])
                pipe.hgetall(self.names.validators(feed.url))
            replies = pipe.execute()
        states = []
        for feed, (moved_to, errors, activity), stored in zip(feeds, replies[::2], replies[1::2], strict=True):
            validators = {as_text(k): as_text(v) for k, v in stored.items()}
            digest = validators.pop(BODY_DIGEST, None)
            url = as_text(moved_to) if moved_to else feed.url
            states.append(FeedState(url, validators, int(errors or 0), digest, Activity.from_json(activity)))
        return states

    def poll(self, feed: Feed, state: FeedState) -> PollOutcome:
        """Fetch, parse and produce one feed; return what happened and when to poll it next. Redis is
        written here only for what must follow Kafka's acknowledgement (seen marks, validators)."""
        s = self.settings
        try:
            fetched, new, digest = self._poll(feed, state)
        except FeedGoneError as exc:
            logger.warning("feed gone, disabled feed=%s reason=%s", feed.name, exc.reason)
            metrics.STORIES_FAILED.labels(feed=metrics.feed_label(feed.name), reason="http_410").inc()
            outcome = PollOutcome(feed.name, error=exc.reason, status=410, next_in=float("inf"))
        except (FeedFetchError, FeedParseError) as exc:
            after = exc.retry_after if isinstance(exc, FeedThrottledError) else None
            outcome = self._failed(feed, state, exc.reason, after)
        except Exception as exc:  # Kafka or Redis trouble: back off this feed, mark nothing
            outcome = self._failed(feed, state, f"{type(exc).__name__}: {exc}", None, label="internal")
        else:
            delay = next_delay(feed.interval, 0, self.rand, s.max_backoff)
            delay = polite_delay(delay, fetched.max_age, s.max_backoff)
            now = time.time()
            activity = fold(state.activity, now, new > 0)
            quiet = s.quiet_after_gaps > 0 and is_quiet(activity, now, s.quiet_after_gaps)
            was_quiet = is_quiet(state.activity, state.activity.folded_at or now, s.quiet_after_gaps or 1)
            fell_quiet = None
            if quiet and not was_quiet:  # one line (and one feed.quiet) when it falls quiet, not one per poll
                logger.warning("feed quiet feed=%s last_new=%s", feed.name, activity.last_new_at)
                expected = expected_since(activity, activity.last_new_at or now, now)
                fell_quiet = QuietFeed(feed.name, feed.url, now, activity.last_new_at, expected, s.quiet_after_gaps)
            # a 304 keeps the stored validators and digest; a 200 stores its own (also when its body was unchanged)
            validators = None if digest is None else {**fetched.validators, BODY_DIGEST: digest}
            outcome = PollOutcome(
                feed.name,
                new=new,
                status=fetched.status,
                next_in=delay,
                moved_to=fetched.moved_to,
                activity=activity,
                quiet=quiet,
                validators=validators,
                fell_quiet=fell_quiet,
            )
        with self._lock:
            self.totals["polls"] += 1
            self.totals["new"] += outcome.new
            self.totals["errors"] += outcome.error is not None
        return outcome

    def _failed(
        self, feed: Feed, state: FeedState, reason: str, retry_after: float | None, label: str | None = None
    ) -> PollOutcome:
        s = self.settings
        metrics.STORIES_FAILED.labels(
            feed=metrics.feed_label(feed.name), reason=label or metrics.failure_reason(reason)
        ).inc()
        errors = state.errors + 1  # leases keep a feed to one poller at a time, so no increment races
        delay = polite_delay(next_delay(feed.interval, errors, self.rand, s.max_backoff), retry_after, s.max_backoff)
        logger.warning("feed failed feed=%s errors=%d retry_in=%.0fs reason=%s", feed.name, errors, delay, reason)
        return PollOutcome(feed.name, error=reason, next_in=delay, errors=errors)

    def record(self, outcomes: list[PollOutcome]) -> None:
        """Each outcome's health and next due time, for all of them in one round trip. Lost in a crash,
        they cost only a repeated poll: the lease runs out and the feed is due again."""
        now = time.time()
        with self.redis.pipeline(transaction=False) as pipe:
            for o in outcomes:
                if o.status == 410:
                    self.health.disable(o.feed, o.error or "HTTP 410 Gone", pipe)
                    self.schedule.disable(o.feed, pipe)
                    continue
                self.schedule.reschedule(o.feed, now + o.next_in, pipe)
                if o.validators is not None and o.feed in self.feeds:
                    self._store_validators(self.feeds[o.feed].url, o.validators, pipe)
                if o.fell_quiet is not None:  # before the health that says quiet: a lost write notes it again
                    note_quiet(pipe, self.names.quiet_feed_events(), o.fell_quiet)
                if o.error is not None:
                    self.health.record_error(o.feed, o.error, errors=o.errors, next_poll=now + o.next_in, pipe=pipe)
                else:
                    self.health.record_success(
                        o.feed,
                        status=o.status or 200,
                        new=o.new,
                        next_poll=now + o.next_in,
                        moved_to=o.moved_to,
                        activity=o.activity,
                        quiet=o.quiet,
                        pipe=pipe,
                    )
            pipe.execute()

    def _store_validators(self, feed_url: str, validators: dict[str, str], pipe: Any) -> None:
        key = self.names.validators(feed_url)
        pipe.delete(key)
        if validators:
            pipe.hset(key, mapping=dict(validators))
            pipe.expire(key, int(self.settings.seen_retention_hours * 3600))

    def _record_or_warn(self, outcomes: list[PollOutcome]) -> None:
        if not outcomes:
            return
        try:
            self.record(outcomes)
        except Exception as exc:  # Redis down: the leases run out and these feeds are polled again
            logger.warning("recording %d polls failed error=%s: %s", len(outcomes), type(exc).__name__, exc)

    def _poll(self, feed: Feed, state: FeedState) -> tuple[Fetched, int, str | None]:
        """Fetch, parse and produce; the response, the stories produced, and the body's digest (None: a 304)."""
        s = self.settings
        started, polled_at = time.monotonic(), time.time()
        fetched = fetch(
            self.http,
            feed.name,
            state.url,
            state.validators,
            timeout=s.fetch_timeout,
            max_bytes=s.max_body_bytes,
            user_agent=s.user_agent,
        )
        metrics.FETCH_LATENCY.labels(feed=metrics.feed_label(feed.name)).observe(time.monotonic() - started)
        if fetched.moved_to:
            logger.info("feed moved permanently feed=%s url=%s", feed.name, fetched.moved_to)
        if fetched.status == 304:
            logger.debug("not modified feed=%s", feed.name)
            return fetched, 0, None
        digest = body_digest(fetched.body)
        if digest == state.body_digest:  # the same bytes as the last poll: nothing new in them, do not parse
            logger.debug("unchanged body feed=%s", feed.name)
            return fetched, 0, digest
        with self.parse_slots:  # parsing holds the GIL anyway; more at once would only add memory
            stories = feedio.parse(feed, fetched)  # ids stay scoped to the configured URL, even after a move
        metrics.STORIES_FETCHED.labels(feed=metrics.feed_label(feed.name)).inc(len(stories))
        fresh, remark = new_versions(stories, self._seen_marks(feed, stories), s.max_versions)
        if fresh:  # each version starts its trace here (workers.core.tracing)
            traces = [new_traceparent(otel.sample()) for _ in fresh]
            sending = time.time()
            send_all(
                self.producer,
                [
                    (self.names.stories, st.id.encode(), st.to_json(), headers(tp))
                    for st, tp in zip(fresh, traces, strict=True)
                ],
            )
            if otel.enabled():
                spans(feed.name, fresh, traces, polled_at, sending, time.time())
            for st in fresh:
                if st.version == 1:
                    metrics.observe_hop("published_to_fetched", seconds_between(st.published, st.fetched_at))
        if fresh or remark:
            ttl = int(s.seen_retention_hours * 3600)
            with self.redis.pipeline(transaction=False) as pipe:  # one slot: this feed's
                for story in fresh + remark:  # marked seen only now that Kafka acknowledged them
                    pipe.set(self.names.seen(feed.url, story.id), seen_mark(story), ex=ttl)
                pipe.execute()
        metrics.STORIES_NEW.labels(feed=metrics.feed_label(feed.name)).inc(len(fresh))
        if fresh:
            logger.info("new stories feed=%s count=%d", feed.name, len(fresh))
        return fetched, len(fresh), digest

    def _seen_marks(self, feed: Feed, stories: list[Story]) -> list[bytes | None]:
        """Per story, the mark of its last version in the feed's slot; while upgrading, an old mark (no
        version, no hash) reads as ``1``."""
        with self.redis.pipeline(transaction=False) as pipe:
            for story in stories:
                pipe.get(self.names.seen(feed.url, story.id))
            marks: list[bytes | None] = pipe.execute()
        unseen = [i for i, mark in enumerate(marks) if mark is None]
        if unseen and time.time() < self.legacy_seen_until:
            with self.redis.pipeline(transaction=False) as pipe:  # old keys: on a standalone Redis only
                for i in unseen:
                    pipe.exists(self.names.legacy_seen(stories[i].id))
                for i, flag in zip(unseen, pipe.execute(), strict=True):
                    marks[i] = b"1" if flag else None
        return marks

    # --- reporting ------------------------------------------------------------------------------------

    def _maybe_summarise(self) -> None:
        if time.monotonic() - self._last_summary < SUMMARY_EVERY_S:
            return
        self._last_summary = time.monotonic()
        states = [h.state for h in self.health.get_many(list(self.feeds))]
        logger.info(
            "poller health feeds=%d ok=%d quiet=%d failing=%d disabled=%d polls=%d new=%d errors=%d",
            len(states),
            states.count("ok"),
            states.count("quiet"),
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
        metrics.configure_feeds(self.feeds, self.settings.per_feed_metrics_max)  # a removed feed's series go

    def close(self) -> None:
        """Let polls in progress finish and record them, so a stopped poller's feeds keep their real due
        times instead of waiting out their leases."""
        self.pool.shutdown(wait=True, cancel_futures=True)
        finished = []
        while not self.finished.empty():
            finished.append(self.finished.get_nowait())
        self.in_flight -= len(finished)
        self._record_or_warn(finished)
        logger.info(
            "poller stopped polls=%d new=%d errors=%d", self.totals["polls"], self.totals["new"], self.totals["errors"]
        )


class FeedStates:
    """Sets FEEDS_BY_STATE from the shared feed health in Redis, at most every few seconds."""

    def __init__(self, poller: Any, every: float = 5.0) -> None:
        self.poller = poller
        self.every = every
        self.last = 0.0

    def __call__(self) -> None:
        if time.monotonic() - self.last < self.every:
            return
        self.last = time.monotonic()
        counts = dict.fromkeys(metrics.FEED_STATES, 0)
        for health in self.poller.health.get_many(list(self.poller.feeds)):
            counts[health.state] = counts.get(health.state, 0) + 1
        for state, n in counts.items():
            metrics.FEEDS_BY_STATE.labels(state=state).set(n)
