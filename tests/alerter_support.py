"""Helpers for the alerter tests: match events, producing them, and an in-process alerter on real servers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kafka import KafkaProducer
from pydantic import SecretStr
from redis import Redis

from tests.kafka_support import TEST_SESSION_MS
from workers.alerter.sender import Sender
from workers.alerter.worker import Alerter
from workers.core.events import MatchEvent, TopicHit
from workers.core.names import Names
from workers.core.stories import Story
from workers.infra.kafka import ensure_topics, make_consumer, make_producer, send_all, topic_specs
from workers.infra.lifecycle import Stopper
from workers.settings.config import AlerterSettings, KafkaSettings, Subscriber


def match(i: int, text: str | None = None, title: str | None = None, link: str | None = None) -> MatchEvent:
    story = Story(
        id=f"story-{i}",
        feed="wire",
        feed_url="http://127.0.0.1/wire.xml",
        title=title or f"North Korea dispatch {i}",
        link=link or f"http://127.0.0.1/wire/{i}",
        text=text or f"Dispatch {i}: Pyongyang said North Korea tested engine model {i * 7}.",
        published="2023-09-17T10:00:00Z",
    )
    hit = TopicHit(terms=["North Korea"], hits=[{"term": "North Korea", "start": 0, "end": 11}], snippet="North Korea")
    return MatchEvent(story=story, language="en", probability=0.99, topics={"dprk": hit})


def produce(bootstrap: str, names: Names, events: list[MatchEvent]) -> None:
    producer = make_producer(bootstrap, "test-producer")
    try:
        send_all(producer, [(names.matches, e.story.id.encode(), e.to_json()) for e in events])
    finally:
        producer.close()


class InFlight:
    """A receiver's ``respond`` that answers 204 after ``delay_s`` and counts the POSTs in progress: ``now``, and
    ``most`` at once so far."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.now = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, _request: object) -> int:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        time.sleep(self.delay_s)
        with self._lock:
            self.now -= 1
        return 204


def sub(name: str, url: str, **extra: Any) -> Subscriber:
    return Subscriber(name=name, url=url, secret_env="X", topics=["dprk"], local=True, **extra)


@contextmanager
def running_alerter(
    bootstrap: str,
    redis: Redis,
    names: Names,
    subs: list[Subscriber],
    secret: str,
    *,
    kafka_settings: dict[str, Any] | None = None,
    **settings: Any,
) -> Iterator[Alerter]:
    """An Alerter in a thread of this process, consuming the test's matches topic. What its loop raised (Redis
    down and the like, retried as the daemon does) is kept in ``alerter.loop_errors``."""
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    base: dict[str, Any] = {"delivery_timeout": 1.0, "retry_schedule": [0.3, 0.6, 1.0]}
    cfg = AlerterSettings(**{**base, **settings})
    kafka = KafkaSettings(**{"session_timeout_ms": TEST_SESSION_MS, "max_poll_records": 50, **(kafka_settings or {})})
    consumer = make_consumer(bootstrap, names.matches, names.alerter_group, kafka, "test-alerter")
    producer: KafkaProducer = make_producer(bootstrap, "test-alerter")
    sender = Sender()
    stopper = Stopper()
    alerter = Alerter(
        consumer, producer, redis, sender, subs, {s.name: SecretStr(secret) for s in subs}, names, cfg, stopper
    )
    errors: list[BaseException] = []
    alerter.loop_errors = errors  # type: ignore[attr-defined]

    def loop() -> None:
        while not stopper.stopping:
            try:
                alerter.run_once()
            except Exception as exc:  # Redis down and the like: the daemon's loop retries too
                errors.append(exc)
                stopper.sleep(0.2)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield alerter
    finally:
        stopper.stop()
        thread.join(10)
        alerter.close()
        consumer.close(autocommit=False)
        producer.close()
        sender.close()


def desk_config(make_config: Any, url: str, **settings: Any) -> Any:
    """A config directory with one local subscriber 'desk' on topic dprk and no real feed (matches are produced)."""
    return make_config(
        feeds=[{"name": "none", "url": "http://127.0.0.1:9/none.xml"}],
        subscribers=[
            {"name": "desk", "url": url, "secret_env": "WIREWATCH_TEST_SECRET", "topics": ["dprk"], "local": True}
        ],
        settings=settings,
    )
