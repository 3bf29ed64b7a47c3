"""Each real daemon's /metrics after the seed story went through: only its role's metric families, and clean
for `promtool check metrics`."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.integration.test_pipeline import posts_for, servers  # noqa: F401 - servers is a fixture
from tests.ops_support import http_get, seed_pipeline
from tests.support import wait_until
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
