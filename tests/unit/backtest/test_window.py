"""The backtest window: durations and times parsed, every mistake one line."""

from __future__ import annotations

import pytest

from workers.backtest.window import Window, parse_duration, parse_time, window
from workers.core.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("72h", 259200), ("30m", 1800), ("7d", 604800), ("90s", 90), ("1d12h", 129600), ("1.5h", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "72", "h", "3 weeks", "72hx", "-1h", "1h 2y"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError, match="--since"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        ("2026-11-30T12:00:00Z", 1796040000000),
        ("2026-11-30T12:00:00", 1796040000000),  # UTC unless it says otherwise
        ("2026-11-30 13:00+01:00", 1796040000000),
        ("2026-11-30", 1795996800000),
    ],
)
def test_times(text: str, ms: int) -> None:
    assert parse_time(text, "--from") == ms


def test_since_counts_back_from_now() -> None:
    assert window("2h", None, None, now=10_000.0) == Window(start=10_000_000 - 7_200_000)


def test_every_problem_at_once() -> None:
    with pytest.raises(ConfigError) as err:
        window(None, "yesterday", None)
    assert str(err.value) == "--from: 'yesterday' is not a time such as 2026-11-30T12:00:00Z"
    with pytest.raises(ConfigError, match="--to: must be later than --from"):
        window(None, "2026-11-30", "2026-11-29")


def test_window_bounds() -> None:
    w = Window(start=10, end=20)
    assert 10 in w and 19 in w and 20 not in w and 9 not in w
    assert 0 in Window() and 10**15 in Window(start=5)
