"""The OpenTelemetry export against a real OTLP/HTTP receiver on 127.0.0.1 (tests/otlp_receiver.py): spans keep
the W3C ids the stages already send, Prometheus metrics arrive as OTLP sums, gauges and histograms, and with
the export off nothing of OpenTelemetry is imported."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the extra otel is not installed")

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram  # noqa: E402

from tests.otlp_receiver import OtlpReceiver  # noqa: E402
from tests.support import ROOT, wait_until  # noqa: E402
from workers.core.tracing import child, new_traceparent, parse  # noqa: E402
from workers.infra import otel  # noqa: E402


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver().start()
    yield r
    otel.shutdown()
    r.stop()


def test_spans_carry_the_traceparent_ids_and_their_parent(receiver: OtlpReceiver) -> None:
    otel.configure(receiver.url, "poll", metric_interval_s=3600)
    assert otel.enabled()
    root = new_traceparent()
    kid = child(root)
    now = time.time()
    otel.span("poll", root, None, now - 0.5, now, feed="ani", story="st_1", version=1)
    otel.span("match", kid, root, now, now + 0.01, story="st_1", language=None)
    otel.shutdown()  # flushes the batch processor
    assert not otel.enabled()
    spans = {s.name: s for s in receiver.spans}
    (tid, rid), (_, kid_id) = parse(root), parse(kid)  # type: ignore[misc]
    assert spans["poll"].trace_id == tid and spans["poll"].span_id == rid and spans["poll"].parent_span_id == ""
    assert spans["match"].trace_id == tid and spans["match"].parent_span_id == rid and spans["match"].span_id == kid_id
    assert spans["poll"].attributes == {"wirewatch.feed": "ani", "wirewatch.story": "st_1", "wirewatch.version": 1}
    assert "wirewatch.language" not in spans["match"].attributes  # None is left out
    assert spans["poll"].service == "wirewatch-poll"
    assert spans["poll"].end_ns - spans["poll"].start_ns == pytest.approx(0.5e9, rel=0.01)


def test_a_malformed_traceparent_makes_no_span(receiver: OtlpReceiver) -> None:
    otel.configure(receiver.url, "filter", metric_interval_s=3600)
    otel.span("match", "00-zz-11-01", None, time.time(), time.time())
    otel.span("match", new_traceparent(), "garbage", time.time(), time.time())  # a bad parent: a root span
    otel.shutdown()
    assert [s.parent_span_id for s in receiver.spans] == [""]


def test_prometheus_metrics_arrive_as_otlp(receiver: OtlpReceiver) -> None:
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope

    registry = CollectorRegistry()
    c = Counter("t_polls", "polls", ["feed"], registry=registry)
    g = Gauge("t_depth", "depth", registry=registry)
    h = Histogram("t_seconds", "latency", buckets=(0.1, 1.0), registry=registry)
    c.labels(feed="ani").inc(3)
    g.set(7)
    for v in (0.05, 0.5, 0.7, 5):
        h.observe(v)
    data = otel.from_prometheus(
        registry.collect(), Resource.create({"service.name": "t"}), InstrumentationScope("t"), 0
    )
    exporter = OTLPMetricExporter(endpoint=f"{receiver.url}/v1/metrics")
    assert exporter.export(data).name == "SUCCESS"
    assert receiver.points["t_polls_total"] == [("t", {"feed": "ani"}, 3.0)]
    assert receiver.points["t_depth"] == [("t", {}, 7.0)]
    # per bucket, not cumulative: <=0.1: 1, <=1: 2, +Inf: 1
    assert receiver.points["t_seconds"] == [("t", {"_buckets": "1,2,1"}, 4.0)]


def test_the_daemons_own_metrics_are_pushed_on_the_interval(receiver: OtlpReceiver) -> None:
    from workers.infra import metrics

    metrics.READY.labels(role="alert").set(1)
    otel.configure(receiver.url, "alert", metric_interval_s=0.2)
    wait_until(lambda: "wirewatch_ready" in receiver.points, 10, what="a metrics export")
    assert ("wirewatch-alert", {"role": "alert"}, 1.0) in receiver.points["wirewatch_ready"]


def test_off_imports_nothing_of_opentelemetry_beyond_what_redis_does() -> None:
    # redis-py 8 imports opentelemetry's metrics SDK itself when it is installed: our part is the exporters and
    # the trace SDK, which only configure() imports
    code = (
        "import sys, time; import redis; before = {m for m in sys.modules if m.startswith('opentelemetry')};"
        "import workers.app.runtime, workers.infra.otel as o;"
        "o.span('poll', '00-' + '1'*32 + '-' + '2'*16 + '-01', None, time.time(), time.time());"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry') and m not in before))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_absent_collector_costs_spans_not_a_stop_that_waits(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket
    import threading

    monkeypatch.setattr(otel, "EXPORT_TIMEOUT_S", 1.0)  # the export ends soon after the test, not 10 s later
    # a collector that takes the connection and never answers: the export waits for its whole timeout (a port
    # where nothing listens refuses at once, and the SDK may then stop retrying at shutdown within the limit)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        otel.configure(f"http://127.0.0.1:{silent.getsockname()[1]}", "poll", metric_interval_s=3600)
        for _ in range(100):  # queued for the export thread: the stage's thread sends nothing
            otel.span("poll", new_traceparent(), None, time.time(), time.time())
        otel.shutdown(within_s=0.5)  # the export would wait for its whole timeout: the stop gives up instead
        assert not otel.enabled()
        assert any("flush given up" in r.getMessage() for r in caplog.records)
        for t in threading.enumerate():  # the export must not run into the next tests' Hypothesis
            if t.name == "otel-shutdown":
                t.join(10)
    finally:
        silent.close()


def test_an_endpoint_without_the_extra_is_one_config_line_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    shutil.copy(ROOT / "config" / "topics.yaml", cfg / "topics.yaml")
    (cfg / "feeds.yaml").write_text("feeds:\n  - {name: f, url: 'http://127.0.0.1:9/f.xml'}\n")
    (cfg / "subscribers.yaml").write_text("subscribers: []\n")
    code = (  # the extra absent: its modules cannot be imported
        "import sys; sys.modules['opentelemetry.exporter.otlp.proto.http'] = None;"
        "from workers.app.cli import main; sys.exit(main(['poll', '--config', sys.argv[1]]))"
    )
    env = {**os.environ, "WIREWATCH_OTLP_ENDPOINT": "http://127.0.0.1:9", "WIREWATCH_HEALTH_PORT": "0"}
    out = subprocess.run([sys.executable, "-c", code, str(cfg)], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 2, out.stderr
    assert "WIREWATCH_OTLP_ENDPOINT: set, but the extra otel is not installed" in out.stderr


def test_an_unsampled_trace_makes_no_span_and_the_ratio_samples_new_traces(receiver: OtlpReceiver) -> None:
    assert otel.sample(), "off: every trace keeps the sampled flag, as before the export existed"
    otel.configure(receiver.url, "poll", metric_interval_s=3600, sample_ratio=0.0)
    assert not any(otel.sample() for _ in range(100))
    off = new_traceparent(sampled=False)
    otel.span("poll", off, None, time.time(), time.time())
    otel.span("match", child(off), off, time.time(), time.time())
    otel.span("poll", new_traceparent(), None, time.time(), time.time())  # sampled upstream: exported
    otel.shutdown()
    assert [s.name for s in receiver.spans] == ["poll"]
    otel.configure(receiver.url, "poll", metric_interval_s=3600, sample_ratio=0.25)
    share = sum(otel.sample() for _ in range(4000)) / 4000
    assert 0.2 < share < 0.3
