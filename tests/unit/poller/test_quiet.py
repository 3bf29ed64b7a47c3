"""The quiet-feed alarm on simulated months: fires on a feed that stops, never on usual irregular gaps."""

from __future__ import annotations

import random

import pytest

from workers.evaluation.spikes_sim import MONDAY, WEEK_S, Background, matches
from workers.poller.quiet import Activity, expected_since, fold, is_quiet, slot_of

POLL_S = 1800


def simulate(per_day: float, weeks: int, seed: int, stop_at: float | None = None, weekend: float = 0.6) -> list[float]:
    """Poll a simulated feed every half hour for ``weeks``; the times it falls quiet."""
    rng = random.Random(seed)
    bg = Background(events_per_day=per_day, weekend=weekend)
    events = [t for t, _ in matches(MONDAY, MONDAY + weeks * WEEK_S, bg, rng) if stop_at is None or t < stop_at]
    act, i, t, was, alarms = Activity(), 0, float(MONDAY), False, []
    while t < MONDAY + weeks * WEEK_S:
        t += POLL_S
        new = False
        while i < len(events) and events[i] <= t:
            new, i = True, i + 1
        act = fold(act, t, new)
        now_quiet = is_quiet(act, t)
        if now_quiet and not was:
            alarms.append(t)
        was = now_quiet
    return alarms


@pytest.mark.parametrize(("per_day", "seed"), [(5, 1), (30, 2), (200, 3)])
def test_irregular_gaps_over_a_month_raise_no_alarm(per_day: float, seed: int) -> None:
    assert simulate(per_day, 5, seed) == []  # one week of learning, then a month


def test_a_weekday_only_feed_is_not_quiet_at_the_weekend() -> None:
    assert simulate(30, 5, 4, weekend=0.0) == []


# counted in polls that found something: at half-hour polls a busy feed is quiet after about 10 polls in vain
@pytest.mark.parametrize(("per_day", "within_h"), [(30, 12), (200, 8)])
def test_a_feed_that_stops_publishing_falls_quiet(per_day: float, within_h: float) -> None:
    stop = MONDAY + 2 * WEEK_S + 86400 + 10 * 3600  # a Tuesday morning of week 3
    alarms = simulate(per_day, 3, 5, stop_at=stop)
    assert len(alarms) == 1 and stop < alarms[0] <= stop + within_h * 3600


def test_nothing_is_decided_before_a_week_of_watching() -> None:
    act = Activity()
    for k in range(1, 24 * 6):  # six days of hourly polls, new items in the first hour only
        act = fold(act, MONDAY + k * 3600, found_new=k == 1)
    assert not is_quiet(act, MONDAY + 24 * 6 * 3600)


def test_slots_split_weekends_and_hours() -> None:
    assert slot_of(MONDAY) == 0 and slot_of(MONDAY + 5 * 86400 + 3 * 3600) == 27  # Saturday 03:00


def test_the_record_survives_a_round_trip_and_bad_records_are_relearnt() -> None:
    act = fold(fold(Activity(), MONDAY, True), MONDAY + 3600, False)
    again = Activity.from_json(act.to_json())
    assert again.last_new_at == act.last_new_at and again.folded_at == act.folded_at
    assert expected_since(again, MONDAY, MONDAY + 3600) == pytest.approx(
        expected_since(act, MONDAY, MONDAY + 3600), rel=1e-3
    )
    assert Activity.from_json(b"{not json") == Activity() and Activity.from_json('{"p":[1]}') == Activity()
