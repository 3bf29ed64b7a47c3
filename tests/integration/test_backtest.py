"""`wirewatch backtest` on the real broker: stories produced with explicit record times into a stories topic,
read back by the command (no consumer group), matched with a candidate and the running topics file.

The stories of the first tests are written here for the purpose (no corpus text); the corpus tests produce the
seed and the corpus stories of a few labelled files, and skip when the corpus is absent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaAdminClient, KafkaProducer

from tests.support import ROOT, read_topic
from workers.core.names import Names
from workers.core.stories import Story
from workers.infra.kafka import ensure_topics, make_producer, topic_specs
from workers.settings.config import KafkaSettings

pytestmark = pytest.mark.integration

HOUR_MS = 3_600_000
NOW_MS = int(time.time() * 1000) // HOUR_MS * HOUR_MS  # the start of this hour: record times in whole hours

RUNNING = {
    "dprk": {"terms": ["North Korea", "Pyongyang"]},
    "russia": {"terms": ["Russia*", "Kremlin"], "none": ["Russian salad"]},
    "volcano": {"terms": ["volcano"]},
}
CANDIDATE = {
    "dprk": {"terms": ["North Korea", "Pyongyang", "Kim Jong Un"]},
    "russia": {"terms": ["Russia*", "Kremlin"], "none": ["Russian salad"], "veto": ["football"]},
    "quake": {"terms": ["earthquake"]},
}
# id, title, text, feed, hours before now
STORIES = [
    ("a1", "North Korea launches a missile", "The launch was seen from Seoul.", "wire", 100),
    ("a2", "Kim Jong Un inspects a factory", "State media showed the visit.", "wire", 50),
    ("a3", "Russia wins the football final", "A late goal decided the match.", "sport", 30),
    ("a4", "Kremlin says talks will continue", "A spokesman spoke to reporters.", "wire", 20),
    ("a5", "Volcano erupts in Iceland", "Flights were diverted.", "science", 10),
    ("a6", "Earthquake shakes Tokyo", "No damage was reported.", "science", 5),
    ("a7", "Holiday recipes", "How to make a Russian salad for twelve.", "food", 2),
    ("a8", "Markets close higher", "Shares rose on Tuesday.", "wire", 1),
]


def story(story_id: str, title: str, text: str, feed: str, hint: str | None = "en") -> Story:
    return Story(
        id=story_id,
        feed=feed,
        feed_url=f"http://127.0.0.1/{feed}.xml",
        title=title,
        link=f"http://127.0.0.1/{story_id}",
        text=text,
        language_hint=hint,
    )


def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes, int]]) -> None:
    """(key, value, record time in ms), waiting for every acknowledgement."""
    producer: KafkaProducer = make_producer(bootstrap, "test-backtest")
    try:
        futures = [producer.send(topic, key=k, value=v, timestamp_ms=ts) for k, v, ts in records]
        producer.flush(30)
        for f in futures:
            f.get(30)
    finally:
        producer.close()


def config_dir(path: Path, names: Names, topics: dict[str, Any]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "topics.yaml").write_text(yaml.safe_dump({"topics": topics}, allow_unicode=True, sort_keys=False))
    feeds = [{"name": "wire", "url": "http://127.0.0.1/wire.xml"}]
    (path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}))
    (path / "subscribers.yaml").write_text(yaml.safe_dump({"subscribers": []}))
    settings = {"kafka": {"topic_prefix": names.topic_prefix, "partitions": 2}, "redis": {"key_prefix": "x:"}}
    (path / "settings.yaml").write_text(yaml.safe_dump(settings))
    return path


def backtest(bootstrap: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "workers", "backtest", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


def backtest_json(bootstrap: str, *args: str) -> dict[str, Any]:
    done = backtest(bootstrap, *args, "--json")
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def ids(samples: list[dict[str, Any]]) -> set[str]:
    return {s["id"] for s in samples}


@pytest.fixture(scope="module")
def written(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """A stories topic holding STORIES (at their hours), two bad records, and the two config dirs."""
    names = Names(topic_prefix=f"bt{os.getpid()}{time.monotonic_ns() % 10**6}.")
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    records = [
        (sid.encode(), story(sid, title, text, feed).to_json(), NOW_MS - hours * HOUR_MS)
        for sid, title, text, feed, hours in STORIES
    ]
    records += [(b"bad1", b"not json at all", NOW_MS - 3 * HOUR_MS), (b"bad2", b'{"schema": 1}', NOW_MS - HOUR_MS)]
    produce(bootstrap, names.stories, records)
    base = tmp_path_factory.mktemp("backtest")
    running = config_dir(base / "config", names, RUNNING)
    candidate = base / "candidate.yaml"
    candidate.write_text(yaml.safe_dump({"topics": CANDIDATE}, sort_keys=False))
    yield running, candidate
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics(names.all_topics())
    except Exception:  # best effort: the broker is the session's and memory-only
        pass
    finally:
        admin.close()


def test_gained_lost_and_near_misses_are_exactly_the_changed_stories(
    bootstrap: str, written: tuple[Path, Path]
) -> None:
    running, candidate = written
    doc = backtest_json(bootstrap, "--topics", str(candidate), "--config", str(running), "--workers", "2")
    topics = doc["topics"]
    assert list(topics) == ["dprk", "russia", "quake", "volcano"]
    assert {n: t["status"] for n, t in topics.items()} == {
        "dprk": "changed",
        "russia": "changed",
        "quake": "new",
        "volcano": "removed",
    }
    assert ids(topics["dprk"]["gained_samples"]) == {"a2"} and topics["dprk"]["gained"] == 1
    assert topics["dprk"]["lost"] == 0
    assert ids(topics["quake"]["gained_samples"]) == {"a6"}
    assert ids(topics["russia"]["lost_samples"]) == {"a3"} and topics["russia"]["gained"] == 0
    assert ids(topics["volcano"]["lost_samples"]) == {"a5"} and topics["volcano"]["matches"] == 0
    assert (topics["dprk"]["matches"], topics["dprk"]["running_matches"]) == (2, 1)
    assert (topics["russia"]["matches"], topics["russia"]["running_matches"]) == (1, 2)
    # The sample carries what a reader needs to judge it: title, snippet, the terms that hit.
    gained = topics["dprk"]["gained_samples"][0]
    assert gained["title"] == "Kim Jong Un inspects a factory"
    assert gained["terms"] == ["Kim Jong Un"] and "Kim Jong Un" in gained["snippet"]
    # Near misses: the candidate's veto (a3) and its none (a7) removed a match it would have made.
    near = {s["id"]: s["removed_by"] for s in topics["russia"]["near_miss_samples"]}
    assert near == {"a3": "veto 'football'", "a7": "none 'Russian salad'"}
    # Per day, feed and language, from the record times.
    assert topics["dprk"]["per_feed"] == {"wire": 2}
    assert topics["dprk"]["per_language"] == {"en": 2}
    assert sum(topics["dprk"]["per_day"].values()) == 2
    hourly = {h: (c, r) for h, c, r in topics["dprk"]["hourly"]}
    # every hour from the first story (a1, 100 h ago) to the last (a8, 1 h ago), the same axis for every topic
    assert len(hourly) == 100 and sum(c for c, _r in hourly.values()) == 2
    # The two bad records are counted with their reasons; the eight stories all read.
    assert doc["stories"] == 8
    assert doc["bad_records"]["count"] == 2
    assert doc["bad_records"]["reasons"] == {"malformed story": 2}


def test_one_worker_and_two_agree(bootstrap: str, written: tuple[Path, Path]) -> None:
    running, candidate = written
    docs = [
        backtest_json(bootstrap, "--topics", str(candidate), "--config", str(running), "--workers", n)
        for n in ("1", "2")
    ]
    for doc in docs:
        for key in ("seconds", "stories_per_s", "workers"):
            doc.pop(key)
    assert docs[0] == docs[1]


def test_since_and_from_to_select_by_record_time(bootstrap: str, written: tuple[Path, Path]) -> None:
    running, candidate = written
    common = ["--topics", str(candidate), "--config", str(running), "--samples", "50"]
    # --since 24h: a4 (20 h), a5, a6, a7, a8 and the two bad records (3 h and 1 h ago)
    doc = backtest_json(bootstrap, *common, "--since", "24h")
    assert doc["stories"] == 5 and doc["bad_records"]["count"] == 2
    assert ids(doc["topics"]["quake"]["gained_samples"]) == {"a6"}
    assert doc["topics"]["dprk"]["matches"] == 0
    # --from/--to: [55 h ago, 25 h ago) holds a2 (50 h) and a3 (30 h) only
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW_MS - 55 * HOUR_MS) / 1000))
    end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW_MS - 25 * HOUR_MS) / 1000))
    doc = backtest_json(bootstrap, *common, "--from", start, "--to", end)
    assert doc["stories"] == 2 and doc["bad_records"]["count"] == 0
    assert ids(doc["topics"]["dprk"]["gained_samples"]) == {"a2"}
    assert ids(doc["topics"]["russia"]["lost_samples"]) == {"a3"}
    assert doc["window"]["first_story"] < doc["window"]["last_story"]
    # --from alone: from 3 h ago, only a7, a8 and the bad ones
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW_MS - 3 * HOUR_MS) / 1000))
    doc = backtest_json(bootstrap, *common, "--from", start, "--topic", "russia")
    assert doc["stories"] == 2 and list(doc["topics"]) == ["russia"]
    assert ids(doc["topics"]["russia"]["near_miss_samples"]) == {"a7"}


def test_html_is_one_self_contained_page(bootstrap: str, written: tuple[Path, Path], tmp_path: Path) -> None:
    running, candidate = written
    out = tmp_path / "backtest.html"
    done = backtest(bootstrap, "--topics", str(candidate), "--config", str(running), "--html", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4  # one hourly chart per topic
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    for attribute in ("src=", "href="):
        for piece in page.split(attribute)[1:]:
            assert not piece.lstrip("\"'").startswith(("http:", "https:", "//")), piece[:80]
    assert "Kim Jong Un inspects a factory" in page and "veto &#x27;football&#x27;" in page


def test_progress_goes_to_stderr_and_nothing_is_produced_or_committed(
    bootstrap: str, written: tuple[Path, Path]
) -> None:
    running, candidate = written
    prefix = yaml.safe_load((running / "settings.yaml").read_text())["kafka"]["topic_prefix"]
    done = backtest(bootstrap, "--topics", str(candidate), "--config", str(running))
    assert done.returncode == 0, done.stderr
    assert "stories/s" in done.stderr and "10 records read, 8 stories matched" in done.stderr
    assert done.stdout.startswith("backtest of ") and "gained (1):" in done.stdout
    # A tool, not a stage: no match was produced, no consumer group of this install exists.
    assert read_topic(bootstrap, prefix + "matches", expect=0, timeout=1.0) == []
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        assert not [g for g in admin.list_groups() if prefix in repr(g)]  # a Group record names its group
    finally:
        admin.close()


def test_config_problems_exit_2_one_line_each(bootstrap: str, written: tuple[Path, Path], tmp_path: Path) -> None:
    running, _candidate = written
    broken = tmp_path / "broken.yaml"
    broken.write_text("topics:\n  dprk:\n    terms: []\n")
    done = backtest(bootstrap, "--topics", str(broken), "--config", str(running), "--since", "soon", "--workers", "0")
    assert done.returncode == 2
    problems = done.stderr.strip().splitlines()[1:]
    assert len(problems) == 3, done.stderr
    assert any("--since" in p for p in problems) and any("--workers" in p for p in problems)
    assert any(str(broken) in p and "dprk" in p for p in problems)
    assert "Traceback" not in done.stderr


def test_unreachable_kafka_is_one_clear_line(written: tuple[Path, Path]) -> None:
    running, candidate = written
    from workers.devstack.stack import free_port

    done = backtest(f"127.0.0.1:{free_port()}", "--topics", str(candidate), "--config", str(running))
    assert done.returncode == 1
    assert "Kafka at 127.0.0.1:" in done.stderr and "not reachable" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_live_topic_ends_at_the_records_of_the_start(bootstrap: str, tmp_path: Path) -> None:
    """While stories keep arriving, the backtest reads what was there when it began (and perhaps a little more)
    and ends: the records newer than its start are not part of it."""
    import threading

    names = Names(topic_prefix=f"btl{os.getpid()}{time.monotonic_ns() % 10**6}.")
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    old = [(f"o{i}".encode(), story(f"o{i}", "Pyongyang", "x", "wire").to_json(), NOW_MS - HOUR_MS) for i in range(20)]
    produce(bootstrap, names.stories, old)
    running = config_dir(tmp_path / "config", names, RUNNING)
    stop = threading.Event()

    def keep_producing() -> None:
        producer = make_producer(bootstrap, "test-backtest-live")
        try:
            for i in range(2000):
                if stop.wait(0.05):
                    break
                producer.send(names.stories, key=b"n%d" % i, value=story(f"n{i}", "Pyongyang", "x", "wire").to_json())
                producer.flush(10)
        finally:
            producer.close()

    feeder = threading.Thread(target=keep_producing, daemon=True)
    feeder.start()
    try:
        time.sleep(1.0)  # the topic is growing before the backtest starts
        doc = backtest_json(bootstrap, "--topics", str(running / "topics.yaml"), "--config", str(running))
        still_arriving = feeder.is_alive()  # it produces for up to 100 s: the backtest ended while it did
    finally:
        stop.set()
        feeder.join(30)
    assert still_arriving
    assert doc["topics"]["dprk"]["matches"] >= 20 and doc["stories"] == doc["topics"]["dprk"]["matches"]
