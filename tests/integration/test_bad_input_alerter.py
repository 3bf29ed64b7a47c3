"""Bad input at the alerter on the real broker, Redis and receiver: a match that cannot be canonicalised, a
webhook URL the HTTP client cannot send, the same story twice in one batch. The property in each: the bad record
is delivered or dead-lettered with a reason, and the good ones of the same batch still go out, once."""

from __future__ import annotations

import json

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.support import read_topic, wait_until
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
        # The lane counts a delivery when its attempt returns, a moment after the receiver has the POST.
        wait_until(lambda: alerter.totals["delivered"] >= 3, 10, what="the three deliveries counted")
        assert alerter.totals["delivered"] == 3
    urls = sorted(r.json["story"]["url"] for r in receiver.unique().values())
    assert urls == sorted([bad_port.story.link, "http://example.com/\ufffd", good.story.link])


def test_an_unsendable_webhook_url_is_retried_then_dead_lettered_and_others_get_one_copy(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    healthy = sub("healthy", f"{receiver.url}/healthy")  # type: ignore[attr-defined]
    # model_copy skips the load-time check: a URL the HTTP client cannot send (no such port), however it got there
    raw = sub("raw", f"{receiver.url}/x").model_copy(update={"url": "http://127.0.0.1:99999/x"})  # type: ignore[attr-defined]
    with running_alerter(bootstrap, redis, names, [healthy, raw], secret, retry_schedule=[0.2, 0.2]) as alerter:
        produce(bootstrap, names, [match(i) for i in range(3)])
        letters = read_topic(bootstrap, names.alerts_dlq, 3, timeout=30)
        wait_until(lambda: alerter.totals["delivered"] >= 3, 10, what="the healthy subscriber's alerts")
    reasons = [json.loads(r.value)["reason"] for r in letters]
    assert len(reasons) == 3 and all("gave up after 3 attempts" in r and "InvalidUrl" in r for r in reasons), reasons
    assert len(receiver.received) == 3, "the healthy subscriber got each alert once: the batch was not rewound"


def test_a_non_ascii_webhook_url_from_the_config_is_delivered(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    desk = sub("desk", f"{receiver.url}/désk")  # type: ignore[attr-defined]
    with running_alerter(bootstrap, redis, names, [desk], secret):
        produce(bootstrap, names, [match(1)])
        wait_until(lambda: receiver.unique(), 30, what="the alert")
    assert [r.path for r in receiver.received] == ["/d%C3%A9sk"]


def test_the_same_story_twice_in_one_batch_is_sent_once(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    desk = sub("desk", f"{receiver.url}/desk")  # type: ignore[attr-defined]
    other = sub("other", f"{receiver.url}/other")  # type: ignore[attr-defined]
    twice = match(1)
    with running_alerter(bootstrap, redis, names, [desk, other], secret) as alerter:
        produce(bootstrap, names, [twice, match(2), twice])  # one send: one partition, one batch
        wait_until(lambda: alerter.totals["delivered"] >= 4, 30, what="two alerts per subscriber")
        wait_until(lambda: sum(alerter.totals.values()) >= 6, 5, what="the repeat settled")
    assert sorted(r.path for r in receiver.received) == ["/desk", "/desk", "/other", "/other"]
    assert alerter.totals["delivered"] == 4 and alerter.totals["duplicates"] == 2
