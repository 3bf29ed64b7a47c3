"""Topic spikes in the alerter: count story clusters per topic in Redis, and send ``topic.spike``.

Per batch, in order: the stories that founded a cluster (a copy, a re-poll, a redone batch or a later version
does not: clusters are counted, not copies) are counted per topic they matched; each such topic's detector
state (``workers.alerter.spikes``: baseline per hour of the week, the open window) is read, advanced and
written back under its own hash tag (``Names.topic_spikes``) with an optimistic transaction (WATCH), so two
alerters counting one topic lose no count; a spike is queued to every subscriber with ``spikes: true`` and
the topic, before the state is written, under a webhook-id stable per (subscriber, topic, window), so a
retried transaction queues it once. The gauges show each topic's open window count and threshold.

The same key keeps the last 24 hours for ``wirewatch topics stats`` (``stats``): the count of every window
that had a story (``counts``) and the spikes reported (``spikes``), pruned as windows open, and the parameters
the state was built with (``params``): a state counted in other windows or slots (``alerter.spikes`` changed)
starts again rather than being read wrong.

Choices where the issue is silent: a crash between the resolve and the state write loses those clusters from
the count (a redone batch finds them filed, not new): an undercount of one batch, never a repeated event; the
event's "top stories" are the first ``TOP_STORIES`` clusters of the window (the detector keeps no ranking).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import WatchError

from workers.alerter import spikes
from workers.alerter.outbox import Item, Outbox
from workers.core.events import MatchEvent
from workers.core.names import Names
from workers.infra import metrics
from workers.settings.config import Subscriber
from workers.settings.spikes import SpikeSettings

TOPIC_SPIKE = "topic.spike"
TOP_STORIES = 10
STATE_TTL_S = 35 * 86400  # a topic silent for five weeks starts its baseline again
HISTORY_S = 86400  # what the key keeps of window counts and spikes, for ``topics stats``


def params_of(settings: SpikeSettings) -> spikes.SpikeParams:
    """The detector's parameters from ``alerter.spikes``; the warm-up in weeks becomes windows per slot."""
    window_s = settings.window_minutes * 60
    per_week = (3600 // window_s) * spikes.HOURS_OF_WEEK // spikes.SLOT_COUNTS[settings.baseline]
    return spikes.SpikeParams(
        window_s=window_s,
        factor=settings.factor,
        z=settings.z,
        min_count=settings.min_count,
        alpha=settings.alpha,
        warmup_windows=max(1, round(settings.warmup_weeks * per_week)),
        kind=settings.baseline,
    )


def signature(params: spikes.SpikeParams) -> str:
    """What a stored state's windows and slots depend on."""
    return f"{params.window_s}/{params.kind}"


def spike_id(subscriber: str, topic: str, window: int) -> str:
    return "msg_" + hashlib.sha256(f"{subscriber}\x1f{topic}\x1fspike\x1f{window}".encode()).hexdigest()[:32]


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def build_spike(
    sub: Subscriber, topic: str, spike: spikes.Spike, stories: list[dict[str, Any]], window_s: int
) -> dict[str, Any]:
    """The payload (docs/topic.spike.schema.json)."""
    return {
        "schema": 1,
        "type": TOPIC_SPIKE,
        "alert_id": spike_id(sub.name, topic, spike.window),
        "subscriber": sub.name,
        "topic": topic,
        "window": {"start": _iso(spike.window * window_s), "minutes": window_s / 60},
        "count": spike.count,
        "baseline": {"mean": round(spike.baseline.mean, 3), "sd": round(spike.baseline.sd, 3)},
        "stories": stories[:TOP_STORIES],
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }


class TopicSpikes:
    def __init__(
        self,
        redis: Any,
        names: Names,
        outbox: Outbox,
        params: spikes.SpikeParams | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.redis = redis
        self.names = names
        self.outbox = outbox
        self.params = params or spikes.SpikeParams()
        self.clock = clock

    def count(self, founded: Iterable[MatchEvent], subscribers: Sequence[Subscriber]) -> set[str]:
        """Fold the clusters founded in this batch into their topics' detectors; returns the subscribers a
        spike was queued for."""
        per_topic: dict[str, list[dict[str, Any]]] = {}
        for ev in founded:
            story = {"id": ev.story.id, "title": ev.story.title, "url": ev.story.link, "feed": ev.story.feed}
            for topic in ev.topics:
                per_topic.setdefault(topic, []).append(story)
        woken: set[str] = set()
        for topic, stories in per_topic.items():
            woken |= self._observe(topic, stories, [s for s in subscribers if s.spikes and topic in s.topics])
        return woken

    def _observe(self, topic: str, stories: list[dict[str, Any]], subs: list[Subscriber]) -> set[str]:
        key = self.names.topic_spikes(topic)
        p = self.params
        while True:
            with self.redis.pipeline(transaction=True) as pipe:
                try:
                    pipe.watch(key)
                    raw = pipe.get(key)
                    data = json.loads(raw) if raw else {}
                    if data.get("params", signature(p)) != signature(p):
                        data = {}  # counted in other windows or slots: start again
                    state = spikes.TopicState.from_json(data.get("state"))
                    now = self.clock()
                    if int(now // p.window_s) != state.window:
                        data["stories"] = []
                    spike = spikes.observe(state, now, len(stories), p)
                    window_stories = (data.get("stories") or []) + stories
                    queued = set()
                    if spike is not None:
                        for sub in subs:
                            payload = build_spike(sub, topic, spike, window_stories, p.window_s)
                            self.outbox.put(Item(str(payload["alert_id"]), sub.name, payload, queued_at=now))
                            queued.add(sub.name)
                    counts, reported = history(data, state, spike, p)
                    data = {
                        "state": state.to_json(),
                        "stories": window_stories[:TOP_STORIES],
                        "params": signature(p),
                        "counts": counts,
                        "spikes": reported,
                    }
                    pipe.multi()
                    pipe.set(key, json.dumps(data, ensure_ascii=False, separators=(",", ":")), ex=STATE_TTL_S)
                    pipe.execute()
                except WatchError:  # another alerter counted this topic meanwhile: read it again
                    continue
            limit = spikes.threshold(spikes.baseline(state, state.window, p), p)
            metrics.TOPIC_WINDOW_CLUSTERS.labels(topic=topic, kind="count").set(state.count)
            metrics.TOPIC_WINDOW_CLUSTERS.labels(topic=topic, kind="threshold").set(limit)
            metrics.TOPIC_SPIKING.labels(topic=topic).set(int(state.spiking))
            return queued


def history(
    data: dict[str, Any], state: spikes.TopicState, spike: spikes.Spike | None, p: spikes.SpikeParams
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """The window counts and spikes of the last ``HISTORY_S``, with the open window's count and a new spike."""
    first = state.window - HISTORY_S // p.window_s
    counts = {w: int(n) for w, n in (data.get("counts") or {}).items() if int(w) > first}
    counts[str(state.window)] = state.count
    reported = [s for s in data.get("spikes") or [] if int(s["window"]) > first]
    if spike is not None:
        b = spike.baseline
        reported.append({"window": spike.window, "count": spike.count, "mean": round(b.mean, 3), "sd": round(b.sd, 3)})
    return counts, reported


def read_states(redis: Any, names: Names, topics: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each topic's stored state (topics never counted are left out). One GET per topic: their keys are on
    slots of their own."""
    out = {}
    for topic in topics:
        raw = redis.get(names.topic_spikes(topic))
        if raw:
            out[topic] = json.loads(raw)
    return out


def stats(data: dict[str, Any], now: float, p: spikes.SpikeParams, hours: int = 24) -> dict[str, Any]:
    """One topic's last ``hours`` (clock hours, the current one last and partial): story clusters per window
    and per hour, the baseline's expected count per hour, the open window against its threshold, the spikes."""
    if data.get("params", signature(p)) != signature(p):
        data = {}  # kept under other parameters: nothing here can be read with these
    state = spikes.TopicState.from_json(data.get("state"))
    counts = {int(w): int(n) for w, n in (data.get("counts") or {}).items()}
    per_hour = 3600 // p.window_s
    last_hour = int(now // 3600)
    now_window = int(now // p.window_s)
    rows: list[dict[str, Any]] = []
    for h in range(last_hour - hours + 1, last_hour + 1):
        windows = [w for w in range(h * per_hour, (h + 1) * per_hour) if w <= now_window]
        rows.append(
            {
                "start": _iso(h * 3600),
                "count": sum(counts.get(w, 0) for w in windows),
                "baseline": round(sum(spikes.baseline(state, w, p).mean for w in windows), 3),
                "windows": [counts.get(w, 0) for w in windows],
            }
        )
    first = (last_hour - hours + 1) * per_hour
    b = spikes.baseline(state, now_window, p)
    open_count = state.count if state.window == now_window else 0
    return {
        "window_minutes": p.window_s // 60,
        "baseline_kind": p.kind,
        "total": sum(r["count"] for r in rows),
        "expected": round(sum(r["baseline"] for r in rows), 3),
        "open_window": {
            "start": _iso(now_window * p.window_s),
            "count": open_count,
            "threshold": round(spikes.threshold(b, p), 3),
            "baseline": {"mean": round(b.mean, 3), "sd": round(b.sd, 3)},
            "spiking": state.spiking and state.window == now_window,
        },
        "hours": rows,
        "spikes": [
            {
                "start": _iso(int(s["window"]) * p.window_s),
                "count": s["count"],
                "baseline": {"mean": s["mean"], "sd": s["sd"]},
            }
            for s in data.get("spikes") or []
            if int(s["window"]) >= first
        ],
    }
