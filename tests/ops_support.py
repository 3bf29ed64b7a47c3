"""Helpers of the operations tests: reading a daemon's health port, Prometheus samples, log lines."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.test_pipeline import seed_items, subscriber
from tests.support import rss
from workers.devstack.feedserver import Route


def http_get(port: int, path: str) -> tuple[int, bytes]:
    """(status, body) of a GET on 127.0.0.1; status 0 when nothing answers yet."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def readyz(port: int) -> tuple[int, dict[str, Any]]:
    status, body = http_get(port, "/readyz")
    return status, (json.loads(body) if body else {})


def sample(port: int, name: str, **labels: str) -> float:
    """The value of one sample of /metrics (0.0 when the series does not exist yet)."""
    status, body = http_get(port, "/metrics")
    assert status == 200, status
    for family in text_string_to_metric_families(body.decode()):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


def json_lines(output: str) -> list[dict[str, Any]]:
    """The JSON log lines of a daemon's output (other lines, such as library prints, are skipped)."""
    out = []
    for line in output.splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def seed_pipeline(servers: Any, make_config: Any) -> tuple[Any, Any, Any]:
    """The seed story on feed "ani" (polled every second) and subscriber "dprk-desk": (feeds, receiver, config dir)."""
    feeds, receiver, rurl = servers
    original, _copy = seed_items()
    feeds.routes["/ani.xml"] = Route(rss([original], language="hi"))
    cfg = make_config(
        feeds=[{"name": "ani", "url": feeds.url("/ani.xml"), "interval": 1}],
        subscribers=[subscriber("dprk-desk", rurl, ["dprk"])],
    )
    return feeds, receiver, cfg
