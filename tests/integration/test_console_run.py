"""`wirewatch run` serves the console beside its three loops; without a token it refuses a non-loopback address
before anything connects (exit 2, one line); `wirewatch web --portal-token NAME` prints the derived token."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser_support import status_of, wait_http
from tests.integration.test_pipeline import subscriber
from tests.support import wirewatch
from workers.console.security import portal_token
from workers.devstack.stack import free_port

pytestmark = pytest.mark.integration


def test_run_serves_the_console_on_loopback_without_a_token(make_config: Any, daemons: Any) -> None:
    cfg = make_config(feeds=[{"name": "none", "url": "http://127.0.0.1:9/none.xml"}])
    port = free_port()
    run = daemons("run", cfg, WIREWATCH_WEB_PORT=str(port))
    wait_http(f"http://127.0.0.1:{port}/login", timeout=90)
    assert status_of(f"http://127.0.0.1:{port}/feeds") == 200  # no token: loopback only, and open there
    assert run.terminate() == 0
    assert "web console on http://127.0.0.1:" in run.output()


def test_run_refuses_a_wide_address_without_a_token(make_config: Any, daemons: Any) -> None:
    cfg = make_config(feeds=[{"name": "none", "url": "http://127.0.0.1:9/none.xml"}])
    run = daemons("run", cfg, WIREWATCH_WEB_PORT=str(free_port()), WIREWATCH_WEB_HOST="0.0.0.0")
    run.proc.wait(90)
    assert run.proc.returncode == 2
    assert "WIREWATCH_WEB_HOST: 0.0.0.0 is not a loopback address; set WIREWATCH_WEB_TOKEN" in run.output()


def test_portal_token_command_prints_the_derived_token(
    make_config: Any, secret: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = make_config(
        feeds=[{"name": "none", "url": "http://127.0.0.1:9/none.xml"}],
        subscribers=[subscriber("desk-a", "http://127.0.0.1:9", ["dprk"])],
    )
    monkeypatch.setenv("WIREWATCH_TEST_SECRET", secret)
    done = wirewatch("web", "--config", str(cfg), "--portal-token", "desk-a")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == portal_token(secret, "desk-a")
    assert secret not in done.stdout + done.stderr
    unknown = wirewatch("web", "--config", str(cfg), "--portal-token", "nobody")
    assert unknown.returncode == 2 and "no subscriber named 'nobody'" in unknown.stderr


def test_web_stops_on_sigterm_with_an_open_event_stream(make_config: Any, daemons: Any) -> None:
    import http.client
    import time

    cfg = make_config(feeds=[{"name": "none", "url": "http://127.0.0.1:9/none.xml"}])
    port = free_port()
    web = daemons("web", cfg, WIREWATCH_WEB_PORT=str(port))
    wait_http(f"http://127.0.0.1:{port}/login", timeout=90)
    stream = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    stream.request("GET", "/live/events")
    resp = stream.getresponse()
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/event-stream")
    assert resp.read1(100).startswith(b"retry:")  # the stream is open
    started = time.monotonic()
    assert web.terminate(timeout=20) == 0  # exit 0, as the daemons do, not 143
    assert time.monotonic() - started < 5, "the open stream held the exit"
    assert "graceful shutdown exceeded" not in web.output()
    stream.close()
