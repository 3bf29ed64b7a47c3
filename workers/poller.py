"""The poller: fetch each feed when due, parse it, and produce every story not seen before to Kafka.

Per feed, in order: load the conditional-GET validators from Redis; fetch (304 ends here); parse;
drop entries whose story id Redis has seen; produce the rest and wait for Kafka's acknowledgement;
only then mark them seen and store the new validators. If producing fails, nothing is marked and the
validators are kept old, so the next poll fetches and offers the same stories again: repeats are
possible, losses are not. One feed's failure never touches another's schedule.
"""

from __future__ import annotations

import logging
import random
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
from workers.kafka_io import send_all
from workers.names import Names
from workers.stories import Story

logger = logging.getLogger(__name__)

MAX_BACKOFF_S = 3600.0
JITTER = 0.1


@dataclass
class FeedState:
    next_due: float = 0.0
    consecutive_errors: int = 0
    last_error: str | None = None


@dataclass(frozen=True)
class PollOutcome:
    feed: str
    new: int = 0
    error: str | None = None


def next_delay(interval: float, consecutive_errors: int, rand: random.Random) -> float:
    """Interval with +-10% jitter; after errors, exponential backoff from the interval up to an hour."""
    base = interval if consecutive_errors == 0 else min(MAX_BACKOFF_S, interval * 2 ** min(consecutive_errors, 16))
    return base * (1 + rand.uniform(-JITTER, JITTER))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


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
        self.feeds = feeds
        self.producer = producer
        self.redis = redis
        self.http = http
        self.names = names
        self.settings = settings
        self.stopper = stopper
        self.state = {f.name: FeedState() for f in feeds}
        self.rand = random.Random()
        self.pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="poll")
        self.totals = {"polls": 0, "new": 0, "errors": 0}

    def run_once(self) -> list[PollOutcome]:
        now = time.monotonic()
        due = [f for f in self.feeds if self.state[f.name].next_due <= now]
        if not due:
            wake = min(s.next_due for s in self.state.values())
            self.stopper.sleep(min(1.0, max(0.05, wake - now)))
            return []
        outcomes = list(self.pool.map(self.poll_feed, due))
        for feed, outcome in zip(due, outcomes, strict=True):
            self._schedule(feed, outcome)
        return outcomes

    def _schedule(self, feed: Feed, outcome: PollOutcome) -> None:
        st = self.state[feed.name]
        self.totals["polls"] += 1
        self.totals["new"] += outcome.new
        if outcome.error:
            self.totals["errors"] += 1
            st.consecutive_errors += 1
            st.last_error = outcome.error
        else:
            st.consecutive_errors = 0
        st.next_due = time.monotonic() + next_delay(feed.interval, st.consecutive_errors, self.rand)

    def poll_feed(self, feed: Feed) -> PollOutcome:
        try:
            return PollOutcome(feed.name, new=self._poll(feed))
        except (FeedFetchError, FeedParseError) as exc:
            logger.warning("feed failed feed=%s reason=%s", feed.name, exc.reason)
            metrics.STORIES_FAILED.labels(feed=feed.name, reason=metrics.failure_reason(exc.reason)).inc()
            return PollOutcome(feed.name, error=exc.reason)
        except Exception as exc:  # Kafka or Redis trouble: back off this feed, mark nothing
            logger.warning("poll failed feed=%s error=%s: %s", feed.name, type(exc).__name__, exc)
            metrics.STORIES_FAILED.labels(feed=feed.name, reason="internal").inc()
            return PollOutcome(feed.name, error=f"{type(exc).__name__}: {exc}")

    def _poll(self, feed: Feed) -> int:
        vkey = self.names.validators(feed.url)
        validators = {_text(k): _text(v) for k, v in self.redis.hgetall(vkey).items()}
        started = time.monotonic()
        fetched = feedio.fetch(
            self.http, feed, validators, timeout=self.settings.fetch_timeout, max_bytes=self.settings.max_body_bytes
        )
        metrics.FETCH_LATENCY.labels(feed=feed.name).observe(time.monotonic() - started)
        if fetched.status == 304:
            logger.debug("not modified feed=%s", feed.name)
            return 0
        stories = feedio.parse(feed, fetched)
        metrics.STORIES_FETCHED.labels(feed=feed.name).inc(len(stories))
        with self.redis.pipeline(transaction=False) as pipe:
            for s in stories:
                pipe.exists(self.names.seen(s.id))
            fresh = new_stories(stories, pipe.execute())
        if fresh:
            send_all(self.producer, [(self.names.stories, s.id.encode(), s.to_json()) for s in fresh])
        ttl = int(self.settings.seen_retention_hours * 3600)
        with self.redis.pipeline(transaction=False) as pipe:
            for s in fresh:  # marked seen only now that Kafka acknowledged them
                pipe.set(self.names.seen(s.id), 1, ex=ttl)
            pipe.delete(vkey)
            if fetched.validators:
                pipe.hset(vkey, mapping=dict(fetched.validators))  # type: ignore[arg-type]
                pipe.expire(vkey, ttl)
            pipe.execute()
        metrics.STORIES_NEW.labels(feed=feed.name).inc(len(fresh))
        if fresh:
            logger.info("new stories feed=%s count=%d", feed.name, len(fresh))
        return len(fresh)

    def reload(self, cfg: Any) -> None:
        """The feeds of a reloaded config (SIGHUP); a kept feed keeps its schedule and error count."""
        self.feeds = list(cfg.feeds)
        self.state = {f.name: self.state.get(f.name, FeedState()) for f in self.feeds}

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        logger.info(
            "poller stopped polls=%d new=%d errors=%d", self.totals["polls"], self.totals["new"], self.totals["errors"]
        )
