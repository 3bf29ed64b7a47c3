"""The console's read model: every piece of pipeline state a page shows or an action changes, in one module.

Pages never touch Redis keys or Kafka themselves: they call this module, and this module calls the stages' own
stores (``poller.feed_health.HealthStore``, ``alerter.endpoints.Endpoints``, ``alerter.retryqueue.RetryQueue``,
``infra.attemptlog.AttemptLog``) and the CLI's DLQ replay (``app.commands.dlq.replay_alerts``). When the
alerter's Redis layout changes, this is the one place to re-point.

Cost, for 10,000 feeds and 1,000 subscribers: every feed's state (for the filter tabs) and every endpoint's
disabled flag are read in one pipeline each by a background refresh every few seconds, not per page; a page
reads the details of its own 50 rows only.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from workers.alerter.endpoints import Endpoints, EndpointState
from workers.alerter.opsevents import quiet_yesterday
from workers.alerter.outbox import Item, Outbox
from workers.console.live import Tail
from workers.core.names import Names
from workers.infra.attemptlog import Attempt, AttemptLog
from workers.infra.redis import RedisClient
from workers.poller.feed_health import FeedHealth, HealthStore
from workers.settings.config import Config, Subscriber

logger = logging.getLogger(__name__)

FEED_FILTERS = ("all", "failing", "quiet", "disabled")
PAGE_SIZE = 50
INDEX_MAX_AGE_S = 30.0  # the feed states behind the filter tabs; the server refreshes them every 5 s
STATE_ORDER = {"failing": 0, "disabled": 1, "quiet": 2, "new": 3, "ok": 4}


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    total: int  # rows matching the filter
    page: int
    pages: int
    counts: dict[str, int]  # per filter tab


@dataclass(frozen=True)
class Index:
    feed_states: dict[str, str]
    feeds_by_tab: dict[str, list[str]]  # per filter tab, its feeds in page order (failing first)
    disabled: int  # subscribers whose endpoint is disabled


@dataclass(frozen=True)
class FeedRow:
    name: str
    url: str  # shown through display_url (no user info, no query)
    state: str  # ok, new, failing, disabled, quiet
    health: FeedHealth


@dataclass(frozen=True)
class SubscriberRow:
    name: str
    url: str  # shown through display_url (no user info, no query)
    topics: list[str]
    parked: int
    endpoint: EndpointState
    last: Attempt | None  # the newest recorded attempt
    dead: int  # dead letters retained for it


@dataclass(frozen=True)
class AlertView:
    """One alert of a subscriber as the portal shows it, with every attempt known."""

    alert_id: str
    title: str
    state: str  # delivered, parked, dead, delivered since (a dead letter replayed and delivered)
    at: float
    attempts: list[Attempt]
    detail: str  # the last error or the dead-letter reason
    ref: str = ""  # partition:offset of its dead letter, for "replay this one"


def paginate(rows: list[Any], page: int, size: int) -> tuple[list[Any], int, int]:
    pages = max(1, -(-len(rows) // size))
    page = min(max(page, 1), pages)
    return rows[(page - 1) * size : page * size], page, pages


class ConsoleState:
    def __init__(self, cfg: Config, redis: RedisClient, tail: Tail, bootstrap: str) -> None:
        self.cfg = cfg
        self.redis = redis
        self.tail = tail
        self.bootstrap = bootstrap
        self.names: Names = cfg.names
        self.health = HealthStore(redis, self.names)
        alerter_redis: Any = redis  # the alerter's stores are annotated with Redis and run on a cluster client too
        self.endpoints = Endpoints(
            alerter_redis, self.names, cfg.settings.alerter.disable_after_hours * 3600, refresh_s=0
        )
        self.outbox = Outbox(alerter_redis, self.names, int(cfg.settings.alerter.dedup_retention_hours * 3600))
        self.attempts = AttemptLog(redis, self.names)
        self.subscribers: dict[str, Subscriber] = {s.name: s for s in cfg.subscribers}
        self._index = Index({}, {}, 0)
        self._index_at = 0.0
        self._refreshing = threading.Lock()  # one refresh at a time: 10,000 hashes take seconds on a busy machine

    # --- the index behind the filter tabs and the counts ---
    def index(self) -> Index:
        """Every feed's state, sorted per filter tab, and the disabled subscribers: refreshed in the background
        (``follow``), or here when older than INDEX_MAX_AGE_S, so a page costs one page of rows, not 10,000 hashes."""
        if self._index_at == 0.0:  # the first page: wait for the index (one build, whoever asks)
            with self._refreshing:
                if self._index_at == 0.0:
                    self._refresh_locked()
        elif time.time() - self._index_at > INDEX_MAX_AGE_S and self._refreshing.acquire(blocking=False):
            try:  # no background refresh ran for long (a test, a stuck thread): one request rebuilds, others read
                self._refresh_locked()
            finally:
                self._refreshing.release()
        return self._index

    def refresh_index(self) -> None:
        with self._refreshing:
            self._refresh_locked()

    def _refresh_locked(self) -> None:
        now = time.time()
        states = {h.name: h.state for h in self.health.get_many([f.name for f in self.cfg.feeds])}
        ordered = sorted(states, key=lambda n: (STATE_ORDER.get(states[n], 9), n))
        by_tab = {"all": ordered, **{f: [n for n in ordered if states[n] == f] for f in FEED_FILTERS[1:]}}
        disabled = len(self.endpoints.disabled(sorted(self.subscribers)))
        self._index, self._index_at = Index(states, by_tab, disabled), now  # readers see the old or the new, whole

    def follow(self, stop: threading.Event, every_s: float = 5.0) -> None:
        """Keep the index fresh until ``stop`` (run in a thread by the server)."""
        while not stop.wait(every_s):
            try:
                self.refresh_index()
            except RedisError as exc:  # Redis down: the pages say so; the next round tries again
                logger.warning("console: cannot refresh the feed and endpoint index error=%s", exc)

    # --- feeds ---
    def feeds(self, wanted: str = "all", page: int = 1, size: int = PAGE_SIZE) -> Page:
        index = self.index()
        chosen = index.feeds_by_tab.get(wanted, index.feeds_by_tab.get("all", []))
        shown, page, pages = paginate(chosen, page, size)
        urls = {f.name: f.url for f in self.cfg.feeds}
        rows = [FeedRow(h.name, urls[h.name], h.state, h) for h in self.health.get_many(shown)]
        tabs = {tab: len(names) for tab, names in index.feeds_by_tab.items()}
        return Page(rows, len(chosen), page, pages, tabs)

    # --- topics ---
    def quiet_topics(self) -> set[str]:
        """The topics judged quiet for yesterday (UTC) by the alerter (``workers.alerter.opsevents``)."""
        return quiet_yesterday(self.redis, self.names, time.time())

    # --- subscribers ---
    def subscriber_page(self, page: int = 1, size: int = PAGE_SIZE) -> Page:
        names = sorted(self.subscribers)
        shown, page, pages = paginate(names, page, size)
        dead = Counter(d.subscriber for d in self.tail.dead_letters(self.names.alerts_dlq))
        last = self.attempts.latest(shown)
        depth = self.outbox.depth(shown)
        rows = [self._row(n, last.get(n), dead.get(n, 0), depth[n].queued) for n in shown]
        return Page(rows, len(names), page, pages, {"all": len(names), "disabled": self.index().disabled})

    def _row(self, name: str, last: Attempt | None, dead: int, queued: int | None = None) -> SubscriberRow:
        sub = self.subscribers[name]
        if queued is None:
            queued = self.outbox.depth([name])[name].queued
        return SubscriberRow(name, sub.url, list(sub.topics), queued, self.endpoints.state(name), last, dead)

    def subscriber(self, name: str) -> SubscriberRow:
        letters = [d for d in self.tail.dead_letters(self.names.alerts_dlq) if d.subscriber == name]
        last = self.attempts.latest([name]).get(name)
        return self._row(name, last, len(letters))

    # --- dead letters ---
    def dead_letters(self, kind: str = "alerts", page: int = 1, size: int = PAGE_SIZE) -> Page:
        topic = self.names.stories_dlq if kind == "stories" else self.names.alerts_dlq
        letters = self.tail.dead_letters(topic)
        shown, page, pages = paginate(letters, page, size)
        counts = {
            "alerts": len(self.tail.dead_letters(self.names.alerts_dlq)),
            "stories": len(self.tail.dead_letters(self.names.stories_dlq)),
        }
        return Page(shown, len(letters), page, pages, counts)

    # --- one subscriber's portal ---
    def portal_alerts(self, name: str, limit: int = 100) -> list[AlertView]:
        """Its recent alerts: each recorded attempt grouped by alert, the parked ones, the dead-lettered ones."""
        by_alert: dict[str, list[Attempt]] = {}
        for attempt in self.attempts.recent(name, 5 * limit):
            by_alert.setdefault(attempt.alert_id, []).append(attempt)
        views: dict[str, AlertView] = {}
        for aid, tries in by_alert.items():
            newest = tries[0]
            state = newest.outcome or ("delivered" if not newest.error else "failed")
            if state == "dead":  # "dead" (with its replay button) once the dead letter itself is read below
                state = "failed"
            views[aid] = AlertView(aid, "", state, newest.at, tries[::-1], newest.error)
        queued = set()
        for item, due in self._parked(name):
            queued.add(item.id)
            known = views.get(item.id)
            views[item.id] = AlertView(
                item.id,
                _title(item.alert),
                "parked",
                due,
                known.attempts if known else [],
                f"attempt {item.attempts + 1} due {time.strftime('%H:%M:%S', time.gmtime(due))} UTC; "
                f"last error: {item.last_error or '-'}",
            )
        letters = [d for d in self.tail.dead_letters(self.names.alerts_dlq) if d.subscriber == name][:limit]
        # delivered since it was dead-lettered (a replay): its newest attempt says so
        delivered = {aid for aid, view in views.items() if view.attempts and view.attempts[-1].outcome == "delivered"}
        for d in letters:
            known = views.get(d.alert_id)
            if d.alert_id in queued:
                continue  # replayed and waiting: the queued entry says more
            state = "delivered since" if d.alert_id in delivered else "dead"
            tries = known.attempts if known else []
            views[d.alert_id] = AlertView(d.alert_id, d.title, state, d.at, tries, d.reason, d.ref)
        return sorted(views.values(), key=lambda v: v.at, reverse=True)[:limit]

    def _parked(self, name: str) -> list[tuple[Item, float]]:
        """Its queued items (new, retrying, leased) with their due times, from the outbox."""
        return self.outbox.items(name)

    def replay(self, name: str, ref: str | None = None, since: float | None = None, until: float | None = None) -> int:
        """Park a subscriber's dead-lettered alerts again, due now: the one at ``ref`` (partition:offset), or those
        dead-lettered between ``since`` and ``until``; the alerter delivers them under their own webhook-id."""
        from workers.app.commands.dlq import replay_alerts

        aids = {
            d.alert_id
            for d in self.tail.dead_letters(self.names.alerts_dlq)
            if d.subscriber == name
            and (d.ref == ref if ref else (since is None or d.at >= since) and (until is None or d.at <= until))
        }
        if not aids:
            return 0
        return replay_alerts(self.bootstrap, self.redis, self.names, name, only=lambda body: _alert_id(body) in aids)

    def set_endpoint(self, name: str, enabled: bool) -> None:
        if enabled:
            self.endpoints.enable(name)
        else:
            self.endpoints.disable(name, "disabled by the subscriber in the portal")


def _title(alert: dict[str, Any]) -> str:
    story = alert.get("story")
    if isinstance(story, dict):
        return str(story.get("title") or "")
    return f"digest of {alert.get('count', '?')} alert(s)" if alert.get("type") == "digest" else ""


def _alert_id(body: dict[str, Any]) -> str:
    alert = (body.get("payload") or {}).get("alert") or {}
    return str(alert.get("alert_id") or alert.get("digest_id") or "")
