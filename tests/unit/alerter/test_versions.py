"""The pure parts of story versions in the alerter: batch runs, the change a version makes, the previous id."""

from __future__ import annotations

from dataclasses import replace

from tests.alerter_support import match, sub
from tests.schema_support import validator
from workers.alerter.dedup import Resolved, alert_id
from workers.alerter.outbox import Had, marker_owner
from workers.alerter.versions import build_event, change_of, previous_alert_id, runs

CL = "cl_" + "ab" * 16
DESK = sub("desk", "http://127.0.0.1/x")


def version(n: int, title: str = "North Korea dispatch 1", i: int = 1):  # type: ignore[no-untyped-def]
    ev = match(i)
    return replace(ev, story=replace(ev.story, version=n, title=title))


def test_two_versions_of_a_story_never_share_a_run() -> None:
    wanted = [(DESK, version(1)), (DESK, version(1, i=2)), (DESK, version(2)), (DESK, version(2)), (DESK, version(3))]
    got = [[(ev.story.id, ev.story.version) for _, ev in run] for run in runs(wanted)]
    assert got == [[("story-1", 1), ("story-2", 1)], [("story-1", 2), ("story-1", 2)], [("story-1", 3)]]
    assert runs([]) == []
    interleaved = [(DESK, version(1)), (DESK, version(2)), (DESK, version(1, i=2)), (DESK, version(2, i=2))]
    got = [[(ev.story.id, ev.story.version) for _, ev in run] for run in runs(interleaved)]
    assert got == [[("story-1", 1), ("story-2", 1)], [("story-1", 2), ("story-2", 2)]], "two runs, not four"


def test_only_a_later_version_of_the_kept_story_has_a_change() -> None:
    ev = version(2, "UPDATE 1-North Korea dispatch 1, Seoul says")
    old = ("North Korea dispatch 1", ev.story.text)
    assert change_of(ev, Resolved(CL, "exact", False, 1, "new", old)).title_changed
    assert change_of(ev, Resolved(CL, "exact", False, 1, "redo", old)) is not None  # a redone batch
    for how in ("base", "other", "stale"):
        assert change_of(ev, Resolved(CL, "exact", False, 1, how, None)) is None
    assert change_of(version(1), Resolved(CL, "new", True, 1, "new", old)) is None


def test_previous_alert_id_follows_what_the_subscriber_was_sent() -> None:
    first = alert_id("desk", "story-1")
    assert previous_alert_id(DESK, "story-1", Had(marker_owner(first), 1)) == first
    assert previous_alert_id(DESK, "story-1", Had(marker_owner(first), 3)) == alert_id("desk", "story-1", 3)
    copy = marker_owner(alert_id("desk", "story-copy"))
    assert previous_alert_id(DESK, "story-1", Had(copy, 1)) is None, "the first alert was a copy's"
    assert len({alert_id("desk", "story-1", n) for n in (1, 2, 3)}) == 3
    assert alert_id("desk", "story-1", 1) == alert_id("desk", "story-1"), "version 1 keeps its id"


def test_a_kill_is_a_withdrawn_event() -> None:
    ev = version(4, "KILL-North Korea dispatch 1")
    change = change_of(ev, Resolved(CL, "exact", False, 1, "new", ("North Korea dispatch 1", "x")))
    assert change is not None
    aid, payload = build_event(DESK, ev, change, CL, Had(marker_owner(alert_id("desk", "story-1")), 1))
    assert payload["type"] == "story.withdrawn" and aid == alert_id("desk", "story-1", 4) == payload["alert_id"]
    assert payload["previous_alert_id"] == alert_id("desk", "story-1")


def test_built_events_validate_against_their_schemas() -> None:
    had = Had(marker_owner(alert_id("desk", "story-1")), 1)
    for title, kind in (("UPDATE 1-North Korea dispatch 1, Seoul says", "updated"), ("KILL-North Korea", "withdrawn")):
        ev = version(2, title)
        change = change_of(ev, Resolved(CL, "exact", False, 1, "new", ("North Korea dispatch 1", "Earlier text.")))
        assert change is not None
        _, payload = build_event(DESK, ev, change, CL, had)
        validator(f"story.{kind}.schema.json").validate(payload)


def test_a_later_version_follows_a_topic_it_matches_or_carries_whatever_its_language() -> None:
    from workers.alerter.versions import follows
    from workers.alerter.worker import route

    kill = replace(version(2, "STORY WITHDRAWN"), topics={}, carried=["dprk"], language="ro")
    paris = sub("paris", "http://127.0.0.1/p", languages=["en"])
    other = sub("other", "http://127.0.0.1/o").model_copy(update={"topics": ["ukraine"]})
    assert follows(DESK, kill) and follows(paris, kill), "a carried topic, in another language"
    assert not follows(other, kill), "not one of its topics"
    assert not follows(DESK, replace(kill, story=replace(kill.story, version=1))), "a first version never"
    assert follows(DESK, replace(version(2), language="ro")), "matched, in another language"
    assert [s.name for s in route(kill.to_json(), [DESK, paris, other]).subscribers] == ["desk", "paris"]
