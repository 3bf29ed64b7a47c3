"""Upgrading from the per-subscriber layout to story clusters and the outbox, on a live Redis: the state the
previous version leaves (written by its own claim script, retry queue and digest buffer formats) is read by the
new alerter for one retention window, and drained."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.previous_layout import PreviousDedup, PreviousMarkers
from tests.support import wait_until
from workers.alerter.dedup import Clusters, alert_id
from workers.alerter.outbox import Item
from workers.alerter.worker import build_alert
from workers.core.names import Names
from workers.devstack.receiver import Receiver

pytestmark = pytest.mark.integration
HOUR = 3600


def test_an_upgraded_alerter_honours_and_drains_the_previous_layout(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    old = PreviousDedup(redis, names, 72 * HOUR)
    url = receiver.url  # type: ignore[attr-defined]
    desk, batch = sub("desk", f"{url}/desk"), sub("batch", f"{url}/batch", digest_seconds=1)
    # what a running install of the previous version holds:
    delivered = match(1)  # 1: claimed and delivered
    assert old.claim("desk", delivered.story) == alert_id("desk", "story-1")
    old.mark_delivered(alert_id("desk", "story-1"))
    undelivered = match(2)  # 2: claimed, then the alerter died before the POST (its batch is read again)
    old.claim("desk", undelivered.story)
    retrying = match(3)  # 3: claimed, its first attempt failed, parked in the old retry queue
    old.claim("desk", retrying.story)
    old.park("desk", build_alert(desk, retrying, alert_id("desk", "story-3"), 100), due=time.time() - 1)
    buffered = match(4)  # 4: claimed and waiting in the old digest buffer of 'batch'
    old.claim("batch", buffered.story)
    old.buffer("batch", build_alert(batch, buffered, alert_id("batch", "story-4"), 100))
    old.claim("batch", delivered.story)
    old.mark_delivered(alert_id("batch", "story-1"))
    copy = match(5, text=delivered.story.text, title=delivered.story.title)  # a copy of 1 under a new id and URL

    with running_alerter(bootstrap, redis, names, [desk, batch], secret) as alerter:
        assert alerter.old is not None and alerter.old.active, "the previous layout was found"
        assert not redis.exists(names.retry_payloads) and not redis.exists(names.digest_buffer("batch")), "drained"
        # the upgraded alerter reads the batches the old one had not committed, and new copies
        produce(bootstrap, names, [delivered, undelivered, retrying, buffered, copy])
        wait_until(lambda: len([r for r in receiver.received if r.path == "/desk"]) >= 3, 30, what="desk alerts")
        wait_until(lambda: alerter.totals["duplicates"] >= 6, 30, what="the repeats and copies recognised")
        time.sleep(1.5)  # a second digest or a repeat would arrive by now
        keys = {k.decode() for k in redis.scan_iter(f"{names.key_prefix}*")}
    desk_got = [r.json["story"]["id"] for r in receiver.received if r.path == "/desk"]
    # 1 was sent and 5 is its copy; 2 is its own undelivered claim; 3 came from the old retry queue; 4 is new to desk
    assert sorted(desk_got) == ["story-2", "story-3", "story-4"], "no repeat of what was sent, nothing lost"
    batch_got = [a["story"]["id"] for r in receiver.received if r.path == "/batch" for a in r.json["alerts"]]
    # 4 came from the old digest buffer; 2 and 3 are new to batch; 1 was sent and 5 is its copy
    assert sorted(batch_got) == ["story-2", "story-3", "story-4"], "the buffer drained, each alert once"
    assert any(k.startswith(f"{names.key_prefix}{{s:desk}}:mk:") for k in keys), "the new layout is written"
    assert not any(k.startswith((f"{names.key_prefix}retry:", f"{names.key_prefix}digest:")) for k in keys)


@pytest.mark.redis_cluster  # the first outbox version ran on Redis Cluster too
def test_an_upgraded_alerter_honours_the_unpacked_markers_of_the_first_outbox(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    """The first outbox version kept one 12-byte field per delivered cluster; the upgraded alerter packs them,
    and reads those for one retention window: a re-read or copy of a story sent before the upgrade is not sent
    again, and its next version is a story.updated that follows the alert sent before."""
    url = receiver.url  # type: ignore[attr-defined]
    desk = sub("desk", f"{url}/desk")
    sent = match(1)
    # what the first outbox version leaves: the story filed in the (unchanged) cluster index, its marker in the
    # unpacked layout and its alert in the (unchanged) queue, committed but not yet delivered
    cluster = Clusters(redis, names, 72 * HOUR).resolve(sent.story).cluster
    aid = alert_id("desk", "story-1")
    item = Item(aid, "desk", build_alert(desk, sent, aid, 100, 0, cluster), clusters=[cluster])
    assert PreviousMarkers(redis, names, 72 * HOUR).enqueue("desk", cluster, aid, item.to_json()) == 0
    copy = match(5, text=sent.story.text, title=sent.story.title)  # a copy under a new id and URL
    update = replace(sent, story=replace(sent.story, title="UPDATE 1-North Korea dispatch 1 revised", version=2))

    with running_alerter(bootstrap, redis, names, [desk], secret) as alerter:
        assert alerter.outbox.old_markers_until > time.time(), "the unpacked markers were found"
        produce(bootstrap, names, [sent, copy, match(2)])
        wait_until(lambda: alerter.totals["duplicates"] >= 2, 30, what="the re-read and the copy recognised")
        produce(bootstrap, names, [update])
        wait_until(lambda: len(receiver.received) >= 3, 30, what="the queued alert, story 2 and the update")
        time.sleep(1.0)  # a repeat would arrive by now
        keys = {k.decode() for k in redis.scan_iter(f"{names.key_prefix}{{s:desk}}:m*")}
    got = [(r.json["type"] if "type" in r.json else "story.matched", r.json["story"]["id"]) for r in receiver.received]
    assert sorted(got) == [("story.matched", "story-1"), ("story.matched", "story-2"), ("story.updated", "story-1")]
    updated = next(r.json for r in receiver.received if r.json.get("type") == "story.updated")
    assert updated["previous_alert_id"] == aid, "the old marker's owner names the alert sent before"
    assert any(":mk:" in k for k in keys) and any(":m:" in k for k in keys), "the old slice is read, not rewritten"
