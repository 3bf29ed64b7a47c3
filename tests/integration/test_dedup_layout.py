"""The cluster layout on a real Redis: time-sliced index hashes, retention (an entry counts for exactly the
window, its memory is freed at most one slice later), and per-subscriber state that is only markers."""

from __future__ import annotations

import random
import time

import pytest
from redis import Redis

from tests.alerter_support import match, produce, running_alerter, sub
from tests.integration.test_dedup import cid, edit_words, seed_story, story
from tests.support import wait_until
from workers.alerter.dedup import Clusters
from workers.core.names import Names
from workers.core.stories import Story
from workers.devstack.receiver import Receiver

HOUR = 3600
pytestmark = pytest.mark.redis_cluster  # standalone and a 3-primary Redis Cluster


class Clock:
    """Unix seconds that a test moves forward, so retention is crossed without waiting for it."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now


def owner_and_how(dedup: Clusters, s: Story) -> tuple[str, str]:
    c = dedup.resolve(s)
    return c.cluster, c.how


def test_entries_count_for_exactly_the_retention_window(redis: Redis, names: Names) -> None:
    clock = Clock()
    dedup = Clusters(redis, names, HOUR, clock=clock)
    seed = seed_story()
    owner = cid("seed")
    assert owner_and_how(dedup, seed) == (owner, "new")
    first_slice = dedup.slice_keys(int(clock.now))[-1]
    rnd = random.Random(11)
    clock.now += HOUR - 1  # the last second of the window, four slices later
    assert owner_and_how(dedup, story("c1", "x", seed.text, "http://c1.example/")) == (owner, "exact")
    assert owner_and_how(dedup, story("c2", "x", edit_words(seed.text, 3, rnd), "http://c2.example/")) == (
        owner,
        "near",
    )
    clock.now += 1
    assert redis.exists(first_slice), "the seed's slice is still in Redis: its entries' own time expired them"
    assert owner_and_how(dedup, story("c3", "x", seed.text, "http://c3.example/")) == (cid("c3"), "new")
    c4 = story("c4", "x", edit_words(seed.text, 3, rnd), "http://c4.example/")
    assert owner_and_how(dedup, c4) == (cid("c3"), "near"), "filed again by c3, not by the seed"


def test_stories_share_one_index_hash_per_slice(redis: Redis, names: Names) -> None:
    clock = Clock()
    dedup = Clusters(redis, names, HOUR, clock=clock)
    seed = seed_story()
    for i in range(3):  # three different stories, each with three exact fingerprints and four bands
        text = " ".join(f"{w}{i}" for w in seed.text.split())
        dedup.resolve(story(f"s{i}", "t", text))
    clock.now += dedup.slice_s
    later = story("s3", "t", "a short body, below the near-duplicate threshold")
    dedup.resolve(later)
    slices = dedup.slice_keys(int(clock.now))
    bands = len(dedup.story_prints(seed).fields) - 3
    assert [redis.hlen(k) for k in slices[-2:]] == [3 * (3 + bands), 3]
    records = {names.cluster(cid(f"s{i}")).encode() for i in range(4)}
    assert set(redis.scan_iter(f"{names.key_prefix}*")) == {k.encode() for k in slices[-2:]} | records
    assert owner_and_how(dedup, story("s0-copy", "t", " ".join(f"{w}0" for w in seed.text.split()))) == (
        cid("s0"),
        "exact",
    ), "an entry of the previous slice is found"


def test_every_key_is_gone_within_retention_and_one_slice(redis: Redis, names: Names) -> None:
    from workers.alerter.outbox import Item, Outbox, Outgoing

    dedup = Clusters(redis, names, 2)  # slices of 1 s
    outbox = Outbox(redis, names, 2)
    seed = seed_story()
    owner = dedup.resolve(seed).cluster
    copy = story("c1", "x", seed.text + " (ANI)", "http://partner.example/kim")
    assert dedup.resolve(copy).cluster == owner
    item = Item("msg_" + "ab" * 16, "desk", {"alert_id": "x"}, clusters=[owner])
    assert outbox.enqueue({"desk": (False, [Outgoing(item, owner)])}) == {"desk": [0]}
    outbox.settle("desk", [item.id])  # delivered: what is left of it is the marker
    left = {k.decode().removeprefix(names.key_prefix) for k in redis.scan_iter(f"{names.key_prefix}*")}
    kinds = {k if k.startswith("{c:") else k.rsplit(":", 2)[0] for k in left}  # slice names without their times
    assert kinds == {"{fp}:ix", names.cluster(owner).removeprefix(names.key_prefix), "{s:desk}:mk"}, left
    wait_until(lambda: not list(redis.scan_iter(f"{names.key_prefix}*")), 2 + dedup.slice_s + 2, what="no keys")
    assert dedup.resolve(copy).how == "new"


@pytest.mark.integration
def test_a_delivered_story_alerts_again_after_the_configured_retention(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    subs = [sub("desk", f"{receiver.url}/desk")]  # type: ignore[attr-defined]
    # another id and URL, the same title and body (a body this short is no fingerprint without its title)
    copy = match(2, text=match(1).story.text, title=match(1).story.title)
    with running_alerter(bootstrap, redis, names, subs, secret, dedup_retention_hours=3 / HOUR) as alerter:
        produce(bootstrap, names, [match(1)])
        wait_until(lambda: receiver.received, 30, what="the first alert")
        produce(bootstrap, names, [match(1), copy])
        wait_until(lambda: alerter.totals["duplicates"] >= 2, 30, what="the repeat and the copy deduplicated")
        assert [r.json["story"]["id"] for r in receiver.received] == ["story-1"]
        time.sleep(3.5)
        produce(bootstrap, names, [copy])
        wait_until(lambda: len(receiver.received) >= 2, 30, what="the copy alerted after retention")
    assert [r.json["story"]["id"] for r in receiver.received] == ["story-1", "story-2"]


@pytest.mark.integration
def test_a_cluster_is_one_for_every_subscriber_and_the_cli_shows_it(  # type: ignore[no-untyped-def]
    receiver: Receiver,
    bootstrap: str,
    redis: Redis,
    names: Names,
    secret: str,
    make_config,
    redis_url,
    monkeypatch,
    capsys,
) -> None:
    from tests.alerter_support import desk_config
    from workers.app.cli import main as cli

    subs = [sub(f"desk{i}", f"{receiver.url}/desk{i}") for i in range(3)]  # type: ignore[attr-defined]
    first = match(1)
    copy = match(2, text=first.story.text, title=first.story.title)  # another id and URL, the same story
    with running_alerter(bootstrap, redis, names, subs, secret):
        produce(bootstrap, names, [first])
        wait_until(lambda: len(receiver.received) >= 3, 30, what="the first alert to each subscriber")
        produce(bootstrap, names, [copy, match(3)])
        wait_until(lambda: len(receiver.received) >= 6, 30, what="story 3 to each subscriber")
        time.sleep(0.5)
    got = sorted((r.path, r.json["story"]["id"]) for r in receiver.received)
    assert got == sorted((f"/desk{i}", f"story-{j}") for i in range(3) for j in (1, 3)), "the copy alerts nobody"
    clusters = {r.json["story"]["id"]: r.json["cluster"]["id"] for r in receiver.received}
    assert len(set(clusters.values())) == 2, "one cluster per story for every subscriber"
    records = [k for k in redis.scan_iter(f"{names.key_prefix}{{c:*")]
    assert len(records) == 2, "one cluster record per story cluster, not per subscriber"
    monkeypatch.setenv("REDIS_URL", redis_url)
    cfg = desk_config(make_config, f"{receiver.url}/desk0", redis={"key_prefix": names.key_prefix})  # type: ignore[attr-defined]
    assert cli(["stories", "show", "story-2", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert f"cluster {clusters['story-1']}: 2 stories" in out and "duplicates=1" in out
    assert "story-1" in out and "story-2" in out and "http://127.0.0.1/wire/2" in out
    assert cli(["stories", "show", "story-404", "--config", str(cfg)]) == 1


@pytest.mark.integration
def test_duplicates_counts_the_copies_seen_before_the_alert_was_sent(
    receiver: Receiver, bootstrap: str, redis: Redis, names: Names, secret: str
) -> None:
    """A digest waits: the copies that came meanwhile are counted in its alert (docs/webhooks.md, Duplicates)."""
    url = receiver.url  # type: ignore[attr-defined]
    subs = [sub("now", f"{url}/now"), sub("later", f"{url}/later", digest_seconds=2)]
    first = match(1)
    copies = [match(i, text=first.story.text, title=first.story.title) for i in (2, 3)]
    with running_alerter(bootstrap, redis, names, subs, secret):
        produce(bootstrap, names, [first])
        wait_until(lambda: any(r.path == "/now" for r in receiver.received), 30, what="the immediate alert")
        produce(bootstrap, names, copies)
        wait_until(lambda: any(r.path == "/later" for r in receiver.received), 30, what="the digest")
    now = next(r.json for r in receiver.received if r.path == "/now")
    later = next(r.json for r in receiver.received if r.path == "/later")["alerts"]
    assert now["duplicates"] == 0 and now["cluster"]["stories"] == 1, "sent before any copy was seen"
    assert [a["story"]["id"] for a in later] == ["story-1"], "the copies alert nobody"
    assert later[0]["duplicates"] == 2 and later[0]["cluster"] == {"id": now["cluster"]["id"], "stories": 3}


def test_a_removed_subscribers_queue_expires_after_one_window_unless_it_comes_back(
    redis: Redis, names: Names, receiver: Receiver
) -> None:
    """A subscriber dropped from the config leaves its queue behind: it expires one retention window later (so a
    subscriber put back within the window finds its alerts), and never while it is configured."""
    from types import SimpleNamespace

    from pydantic import SecretStr

    from workers.alerter.outbox import Item, Outbox
    from workers.alerter.sender import Sender
    from workers.alerter.worker import Alerter
    from workers.infra.lifecycle import Stopper
    from workers.settings.config import AlerterSettings

    settings = AlerterSettings(dedup_retention_hours=2)
    outbox = Outbox(redis, names, 2 * HOUR)
    # "gone" is far in the future: no lane would attempt it during the test
    outbox.put(Item("msg_" + "1" * 32, "gone", {"alert_id": "msg_" + "1" * 32}), due=time.time() + HOUR)
    outbox.put(Item("msg_" + "2" * 32, "desk", {"alert_id": "msg_" + "2" * 32}), due=time.time() + HOUR)
    redis.expire(names.outbox_queue("desk"), 60)  # as a past removal of "desk" left it
    url = receiver.url  # type: ignore[attr-defined]
    desk, gone = sub("desk", f"{url}/desk"), sub("gone", f"{url}/gone")
    sender = Sender()
    secrets = {"desk": SecretStr("whsec_x"), "gone": SecretStr("whsec_x")}
    alerter = Alerter(None, None, redis, sender, [desk], secrets, names, settings, Stopper())  # type: ignore[arg-type]
    try:
        for key in (names.outbox_queue("gone"), names.outbox_items("gone")):
            assert 2 * HOUR - 5 <= redis.ttl(key) <= 2 * HOUR, key
        assert redis.ttl(names.outbox_queue("desk")) == -1, "a configured subscriber's queue never expires"
        redis.expire(names.outbox_queue("gone"), 100)
        alerter.reload(SimpleNamespace(subscribers=[desk], secrets=secrets))
        assert redis.ttl(names.outbox_queue("gone")) <= 100, "an expiry set before is not pushed back"
        alerter.reload(SimpleNamespace(subscribers=[desk, gone], secrets=secrets))
        assert redis.ttl(names.outbox_queue("gone")) == -1 and redis.ttl(names.outbox_items("gone")) == -1
        assert [i.id for i, _ in outbox.items("gone")] == ["msg_" + "1" * 32], "configured again: its queue is there"
        alerter.reload(SimpleNamespace(subscribers=[gone], secrets=secrets))
        assert 2 * HOUR - 5 <= redis.ttl(names.outbox_items("desk")) <= 2 * HOUR, "removed by a reload"
    finally:
        alerter.close()
        sender.close()


def test_a_take_settles_gives_back_unstarted_items_at_their_due_and_leases_in_order(redis: Redis, names: Names) -> None:
    """A lane's one call: what it finished leaves the queue, what it held unstarted is back where it was (so first
    in is still first attempted), and the next due items are leased, first due first, with the due they had."""
    from workers.alerter.outbox import Item, Outbox

    outbox = Outbox(redis, names, HOUR)
    now = time.time()
    ids = [f"msg_{i:032x}" for i in range(5)]
    for i, aid in enumerate(ids):
        outbox.put(Item(aid, "desk", {"alert_id": aid}), due=now - 10 + i)
    first = outbox.take("desk", 3, lease_s=60)
    assert [(i.id, round(due)) for i, due in first] == [(a, round(now - 10 + n)) for n, a in enumerate(ids[:3])]
    assert [i.id for i, _ in outbox.take("desk", 10, lease_s=60)] == ids[3:], "leased items are not due"
    # the lane delivered the first, and stops holding the next two unstarted (and the last two, taken above)
    back = {i.id: due for i, due in first[1:]}
    assert outbox.take("desk", 0, 60, settle=[ids[0]], give_back=back) == []
    assert [i.id for i, _ in outbox.items("desk")] == ids[1:], "settled: gone; given back: first in line again"
    assert [i.id for i, _ in outbox.take("desk", 10, lease_s=60)] == ids[1:3]


def test_a_batch_enqueue_cut_into_several_calls_marks_and_queues_each_subscriber(
    redis: Redis, names: Names, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Subscribers of one slot share a script call up to a size; past it the batch takes more calls, and each
    subscriber's alerts are still marked, queued once and in order."""
    from workers.alerter import outbox as ob

    monkeypatch.setattr(ob, "MAX_ALERTS_PER_CALL", 3)
    box = ob.Outbox(redis, names, HOUR)

    def batch(name: str) -> tuple[bool, list[ob.Outgoing]]:
        outs = []
        for i in range(2):
            aid = f"msg_{i:02x}{name.encode().hex():0<30}"  # markers keep the first 8 bytes of both ids
            outs.append(ob.Outgoing(ob.Item(aid, name, {"alert_id": aid}), f"cl_{i:02x}{'0' * 30}"))
        return False, outs

    subs = ["desk0", "desk1", "desk2"]
    assert box.enqueue({n: batch(n) for n in subs}) == {n: [ob.QUEUED, ob.QUEUED] for n in subs}
    again = box.enqueue({n: batch(n) for n in subs})
    assert again == {n: [ob.REPEAT, ob.REPEAT] for n in subs}, "a redone batch queues nothing twice"
    for n in subs:
        assert [i.id for i, _ in box.items(n)] == [o.item.id for o in batch(n)[1]]
