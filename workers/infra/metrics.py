"""Every Prometheus metric of wirewatch, defined in this one module so names and labels stay consistent.

Stage modules only call e.g. ``metrics.STORIES_NEW.labels(feed=metrics.feed_label(name)).inc()``; each daemon
serves the default registry on its health port (workers/infra/health.py). Labels are bounded by configuration
(feeds, topics, subscribers, languages, partitions), never by story ids or URLs, so series stay few, and
bounded further:

- ``use_role(role)`` leaves in the registry only the metrics of that daemon's role (a filter exports no
  feed or delivery series), plus the process collectors;
- above ``poller.per_feed_metrics_max`` feeds, every per-feed series is folded into ``feed="_all"``: the
  metric names stay and ``sum()`` queries give the same totals, but a 10,000-feed install has a few dozen
  poller series instead of ~17 per feed (``configure_feeds``);
- ``configure_feeds`` (at start and on each reload) drops the series of feeds no longer configured, and
  ``configure_subscribers`` those of removed subscribers;
- counters export no ``_created`` series (nothing reads them, and they doubled every counter).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.metrics import MetricWrapperBase

disable_created_metrics()  # type: ignore[no-untyped-call]

# Latency buckets in seconds: feed fetches and webhook deliveries take 10 ms to 15 s.
_NETWORK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30)
# Filtering one story takes 1-20 ms (langdetect dominates).
_FILTER_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)

# poller
STORIES_FETCHED = Counter("wirewatch_stories_fetched_total", "Stories parsed from feed documents", ["feed"])
STORIES_NEW = Counter("wirewatch_stories_new_total", "Stories not seen before, produced to Kafka", ["feed"])
STORIES_FAILED = Counter(
    "wirewatch_feed_failures_total",
    "Failed polls by feed and reason (http status, timeout, parse...)",
    ["feed", "reason"],
)
FETCH_LATENCY = Histogram(
    "wirewatch_fetch_seconds", "Feed fetch time, request to whole body", ["feed"], buckets=_NETWORK_BUCKETS
)
FEED_STATES = ("new", "ok", "quiet", "failing", "disabled")  # workers.poller.feed_health.FeedHealth.state
FAILURE_REASONS = (
    "http_<status>",
    "timeout",
    "too_large",
    "parse",
    "redirects",
    "connection",
    "file",
    "internal",
    "other",
)
FEEDS_BY_STATE = Gauge(
    "wirewatch_feeds",
    "Feeds by state: new (never polled), ok, quiet (silent for k usual gaps), failing, disabled (410)",
    ["state"],
)

# filter
FILTER_LATENCY = Histogram(
    "wirewatch_filter_seconds", "Language detection and matching time per story", buckets=_FILTER_BUCKETS
)
STORIES_FILTERED = Counter("wirewatch_stories_filtered_total", "Stories consumed by the filter")
MATCHES = Counter("wirewatch_matches_total", "Topic matches by topic and detected language", ["topic", "language"])
DEAD_STORIES = Counter("wirewatch_stories_dead_lettered_total", "Stories sent to the stories dead-letter topic")

# alerter
ALERTS_DELIVERED = Counter("wirewatch_alerts_delivered_total", "Alerts answered 2xx", ["subscriber"])
ALERTS_RETRIED = Counter("wirewatch_alerts_retried_total", "Failed attempts parked for a retry", ["subscriber"])
ALERTS_DEAD = Counter(
    "wirewatch_alerts_dead_lettered_total", "Alerts sent to the alerts dead-letter topic", ["subscriber"]
)
ALERTS_DEDUPLICATED = Counter(
    "wirewatch_alerts_deduplicated_total", "Alerts suppressed as repeats or syndicated copies", ["subscriber"]
)
DELIVERY_AGE = Histogram(
    "wirewatch_alert_delivery_age_seconds",
    "Time from an alert's enqueue in the outbox to its 2xx",
    ["subscriber"],
    buckets=_NETWORK_BUCKETS,
)
OUTBOX_DEPTH = Gauge(
    "wirewatch_outbox_depth", "Items in a subscriber's outbox (queued, leased, buffered)", ["subscriber"]
)
OUTBOX_OLDEST = Gauge(
    "wirewatch_outbox_oldest_age_seconds", "How long the oldest outbox item has waited", ["subscriber"]
)
CLUSTER_STORIES = Histogram(
    "wirewatch_story_cluster_stories",
    "Stories in a story's cluster when the alerter resolved it (1: the first of its kind)",
    buckets=(1, 2, 3, 5, 10, 20, 50, 100),
)
TOPIC_WINDOW_CLUSTERS = Gauge(
    "wirewatch_topic_window_clusters",
    "Story clusters matching a topic in its open spike window (workers.alerter.spikes), and the spike threshold",
    ["topic", "kind"],  # kind: count | threshold
)
TOPIC_SPIKING = Gauge("wirewatch_topic_spiking", "1 while a topic's open window is a reported spike", ["topic"])
TOPIC_QUIET = Gauge(
    "wirewatch_topic_quiet",
    "1 when a topic's last whole UTC day had under a fraction of its baseline's story clusters (topic.quiet)",
    ["topic"],
)
DELIVERY_LATENCY = Histogram(
    "wirewatch_delivery_seconds", "Webhook POST time per attempt", ["subscriber"], buckets=_NETWORK_BUCKETS
)

# every consumer
CONSUMER_LAG = Gauge(
    "wirewatch_consumer_lag", "Records behind the end of the partition", ["group", "topic", "partition"]
)
CONSUMER_STALLS = Counter(
    "wirewatch_consumer_stalls_total",
    "Times a consumer was found stalled: its group lags and nothing advanced for longer than the bound",
    ["group"],
)
CONSUMER_STALLED = Gauge("wirewatch_consumer_stalled", "1 while this consumer is stalled (see the counter)", ["group"])
READY = Gauge("wirewatch_ready", "1 when connected to Kafka and Redis with config loaded", ["role"])
CONFIG_RELOADS = Counter("wirewatch_config_reloads_total", "SIGHUP reloads by result (ok, error)", ["result"])


# which daemon exports what ("run" exports everything)
# The hops of a story, from the timings it carries (workers.core.tracing): published_to_fetched (poller),
# produced_to_matched (filter), matched_to_enqueued, enqueued_to_sent and fetched_to_sent (alerter, end to end).
HOP_LATENCY = Histogram(
    "wirewatch_hop_seconds",
    "Seconds between two timings of a story: one hop, or fetched_to_sent end to end",
    ["hop"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400),
)


ROLE_METRICS: dict[str, tuple[MetricWrapperBase, ...]] = {
    "poll": (STORIES_FETCHED, STORIES_NEW, STORIES_FAILED, FETCH_LATENCY, FEEDS_BY_STATE, HOP_LATENCY),
    "filter": (
        FILTER_LATENCY,
        STORIES_FILTERED,
        MATCHES,
        DEAD_STORIES,
        CONSUMER_LAG,
        CONSUMER_STALLS,
        CONSUMER_STALLED,
        HOP_LATENCY,
    ),
    "alert": (
        ALERTS_DELIVERED,
        ALERTS_RETRIED,
        ALERTS_DEAD,
        ALERTS_DEDUPLICATED,
        DELIVERY_LATENCY,
        DELIVERY_AGE,
        OUTBOX_DEPTH,
        OUTBOX_OLDEST,
        CLUSTER_STORIES,
        TOPIC_WINDOW_CLUSTERS,
        TOPIC_SPIKING,
        TOPIC_QUIET,
        CONSUMER_LAG,
        CONSUMER_STALLS,
        CONSUMER_STALLED,
        HOP_LATENCY,
    ),
}
EVERY_ROLE: tuple[MetricWrapperBase, ...] = (READY, CONFIG_RELOADS)
ALL_METRICS = tuple(dict.fromkeys(m for ms in ROLE_METRICS.values() for m in ms)) + EVERY_ROLE
_registered = set(ALL_METRICS)  # every metric registers itself in REGISTRY when it is defined

PER_FEED = (STORIES_FETCHED, STORIES_NEW, STORIES_FAILED, FETCH_LATENCY)
ALL_FEEDS = "_all"  # the feed label of every series once per-feed series are off
_per_feed = True


def use_role(role: str) -> None:
    """Keep in the default registry only the metrics of ``role`` ('poll', 'filter', 'alert'; 'run': all).
    Idempotent and reversible, so tests running several roles in one process can switch."""
    wanted = set(ALL_METRICS) if role == "run" else {*ROLE_METRICS[role], *EVERY_ROLE}
    for metric in ALL_METRICS:
        if metric in wanted and metric not in _registered:
            REGISTRY.register(metric)
            _registered.add(metric)
        elif metric not in wanted and metric in _registered:
            REGISTRY.unregister(metric)
            _registered.discard(metric)


def feed_label(name: str) -> str:
    """The ``feed`` label of a feed's series: its name, or ``_all`` while per-feed series are off."""
    return name if _per_feed else ALL_FEEDS


def configure_feeds(names: Iterable[str], per_feed_max: int) -> None:
    """Per-feed series on while the install has at most ``per_feed_max`` feeds; drop the series of feeds not in
    ``names`` (removed from the config, or all of them when per-feed series turn off)."""
    global _per_feed
    feeds = set(names)
    _per_feed = len(feeds) <= per_feed_max
    keep = feeds if _per_feed else {ALL_FEEDS}
    for metric in PER_FEED:
        drop_series(metric, "feed", keep)


PER_SUBSCRIBER = (
    ALERTS_DELIVERED,
    ALERTS_RETRIED,
    ALERTS_DEAD,
    ALERTS_DEDUPLICATED,
    DELIVERY_AGE,
    OUTBOX_DEPTH,
    OUTBOX_OLDEST,
    DELIVERY_LATENCY,
)
NO_SUBSCRIBER = "-"  # the subscriber label of dead letters that belong to none (a malformed match)


def configure_subscribers(names: Iterable[str]) -> None:
    """Drop the series of subscribers not in ``names`` (removed from subscribers.yaml), at start and on each
    reload: a removed subscriber's queue gauges would otherwise stay at their last value for good."""
    keep = {*names, NO_SUBSCRIBER}
    for metric in PER_SUBSCRIBER:
        drop_series(metric, "subscriber", keep)


def drop_series(metric: MetricWrapperBase, label: str, keep: set[str]) -> int:
    """Remove every child of ``metric`` whose ``label`` is not in ``keep``; return how many were removed."""
    names = list(metric._labelnames)  # prometheus_client has no public way to list a metric's children
    index = names.index(label)
    stale = [values for values in list(metric._metrics) if values[index] not in keep]
    for values in stale:
        metric.remove(*values)
    return len(stale)


def failure_reason(reason: str) -> str:
    """A bounded label for a feed failure reason: ``HTTP 503`` -> ``http_503``, ``timed out after 2s`` -> ``timeout``.

    Raw reasons carry sizes and exception texts: as labels they would make unbounded series. ``internal``
    (Kafka or Redis trouble, not the feed's) is given by the poller itself, never derived from a text."""
    r = reason.lower()
    if r.startswith("http "):
        return "http_" + r.split()[1]
    for prefix, label in (
        ("timed out", "timeout"),
        ("body not complete", "timeout"),
        ("body", "too_large"),
        ("more than", "redirects"),  # fetch: "more than 5 redirects"
        ("redirect to", "redirects"),  # fetch: "redirect to unsupported URL ..."
        ("cannot read file", "file"),
        ("not a feed", "parse"),
        ("feed has no entries", "parse"),
        ("no entry has", "parse"),
        ("parser crashed", "parse"),
    ):
        if r.startswith(prefix):
            return label
    return "connection" if "connect" in r else "other"


def count_matches(topics: object, language: str) -> None:
    """One MATCHES increment per matched topic of a story."""
    for topic in topics:  # type: ignore[attr-defined]
        MATCHES.labels(topic=topic, language=language).inc()


_HOPS: dict[str, Any] = {}  # the few hops' children: ``labels()`` costs as much as the observation


def observe_hop(hop: str, seconds: float | None) -> None:
    """A hop's latency; a missing timing or one from a skewed clock (negative) is not observed."""
    if seconds is not None and seconds >= 0:
        child = _HOPS.get(hop)
        if child is None:
            child = _HOPS[hop] = HOP_LATENCY.labels(hop=hop)
        child.observe(seconds)


@dataclass(frozen=True)
class LaneMeters:
    """A delivery lane's children of the per-subscriber metrics it observes at every POST, made once with the
    lane (``labels()`` costs as much as an observation). A removed subscriber's series are dropped after its lane
    is closed (``configure_subscribers``), so no lane observes a dropped child."""

    latency: Any
    delivered: Any
    age: Any

    @classmethod
    def of(cls, subscriber: str) -> LaneMeters:
        return cls(
            DELIVERY_LATENCY.labels(subscriber=subscriber),
            ALERTS_DELIVERED.labels(subscriber=subscriber),
            DELIVERY_AGE.labels(subscriber=subscriber),
        )
