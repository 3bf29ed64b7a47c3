"""The time window of a backtest: ``--since 72h`` or ``--from T --to T``, as record times in ms (Kafka's)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from workers.core.errors import ConfigError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Window:
    start: int | None = None  # ms, inclusive; None: the oldest record the topic retains
    end: int | None = None  # ms, exclusive; None: the newest record

    def __contains__(self, timestamp: int) -> bool:
        return (self.start is None or timestamp >= self.start) and (self.end is None or timestamp < self.end)


def parse_duration(text: str) -> float:
    """``90s``, ``30m``, ``72h``, ``7d`` (or several: ``1d12h``) as seconds; ConfigError otherwise."""
    compact = text.strip().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        raise ConfigError(f"--since: {text!r} is not a duration such as 72h, 30m, 7d or 1d12h")
    return sum(float(n) * _UNITS[u] for n, u in parts)


def parse_time(text: str, option: str) -> int:
    """An ISO 8601 time (``2026-11-30T12:00:00Z``, ``2026-11-30 12:00``, ``2026-11-30``; UTC unless it says
    otherwise) as ms since the epoch; ConfigError otherwise."""
    raw = text.strip()
    try:
        moment = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise ConfigError(f"{option}: {text!r} is not a time such as 2026-11-30T12:00:00Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def window(since: str | None, start: str | None, end: str | None, now: float | None = None) -> Window:
    """The window the options name; every problem is a ConfigError line."""
    problems: list[str] = []
    w = Window()
    try:
        if since is not None:
            current = time.time() if now is None else now
            w = Window(start=int((current - parse_duration(since)) * 1000))
        else:
            w = Window(
                start=parse_time(start, "--from") if start is not None else None,
                end=parse_time(end, "--to") if end is not None else None,
            )
    except ConfigError as exc:
        problems.append(str(exc))
    if w.start is not None and w.end is not None and w.end <= w.start:
        problems.append("--to: must be later than --from")
    if problems:
        raise ConfigError("\n".join(problems))
    return w
