"""What the console reads from Kafka: one group-less reader in one thread over three topics.

- the matches topic, from 24 h ago (by timestamp) on: the last ``keep_live`` matches for the live page and its
  server-sent events, and per topic a count of matches per hour for the topics page and its sparklines. The
  counts are rebuilt from Kafka at start (the topic keeps 168 h), so nothing new is written anywhere: no
  counter in the filter, no Redis write per match, and two consoles never count a match twice;
- the alerts and stories dead-letter topics, from the beginning: the last ``keep_dead`` envelopes of each, for
  the DLQ page and each subscriber's portal.

It joins no consumer group and commits nothing, so it never takes partitions from the alerter. Kafka
unreachable or a topic not created yet: it retries every few seconds; the pages say "connecting".
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

from workers.core.deadletter import parse
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.core.stories import StoryFormatError

logger = logging.getLogger(__name__)

HOUR = 3600
WINDOW_HOURS = 24


@dataclass(frozen=True)
class LiveMatch:
    seq: int
    at: float
    story_id: str
    title: str
    link: str
    feed: str
    language: str
    topics: dict[str, list[str]]  # topic -> terms that hit
    snippet: str

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "title": self.title,
            "link": self.link,
            "feed": self.feed,
            "language": self.language,
            "topics": self.topics,
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    at: float
    reason: str
    subscriber: str  # "" for a story dead letter or a malformed match
    alert_id: str
    title: str
    attempts: int
    created_at: str = ""  # the alert's own creation time

    @property
    def ref(self) -> str:
        return f"{self.partition}:{self.offset}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def dead_letter_of(rec: Any) -> DeadLetter:
    """The summary of one dead-letter record; never raises (an unreadable one says so in its reason)."""
    body = parse(rec)
    payload = _dict(body.get("payload"))
    alert = _dict(payload.get("alert"))
    story = _dict(alert.get("story"))
    try:
        at = float(body.get("at") or rec.timestamp / 1000)
    except (TypeError, ValueError):
        at = 0.0
    title = str(story.get("title") or "")
    if not title and alert.get("type") == "digest":
        title = f"digest of {alert.get('count', '?')} alert(s)"
    return DeadLetter(
        topic=rec.topic,
        partition=rec.partition,
        offset=rec.offset,
        at=at,
        reason=str(body.get("reason") or ""),
        subscriber=str(payload.get("subscriber") or ""),
        alert_id=str(alert.get("alert_id") or alert.get("digest_id") or ""),
        title=title,
        attempts=int(attempts) if isinstance(attempts := payload.get("attempts"), int) else 0,
        created_at=str(alert.get("created_at") or ""),
    )


def live_match_of(seq: int, rec: Any) -> LiveMatch | None:
    try:
        event = MatchEvent.from_json(rec.value or b"")
    except StoryFormatError:
        return None
    first = next(iter(event.topics.values()), None)
    return LiveMatch(
        seq=seq,
        at=rec.timestamp / 1000,
        story_id=event.story.id,
        title=event.story.title,
        link=event.story.link,
        feed=event.story.feed,
        language=event.language,
        topics={name: list(hit.terms) for name, hit in event.topics.items()},
        snippet=first.snippet if first else "",
    )


@dataclass
class Tail:
    bootstrap: str
    names: Names
    keep_live: int = 100
    keep_dead: int = 2000
    window_s: float = WINDOW_HOURS * HOUR
    connected: bool = False
    caught_up: bool = False  # the 24 h backfill of the matches topic is read
    _seq: int = 0
    _live: deque[LiveMatch] = field(default_factory=deque)
    _hourly: dict[str, Counter[int]] = field(default_factory=dict)
    _dead: dict[str, deque[DeadLetter]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    # --- read side, for the pages (any thread) ---
    def matches_after(self, seq: int) -> list[LiveMatch]:
        with self._lock:
            return [m for m in self._live if m.seq > seq]

    def recent_matches(self, limit: int = 50) -> list[LiveMatch]:
        with self._lock:
            return list(self._live)[-limit:][::-1]

    @property
    def last_seq(self) -> int:
        return self._seq

    def hourly(self, now: float | None = None) -> dict[str, list[int]]:
        """Per topic, matches in each of the last 24 hours, oldest first (the current hour last)."""
        hour = int((time.time() if now is None else now) // HOUR)
        with self._lock:
            return {t: [c.get(h, 0) for h in range(hour - WINDOW_HOURS + 1, hour + 1)] for t, c in self._hourly.items()}

    def dead_letters(self, topic: str) -> list[DeadLetter]:
        """The retained dead letters of one topic, newest first."""
        with self._lock:
            return list(self._dead.get(topic, ()))[::-1]

    # --- write side: the reader thread ---
    def add(self, rec: Any) -> None:
        """One consumed record (public so the read side can be tested without a broker thread)."""
        if rec.topic == self.names.matches:
            self._add_match(rec)
        elif rec.topic in (self.names.alerts_dlq, self.names.stories_dlq):
            letter = dead_letter_of(rec)
            with self._lock:
                self._dead.setdefault(rec.topic, deque(maxlen=self.keep_dead)).append(letter)

    def _add_match(self, rec: Any) -> None:
        if rec.timestamp / 1000 < time.time() - self.window_s:
            return  # the reader could not seek by time: older than the window
        match = live_match_of(self._seq + 1, rec)
        if match is None:
            return
        hour = int(match.at // HOUR)
        with self._lock:
            self._seq = match.seq
            self._live.append(match)
            while len(self._live) > self.keep_live:
                self._live.popleft()
            for topic in match.topics:
                counts = self._hourly.setdefault(topic, Counter())
                counts[hour] += 1
                for old in [h for h in counts if h <= hour - WINDOW_HOURS]:
                    del counts[old]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="console-tail", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._follow()
            except Exception as exc:  # Kafka unreachable or gone: say so on the pages, try again
                logger.warning("console: kafka reader failed, retrying error=%s: %s", type(exc).__name__, exc)
            self.connected = False
            self._stop.wait(3.0)

    def _follow(self) -> None:
        from kafka.structs import TopicPartition

        from workers.infra.kafka import make_reader

        reader = make_reader(self.bootstrap)
        try:
            assigned: set[str] = set()
            checked = 0.0
            while not self._stop.is_set():
                if len(assigned) < 3 and time.monotonic() - checked > 5:  # a topic created since is picked up
                    checked = time.monotonic()
                    self._assign(reader, assigned, TopicPartition)
                self.connected = True
                batches = reader.poll(timeout_ms=300)
                for recs in batches.values():
                    for rec in recs:
                        self.add(rec)
                if not batches and self.names.matches in assigned:
                    self.caught_up = True
        finally:
            reader.close()

    def _assign(self, reader: Any, assigned: set[str], partition: Any) -> None:
        topics = [self.names.matches, self.names.alerts_dlq, self.names.stories_dlq]
        new = {t: [partition(t, p) for p in sorted(reader.partitions_for_topic(t) or ())] for t in topics}
        new = {t: tps for t, tps in new.items() if tps and t not in assigned}
        if not new:
            return
        current = list(reader.assignment())
        reader.assign(current + [tp for tps in new.values() for tp in tps])
        for topic, tps in new.items():
            if topic == self.names.matches:
                self._seek_window(reader, tps)
            else:
                reader.seek_to_beginning(*tps)
            assigned.add(topic)

    def _seek_window(self, reader: Any, tps: list[Any]) -> None:
        since_ms = int((time.time() - self.window_s) * 1000)
        try:
            found = reader.offsets_for_times({tp: since_ms for tp in tps})
        except Exception as exc:  # a broker without ListOffsets by time: read all, skip what is older
            logger.info("console: cannot seek by time (%s); reading the matches topic from the beginning", exc)
            reader.seek_to_beginning(*tps)
            return
        for tp in tps:
            hit = found.get(tp)
            if hit is None:
                reader.seek_to_end(tp)
            else:
                reader.seek(tp, hit.offset)
