"""Backtest throughput: every corpus story (and the seed) in an embedded broker's stories topic, replayed by
``workers.backtest.replay`` with the shipped topics as candidate and as running topics, on 1 and on 2 worker
processes, alternating in each round so that the shared machine's noise falls on both alike.

Figures: ``stories_per_s_1_worker`` and ``stories_per_s_2_workers`` = stories / wall time of the replay (reading
Kafka, forking the workers, detecting and matching twice per story, merging), the median over
``WIREWATCH_BENCH_ROUNDS`` rounds (default 3); ``speedup_2_vs_1`` is their ratio. ``cpu_ms_per_story_*`` is the
CPU time of this process and its (reaped) workers per story: on a machine whose cores are busy with other work the
wall-time speedup cannot show, but the CPU cost shows what the forking and merging add. ``load_average_1m`` is
the machine's load when the rounds ended. The topics are compiled once, before the rounds, as the command does
before it forks.
"""

from __future__ import annotations

import io
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench import emit
from tests.support import ROOT, corpus_dir
from workers.backtest.engine import Context
from workers.backtest.progress import Progress
from workers.backtest.replay import replay
from workers.backtest.window import Window
from workers.core.names import Names
from workers.core.stories import Story
from workers.devstack.stack import EmbeddedBroker, free_port
from workers.evaluation.corpus import corpus_stories, file_of
from workers.filter.matcher import Matcher
from workers.filter.topics import load_topics
from workers.infra.kafka import ensure_topics, make_producer, send_all, topic_specs
from workers.settings.config import KafkaSettings

BENCH = "backtest"


def _cpu_seconds() -> float:
    """CPU time of this process and of its children already reaped (the workers, joined at each run's end)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    logging.getLogger("workers.poller.parse").setLevel(logging.WARNING)
    root = corpus_dir()
    if not (root / "MANIFEST.tsv").is_file():
        print(f"bench backtest skipped: no corpus at {root} (set WIREWATCH_CORPUS)", file=sys.stderr)
        return
    rounds = int(os.environ.get("WIREWATCH_BENCH_ROUNDS", "3"))
    items = corpus_stories(root)
    tmp = Path(tempfile.mkdtemp(prefix="bench-backtest-"))
    broker = EmbeddedBroker(free_port(), tmp / "broker.log")
    broker.start()
    try:
        names = Names(topic_prefix="bench.")
        ensure_topics(broker.bootstrap, topic_specs(names, KafkaSettings(partitions=4)))
        producer = make_producer(broker.bootstrap, "bench-backtest")
        messages = []
        for item in items:
            story = Story(
                id=item.id, feed=file_of(item.id), feed_url="file:///corpus", title="", link="", text=item.text,
                language_hint=item.hint,
            )  # fmt: skip
            messages.append((names.stories, item.id.encode(), story.to_json()))
        send_all(producer, messages)
        producer.close()
        topics = load_topics(ROOT / "config" / "topics.yaml")
        ctx = Context(Matcher(topics), Matcher(topics), tuple(t.name for t in topics))
        rates: dict[int, list[float]] = {1: [], 2: []}
        cpu: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(rounds):
            for workers in (1, 2):
                cpu_before = _cpu_seconds()
                started = time.perf_counter()
                done = replay(broker.bootstrap, names.stories, Window(), ctx, workers, Progress(io.StringIO()))
                elapsed = time.perf_counter() - started
                assert done.summary.stories == len(items), (done.summary.stories, len(items))
                rates[workers].append(done.summary.stories / elapsed)
                cpu[workers].append((_cpu_seconds() - cpu_before) * 1000 / done.summary.stories)
        one, two = statistics.median(rates[1]), statistics.median(rates[2])
        emit(BENCH, "stories", len(items), "stories")
        emit(BENCH, "stories_per_s_1_worker", one, "stories/s")
        emit(BENCH, "stories_per_s_2_workers", two, "stories/s")
        emit(BENCH, "speedup_2_vs_1", two / one, "x")
        emit(BENCH, "cpu_ms_per_story_1_worker", statistics.median(cpu[1]), "ms")
        emit(BENCH, "cpu_ms_per_story_2_workers", statistics.median(cpu[2]), "ms")
        emit(BENCH, "load_average_1m", os.getloadavg()[0], "load")
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
