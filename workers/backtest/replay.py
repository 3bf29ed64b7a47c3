"""One backtest run: open the reader, plan the window, feed the engine, return the summary (no reporting)."""

from __future__ import annotations

from dataclasses import dataclass

from kafka.errors import KafkaError

from workers.backtest.engine import Context, Engine
from workers.backtest.progress import Progress
from workers.backtest.reader import plan, read
from workers.backtest.summary import Summary
from workers.backtest.window import Window
from workers.core.errors import WirewatchError
from workers.infra.kafka import make_reader


@dataclass(frozen=True)
class Replayed:
    summary: Summary
    records: int  # records read (inside the window or not)
    outside: int  # of which outside the window


def replay(bootstrap: str, topic: str, window: Window, ctx: Context, workers: int, progress: Progress) -> Replayed:
    """Read ``topic``'s records in ``window`` and match them on ``workers`` processes; a Kafka failure is a
    WirewatchError naming the broker (no traceback for an operator)."""
    with Engine(ctx, workers) as engine:  # the workers fork before the consumer opens its sockets
        try:
            consumer = make_reader(bootstrap)
        except KafkaError as exc:
            raise WirewatchError(f"Kafka at {bootstrap} not reachable ({type(exc).__name__}); is it running?") from None
        try:
            the_plan = plan(consumer, topic, window)
            progress.total = the_plan.total
            for chunk in read(consumer, the_plan, window):
                engine.feed(chunk)
                progress.tick(the_plan.read, engine.summary.stories)
            summary = engine.finish()
        except KafkaError as exc:
            raise WirewatchError(f"Kafka at {bootstrap} failed while reading: {type(exc).__name__}: {exc}") from None
        finally:
            consumer.close()
    progress.done(the_plan.read, summary.stories)
    return Replayed(summary, the_plan.read, the_plan.outside)
