"""Backtest counting: one story's outcome per topic, bounded samples that do not depend on which worker saw
what, and label scoring the way `wirewatch evaluate` counts."""

from __future__ import annotations

import random

from workers.backtest.engine import Context, Engine, match_records
from workers.backtest.labels import Label, LabelSet
from workers.backtest.report import document, score, text
from workers.backtest.summary import HOUR_MS, Sample, Summary, keep, merged
from workers.backtest.window import Window
from workers.core.stories import Story
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic

RUNNING = [Topic("kp", terms=("North Korea",)), Topic("ru", terms=("Russia",), none_of=("Russian salad",))]
CANDIDATE = [Topic("kp", terms=("North Korea", "Pyongyang")), Topic("ru", terms=("Russia",), veto_of=("football",))]
DAY_MS = 24 * HOUR_MS


def record(story_id: str, title: str, when: int, feed: str = "wire") -> tuple[bytes, int, int, int]:
    s = Story(id=story_id, feed=feed, feed_url="http://x/f", title=title, link="http://x/" + story_id, text="")
    return (s.to_json(), when, 0, int(story_id.removeprefix("s")) if story_id[1:].isdigit() else 0)


def context(samples: int = 20, labels: frozenset[str] = frozenset()) -> Context:
    return Context(Matcher(CANDIDATE), Matcher(RUNNING), ("kp", "ru"), labels, samples)


def sample(ts: int, sid: str) -> Sample:
    return Sample(ts, sid, "t", "f", "l", "en", "s", ("x",))


def test_keep_holds_the_earliest_whatever_the_order() -> None:
    items = [sample(ts, f"s{ts}") for ts in range(50)]
    for seed in range(5):
        random.Random(seed).shuffle(items)
        kept: list[Sample] = []
        for item in items:
            keep(kept, item, 7)
        assert [s.timestamp for s in kept] == list(range(7))
    halves = [sorted(items[:25])[:7], sorted(items[25:])[:7]]
    assert merged(*halves, 7) == sorted(items)[:7]


def test_one_storys_outcomes() -> None:
    records = [
        record("s1", "North Korea fires", 0),  # both
        record("s2", "Pyongyang says", HOUR_MS),  # gained kp
        record("s3", "Russia football final", DAY_MS),  # lost ru, near miss (veto)
        record("s4", "Russian salad in Russia", DAY_MS + 1),  # both ru (candidate has no none)
        (b"{oops", 5, 1, 9),  # bad
    ]
    s = match_records(context(), records)
    assert (s.stories, s.bad, s.bad_samples[0][:2]) == (4, 1, (1, 9))
    kp, ru = s.topics["kp"], s.topics["ru"]
    assert (kp.matches, kp.running, kp.gained, kp.lost) == (2, 1, 1, 0)
    assert [x.id for x in kp.gained_samples] == ["s2"] and kp.gained_samples[0].terms == ("Pyongyang",)
    assert (ru.matches, ru.running, ru.gained, ru.lost, ru.near) == (1, 2, 0, 1, 1)
    assert [x.id for x in ru.near_samples] == ["s3"] and ru.near_samples[0].note == "veto 'football'"
    assert dict(kp.per_day) == {"1970-01-01": 2} and dict(ru.per_day) == {"1970-01-02": 1}
    assert dict(kp.per_feed) == {"wire": 2} and dict(kp.hourly) == {0: 1, 1: 1}


def test_chunks_merged_in_any_split_give_the_same_summary() -> None:
    titles = ["North Korea fires", "Pyongyang says", "Russia football", "Russia votes", "Weather"]
    records = [record(f"s{i}", titles[i % 5], i * 600_000) for i in range(60)]
    ctx = context(samples=3)
    whole = match_records(ctx, records)
    parts = Summary(samples=3)
    for start in (0, 7, 30):
        parts.merge(match_records(ctx, records[start : {0: 7, 7: 30, 30: 60}[start]]))
    assert parts == whole
    assert [x.id for x in whole.topics["kp"].gained_samples] == ["s1", "s6", "s11"]


def test_two_worker_processes_agree_with_one() -> None:
    titles = ["North Korea fires", "Pyongyang says", "Russia football", "Russia votes", "Weather"]
    records = [record(f"s{i}", titles[i % 5], i * 600_000) for i in range(400)]
    results = []
    for workers in (1, 2):
        done: list[int] = []
        with Engine(context(samples=5), workers, on_done=done.append) as engine:
            for start in range(0, len(records), 50):
                engine.feed(records[start : start + 50])
            results.append(engine.finish())
        assert sum(done) == 400
    assert results[0] == results[1]


def test_labels_scored_as_evaluate_counts() -> None:
    labels = LabelSet(
        ("kp", "ru"),
        {
            "s1": Label("s1", "en", frozenset({"kp"})),
            "s2": Label("s2", "en", frozenset()),  # a false positive of the candidate
            "s3": Label("s3", "en", frozenset({"ru"})),  # lost: a false negative of the candidate
            "gone": Label("gone", None, frozenset({"kp"})),
        },
    )
    records = [record("s1", "North Korea", 0), record("s2", "Pyongyang", 1), record("s3", "Russia football", 2)]
    s = match_records(context(labels=frozenset(labels.labels)), records + records)  # read twice: counted once
    scored = score(labels, s, {"candidate": ("kp", "ru"), "running": ("kp", "ru")})
    assert scored["stories"] == 3 and scored["missing"] == 1
    cand, run = scored["candidate"]["topics"], scored["running"]["topics"]
    assert (cand["kp"]["tp"], cand["kp"]["fp"], cand["ru"]["fn"]) == (1, 1, 1)
    assert (run["kp"]["fp"], run["ru"]["tp"]) == (0, 1)
    assert scored["candidate"]["errors"] == [
        {"id": "s2", "topic": "kp", "kind": "fp"},
        {"id": "s3", "topic": "ru", "kind": "fn"},
    ]


def test_document_and_text() -> None:
    s = match_records(context(), [record("s2", "Pyongyang says", HOUR_MS), (b"x", 0, 0, 3)])
    doc = document(
        s,
        stories_topic="w.stories",
        window=Window(),
        candidate_file="cand.yaml",
        running_file="config/topics.yaml",
        candidate=("kp", "ru", "new"),
        running=("kp", "ru", "old"),
        changed=frozenset({"kp"}),
        reported=("kp", "ru", "new", "old"),
        records=2,
        outside=0,
        seconds=1.0,
        workers=1,
    )
    assert {n: t["status"] for n, t in doc["topics"].items()} == {
        "kp": "changed", "ru": "unchanged", "new": "new", "old": "removed",
    }  # fmt: skip
    assert doc["topics"]["kp"]["hourly"] == [["1970-01-01T01:00:00Z", 1, 0]]
    assert doc["bad_records"]["reasons"] == {"malformed story": 1}
    out = text(doc)
    assert "gained (1):" in out and "Pyongyang says" in out and "bad records: 1" in out


def test_memory_is_bounded_whatever_the_number_of_stories() -> None:
    """Thousands of gained, lost and nearly matched stories keep ``samples`` of each; only counters grow."""
    titles = ["Pyongyang says", "Russia football"]
    records = [record(f"s{i}", titles[i % 2], i * 1000) for i in range(3000)]
    s = match_records(context(samples=4), records)
    kp, ru = s.topics["kp"], s.topics["ru"]
    assert (kp.gained, ru.lost, ru.near) == (1500, 1500, 1500)
    assert len(kp.gained_samples) == len(ru.lost_samples) == len(ru.near_samples) == 4
    assert s.labelled == {} and len(kp.hourly) == 1 and len(kp.per_feed) == 1
