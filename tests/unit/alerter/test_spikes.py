"""Topic spikes on simulated weeks: one event per burst, none in a week without one, quiet windows as zeros."""

from __future__ import annotations

import pytest

from workers.alerter.spikes import SpikeParams, TopicState, baseline, hour_of_week, observe, tick
from workers.evaluation.spikes_sim import MONDAY, WEEK_S, Background, false_alarms_per_week, run

PARAMS = SpikeParams()


def test_slot_zero_is_monday_midnight_utc() -> None:
    assert hour_of_week(MONDAY // PARAMS.window_s, PARAMS) == 0
    assert hour_of_week((MONDAY + 86400 * 6 + 23 * 3600) // PARAMS.window_s, PARAMS) == 167


def test_a_burst_after_weeks_of_background_is_one_spike() -> None:
    burst_at = MONDAY + 3 * WEEK_S + 2 * 86400 + 14 * 3600 + 120  # a Wednesday afternoon of week 4
    spikes, _ = run(4, PARAMS, Background(events_per_day=40), seed=7, bursts=[(burst_at, 30, 20)])
    assert [t for t in spikes if t >= MONDAY + 3 * WEEK_S] == pytest.approx([spikes[-1]])
    assert burst_at <= spikes[-1] <= burst_at + 20 * 60  # reported while the burst is on, not after


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_week_without_burst_gives_no_spike(seed: int) -> None:
    assert false_alarms_per_week(1, 3, PARAMS, Background(events_per_day=40), seed) == 0


def test_the_same_burst_on_a_busy_topic_is_no_spike() -> None:
    """30 stories in 20 minutes is news for a topic of 40 a day, ordinary for one of 2,000."""
    burst_at = MONDAY + 3 * WEEK_S + 2 * 86400 + 14 * 3600
    spikes, _ = run(4, PARAMS, Background(events_per_day=2000), seed=7, bursts=[(burst_at, 30, 20)])
    assert not [t for t in spikes if burst_at <= t <= burst_at + 3600]


def test_a_burst_spanning_windows_is_reported_once_and_rearms_after() -> None:
    state, w = TopicState(), PARAMS.window_s
    t0 = MONDAY + 10 * w
    tick(state, MONDAY, PARAMS)
    tick(state, t0, PARAMS)  # ten quiet windows: baseline 0
    assert observe(state, t0 + 1, 5, PARAMS) is not None
    assert observe(state, t0 + 2, 5, PARAMS) is None
    assert observe(state, t0 + w + 1, 6, PARAMS) is None  # the burst goes on in the next window
    tick(state, t0 + 3 * w, PARAMS)  # then a quiet window closes below the threshold
    assert not state.spiking
    assert observe(state, t0 + 3 * w + 1, 20, PARAMS) is not None  # a second burst is a second spike


def test_quiet_windows_count_as_zeros() -> None:
    state = TopicState()
    observe(state, MONDAY + 1, 4, PARAMS)
    tick(state, MONDAY + 7 * PARAMS.window_s, PARAMS)
    slot = state.slots[0]
    assert slot.n == 6 and 0 < slot.mean < 4  # one window of 4, five of 0


def test_a_late_match_counts_in_the_open_window() -> None:
    state = TopicState()
    observe(state, MONDAY + PARAMS.window_s + 1, 1, PARAMS)
    observe(state, MONDAY + 1, 1, PARAMS)
    assert state.count == 2


def test_state_survives_a_round_trip() -> None:
    _, state = run(1, PARAMS, Background(events_per_day=40), seed=3)
    again = TopicState.from_json(state.to_json())
    assert again == state
    w = state.window + 1
    assert baseline(again, w, PARAMS) == baseline(state, w, PARAMS)
    assert TopicState.from_json(None) == TopicState()


def _day_count(state_weeks: int, seed: int, stop_at: float | None) -> tuple[TopicState, int, int]:
    import random

    from workers.evaluation.spikes_sim import matches

    _, state = run(state_weeks, PARAMS, Background(events_per_day=40), seed=seed)
    day = MONDAY + state_weeks * WEEK_S + 86400  # the Tuesday after
    events = list(matches(day, day + 86400, Background(events_per_day=40), random.Random(seed)))
    count = sum(1 for t, _ in events if stop_at is None or t < stop_at)
    return state, int(day // PARAMS.window_s), count


def test_a_day_with_a_fifth_of_its_usual_matches_is_quiet() -> None:
    from workers.alerter.spikes import is_quiet_day

    state, start, usual = _day_count(3, 11, None)
    assert not is_quiet_day(state, start, usual, PARAMS)
    state, start, collapsed = _day_count(3, 11, MONDAY + 3 * WEEK_S + 86400 + 3 * 3600)  # markup broke at 03:00
    assert collapsed < usual and is_quiet_day(state, start, collapsed, PARAMS)


def test_a_young_or_rare_topic_is_never_quiet() -> None:
    from workers.alerter.spikes import is_quiet_day

    _, young = run(1, PARAMS, Background(events_per_day=40), seed=1)
    assert not is_quiet_day(young, young.window, 0, PARAMS)
    _, rare = run(3, PARAMS, Background(events_per_day=3), seed=1)
    assert not is_quiet_day(rare, rare.window, 0, PARAMS)


def test_the_baseline_kinds_fold_windows_into_their_slots() -> None:
    from workers.alerter.spikes import slot_count, slot_of

    week, day, flat = (SpikeParams(kind=k) for k in ("hour_of_week", "hour_of_day", "flat"))
    tuesday_9 = (MONDAY + 86400 + 9 * 3600) // PARAMS.window_s
    assert [slot_of(tuesday_9, p) for p in (week, day, flat)] == [33, 9, 0]
    assert [slot_count(p) for p in (week, day, flat)] == [168, 24, 1]
    state = TopicState()
    for w in range(tuesday_9, tuesday_9 + 6 * 48):  # two days of one story a window
        observe(state, w * day.window_s, 1, day)
    assert set(state.slots) == set(range(24)), "a day's slots, whatever the weekday"
