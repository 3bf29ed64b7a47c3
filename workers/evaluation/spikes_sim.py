"""Simulated weeks of topic matches, to choose and check the spike detector's parameters.

Background matches arrive as news does: story events follow a Poisson process whose rate follows the hour of
the day (a trough at night, a peak at midday, UTC) and the weekday (weekends at 60%), and each story event
brings a geometric number of matches (syndicated copies, mean ``copies``), so counts are over-dispersed like
real ones. A burst adds ``burst_matches`` matches spread over ``burst_minutes``.

``python -m workers.evaluation.spikes_sim`` prints false alarms per simulated week for the default parameters.
"""

from __future__ import annotations

import argparse
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from workers.alerter.spikes import SpikeParams, TopicState, observe, tick

WEEK_S = 7 * 86400
MONDAY = 4 * 86400  # 1970-01-05, a Monday, 00:00 UTC


@dataclass(frozen=True)
class Background:
    events_per_day: float = 40.0  # story events on the topic per weekday
    copies: float = 1.0  # mean matches per story event (1: the detector counts story clusters, not copies)
    weekend: float = 0.6


def rate_at(t: float, bg: Background) -> float:
    """Story events per second at time t."""
    hour = (t % 86400) / 3600
    diurnal = 0.35 + 0.65 * math.sin(math.pi * max(0.0, min(1.0, (hour - 4) / 18))) ** 2
    weekday = int(((t - MONDAY) // 86400) % 7)
    day = bg.events_per_day * (bg.weekend if weekday >= 5 else 1.0)
    return day * diurnal / (86400 * 0.55)  # 0.55: the diurnal curve's mean over a day, so a day sums to day


def matches(start: float, end: float, bg: Background, rng: random.Random) -> Iterator[tuple[float, int]]:
    """(time, matches) of background story events between start and end, by thinning a Poisson process."""
    peak = bg.events_per_day / (86400 * 0.55)
    t = start
    while True:
        t += rng.expovariate(peak)
        if t >= end:
            return
        if rng.random() < rate_at(t, bg) / peak:
            yield t, 1 + int(math.log(1 - rng.random()) / math.log(1 - 1 / bg.copies)) if bg.copies > 1 else 1


def run(
    weeks: int, params: SpikeParams, bg: Background, seed: int, bursts: list[tuple[float, int, float]] | None = None
) -> tuple[list[float], TopicState]:
    """Feed ``weeks`` of background (and the given bursts: start time, matches, minutes) to a detector from an
    empty state; the times of the spikes it reports."""
    rng = random.Random(seed)
    events = list(matches(MONDAY, MONDAY + weeks * WEEK_S, bg, rng))
    for start, n, minutes in bursts or []:
        events += [(start + i * minutes * 60 / n, 1) for i in range(n)]
    events.sort()
    state, spikes = TopicState(), []
    next_tick = MONDAY + params.window_s
    for t, n in events:
        while next_tick <= t:  # the alerter ticks every poll; quiet windows close as zeros
            tick(state, next_tick, params)
            next_tick += params.window_s
        if observe(state, t, n, params) is not None:
            spikes.append(t)
    return spikes, state


def false_alarms_per_week(weeks: int, warmup_weeks: int, params: SpikeParams, bg: Background, seed: int) -> float:
    spikes, _ = run(warmup_weeks + weeks, params, bg, seed)
    after = MONDAY + warmup_weeks * WEEK_S
    return sum(1 for t in spikes if t >= after) / weeks


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weeks", type=int, default=26)
    ap.add_argument("--seeds", type=int, default=4)
    args = ap.parse_args()
    params = SpikeParams()
    for per_day in (10.0, 40.0, 200.0):
        bg = Background(events_per_day=per_day)
        rates = [false_alarms_per_week(args.weeks, 2, params, bg, seed) for seed in range(args.seeds)]
        print(f"events/day={per_day:g} false alarms/week={sum(rates) / len(rates):.3f} (per seed: {rates})")


if __name__ == "__main__":
    main()
