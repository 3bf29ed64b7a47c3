"""JSON log lines: ECS field names, context values whole and typed from the call's own arguments, every line
one JSON document (checked with jq line by line when it is installed, and with json.loads always)."""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from workers.infra.logs import call_fields, setup_logging


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    stream = io.StringIO()
    setup_logging("DEBUG", "json", stream)
    yield logging.getLogger("workers.test"), stream
    root.handlers[:] = handlers
    root.setLevel(level)


def last(stream: io.StringIO) -> dict[str, Any]:
    return dict(json.loads(stream.getvalue().splitlines()[-1]))


@pytest.mark.parametrize(
    "fmt,args,expected",
    [
        # the issue's two cases: a reason with spaces stays whole, a number stays a number
        (
            "endpoint disabled subscriber=%s reason=%s",
            ("desk", "endpoint answered 410 Gone"),
            {"subscriber": "desk", "reason": "endpoint answered 410 Gone"},
        ),
        (
            "delivered alert=%s subscriber=%s attempt=%d",
            ("msg_1", "desk", 1),
            {"alert": "msg_1", "subscriber": "desk", "attempt": 1},
        ),
        (
            "feed failed feed=%s errors=%d retry_in=%.0fs reason=%s",
            ("f", 3, 12.5, "timeout"),
            {"feed": "f", "errors": 3, "retry_in": 12.5, "reason": "timeout"},
        ),
        # an unnamed argument takes its position; a literal pair is lifted as text; %% is no argument
        ("%s started kafka=%s", ("poll", "h:9092"), {"kafka": "h:9092"}),
        ("100%% done count=%d paths=/a,/b", (5,), {"count": 5, "paths": "/a,/b"}),
        (
            "retry attempt failed subscriber=%s error=%s: %s",
            ("d", "TimeoutError", "read timed out"),
            {"subscriber": "d", "error": "TimeoutError"},
        ),
        ("flag ok=%s ratio=%s", (True, 0.5), {"ok": True, "ratio": 0.5}),
        ("reserved msg=%s level=%s feed=%s", ("x", "y", "f"), {"feed": "f"}),
    ],
)
def test_call_fields_are_whole_and_typed(fmt: str, args: tuple[Any, ...], expected: dict[str, Any]) -> None:
    assert call_fields(fmt, args) == expected


def test_a_line_maps_to_ecs(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = json_log
    log.warning("endpoint disabled subscriber=%s reason=%s url=%s", "desk", "answered 410 Gone", "https://u:pw@h/x")
    doc = last(stream)
    assert list(doc)[:4] == ["@timestamp", "log.level", "message", "ecs.version"]
    assert doc["log.level"] == "warning" and doc["log"] == {"logger": "workers.test"}
    assert doc["service"] == {"name": "wirewatch"} and doc["@timestamp"].endswith("Z")
    assert doc["event"] == {"reason": "answered 410 Gone"}  # ECS names it: event.reason
    assert doc["url"] == {"full": "https://u:***@h/x"}  # url.full, password masked
    assert doc["wirewatch"] == {"subscriber": "desk"}
    assert doc["message"] == "endpoint disabled subscriber=desk reason=answered 410 Gone url=https://u:***@h/x"


def test_structured_fields_and_errors(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    log, stream = json_log
    log.info("batch done", extra={"fields": {"count": 7, "story": "ab12", "secret": "whsec_c2VjcmV0c2VjcmV0"}})
    doc = last(stream)
    assert doc["wirewatch"] == {"count": 7, "story": "ab12", "secret": "whsec_***"}
    try:
        raise TimeoutError("read timed out after 10 s")
    except TimeoutError:
        log.exception("delivery failed alert=%s", "msg_2")
    doc = last(stream)
    assert doc["error"]["type"] == "TimeoutError" and doc["error"]["message"] == "read timed out after 10 s"
    assert "Traceback" in doc["error"]["stack_trace"] and doc["wirewatch"] == {"alert": "msg_2"}


def test_every_line_is_one_json_document_for_jq(json_log: tuple[logging.Logger, io.StringIO], tmp_path: Any) -> None:
    log, stream = json_log
    log.info("multi\nline feed=%s title=%s", "f", 'a "quoted"\nnew line, ✓ 북한')
    log.info("odd values count=%s obj=%s", None, object())
    try:
        {}["missing"]
    except KeyError:
        log.exception("boom")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3 and all(isinstance(json.loads(line), dict) for line in lines)
    jq = shutil.which("jq")
    if jq is None:
        pytest.skip("jq is not installed (make deps installs it): json.loads read every line above")
    path = tmp_path / "log.jsonl"
    path.write_text(stream.getvalue())
    # -R: one raw line at a time, fromjson fails on any line that is not a whole JSON document
    proc = subprocess.run(
        [jq, "-R", "-c", 'fromjson | [."log.level", .wirewatch.feed, .wirewatch.count, .error.type]', str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert proc.stdout.splitlines() == [
        '["info","f",null,null]',
        '["info",null,null,null]',
        '["error",null,null,"KeyError"]',
    ]
