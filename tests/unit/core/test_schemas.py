"""Every body wirewatch sends or sets aside validates against its schema in docs/, with the schemas' $refs
resolved from the local files only (a registry that refuses any other URI: no network), and hit offsets are
right for a JavaScript receiver (UTF-16) as well as for Python (code points)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest

from tests.alerter_support import match, sub
from tests.schema_support import DOCS, registry, validator
from workers.alerter.digest import build_digest, digest_id
from workers.alerter.worker import build_alert
from workers.app.commands.subscribers import webhook_test_message
from workers.core.deadletter import DEAD_LETTER_SCHEMA, dead_letter
from workers.core.events import hit_offsets
from workers.core.stories import Story
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic
from workers.filter.worker import evaluate


def test_every_schema_ref_resolves_offline() -> None:
    reg = registry()
    for path in sorted(DOCS.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        resolver = reg.resolver(base_uri=schema["$id"])
        refs = re.findall(r'"\$ref": "([^"]+)"', path.read_text())
        for ref in refs:
            contents = resolver.lookup(ref).contents
            # a whole document, or a definition of one (story.withdrawn shares story.updated's $defs)
            assert contents.get("$schema") or ("#/$defs/" in ref and contents.get("type")), (path.name, ref)
    assert "alert.schema.json" in (DOCS / "digest.schema.json").read_text()


def alert() -> dict[str, Any]:
    return build_alert(sub("desk", "http://127.0.0.1/x"), match(1), "msg_" + "0" * 32, 20, cluster="cl_" + "0" * 32)


def test_an_alert_and_a_digest_of_alerts_validate() -> None:
    validator("alert.schema.json").validate(alert())
    ids = ["msg_" + "1" * 32, "msg_" + "2" * 32]
    digest = build_digest("desk", [{**alert(), "alert_id": i} for i in ids], digest_id("desk", ids))
    validator("digest.schema.json").validate(digest)  # through the $ref to alert.schema.json
    broken = {**digest, "alerts": [{**alert(), "alert_id": "msg_short"}]}
    assert not validator("digest.schema.json").is_valid(broken)  # the $ref is really followed


def test_webhook_test_has_a_schema_and_a_documented_id() -> None:
    msg_id, body = webhook_test_message("desk")
    doc = json.loads(body)
    validator("webhook.test.schema.json").validate(doc)
    assert re.fullmatch(r"msg_[0-9a-f]{32}", msg_id) and doc["test_id"] == msg_id
    assert webhook_test_message("desk")[0] != msg_id


@dataclass
class Rec:
    topic: str = "t.matches"
    partition: int = 1
    offset: int = 42
    value: bytes | None = b"\xff not json"
    headers: Any = None


def test_dead_letters_are_versioned_and_keep_the_original_headers() -> None:
    headers = [("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"), ("empty", None)]
    letter = json.loads(dead_letter("bad match event: x", Rec(headers=headers)))
    validator("deadletter.schema.json").validate(letter)
    assert letter["schema"] == DEAD_LETTER_SCHEMA == 1
    assert base64.b64decode(letter["value_b64"]) == b"\xff not json"
    assert [(h["key"], h["value_b64"] and base64.b64decode(h["value_b64"])) for h in letter["headers"]] == headers
    undelivered = {"subscriber": "desk", "alert": alert(), "attempts": 7}
    validator("deadletter.schema.json").validate(json.loads(dead_letter("endpoint disabled", payload=undelivered)))
    assert json.loads(dead_letter("x", Rec()))["headers"] == []


@pytest.mark.parametrize(
    "text,term",
    [
        ("Kim 🚀🚀 met Putin in Pyongyang", "Putin"),  # two emoji (astral, two UTF-16 units each) before the hit
        ("𠀀 北朝鮮 𠀁 北朝鮮", "北朝鮮"),  # CJK Extension B ideographs are astral too
        ("North Korea, no emoji", "Korea"),
    ],
)
def test_hit_offsets_slice_the_term_in_python_and_in_utf16(text: str, term: str) -> None:
    spans = [(term, m.start(), m.end()) for m in re.finditer(re.escape(term), text)]
    units = text.encode("utf-16-le")
    for hit in hit_offsets(text, spans):
        assert text[hit["start"] : hit["end"]] == term
        # what JavaScript's text.slice(start16, end16) returns: UTF-16 code units
        assert units[2 * hit["start16"] : 2 * hit["end16"]].decode("utf-16-le") == term
    astral_before = sum(ord(c) > 0xFFFF for c in text[: spans[0][1]])
    assert hit_offsets(text, spans[:1])[0]["start16"] == spans[0][1] + astral_before


def test_the_filter_puts_utf16_offsets_in_its_events() -> None:
    title, text = "🚀🚀 North Korea fires a missile", "Pyongyang 🚀 launched it, North Korea said."
    story = Story("s1", "f", "http://127.0.0.1/f.xml", title, "http://127.0.0.1/1", text)
    matcher = Matcher([Topic("dprk", terms=("North Korea", "Pyongyang"))])
    event = evaluate(story, matcher)
    assert event is not None
    full = f"{story.title}\n{story.text}"
    units = full.encode("utf-16-le")
    hits = [h for t in event.topics.values() for h in t.hits]
    assert hits and any(h["start16"] > h["start"] for h in hits)
    for h in hits:
        assert units[2 * h["start16"] : 2 * h["end16"]].decode("utf-16-le") == full[h["start"] : h["end"]]
