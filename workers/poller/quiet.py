"""Quiet feeds: a feed that stops publishing while it still answers 200 or 304 looks healthy; this notices.

Each feed learns how often it publishes at each hour of the day, on weekdays and at weekends apart (48
slots, UTC): per slot, the polls that found something new and the hours it was watched, both decayed with a
time constant of ``TAU_S`` (two weeks), so the rate follows a feed that changes its habits. Polls, not
stories, are counted: a feed that posts five items at once every two hours publishes once every two hours.

The usual gap at a moment is one over that moment's rate. A feed is quiet when the silence since its last
new item has lasted ``k`` usual gaps (default 10), i.e. when it would on average have published ``k`` times
by now: a weekday-only feed is not quiet on Sunday, and a feed that publishes every few minutes is quiet
after an hour of silence. With ``k`` = 10 a feed whose gaps are irregular (Poisson) crosses the line by
chance once in e^10 ≈ 22,000 gaps. Nothing is decided before ``MIN_WATCHED_H`` hours of watching.

Pure but for ``note_quiet``: the caller keeps the ``Activity`` (in the feed's health hash) and passes the clock.
A feed that falls quiet is noted (``note_quiet``) for the alerter's ``feed.quiet`` (workers.core.opsevents).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from workers.core.opsevents import QuietFeed

SLOTS = 48
TAU_S = 14 * 86400.0
MIN_WATCHED_H = 7 * 24.0
DEFAULT_K = 10.0


def slot_of(t: float) -> int:
    # 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays
    weekend = (int(t // 86400) + 3) % 7 >= 5
    return int(t % 86400 // 3600) + (24 if weekend else 0)


@dataclass
class Activity:
    publishes: list[float] = field(default_factory=lambda: [0.0] * SLOTS)
    watched_h: list[float] = field(default_factory=lambda: [0.0] * SLOTS)
    last_new_at: float | None = None
    folded_at: float | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "p": [round(x, 4) for x in self.publishes],
                "w": [round(x, 4) for x in self.watched_h],
                "n": self.last_new_at,
                "f": self.folded_at,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, raw: str | bytes | None) -> Activity:
        if not raw:
            return cls()
        try:
            d = json.loads(raw)
            p, w = [float(x) for x in d["p"]], [float(x) for x in d["w"]]
            if len(p) != SLOTS or len(w) != SLOTS:
                return cls()
            return cls(p, w, d.get("n"), d.get("f"))
        except (ValueError, KeyError, TypeError):
            return cls()  # a record of another version: learn again rather than fail the poll


def _spans(t0: float, t1: float) -> list[tuple[int, float]]:
    """The span [t0, t1) cut at hour boundaries: (slot, hours) for each piece."""
    out: list[tuple[int, float]] = []
    t = t0
    while t < t1:
        end = min(t1, (t // 3600 + 1) * 3600)
        out.append((slot_of(t), (end - t) / 3600))
        t = end
    return out


def fold(act: Activity, now: float, found_new: bool) -> Activity:
    """A successful poll at ``now``: the time since the last one was watched, and it found something or not."""
    publishes, watched = list(act.publishes), list(act.watched_h)
    if act.folded_at is not None and now > act.folded_at:
        decay = math.exp(-(now - act.folded_at) / TAU_S)
        publishes = [x * decay for x in publishes]
        watched = [x * decay for x in watched]
        for slot, hours in _spans(max(act.folded_at, now - TAU_S), now):
            watched[slot] += hours
    if found_new:
        publishes[slot_of(now)] += 1
    return Activity(publishes, watched, now if found_new else act.last_new_at, now)


def rate(act: Activity, slot: int) -> float:
    """Publishes per hour in a slot; a slot never watched borrows the feed's mean over the others."""
    if act.watched_h[slot] >= 1.0:
        return act.publishes[slot] / act.watched_h[slot]
    total = sum(act.watched_h)
    return sum(act.publishes) / total if total else 0.0


def expected_since(act: Activity, t0: float, t1: float) -> float:
    """How many times the feed usually publishes between t0 and t1."""
    return sum(rate(act, slot) * hours for slot, hours in _spans(max(t0, t1 - TAU_S), t1))


def is_quiet(act: Activity, now: float, k: float = DEFAULT_K) -> bool:
    """Silent for ``k`` usual gaps, once the feed was watched long enough to know its gaps."""
    if act.last_new_at is None or sum(act.watched_h) < MIN_WATCHED_H:
        return False
    return expected_since(act, act.last_new_at, now) >= k


QUIET_NOTES_KEPT = 1000  # the alerter drains the notes within seconds; this bounds them while none runs
QUIET_NOTES_TTL_S = 7 * 86400


def note_quiet(pipe: Any, key: str, record: QuietFeed) -> None:
    """Note a feed that fell quiet in the poller's health pipeline (``Names.quiet_feed_events``, a sorted set by
    time): the alerter sends it as ``feed.quiet`` and removes it."""
    pipe.zadd(key, {record.to_json(): record.at})
    pipe.zremrangebyrank(key, 0, -QUIET_NOTES_KEPT - 1)
    pipe.expire(key, QUIET_NOTES_TTL_S)
