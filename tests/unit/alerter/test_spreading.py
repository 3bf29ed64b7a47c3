"""The pure parts of pickup: outlets within a window, threshold steps, stable ids."""

from __future__ import annotations

from workers.alerter.spreading import pickup, spreading_id, step


def test_outlets_are_distinct_feeds_within_the_window() -> None:
    now = 10_000
    members = [
        {"feed": "a", "first_seen": now - 4000},  # outside a 60-minute window
        {"feed": "b", "first_seen": now - 600},
        {"feed": "c", "first_seen": now - 300},
        {"feed": "b", "first_seen": now - 100},  # the same outlet again
    ]
    seen = pickup(members, now, 3600)
    assert seen.feeds == ["b", "c"] and (seen.first_seen, seen.latest_seen) == (now - 600, now - 300)
    assert seen.rate_per_hour == 24.0  # 2 outlets in 5 minutes
    assert pickup([], now, 3600).feeds == []


def test_steps_are_multiples_of_the_threshold() -> None:
    assert [step(n, 10) for n in (9, 10, 11, 12, 19, 20, 31)] == [0, 1, 1, 1, 1, 2, 3]


def test_the_id_is_stable_per_subscriber_cluster_and_step() -> None:
    assert spreading_id("desk", "cl_1", 1) == spreading_id("desk", "cl_1", 1)
    assert len({spreading_id("desk", "cl_1", 1), spreading_id("desk", "cl_1", 2), spreading_id("x", "cl_1", 1)}) == 3
