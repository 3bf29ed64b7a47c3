"""Topic spikes: a burst of matches on one topic, against that topic's usual rate at that hour of the week.

Matches are counted per topic in windows of ``window_s`` (10 minutes by default). The baseline is kept per
hour of the week (168 slots): for each slot, an exponentially weighted mean and variance of the window counts
seen in that hour, one update per closed window (zeros included). News volume follows the clock and the
weekday (a Monday 09:00 is busier than a Sunday 03:00), so one flat mean would alarm every morning and miss
bursts at night; a slot per hour of the week learns both patterns with no calendar of its own. ``kind``
hour_of_day (24 slots, weekdays alike) and flat (one) are there for an operator who wants them. While a slot
has seen fewer than ``warmup_windows`` windows (the first week or two), the topic's mean over every slot
stands in for it.

A window spikes when its count is at least ``min_count``, at least ``factor`` times the baseline mean, and
``z`` deviations above it. The deviation has a Poisson floor (sqrt of the mean, and at least 1): match counts
are counts, and a slot that happened to see the same count every week would otherwise alarm on one extra.
The decision is made as matches arrive, so a burst is reported within seconds, once per burst: a topic that
spiked does not spike again until a window closes below the threshold.

Parameters and false alarms, measured on simulated weeks (tests/unit/alerter/test_spikes.py and
``python -m tests.bench spikes``), are in docs/decisions/0007-topic-spikes.md.

Pure: the state is a plain object the caller stores (``to_json``/``from_json``) and the clock is an argument.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

HOURS_OF_WEEK = 168


@dataclass(frozen=True)
class SpikeParams:
    window_s: int = 600
    factor: float = 3.0
    z: float = 5.0
    min_count: int = 5
    alpha: float = 0.1  # weight of the newest window in its slot's mean and variance
    warmup_windows: int = 12  # two weeks of one hour's six windows
    kind: str = "hour_of_week"  # the baseline's slots: hour_of_week (168), hour_of_day (24) or flat (1)


@dataclass
class Slot:
    n: int = 0
    mean: float = 0.0
    var: float = 0.0

    def update(self, x: float, alpha: float) -> None:
        if self.n == 0:
            self.mean, self.var = x, 0.0
        else:
            # West's exponentially weighted mean and variance
            diff = x - self.mean
            incr = alpha * diff
            self.mean += incr
            self.var = (1 - alpha) * (self.var + diff * incr)
        self.n += 1


@dataclass
class TopicState:
    """One topic's baseline and where its counting stands. ``window`` is the open window's index
    (time // window_s); ``count`` its matches so far; ``spiking`` whether a spike was reported and not yet over."""

    slots: dict[int, Slot] = field(default_factory=dict)
    window: int = -1
    count: int = 0
    spiking: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "slots": {str(k): [s.n, s.mean, s.var] for k, s in self.slots.items()},
                "window": self.window,
                "count": self.count,
                "spiking": self.spiking,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> TopicState:
        if not raw:
            return cls()
        data = json.loads(raw)
        slots = {int(k): Slot(int(v[0]), float(v[1]), float(v[2])) for k, v in data.get("slots", {}).items()}
        return cls(slots, int(data["window"]), int(data["count"]), bool(data["spiking"]))


@dataclass(frozen=True)
class Baseline:
    mean: float
    sd: float


@dataclass(frozen=True)
class Spike:
    window: int  # the window's index; its start is window * window_s
    count: int
    baseline: Baseline


def hour_of_week(window: int, params: SpikeParams) -> int:
    # 1970-01-01 was a Thursday: shift so that slot 0 is Monday 00:00 UTC
    return ((window * params.window_s) // 3600 + 72) % HOURS_OF_WEEK


SLOT_COUNTS = {"hour_of_week": HOURS_OF_WEEK, "hour_of_day": 24, "flat": 1}


def slot_count(params: SpikeParams) -> int:
    return SLOT_COUNTS[params.kind]


def slot_of(window: int, params: SpikeParams) -> int:
    """The baseline slot a window folds into, by the params' kind (hour_of_week: 0 is Monday 00:00 UTC)."""
    how = hour_of_week(window, params)
    return how if params.kind == "hour_of_week" else how % 24 if params.kind == "hour_of_day" else 0


def baseline(state: TopicState, window: int, params: SpikeParams) -> Baseline:
    slot = state.slots.get(slot_of(window, params))
    if slot is not None and slot.n >= params.warmup_windows:
        mean, var = slot.mean, slot.var
    else:
        seen = [s for s in state.slots.values() if s.n]
        total = sum(s.n for s in seen)
        mean = sum(s.mean * s.n for s in seen) / total if total else 0.0
        var = sum(s.var * s.n for s in seen) / total if total else 0.0
    return Baseline(mean, max(math.sqrt(var), math.sqrt(mean), 1.0))


def threshold(b: Baseline, params: SpikeParams) -> float:
    return max(float(params.min_count), params.factor * b.mean, b.mean + params.z * b.sd)


def _close(state: TopicState, until: int, params: SpikeParams) -> None:
    """Fold the open window and every empty one after it, up to ``until`` (exclusive), into the baseline."""
    if state.window < 0:
        state.window, state.count = until, 0
        return
    # a gap longer than a week of windows folds one week of zeros: older zeros would only repeat the same slots
    start = max(state.window, until - HOURS_OF_WEEK * 3600 // params.window_s)
    for w in range(start, until):
        x = state.count if w == state.window else 0
        limit = threshold(baseline(state, w, params), params)
        if state.spiking and x < limit:
            state.spiking = False
        # a burst folds in at the threshold only: one burst must not raise next week's bar at that hour
        state.slots.setdefault(slot_of(w, params), Slot()).update(min(x, limit), params.alpha)
    if until > state.window:
        state.window, state.count = until, 0


def observe(state: TopicState, now: float, matches: int, params: SpikeParams) -> Spike | None:
    """Count ``matches`` new matches at time ``now``; a Spike when this makes the open window a new burst."""
    window = int(now // params.window_s)
    if window > state.window:
        _close(state, window, params)
    elif window < state.window:
        window = state.window  # a late match (clock skew, a replayed batch) counts in the open window
    state.count += matches
    if state.spiking:
        return None
    b = baseline(state, window, params)
    if state.count >= threshold(b, params):
        state.spiking = True
        return Spike(window, state.count, b)
    return None


def tick(state: TopicState, now: float, params: SpikeParams) -> None:
    """Close windows that ended with no match since, so quiet hours count as zeros."""
    window = int(now // params.window_s)
    if window > state.window:
        _close(state, window, params)


def expected_between(state: TopicState, start_window: int, end_window: int, params: SpikeParams) -> float:
    """The baseline's count of story clusters over windows [start, end): what a usual day would have held."""
    return sum(baseline(state, w, params).mean for w in range(start_window, end_window))


def is_quiet_day(
    state: TopicState, day_start_window: int, count: int, params: SpikeParams, fraction: float = 0.2, floor: float = 10
) -> bool:
    """``topic.quiet``: a day whose count fell under ``fraction`` of what the baseline expected for it, for a topic
    that usually has at least ``floor`` a day (below that a quiet day is chance, not a broken feed or markup).
    Judged only once every slot (every hour of the week by default) has its own baseline (two weeks), so a young
    topic is quiet about nothing."""
    if any(s.n < params.warmup_windows for s in state.slots.values()) or len(state.slots) < slot_count(params):
        return False
    per_day = 86400 // params.window_s
    expected = expected_between(state, day_start_window, day_start_window + per_day, params)
    return expected >= floor and count < fraction * expected
