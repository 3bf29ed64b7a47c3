"""The progress line a backtest writes to stderr while it reads: records read of the window's offsets,
stories matched per second, and the time left at the pace so far."""

from __future__ import annotations

import time
from typing import TextIO

INTERVAL_S = 1.0  # a terminal line is redrawn each second; a log (not a terminal) gets a line every 10 s
LOG_INTERVAL_S = 10.0


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else f"{seconds}s"


class Progress:
    def __init__(self, out: TextIO, total: int = 0, enabled: bool = True) -> None:
        self.out = out
        self.total = total
        self.enabled = enabled
        self.tty = out.isatty()
        self.started = time.monotonic()
        self._shown = self.started  # the first line after one interval, when there is a pace to show

    def line(self, read: int, stories: int, now: float | None = None) -> str:
        now = time.monotonic() if now is None else now
        elapsed = max(now - self.started, 1e-6)
        rate = stories / elapsed
        total = max(self.total, read)  # a broker may under-report the end offsets (PITFALLS.md)
        eta = _clock((total - read) / (read / elapsed)) if read else "?"
        share = f" ({read * 100 // total}%)" if total else ""
        return f"backtest: {read:,}/{total:,} records{share}, {rate:,.0f} stories/s, ETA {eta}"

    def tick(self, read: int, stories: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._shown < (INTERVAL_S if self.tty else LOG_INTERVAL_S):
            return
        self._shown = now
        self.out.write(("\r" if self.tty else "") + self.line(read, stories, now) + ("" if self.tty else "\n"))
        self.out.flush()

    def done(self, read: int, stories: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        end = "\n" if self.tty else ""
        self.out.write(
            f"{end}backtest: {read:,} records read, {stories:,} stories matched in {elapsed:.1f}s"
            f" ({stories / max(elapsed, 1e-6):,.0f} stories/s)\n"
        )
        self.out.flush()
