"""The documented payload schema and the documented verification example hold for what we send."""

from __future__ import annotations

import json

from tests.alerter_support import match, sub
from tests.support import ROOT
from workers.alerter.worker import build_alert
from workers.core.signing import new_secret, signed_headers


def test_alert_payload_follows_the_documented_schema() -> None:
    schema = json.loads((ROOT / "docs" / "alert.schema.json").read_text())
    alert = build_alert(sub("desk", "http://127.0.0.1/x"), match(1), "msg_" + "0" * 32, 20, duplicates=2)
    assert set(schema["required"]) <= set(alert) <= set(schema["properties"])
    assert set(schema["properties"]["story"]["required"]) == set(alert["story"])
    assert alert["schema"] == schema["properties"]["schema"]["const"] and alert["duplicates"] == 2
    assert alert["story"]["excerpt"].endswith("…") and len(alert["story"]["excerpt"]) == 21


def test_documented_verification_example_accepts_our_signatures() -> None:
    doc = (ROOT / "docs" / "webhooks.md").read_text()
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    scope: dict[str, object] = {}
    exec(code, scope)  # our own documentation's example
    secret = new_secret()
    headers = signed_headers(secret, "msg_1", b"{}")
    verify = scope["verify"]
    assert verify(secret, headers, b"{}")  # type: ignore[operator]
    assert not verify(secret, headers, b"{ }")  # type: ignore[operator]
