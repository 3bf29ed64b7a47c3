"""Every Prometheus metric of wirewatch, defined in this one module so names and labels stay consistent.

Stage modules only call e.g. ``metrics.STORIES_NEW.labels(feed=...).inc()``; each daemon serves the
default registry on its health port (workers/health.py). Labels are bounded by configuration (feeds,
topics, subscribers, languages, partitions), never by story ids or URLs, so series stay few.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
FEED_STATES = ("new", "ok", "failing", "disabled")  # workers.poller.feed_health.FeedHealth.state
FEEDS_BY_STATE = Gauge("wirewatch_feeds", "Feeds by state: new (never polled), ok, failing, disabled (410)", ["state"])

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


def failure_reason(reason: str) -> str:
    """A bounded label for a feed failure reason: ``HTTP 503`` -> ``http_503``, ``timed out after 2s`` -> ``timeout``.

    Raw reasons carry sizes and exception texts: as labels they would make unbounded series."""
    r = reason.lower()
    if r.startswith("http "):
        return "http_" + r.split()[1]
    for prefix, label in (
        ("timed out", "timeout"),
        ("body not complete", "timeout"),
        ("body", "too_large"),
        ("too many redirects", "redirects"),
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
