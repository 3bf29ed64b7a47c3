"""Matching chunks of story records with the candidate and the running topics, on every core.

Matching is CPU-bound (language detection and the automata), so the chunks the reader yields go to worker
processes. They are forked after the matchers are compiled (with every story language's automata) and the
language models loaded, so each worker starts with both ready (shared copy-on-write) instead of compiling them;
only chunks of raw records go to them and small ``Summary`` objects come back. At most two chunks per worker
are in flight, which keeps memory flat and lets the reader run ahead only that far. With one worker the chunks
are matched in this process.

Per record, as the filter does (``workers.filter.worker``): decode the story (an undecodable one is counted with
its reason, never raised), detect the language on title + text with the feed's hint, then match each topic set
with that language; the candidate side also reports the near misses.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from types import TracebackType

from workers.backtest.reader import Record
from workers.backtest.summary import Summary
from workers.core.errors import WirewatchError
from workers.core.stories import Story, StoryFormatError
from workers.filter import language
from workers.filter.matcher import Matcher
from workers.filter.worker import story_text


@dataclass(frozen=True)
class Context:
    candidate: Matcher
    running: Matcher
    topics: tuple[str, ...]  # the topic names reported (candidate and running, or the one --topic names)
    label_ids: frozenset[str] = frozenset()
    samples: int = 20


def match_records(ctx: Context, records: list[Record]) -> Summary:
    """One chunk's counts; never raises for a record's sake."""
    out = Summary(samples=ctx.samples)
    for value, timestamp, partition, offset in records:
        try:
            story = Story.from_json(value)
        except StoryFormatError as exc:
            out.add_bad(partition, offset, f"malformed story: {exc}")
            continue
        try:
            text = story_text(story)
            det = language.detect(text, hint=story.language_hint)
            candidate, near = ctx.candidate.match_explained(text, det.language)
            running = ctx.running.match(text, det.language)
        except Exception as exc:  # the filter would dead-letter it: count it, go on
            out.add_bad(partition, offset, f"filter error: {type(exc).__name__}: {exc}")
            continue
        out.add(story, timestamp, det.language, candidate, running, near, ctx.topics, story.id in ctx.label_ids)
    return out


# The context of the forked workers: set before the pool forks, inherited by every worker.
_CONTEXT: Context | None = None


def _work(records: list[Record]) -> Summary:
    assert _CONTEXT is not None, "worker started without a context"
    return match_records(_CONTEXT, records)


def _ready() -> bool:
    return True


def _worker_start() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it stops the pool


class Engine:
    """``with Engine(ctx, workers) as e: e.feed(chunk) ...; e.finish()`` -> the merged Summary.

    Enter it before opening Kafka clients: the workers fork on entry and must not inherit live sockets."""

    def __init__(self, ctx: Context, workers: int, on_done: Callable[[int], None] = lambda _n: None) -> None:
        self.ctx = ctx
        self.workers = max(1, workers)
        self.on_done = on_done  # called with the number of records of each chunk matched
        self.summary = Summary(samples=ctx.samples)
        self._pool: ProcessPoolExecutor | None = None
        self._pending: deque[tuple[Future[Summary], int]] = deque()

    def __enter__(self) -> Engine:
        global _CONTEXT
        language.warm_up()  # the models load once here, not once per worker
        # Every story language's automata too (about 0.4 s for the shipped topics): the workers inherit them.
        for matcher in (self.ctx.candidate, self.ctx.running):
            matcher.warm(language.detectable_languages())
        if self.workers > 1:
            _CONTEXT = self.ctx
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("fork"), initializer=_worker_start
            )
            self._pool.submit(_ready).result()  # the workers fork now (all at once, with "fork"), before any socket
        return self

    def feed(self, records: list[Record]) -> None:
        if self._pool is None:
            self._merge(match_records(self.ctx, records), len(records))
            return
        self._pending.append((self._pool.submit(_work, records), len(records)))
        while len(self._pending) >= 2 * self.workers:
            self._collect()

    def finish(self) -> Summary:
        while self._pending:
            self._collect()
        return self.summary

    def _collect(self) -> None:
        future, count = self._pending.popleft()
        try:
            result = future.result()
        except BrokenProcessPool:
            raise WirewatchError("a backtest worker process died (out of memory?); try fewer --workers") from None
        self._merge(result, count)

    def _merge(self, result: Summary, count: int) -> None:
        self.summary.merge(result)
        self.on_done(count)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        global _CONTEXT
        if self._pool is not None:
            self._pool.shutdown(wait=exc is None, cancel_futures=True)
            self._pool = None
        _CONTEXT = None
