"""The stall decision with a fake clock: lag above zero and nothing advancing for longer than the bound."""

from __future__ import annotations

import pytest

from workers.infra.stall import StallDetector, probe_interval, stall_bound


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def detector(clock: Clock, bound: float = 20.0) -> StallDetector:
    return StallDetector(bound, clock)


def test_the_bound_is_three_sessions_and_a_probe() -> None:
    assert probe_interval(6000) == 3.0
    assert probe_interval(10000) == 5.0
    assert probe_interval(1000) == 1.0
    assert probe_interval(45000) == 5.0
    assert stall_bound(6000, 3.0) == 21.0
    assert stall_bound(10000, 5.0) == 35.0


def test_a_member_holding_no_partitions_while_the_group_lags_is_stalled_after_the_bound(clock: Clock) -> None:
    d = detector(clock)
    d.observe_positions({})
    d.observe_group(lag=50, committed={0: 10, 1: 10})
    clock.now += 19
    d.observe_group(lag=50, committed={0: 10, 1: 10})
    assert not d.check().stalled
    clock.now += 2
    d.observe_group(lag=50, committed={0: 10, 1: 10})
    v = d.check()
    assert v.stalled and v.changed
    assert v.reason == "holds no partitions"
    assert v.lag == 50 and v.idle_s == 21.0
    assert d.stalled


def test_the_change_is_reported_once_then_again_when_it_consumes(clock: Clock) -> None:
    d = detector(clock)
    d.observe_positions({0: 5})
    for _ in range(10):
        clock.now += 5
        d.observe_positions({0: 5})
        d.observe_group(lag=7, committed={0: 5})
    verdicts = [d.check() for _ in range(3)]
    assert [v.stalled for v in verdicts] == [True, True, True]
    assert [v.changed for v in verdicts] == [True, False, False]
    assert verdicts[0].reason == "partitions 0 do not advance"
    clock.now += 1
    d.observe_positions({0: 6})
    v = d.check()
    assert not v.stalled and v.changed
    assert not d.check().changed


def test_a_position_advancing_is_progress(clock: Clock) -> None:
    d = detector(clock)
    for pos in range(10):
        clock.now += 5
        d.observe_positions({0: pos, 1: 0})
        d.observe_group(lag=100, committed={0: 0, 1: 0})
        assert not d.check().stalled


def test_a_rewind_and_its_redo_are_no_progress(clock: Clock) -> None:
    """Redis down: the alerter seeks back and does the batch again, forever; positions go 5 -> 0 -> 5."""
    d = detector(clock)
    d.observe_positions({0: 5})
    for _ in range(6):
        clock.now += 2
        d.observe_positions({0: 0})
        clock.now += 2
        d.observe_positions({0: 5})
        d.observe_group(lag=5, committed={0: 0})
    assert d.check().stalled


def test_an_idle_member_of_a_group_that_commits_is_not_stalled(clock: Clock) -> None:
    """Three members, two partitions: one holds none for good, and that is fine while the others commit."""
    d = detector(clock)
    for committed in range(10):
        clock.now += 5
        d.observe_positions({})
        d.observe_group(lag=30, committed={0: committed, 1: committed})
        assert not d.check().stalled


def test_no_lag_is_never_a_stall_and_restarts_the_clock(clock: Clock) -> None:
    d = detector(clock)
    d.observe_positions({})
    for _ in range(10):
        clock.now += 5
        d.observe_group(lag=0, committed={0: 3})
        assert not d.check().stalled
    clock.now += 1
    d.observe_group(lag=4, committed={0: 3})  # new records just arrived: the bound counts from here
    clock.now += 19
    d.observe_group(lag=4, committed={0: 3})
    assert not d.check().stalled
    clock.now += 2
    d.observe_group(lag=4, committed={0: 3})
    assert d.check().stalled


def test_stale_lag_decides_nothing(clock: Clock) -> None:
    """Kafka down: no probe answers, /readyz already says kafka false; the old lag must not call a stall."""
    d = detector(clock)
    d.observe_positions({0: 1})
    d.observe_group(lag=9, committed={0: 1})
    clock.now += 25
    assert not d.check().stalled
    assert not StallDetector(20.0, clock).check().stalled  # never probed at all


def test_a_stall_holds_while_the_probe_is_stale(clock: Clock) -> None:
    d = detector(clock)
    d.observe_positions({})
    d.observe_group(lag=9, committed={0: 0})
    clock.now += 20.5
    d.observe_group(lag=9, committed={0: 0})
    assert d.check().stalled
    clock.now += 21
    v = d.check()
    assert v.stalled and not v.changed
    d.observe_group(lag=9, committed={0: 1})  # the probe answers again, and the group committed meanwhile
    v = d.check()
    assert not v.stalled and v.changed


def test_unknown_positions_are_skipped(clock: Clock) -> None:
    d = detector(clock)
    d.observe_positions({0: None, 1: 4})
    clock.now += 1
    d.observe_positions({0: 7, 1: 4})  # first known position of 0: where it starts, not progress
    clock.now += 20
    d.observe_group(lag=3, committed={0: 7, 1: 4})
    v = d.check()
    assert v.stalled and v.reason == "partitions 0,1 do not advance"
