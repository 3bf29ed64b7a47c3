"""`wirewatch run` (the three stages in one process) on real servers, and the pure helpers of the
operations modules: log fields and redaction, metric labels, option precedence."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from tests.integration.test_pipeline import posts_for, servers  # noqa: F401 - servers is a fixture
from tests.ops_support import http_get, readyz, sample, seed_pipeline
from tests.support import wait_until
from workers.app.runtime import DaemonOptions, health_port, shutdown_timeout
from workers.core.errors import ConfigError
from workers.devstack.stack import free_port
from workers.infra import metrics
from workers.infra.logs import fields, redact, setup_logging
from workers.settings.config import DaemonSettings, Settings


@pytest.mark.integration
def test_run_all_three_in_one_process(servers, make_config, daemons, secret, names):  # type: ignore[no-untyped-def]  # noqa: F811
    _feeds, receiver, cfg = seed_pipeline(servers, make_config)
    port = free_port()
    proc = daemons("run", cfg, WIREWATCH_HEALTH_PORT=str(port), WIREWATCH_SHUTDOWN_TIMEOUT="15")
    wait_until(lambda: posts_for(receiver, "dprk-desk"), 60, what="the seed alert")
    status, body = wait_until(lambda: (r := readyz(port))[0] == 200 and r, 10, what="ready")
    groups = {f"group {n}" for n in (names.filter_group, names.alerter_group)}
    assert body["role"] == "run" and set(body["checks"]) == {"config", "kafka", "redis"} | groups
    assert sample(port, "wirewatch_stories_new_total", feed="ani") == 1
    assert sample(port, "wirewatch_alerts_delivered_total", subscriber="dprk-desk") == 1
    assert proc.terminate(timeout=25) == 0
    out = proc.output()
    for summary in ("poller stopped", "filter stopped", "alerter stopped delivered=1"):
        assert summary in out
    assert secret not in out
    assert http_get(port, "/healthz")[0] == 0, "the port is closed after exit"


@pytest.mark.parametrize(
    "reason,label",
    [
        ("HTTP 503", "http_503"),
        ("timed out after 2s", "timeout"),
        ("body not complete after 2s", "timeout"),
        ("body larger than 1024 bytes", "too_large"),
        ("not a feed: <unclosed token>", "parse"),
        ("feed has no entries", "parse"),
        ("ConnectError: [Errno 111] Connection refused", "connection"),
        ("more than 5 redirects", "redirects"),  # what fetch raises; "too many redirects" never was
        ("something new", "other"),
    ],
)
def test_failure_reasons_become_bounded_labels(reason: str, label: str) -> None:
    assert metrics.failure_reason(reason) == label


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.usefixtures("restore_logging")
def test_json_logs_lift_key_values_and_mask_secrets() -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", stream)
    logging.getLogger("workers.test").info(
        "delivered alert=%s subscriber=%s story=%s secret=%s", "msg_1", "desk", "ab12", "whsec_c2VjcmV0c2VjcmV0"
    )
    doc = json.loads(stream.getvalue().splitlines()[-1])
    assert doc["log.level"] == "info" and doc["log"]["logger"] == "workers.test"
    ww = doc["wirewatch"]
    assert (ww["alert"], ww["subscriber"], ww["story"]) == ("msg_1", "desk", "ab12")
    assert "c2VjcmV0" not in stream.getvalue() and ww["secret"] == "whsec_***"
    assert fields("x level=hack msg=hack feed=a feed=b") == {"feed": "a"}
    assert redact("key whsec_abc+/= end") == "key whsec_*** end"
    assert redact("feed moved url=https://reader:s3cr%40t@feeds.example/x.xml") == (
        "feed moved url=https://reader:***@feeds.example/x.xml"
    )
    assert (
        redact("http://127.0.0.1:8765/a.xml and http://[::1]:80/b")
        == "http://127.0.0.1:8765/a.xml and http://[::1]:80/b"
    )


@pytest.mark.usefixtures("restore_logging")
def test_text_logs_and_bad_settings() -> None:
    stream = io.StringIO()
    setup_logging("WARNING", "text", stream)
    logging.getLogger("workers.test").warning("feed failed feed=%s", "x")
    logging.getLogger("workers.test").info("hidden")
    assert stream.getvalue().count("\n") == 1 and "WARNING workers.test: feed failed feed=x" in stream.getvalue()
    with pytest.raises(ConfigError, match="WIREWATCH_LOG_LEVEL"):
        setup_logging("LOUD", "text", stream)


def test_option_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(daemon=DaemonSettings(shutdown_timeout=12, health_port=9999))
    monkeypatch.delenv("WIREWATCH_HEALTH_PORT", raising=False)
    monkeypatch.delenv("WIREWATCH_SHUTDOWN_TIMEOUT", raising=False)
    assert health_port("filter", Settings(), DaemonOptions()) == 9462
    assert health_port("filter", settings, DaemonOptions()) == 9999
    monkeypatch.setenv("WIREWATCH_HEALTH_PORT", "0")
    assert health_port("filter", settings, DaemonOptions()) == 0
    assert health_port("filter", settings, DaemonOptions(health_port=1234)) == 1234
    assert shutdown_timeout(settings, DaemonOptions()) == 12
    monkeypatch.setenv("WIREWATCH_SHUTDOWN_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="WIREWATCH_SHUTDOWN_TIMEOUT"):
        shutdown_timeout(settings, DaemonOptions())
