"""Each real daemon's /metrics after the seed story went through: only its role's metric families, and clean
for `promtool check metrics`; a subscriber removed by a reload leaves no series behind."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time

import pytest
import yaml

from tests.integration.test_pipeline import posts_for, seed_items, servers, subscriber  # noqa: F401 - servers is a fixture
from tests.ops_support import http_get, sample, seed_pipeline
from tests.support import rss, wait_until
from workers.alerter.worker import DEPTH_EVERY_S
from workers.devstack.feedserver import Route
from workers.devstack.stack import free_port
from workers.infra import metrics

pytestmark = pytest.mark.integration


def test_each_daemon_exports_its_role_only_and_promtool_accepts_it(servers, make_config, daemons):  # type: ignore[no-untyped-def]  # noqa: F811
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus; make deps installs it)")
    _feeds, receiver, cfg = seed_pipeline(servers, make_config)
    ports = {role: free_port() for role in metrics.ROLE_METRICS}
    for role, port in ports.items():
        daemons(role, cfg, WIREWATCH_HEALTH_PORT=str(port))
    wait_until(lambda: posts_for(receiver, "dprk-desk"), 90, what="the seed alert")
    for role, port in ports.items():
        status, body = http_get(port, "/metrics")
        assert status == 200
        text = body.decode()
        exported = {
            ln.split()[2].removesuffix("_total") for ln in text.splitlines() if ln.startswith("# TYPE wirewatch_")
        }
        assert exported == {m._name for m in (*metrics.ROLE_METRICS[role], *metrics.EVERY_ROLE)}, role
        proc = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
        assert proc.returncode == 0 and not (proc.stdout + proc.stderr).strip(), (role, proc)
    assert 'wirewatch_stories_new_total{feed="ani"} 1.0' in http_get(ports["poll"], "/metrics")[1].decode()


def test_a_removed_subscribers_series_go_on_reload(servers, make_config, daemons):  # type: ignore[no-untyped-def]  # noqa: F811
    feeds, receiver, rurl = servers
    original, _copy = seed_items()
    feeds.routes["/ani.xml"] = Route(rss([original], language="hi"))
    cfg = make_config(
        feeds=[{"name": "ani", "url": feeds.url("/ani.xml"), "interval": 1}],
        subscribers=[subscriber("dprk-desk", rurl, ["dprk"]), subscriber("gone-desk", rurl, ["dprk"])],
    )
    port = free_port()
    daemons("poll", cfg)
    daemons("filter", cfg)
    alert = daemons("alert", cfg, WIREWATCH_HEALTH_PORT=str(port))
    wait_until(lambda: http_get(port, "/healthz")[0] == 200, 30, what="/healthz")
    for name in ("dprk-desk", "gone-desk"):
        wait_until(lambda n=name: sample(port, "wirewatch_alerts_delivered_total", subscriber=n) == 1, 90, what=name)
    wait_until(lambda: 'wirewatch_outbox_depth{subscriber="gone-desk"}' in metrics_text(port), 15, what="depth")

    kept = [
        s for s in yaml.safe_load((cfg / "subscribers.yaml").read_text())["subscribers"] if s["name"] != "gone-desk"
    ]
    (cfg / "subscribers.yaml").write_text(yaml.safe_dump({"subscribers": kept}))
    alert.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "config reloaded" in alert.output(), 30, what="the alerter's reload")
    time.sleep(DEPTH_EVERY_S + 1)  # a depth reading after the reload must not bring the series back
    text = metrics_text(port)
    assert 'subscriber="gone-desk"' not in text
    assert 'wirewatch_alerts_delivered_total{subscriber="dprk-desk"} 1.0' in text


def metrics_text(port: int) -> str:
    return http_get(port, "/metrics")[1].decode()
