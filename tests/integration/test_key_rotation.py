"""Key rotation: a subscriber's ``secret_env`` names two secrets, newest first; the real alerter signs every
POST with both, and the reference Standard Webhooks library verifies it holding only the old secret or only
the new one (the receiver's state at either end of its own switch)."""

from __future__ import annotations

from typing import Any

import pytest
from redis import Redis
from standardwebhooks import Webhook, WebhookVerificationError

from tests.alerter_support import match, produce, running_alerter
from tests.support import wait_until
from workers.core.names import Names
from workers.core.signing import new_secret
from workers.devstack.receiver import Receiver
from workers.settings.config import load_config

pytestmark = pytest.mark.integration


def test_alerts_signed_with_old_and_new_secret_verify_with_either(  # type: ignore[no-untyped-def]
    make_config: Any, names: Names, bootstrap: str, redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new, stranger = new_secret(), new_secret(), new_secret()
    monkeypatch.setenv("WW_DESK_SECRET_NEW", new)
    monkeypatch.setenv("WW_DESK_SECRET_OLD", old)
    receiver = Receiver(secret=old)  # our own verifier, holding the old secret only
    base = f"http://127.0.0.1:{receiver.start()}"
    try:
        cfg = load_config(
            make_config(
                feeds=[{"name": "none", "url": "http://127.0.0.1:9/none.xml"}],
                subscribers=[
                    {
                        "name": "desk",
                        "url": f"{base}/hooks/desk",
                        "secret_env": ["WW_DESK_SECRET_NEW", "WW_DESK_SECRET_OLD"],
                        "topics": ["dprk"],
                        "local": True,
                    }
                ],
            )
        )
        ring = cfg.secrets["desk"].get_secret_value()
        with running_alerter(bootstrap, redis, names, cfg.subscribers, ring):
            produce(bootstrap, names, [match(i) for i in range(3)])
            wait_until(lambda: len(receiver.unique()) == 3, 40, what="three alerts")
    finally:
        receiver.stop()
    for rec in receiver.unique().values():
        assert rec.verified
        signatures = rec.headers["webhook-signature"].split(" ")
        assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
        ts = int(rec.headers["webhook-timestamp"])
        # newest first
        assert signatures[0] == Webhook(new).sign(rec.webhook_id, _when(ts), rec.body.decode())
        assert signatures[1] == Webhook(old).sign(rec.webhook_id, _when(ts), rec.body.decode())
        for secret in (old, new):
            assert Webhook(secret).verify(rec.body, rec.headers)["story"]["id"].startswith("story-")
        with pytest.raises(WebhookVerificationError):
            Webhook(stranger).verify(rec.body, rec.headers)
    assert old not in str(cfg) and new not in repr(cfg.secrets)


def _when(ts: int) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)
