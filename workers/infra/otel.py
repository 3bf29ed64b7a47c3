"""OpenTelemetry export (OTLP/HTTP protobuf) of the stages' spans and of the Prometheus metrics: optional.

Off unless ``WIREWATCH_OTLP_ENDPOINT`` names a collector (``http://collector:4318``) and the extra ``otel`` is
installed. Off, ``span()`` is one test of a module global and nothing of OpenTelemetry is imported, so a daemon
without the extra pays nothing.

Spans: the stages already carry W3C trace context (``workers.core.tracing``): the poller starts a trace per
story version, and each stage makes a child span id, sends it on (a Kafka header, the alert's ``trace``, the
webhook's ``traceparent``). ``span()`` exports exactly those ids, as finished spans with their own start and end,
instead of letting a tracer draw new ones, so the ids in a subscriber's logs, in the alert and in the tracing
backend are the same. The spans of a story: ``poll`` (root: fetch to Kafka's acknowledgement) with its child
``produce``; ``match`` (the filter); ``enqueue`` (the alerter, one per subscriber); ``deliver`` (each POST).
They go through the SDK's batch processor: a bounded queue, exported from its own thread, dropped when full,
so a slow or absent collector never slows a stage.

Metrics: every ``metric_interval_s`` a thread reads the default Prometheus registry (what ``/metrics`` shows)
and exports it with the SDK's OTLP metric exporter, as cumulative sums (counters), gauges and explicit-bucket
histograms: one set of instruments, two ways out.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from workers.core.tracing import parse, sampled

logger = logging.getLogger(__name__)

# (name, own traceparent, parent traceparent or None, start s, end s, attributes) -> None, while export is on
_export: Callable[[str, str, str | None, float, float, dict[str, Any]], None] | None = None
_shutdown: list[Callable[[], None]] = []
_ratio = 1.0  # the share of new traces sampled while the export is on
_flush: list[Callable[[], object]] = []


def enabled() -> bool:
    return _export is not None


def span(name: str, traceparent: str, parent: str | None, start: float, end: float, **attributes: Any) -> None:
    """One finished span (Unix seconds) with the ids of ``traceparent``, child of ``parent``; nothing while off or
    when the trace is not sampled."""
    if _export is not None and sampled(traceparent):
        _export(name, traceparent, parent, start, end, attributes)


def sample() -> bool:
    """Whether a new trace is sampled (its W3C flag): always while the export is off, as before it existed; else
    with the probability ``sample_ratio`` given to ``configure``."""
    return _export is None or _ratio >= 1.0 or random.random() < _ratio


def available() -> bool:
    """Whether the extra ``otel`` is installed (checked at start when an endpoint is configured)."""
    try:
        import opentelemetry.exporter.otlp.proto.http  # noqa: F401
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        return False
    return True


def configure(endpoint: str, role: str, metric_interval_s: float = 30.0, sample_ratio: float = 1.0) -> None:
    """Export spans and metrics to the collector at ``endpoint`` (its base URL: ``/v1/traces`` and
    ``/v1/metrics`` are added); the poller samples ``sample_ratio`` of new traces. Call ``shutdown()`` at exit
    to flush what is queued."""
    global _export, _ratio
    _ratio = sample_ratio
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, TraceFlags

    base = endpoint.rstrip("/")
    resource = Resource.create({"service.name": f"wirewatch-{role}", "service.namespace": "wirewatch"})
    scope = InstrumentationScope("wirewatch")
    processor = BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{base}/v1/traces", timeout=EXPORT_TIMEOUT_S))
    kinds = {"produce": SpanKind.PRODUCER, "deliver": SpanKind.CLIENT, "match": SpanKind.CONSUMER}

    def context(traceparent: str | None, remote: bool) -> SpanContext | None:
        ids = parse(traceparent)
        if ids is None:
            return None
        return SpanContext(int(ids[0], 16), int(ids[1], 16), is_remote=remote, trace_flags=TraceFlags(0x01))

    def export(name: str, own: str, parent: str | None, start: float, end: float, attrs: dict[str, Any]) -> None:
        ctx = context(own, remote=False)
        if ctx is None:
            return
        attributes = {f"wirewatch.{k}": v for k, v in attrs.items() if v is not None}
        processor.on_end(
            ReadableSpan(
                name,
                context=ctx,
                parent=context(parent, remote=True),
                resource=resource,
                attributes=attributes,
                kind=kinds.get(name, SpanKind.INTERNAL),
                start_time=int(start * 1e9),
                end_time=int(max(end, start) * 1e9),
                instrumentation_scope=scope,
            )
        )

    metrics_exporter = OTLPMetricExporter(endpoint=f"{base}/v1/metrics", timeout=EXPORT_TIMEOUT_S)
    pusher = _MetricPusher(metrics_exporter, resource, scope, metric_interval_s)
    pusher.start()
    _export = export
    _shutdown[:] = [pusher.stop, processor.shutdown, metrics_exporter.shutdown]
    _flush[:] = [processor.force_flush]
    logger.info("opentelemetry export on endpoint=%s role=%s", base, role)


def flush() -> None:
    """Export the queued spans now (the batch processor sends every 5 s or 512 spans otherwise)."""
    for step in _flush:
        step()


EXPORT_TIMEOUT_S = 10.0  # per export, retries included (the SDK's default)
SHUTDOWN_S = 3.0  # the exporters retry an absent collector for their whole timeout: a stop must not wait for it


def shutdown(within_s: float = SHUTDOWN_S) -> None:
    """Flush the queued spans and the last metrics, then turn export off; gives up after ``within_s`` (an absent
    collector costs its last batch, never a slow exit)."""
    global _export
    _export = None
    steps = list(_shutdown)
    _shutdown.clear()
    _flush.clear()

    def run() -> None:
        for step in steps:
            try:
                step()
            except Exception as exc:
                logger.warning("opentelemetry flush failed error=%s", type(exc).__name__)

    flusher = threading.Thread(target=run, name="otel-shutdown", daemon=True)
    flusher.start()
    flusher.join(within_s)
    if flusher.is_alive():
        logger.warning("opentelemetry flush given up after %.0fs: the collector does not answer", within_s)


class _MetricPusher:
    """Reads the Prometheus registry every ``interval_s`` and exports it over OTLP, from its own thread."""

    def __init__(self, exporter: Any, resource: Any, scope: Any, interval_s: float) -> None:
        self.exporter, self.resource, self.scope, self.interval_s = exporter, resource, scope, interval_s
        self.started_ns = time.time_ns()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name="otel-metrics", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(15)
        self.push()  # the last figures, so a short run is seen whole

    def _run(self) -> None:
        while not self.stopping.wait(self.interval_s):
            self.push()

    def push(self) -> None:
        from prometheus_client import REGISTRY

        try:
            self.exporter.export(from_prometheus(REGISTRY.collect(), self.resource, self.scope, self.started_ns))
        except Exception as exc:  # the exporter logs its own HTTP failures; a bug here must not kill the thread
            logger.warning("opentelemetry metrics export failed error=%s", type(exc).__name__)


def from_prometheus(families: Any, resource: Any, scope: Any, started_ns: int) -> Any:
    """Prometheus metric families as the SDK's ``MetricsData``: counters as monotonic cumulative sums, gauges
    as gauges, histograms with their buckets (Prometheus counts cumulatively, OTLP per bucket); other kinds
    (summaries, infos) are skipped."""
    from opentelemetry.sdk.metrics.export import (
        AggregationTemporality,
        Gauge,
        Histogram,
        HistogramDataPoint,
        Metric,
        MetricsData,
        NumberDataPoint,
        ResourceMetrics,
        ScopeMetrics,
        Sum,
    )

    now = time.time_ns()
    cumulative = AggregationTemporality.CUMULATIVE
    out: list[Any] = []
    for family in families:
        if family.type in ("counter", "gauge"):
            points = [
                NumberDataPoint(dict(s.labels), started_ns, now, s.value)
                for s in family.samples
                if s.name in (family.name, family.name + "_total")
            ]
            if not points:
                continue
            data: Any = Sum(points, cumulative, True) if family.type == "counter" else Gauge(points)
            name = family.name + ("_total" if family.type == "counter" else "")
        elif family.type == "histogram":
            hpoints = _histogram_points(family, started_ns, now, HistogramDataPoint)
            if not hpoints:  # no series yet: an OTLP metric without points is no metric
                continue
            data, name = Histogram(hpoints, cumulative), family.name
        else:
            continue
        out.append(Metric(name, family.documentation, family.unit or None, data))
    return MetricsData([ResourceMetrics(resource, [ScopeMetrics(scope, out, "")], "")])


def _histogram_points(family: Any, started_ns: int, now: int, point: Any) -> list[Any]:
    series: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}
    for s in family.samples:
        labels = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        one = series.setdefault(labels, {"buckets": [], "count": 0, "sum": 0.0})
        if s.name.endswith("_bucket"):
            one["buckets"].append((float(s.labels["le"]), s.value))
        elif s.name.endswith("_count"):
            one["count"] = int(s.value)
        elif s.name.endswith("_sum"):
            one["sum"] = s.value
    points = []
    for labels, one in series.items():
        cumulative = sorted(one["buckets"])
        counts = [int(c - (cumulative[i - 1][1] if i else 0)) for i, (_, c) in enumerate(cumulative)]
        bounds = [le for le, _ in cumulative if le != float("inf")]
        points.append(
            point(dict(labels), started_ns, now, one["count"], one["sum"], counts, bounds, min=None, max=None)
        )
    return points
