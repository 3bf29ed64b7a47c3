"""Bad input at the alerter on the real broker, Redis and receiver: a match that cannot be canonicalised, a
webhook URL httpcore cannot send, the same story twice in one batch. The property in each: the bad record
is delivered or dead-lettered with a reason, and the good ones of the same batch still go out, once."""

from __future__ import annotations

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.support import wait_until
from workers.core.names import Names
from workers.devstack.receiver import Receiver
from workers.infra.kafka import make_producer, send_all

pytestmark = pytest.mark.integration


def test_a_link_with_a_bad_port_does_not_stall_the_batch(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    bad_port = match(1, link="http://example.com:80a/x")  # plain guid: the id is fine, the URL fingerprint was not
    surrogate = match(2, link="http://example.com/SURROGATE", title="Lone SURROGATE")
    good = match(3)
    url = f"{receiver.url}/desk"  # type: ignore[attr-defined]
    with running_alerter(bootstrap, redis, names, [sub("desk", url)], secret) as alerter:
        produce(bootstrap, names, [bad_port, good])
        # valid JSON, not valid Unicode: a lone surrogate no encoder downstream can write as it is
        raw = surrogate.to_json().replace(b"SURROGATE", b"\\ud800")
        producer = make_producer(bootstrap, "test-producer")
        send_all(producer, [(names.matches, b"story-2", raw)])
        producer.close()
        wait_until(lambda: len(receiver.unique()) >= 3, 30, what="all three alerts")
        assert alerter.totals["delivered"] == 3
    urls = sorted(r.json["story"]["url"] for r in receiver.unique().values())
    assert urls == sorted([bad_port.story.link, "http://example.com/\ufffd", good.story.link])
