"""The OpenTelemetry export of real daemons: the seed story through poll, filter and alert with
WIREWATCH_OTLP_ENDPOINT set reaches a real OTLP/HTTP receiver (tests/otlp_receiver.py) as one trace of five
spans, chained parent to child, with the ids of the alert's ``trace`` and the webhook's ``traceparent``; each
daemon's metrics arrive too."""

from __future__ import annotations

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the extra otel is not installed")

from tests.integration.test_pipeline import posts_for, servers  # noqa: E402, F401 - servers is a fixture
from tests.ops_support import seed_pipeline  # noqa: E402
from tests.otlp_receiver import OtlpReceiver  # noqa: E402
from tests.support import wait_until  # noqa: E402
from workers.core.tracing import parse  # noqa: E402

pytestmark = pytest.mark.integration


def test_the_seed_story_is_one_exported_trace_with_the_alerts_ids(servers, make_config, daemons):  # type: ignore[no-untyped-def]  # noqa: F811
    collector = OtlpReceiver().start()
    try:
        _feeds, receiver, cfg = seed_pipeline(servers, make_config)
        env = {"WIREWATCH_OTLP_ENDPOINT": collector.url, "WIREWATCH_OTLP_METRICS_INTERVAL": "1"}
        procs = [daemons(role, cfg, **env) for role in ("poll", "filter", "alert")]
        post = wait_until(lambda: posts_for(receiver, "dprk-desk"), 90, what="the seed alert")[0]
        for d in reversed(procs):  # a clean stop flushes what the batch processors hold
            assert d.terminate() == 0, d.output()[-2000:]
        tid, post_span = parse(post.headers["traceparent"])  # type: ignore[misc]
        spans = {s.name: s for s in collector.spans if s.trace_id == tid}
        assert set(spans) == {"poll", "produce", "match", "enqueue", "deliver"}, collector.spans
        assert spans["poll"].parent_span_id == ""
        assert spans["produce"].parent_span_id == spans["poll"].span_id
        assert spans["match"].parent_span_id == spans["poll"].span_id  # the record header is the poll span
        assert spans["enqueue"].parent_span_id == spans["match"].span_id
        assert spans["enqueue"].span_id == parse(post.json["trace"]["traceparent"])[1]  # type: ignore[index]
        assert spans["deliver"].span_id == post_span and spans["deliver"].parent_span_id == spans["enqueue"].span_id
        assert spans["deliver"].attributes["wirewatch.status"] == 204  # the test receiver answers 204
        assert spans["deliver"].attributes["wirewatch.subscriber"] == "dprk-desk"
        assert spans["poll"].attributes["wirewatch.feed"] == "ani"
        assert {s.service for s in spans.values()} == {"wirewatch-poll", "wirewatch-filter", "wirewatch-alert"}
        starts = [spans[n].start_ns for n in ("poll", "match", "enqueue", "deliver")]
        assert starts == sorted(starts), "the hops follow each other in time"
        new = collector.points["wirewatch_stories_new_total"]
        assert ("wirewatch-poll", {"feed": "ani"}, 1.0) in new
        delivered = collector.points["wirewatch_alerts_delivered_total"]
        assert ("wirewatch-alert", {"subscriber": "dprk-desk"}, 1.0) in delivered
    finally:
        collector.stop()
