"""The poller's decision on a parsed entry and the mark Redis holds for its id: new, next version, or nothing."""

from __future__ import annotations

from workers.core.stories import Story, content_hash
from workers.poller.decisions import version_hash
from workers.poller.worker import new_versions, seen_mark

TEXT = "North Korea's leader met Russia's president."


def story(sid: str, title: str = "Kim meets Putin", text: str = TEXT) -> Story:
    return Story(id=sid, feed="f", feed_url="http://f/rss", title=title, link=f"http://f/{sid}", text=text)


def test_unseen_is_version_one() -> None:
    out, remark = new_versions([story("a")], [None])
    assert [(s.id, s.version, s.previous_hash) for s in out] == [("a", 1, None)] and remark == []


def test_same_content_is_nothing() -> None:
    s = story("a")
    assert new_versions([s], [seen_mark(s).encode()]) == ([], [])


def test_changed_title_or_body_is_the_next_version() -> None:
    old = story("a")
    mark = seen_mark(old).encode()
    for new in (story("a", title="UPDATE 1-Kim meets Putin"), story("a", text="A longer account of the meeting.")):
        out, _ = new_versions([new], [mark])
        assert [(s.version, s.previous_hash) for s in out] == [(2, version_hash(old))]
    third, _ = new_versions([story("a", title="x")], [b"2:" + content_hash("y", "z").encode()])
    assert third[0].version == 3


def test_a_repeated_guid_in_one_feed_is_one_story() -> None:
    out, _ = new_versions([story("a"), story("a", title="other")], [None, None])
    assert len(out) == 1 and out[0].title == "Kim meets Putin"


def test_a_mark_without_hash_is_upgraded_not_produced() -> None:
    out, remark = new_versions([story("a")], [b"1"])
    assert out == [] and [s.version for s in remark] == [1]
    assert seen_mark(remark[0]).startswith("1:")


def test_the_version_cap_stops_a_churning_entry() -> None:
    mark = b"20:" + content_hash("old", "old").encode()
    assert new_versions([story("a")], [mark], max_versions=20) == ([], [])
    assert new_versions([story("a")], [mark], max_versions=21)[0][0].version == 21


def test_a_version_survives_the_wire() -> None:
    s = new_versions([story("a")], [b"1:" + b"0" * 32])[0][0]
    assert Story.from_json(s.to_json()) == s


LONG = " ".join(f"word{i}" for i in range(60))


def test_a_new_headline_on_a_long_body_is_the_next_version() -> None:
    old = story("a", text=LONG)
    out, _ = new_versions([story("a", title="UPDATE 1-Kim meets Putin", text=LONG)], [seen_mark(old).encode()])
    assert [s.version for s in out] == [2], "the content hash leaves this title out; the version hash does not"


def test_a_content_hash_mark_of_the_same_text_is_upgraded_not_produced() -> None:
    s = story("a", text=LONG)
    out, remark = new_versions([s], [b"3:" + content_hash(s.title, s.text).encode()])
    assert out == [] and [r.version for r in remark] == [3] and seen_mark(remark[0]) == "3:" + version_hash(s)
