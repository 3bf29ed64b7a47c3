"""The filter: consume stories, detect their language, match the topics, produce the matches.

Per batch, in order: decode each story (a poison message goes to the stories dead-letter topic with
the reason, and the batch goes on); detect the language on title + text, with the feed's hint when
the detector is unsure; match every topic in one pass (at most MAX_HITS_PER_TOPIC hits listed per
topic, with their count); fit the event under the producer's limit (``workers.core.events``: markup,
then text, cut; a story that cannot fit is dead-lettered); a later version of a story an earlier version
matched is produced even when it matches nothing, carrying the topics it no longer matches
(``workers.filter.followups``: marks in Redis, read and written once per batch); produce the matches and dead
letters and wait for Kafka's acknowledgement; only then commit the batch's offsets. If producing fails the
consumer seeks back, so the batch is done again (the alerter's idempotency key absorbs the repeats).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, replace
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

from workers.core.deadletter import dead_letter
from workers.core.events import (
    MAX_EVENT_BYTES,
    MAX_HITS_PER_TOPIC,
    EventTooLargeError,
    MatchEvent,
    TopicHit,
    hit_offsets,
)
from workers.core.names import Names
from workers.core.stories import Story, StoryFormatError
from workers.core.tracing import child, from_headers, headers, iso, seconds_between
from workers.filter import language
from workers.filter.followups import FilterMarks
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic
from workers.infra import metrics, otel
from workers.infra.kafka import (
    Message,
    client_id,
    commit_records,
    make_consumer,
    poll_records,
    rewind,
    send_all,
    update_lag,
)
from workers.infra.lifecycle import Stopper
from workers.settings.config import Config
from workers.settings.env import Env

logger = logging.getLogger(__name__)


def story_text(story: Story) -> str:
    return f"{story.title}\n{story.text}" if story.title else story.text


def evaluate(story: Story, matcher: Matcher) -> MatchEvent | None:
    """Language and topic matches of one story, or None when no topic matches."""
    return detect_and_match(story, matcher)[1]


def detect_and_match(story: Story, matcher: Matcher) -> tuple[language.Detection, MatchEvent | None]:
    """The story's language, and its match event (None when no topic matches)."""
    text = story_text(story)
    det = language.detect(text, hint=story.language_hint)
    found = matcher.match(text, det.language)
    if not found:
        return det, None
    topics = {
        name: TopicHit(
            terms=list(m.terms),
            hits=hit_offsets(text, ((h.term, h.start, h.end) for h in m.hits[:MAX_HITS_PER_TOPIC])),
            snippet=m.snippet,
            hit_count=len(m.hits),
        )
        for name, m in found.items()
    }
    return det, MatchEvent(story=story, language=det.language, probability=round(det.probability, 4), topics=topics)


@dataclass(frozen=True)
class Outcome:
    """What one story record becomes: a match event to produce (``value``, its wire form fitted under the limit),
    nothing (no topic matched: ``event`` None), or a dead letter (``reason``; ``error`` when the matcher crashed)."""

    story: Story | None = None
    event: MatchEvent | None = None
    value: bytes | None = None
    reason: str | None = None
    error: Exception | None = None
    detected: language.Detection | None = None  # the story's language, kept for a later version that matches nothing


def timings(story: Story, produced_ms: int | None, now: float) -> dict[str, str]:
    """The story's timings so far: the feed's date, the poller's, the record's Kafka timestamp, and now."""
    out = {"published": story.published, "fetched": story.fetched_at or None}
    out["produced"] = iso(produced_ms / 1000) if produced_ms and produced_ms > 0 else None
    out["matched"] = iso(now)
    return {k: v for k, v in out.items() if v}


def decide(raw: bytes, matcher: Matcher, produced_ms: int | None = None, now: float | None = None) -> Outcome:
    """The filter's decision on one record's value (and its Kafka timestamp), without I/O: never raises."""
    try:
        story = Story.from_json(raw)
        detected, event = detect_and_match(story, matcher)
        if event is not None:
            event = replace(event, timings=timings(story, produced_ms, time.time() if now is None else now))
        key = story.id.encode()
        value = None if event is None else event.fitted_json(MAX_EVENT_BYTES - len(key))
    except StoryFormatError as exc:
        return Outcome(reason=f"malformed story: {exc}")
    except EventTooLargeError as exc:
        return Outcome(reason=f"story too large: {exc}")
    except Exception as exc:
        return Outcome(reason=f"filter error: {type(exc).__name__}: {exc}", error=exc)
    return Outcome(story=story, event=event, value=value, detected=detected)


def carry(outcome: Outcome, carried: set[str], produced_ms: int | None = None, now: float | None = None) -> Outcome:
    """``outcome`` of a later version whose story an earlier version matched: its event carries the topics it no
    longer matches, and a version that matches nothing becomes an event with no topic of its own. Never raises."""
    story = outcome.story
    if story is None or outcome.reason is not None:
        return outcome
    event = outcome.event
    left = sorted(carried - set(event.topics if event is not None else ()))
    if not left:
        return outcome
    try:
        if event is None:
            det = outcome.detected or language.detect(story_text(story), hint=story.language_hint)
            stamp = time.time() if now is None else now
            event = MatchEvent(story, det.language, round(det.probability, 4), {}, timings(story, produced_ms, stamp))
        event = replace(event, carried=left)
        value = event.fitted_json(MAX_EVENT_BYTES - len(story.id.encode()))
    except EventTooLargeError as exc:
        return Outcome(reason=f"story too large: {exc}")
    except Exception as exc:
        return Outcome(reason=f"filter error: {type(exc).__name__}: {exc}", error=exc)
    return Outcome(story=story, event=event, value=value)


def warmed_matcher(topics: Sequence[Topic]) -> Matcher:
    """The matcher with the automaton of every language detection can return built now: the first story of a
    language would otherwise wait for its compile (seconds, with a countries topic per country)."""
    started = time.perf_counter()
    matcher = Matcher(topics)
    compiled = time.perf_counter()
    languages = matcher.warm(language.detectable_languages())
    logger.info(
        "matcher ready compile_s=%.2f warm_s=%.2f languages=%d",
        compiled - started,
        time.perf_counter() - compiled,
        len(languages),
    )
    return matcher


class FilterWorker:
    def __init__(
        self,
        consumer: KafkaConsumer,
        producer: KafkaProducer,
        matcher: Matcher,
        names: Names,
        stopper: Stopper,
        marks: FilterMarks | None = None,
    ) -> None:
        self.consumer = consumer
        self.producer = producer
        self.matcher = matcher
        self.names = names
        self.stopper = stopper
        self.marks = marks  # None: later versions that match nothing are dropped like any story (no Redis)
        self.totals = {"stories": 0, "matches": 0, "dead": 0}
        self.carried = 0  # matches that are later versions carrying topics they no longer match

    @classmethod
    def from_settings(
        cls, cfg: Config, env: Env, producer: KafkaProducer, redis: Any, stopper: Stopper, stack: ExitStack
    ) -> FilterWorker:
        """The filter of an install: its consumer in the filter group, the matcher over the compiled topics."""
        language.warm_up()
        names = cfg.names
        consumer = make_consumer(
            env.kafka_bootstrap, names.stories, names.filter_group, cfg.settings.kafka, client_id("filter")
        )
        stack.callback(consumer.close, autocommit=False)
        marks = FilterMarks(redis, names, int(cfg.settings.alerter.dedup_retention_hours * 3600))
        worker = cls(consumer, producer, warmed_matcher(cfg.topics), names, stopper, marks)
        stack.callback(worker.close)
        return worker

    def after_batch(self) -> None:
        update_lag(self.consumer, self.names.filter_group)

    def run_once(self) -> int:
        records = poll_records(self.consumer, timeout_ms=500)
        if not records:
            return 0
        outcomes = [self._decide(rec) for rec in records]
        out: list[Message] = []
        try:
            outcomes = self._follow(records, outcomes)
            for rec, outcome in zip(records, outcomes, strict=True):
                out.extend(self._process(rec, outcome))
            send_all(self.producer, out)
            commit_records(self.consumer, records)
        except Exception:
            rewind(self.consumer, records)
            raise
        self.totals["stories"] += len(records)
        metrics.STORIES_FILTERED.inc(len(records))
        return len(records)

    def _decide(self, rec: Any) -> tuple[Outcome, float]:
        started = time.perf_counter()
        return decide(rec.value or b"", self.matcher, getattr(rec, "timestamp", None)), started

    def _follow(self, records: list[Any], outcomes: list[tuple[Outcome, float]]) -> list[tuple[Outcome, float]]:
        """Later versions of stories matched before carry their topics; every match is marked. Redis errors
        raise: the batch is redone."""
        if self.marks is None:
            return outcomes
        later = {o.story.id for o, _ in outcomes if o.story is not None and o.story.version > 1 and not o.reason}
        known = self.marks.topics_of(later)
        if known:
            outcomes = [
                (carry(o, known[o.story.id], getattr(rec, "timestamp", None)), t)
                if o.story is not None and o.story.id in known
                else (o, t)
                for rec, (o, t) in zip(records, outcomes, strict=True)
            ]
        self.marks.record({o.story.id: {*o.event.topics, *o.event.carried} for o, _ in outcomes if o.event and o.story})
        return outcomes

    def _process(self, rec: Any, decided: tuple[Outcome, float] | None = None) -> list[Message]:
        outcome, started = decided or self._decide(rec)
        if outcome.error is not None:  # a story that crashes the matcher must not stop the stream
            logger.error("filter crashed on a story offset=%s", rec.offset, exc_info=outcome.error)
        if outcome.reason is not None:
            return self._dead(rec, outcome.reason)
        metrics.FILTER_LATENCY.observe(time.perf_counter() - started)
        event, story = outcome.event, outcome.story
        if event is None or story is None or outcome.value is None:
            return []
        self.totals["matches"] += 1
        self.carried += bool(event.carried)
        metrics.count_matches(event.topics, event.language)
        logger.info(
            "match story=%s version=%s feed=%s language=%s topics=%s carried=%s",
            story.id,
            story.version,
            story.feed,
            event.language,
            ",".join(sorted(event.topics)),
            ",".join(event.carried),
        )
        metrics.observe_hop(
            "produced_to_matched", seconds_between(event.timings.get("produced"), event.timings["matched"])
        )
        parent = from_headers(getattr(rec, "headers", None))
        trace = child(parent)  # the poller's trace, continued
        if otel.enabled():
            wall = time.time()
            otel.span(
                "match",
                trace,
                parent,
                wall - (time.perf_counter() - started),
                wall,
                story=story.id,
                language=event.language,
                topics=",".join(sorted(event.topics)),
            )
        return [(self.names.matches, story.id.encode(), outcome.value, headers(trace))]

    def _dead(self, rec: Any, reason: str) -> list[Message]:
        self.totals["dead"] += 1
        metrics.DEAD_STORIES.inc()
        logger.warning(
            "dead letter topic=%s partition=%s offset=%s reason=%s", rec.topic, rec.partition, rec.offset, reason
        )
        return [(self.names.stories_dlq, rec.key or b"", dead_letter(reason, rec))]

    def reload(self, cfg: Any) -> None:
        """The topics of a reloaded config (SIGHUP), used from the next batch on."""
        self.matcher = Matcher(cfg.topics)

    def close(self) -> None:
        logger.info(
            "filter stopped stories=%d matches=%d carried=%d dead=%d",
            self.totals["stories"],
            self.totals["matches"],
            self.carried,
            self.totals["dead"],
        )
