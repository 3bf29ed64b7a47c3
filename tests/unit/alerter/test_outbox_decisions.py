"""The alerter's pure decisions around the outbox: `duplicates` refreshed from the live cluster, the upgrade's
reading of the old per-subscriber index, items and markers as they are stored."""

from __future__ import annotations

import json

from workers.alerter.dedup import StoryPrints, cluster_name, founding_cluster
from workers.alerter.delivery import refresh_duplicates
from workers.alerter.digest import build_digest
from workers.alerter.legacy import old_owner
from workers.alerter.outbox import (
    MARK_BYTES,
    Item,
    Undecodable,
    cluster_digest,
    decode,
    find_mark,
    mark_group,
    marker_field,
    marker_owner,
)

CL = cluster_name(founding_cluster("story-1"))


def alert(stories: int = 1) -> dict[str, object]:
    return {
        "type": "story.matched",
        "alert_id": "msg_" + "1" * 32,
        "duplicates": stories - 1,
        "cluster": {"id": CL, "stories": stories},
    }


def test_duplicates_are_the_live_cluster_size_less_one() -> None:
    item = Item("msg_" + "1" * 32, "desk", alert(), clusters=[CL])
    refresh_duplicates(item, [4])
    assert item.alert["duplicates"] == 3 and item.alert["cluster"] == {"id": CL, "stories": 4}
    refresh_duplicates(item, [0])  # the cluster record expired: what the alert said stays
    assert item.alert["duplicates"] == 3


def test_a_digest_refreshes_each_of_its_alerts() -> None:
    alerts = [alert(), alert(2)]
    item = Item("dig_x", "desk", build_digest("desk", alerts, "dig_x"), clusters=[CL, CL])
    refresh_duplicates(item, [2, 5])
    assert [a["duplicates"] for a in item.alert["alerts"]] == [1, 4]


def test_item_and_marker_encodings() -> None:
    item = Item("msg_" + "ab" * 16, "desk", alert(), attempts=2, last_error="endpoint answered 500", queued_at=1.5)
    assert Item.from_json(item.to_json()) == item
    assert len(marker_field(CL)) == 12, "the previous layout's field, still read for one window"
    assert len(marker_owner(item.id)) == 4 and MARK_BYTES == 16, "16 bytes of record per delivered cluster"


def test_a_marker_record_is_found_only_where_a_record_starts() -> None:
    digest = cluster_digest(CL)
    key = digest[1:7]
    assert mark_group(digest) == bytes([digest[0] % 32]) and len(mark_group(digest)) == 1
    other = b"\x00" + key + b"\x00" * 9  # the key's bytes at offset 1 of another record: not a match
    mine = key + b"\x01" * 10
    assert find_mark(other, digest) is None
    assert find_mark(other + mine, digest) == MARK_BYTES
    assert find_mark(b"", digest) is None


def prints(h: int | None) -> StoryPrints:
    return StoryPrints(exact=[("id", "s1"), ("content", "c" * 32)], simhash=h)


def test_the_old_index_names_its_owner_by_exact_then_near_fingerprint() -> None:
    owner, now, ttl = b"o" * 16, 10_000, 3600
    p = prints(0xB7E696C3FA65DC39)
    live, stale = (now - 10).to_bytes(4, "big"), (now - ttl).to_bytes(4, "big")
    assert old_owner([{p.fields[1]: owner + live}], p, ttl, now, 3) == owner
    assert old_owner([{p.fields[1]: owner + stale}], p, ttl, now, 3) is None, "past retention"
    # the old band records hold 8-byte SimHashes: no MinHash can be compared with them, so only exact
    # fingerprints of the old index count (README, Upgrading the dedup layout)
    simhash_copy = {p.fields[2]: owner + (0xB7E696C3FA65DC39 ^ 0b101).to_bytes(8, "big") + live}
    assert old_owner([simhash_copy], p, ttl, now, 3) is None
    assert old_owner([simhash_copy], prints(None), ttl, now, 3) is None


def test_an_item_queued_by_a_newer_alerter_with_an_unknown_field_still_reads() -> None:
    item = Item("msg_" + "a" * 32, "desk", {"type": "story.matched"}, attempts=2, queued_at=1.5)
    doc = json.loads(item.to_json()) | {"priority": "high"}  # a field a later version might add
    assert Item.from_json(json.dumps(doc)) == item
    assert Item.from_json(item.to_json()) == item


def test_an_item_that_does_not_decode_says_why() -> None:
    good = Item("msg_" + "cd" * 16, "desk", alert(), queued_at=2.0)
    assert decode(good.id, "desk", good.to_json()) == good
    for raw, why in [
        (b"{", "JSONDecodeError"),
        (b'{"id": "msg_x", "subscriber": "desk"}', "alert"),
        (b"[1]", "TypeError"),
        (b'{"id": 7, "subscriber": "desk", "alert": {}}', "'id' must be a string"),
        (b'{"id": "msg_x", "subscriber": "desk", "alert": "text"}', "'alert' an object"),
        (b'{"id": "\xff"}', "UnicodeDecodeError"),
    ]:
        got = decode("msg_x", "desk", raw)
        assert isinstance(got, Undecodable) and got.raw == raw and got.id == "msg_x", raw
        assert got.reason.startswith("undecodable outbox item: ") and why in got.reason and len(got.reason) <= 300
