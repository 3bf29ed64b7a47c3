"""Is this consumer's group stuck? The decision alone, fed by the loop and a probe, with a clock passed in.

A group can stop consuming with every member up: on the embedded broker (Tansu 0.6) a LeaveGroup sent
during a rebalance wedges the group, and every JoinGroup and SyncGroup is answered "rebalance in progress"
from then on (issue 12). Nothing fails, so nothing else notices. A consumer is **stalled** when its group
lags (records between the committed offsets and the ends of the topic) and, for longer than the bound,
neither did any of its own partitions advance (it may hold none) nor did the group commit anything.

The bound is ``3 x session_timeout + probe interval``. A member that vanishes without leaving is noticed
after one session timeout and the group has rejoined about half a session later (1.5 x: 9-13 s at 6 s
here), so twice that is still a normal rebalance (a slow batch can hold a join up); the probe interval is
the staleness of the group's lag.

Facts that are stale (no group lag probed within the bound: Kafka down, which ``/readyz`` already says)
decide nothing: a consumer is not called stalled on them, nor consuming again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

Partition = Hashable  # a kafka TopicPartition; anything hashable in tests


def stall_bound(session_timeout_ms: int, probe_interval_s: float) -> float:
    """Seconds without progress, while the group lags, after which a consumer is stalled."""
    return 3 * session_timeout_ms / 1000 + probe_interval_s


def probe_interval(session_timeout_ms: int) -> float:
    """How often the group's lag is asked of the broker: half a session, between 1 and 5 s."""
    return min(5.0, max(1.0, session_timeout_ms / 2000))


@dataclass(frozen=True)
class Verdict:
    stalled: bool
    reason: str = ""  # why, when stalled: "holds no partitions" or "partitions 0,1 do not advance"
    idle_s: float = 0.0  # seconds since the last progress
    lag: int = 0  # records the group is behind, as last probed
    changed: bool = False  # this check turned the state (to stalled or back): log and count it once


class StallDetector:
    """Thread-safe: the loop thread reports positions, the probe thread the group's lag and commits."""

    def __init__(self, bound_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.bound_s = bound_s
        self.clock = clock
        self._lock = threading.Lock()
        self._last_progress = clock()
        self._positions: dict[Partition, int] = {}  # assigned partitions -> highest position seen
        self._assigned: frozenset[Partition] = frozenset()
        self._committed: dict[Partition, int] = {}  # group's highest committed offset seen per partition
        self._lag: int | None = None
        self._lag_at: float | None = None
        self._stalled = False

    def observe_positions(self, positions: Mapping[Partition, int | None]) -> None:
        """The consumer's assigned partitions (the keys) and its position in each (None: not known yet)."""
        with self._lock:
            now = self.clock()
            self._assigned = frozenset(positions)
            for tp, pos in positions.items():
                if pos is None:
                    continue
                # a rewind (seek back after a failed batch) and its redo are no progress: only a new highest is
                if tp in self._positions and pos > self._positions[tp]:
                    self._last_progress = now
                if pos > self._positions.get(tp, -1):
                    self._positions[tp] = pos

    def observe_group(self, lag: int, committed: Mapping[Partition, int]) -> None:
        """The group's lag over its topic and its committed offset per partition, as the broker says now."""
        with self._lock:
            now = self.clock()
            self._lag, self._lag_at = lag, now
            for tp, off in committed.items():
                if tp in self._committed and off > self._committed[tp]:
                    self._last_progress = now
                if off > self._committed.get(tp, -1):
                    self._committed[tp] = off
            if lag == 0:  # nothing to do is not a stall, and the clock starts again from here
                self._last_progress = now

    def check(self) -> Verdict:
        with self._lock:
            now = self.clock()
            idle = now - self._last_progress
            fresh = self._lag_at is not None and now - self._lag_at <= self.bound_s
            lag = self._lag or 0
            # stale facts decide nothing: the state stays what it was until a probe answers again
            stalled = lag > 0 and idle > self.bound_s if fresh else self._stalled
            changed = stalled != self._stalled
            self._stalled = stalled
            reason = ""
            if stalled:
                held = sorted(str(getattr(tp, "partition", tp)) for tp in self._assigned)
                reason = f"partitions {','.join(held)} do not advance" if held else "holds no partitions"
            return Verdict(stalled, reason, round(idle, 1), lag, changed)

    @property
    def stalled(self) -> bool:
        """The state at the last check (what ``/readyz`` reports between two checks)."""
        with self._lock:
            return self._stalled
