"""A real OTLP/HTTP receiver on 127.0.0.1 for the OpenTelemetry export's tests: it accepts protobuf POSTs on
``/v1/traces`` and ``/v1/metrics`` (gzip or not), decodes them with the OTLP protobuf definitions and keeps
the spans and metric points, as a collector would see them."""

from __future__ import annotations

import gzip
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    service: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]


@dataclass
class OtlpReceiver:
    spans: list[ReceivedSpan] = field(default_factory=list)
    points: dict[str, list[tuple[str, dict[str, str], float]]] = field(default_factory=dict)  # name -> (service..)
    requests: int = 0

    def start(self) -> OtlpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                ok = self.headers.get("Content-Type") == "application/x-protobuf"
                if ok and self.path == "/v1/traces":
                    receiver._traces(body)
                elif ok and self.path == "/v1/metrics":
                    receiver._metrics(body)
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                receiver.requests += 1
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _traces(self, body: bytes) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        req = ExportTraceServiceRequest.FromString(body)
        for rs in req.resource_spans:
            service = _service(rs.resource)
            for ss in rs.scope_spans:
                for s in ss.spans:
                    self.spans.append(
                        ReceivedSpan(
                            s.name,
                            s.trace_id.hex(),
                            s.span_id.hex(),
                            s.parent_span_id.hex(),
                            service,
                            s.start_time_unix_nano,
                            s.end_time_unix_nano,
                            {a.key: _value(a.value) for a in s.attributes},
                        )
                    )

    def _metrics(self, body: bytes) -> None:
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        req = ExportMetricsServiceRequest.FromString(body)
        for rm in req.resource_metrics:
            service = _service(rm.resource)
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    kind = m.WhichOneof("data")
                    for p in getattr(m, kind).data_points:
                        labels = {a.key: str(_value(a.value)) for a in p.attributes}
                        if kind == "histogram":
                            labels["_buckets"] = ",".join(str(c) for c in p.bucket_counts)
                            value = float(p.count)
                        else:
                            value = p.as_double if p.WhichOneof("value") == "as_double" else float(p.as_int)
                        self.points.setdefault(m.name, []).append((service, labels, value))


def _service(resource: Any) -> str:
    return next((a.value.string_value for a in resource.attributes if a.key == "service.name"), "")


def _value(v: Any) -> Any:
    kind = v.WhichOneof("value")
    return getattr(v, kind) if kind else None


if __name__ == "__main__":  # a receiver in its own process (the latency bench): its URL, then the span count
    import sys

    r = OtlpReceiver().start()
    print(r.url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    print(len(r.spans), flush=True)
