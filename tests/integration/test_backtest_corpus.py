"""`wirewatch backtest` over the shared corpus on the real broker: the seed and the corpus stories of a few
labelled files, produced into a stories topic as the poller would write them (the corpus id as story id).

It finds the seed for dprk and russia; with an edited topics file it reports exactly the stories the filter's
own Matcher, run here directly on the same texts, gains and loses; and its precision and recall are those
`wirewatch evaluate` computes on the same labelled stories. Skips when the corpus is absent."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.integration.test_backtest import backtest_json, config_dir, ids, produce
from tests.support import ROOT, corpus_dir, wirewatch
from workers.core.names import Names
from workers.core.stories import Story
from workers.infra.kafka import ensure_topics, topic_specs
from workers.settings.config import KafkaSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

LABELS = ROOT / "tests" / "fixtures" / "labels" / "corpus_stories.tsv"
SEED = "seed/ani-kim-russia-visit.hi.txt"
# Labelled files where the topics occur, in several languages and scripts (about 150 stories).
FILES = {
    SEED,
    "articles/fundus/de_DW.json",
    "articles/fundus/fr_LeFigaro.json",
    "articles/fundus/ru_Kommersant.json",
    "articles/fundus/uk_BBC.json",
    "articles/newspaper4k/txt_yna_co_kr.txt",
    "articles/newspaper4k/txt_japanese_article.txt",
    "feeds/Feeder/rss_lemonde.xml",
    "feeds/Feeder/rss_ukrnet.xml",
    "feeds/RSParser/aktuality.rss",
    "feeds/Feeder/rss_theguardian.xml",
}


def edited_topics(shipped: dict[str, Any]) -> dict[str, Any]:
    """The shipped topics with two edits: dprk only in English stories (it loses the others, the Hindi seed
    among them), russia also on Ukraine (it gains the stories naming Ukraine but not Russia)."""
    topics = json.loads(json.dumps(shipped))
    topics["topics"]["dprk"]["languages"] = ["en"]
    topics["topics"]["russia"]["terms"] = [*topics["topics"]["russia"]["terms"], "Ukraine", "Україн*", "Украин*"]
    return topics


@pytest.fixture(scope="module")
def corpus(bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = corpus_dir()
    if not (root / "MANIFEST.tsv").is_file():
        pytest.skip(f"no corpus at {root} (set WIREWATCH_CORPUS to the shared corpus)")
    from workers.evaluation.corpus import corpus_stories, file_of

    label_lines = LABELS.read_text(encoding="utf-8").splitlines()
    labelled = {line.split("\t")[0] for line in label_lines if line and not line.startswith("#")}
    items = [s for s in corpus_stories(root, FILES.__contains__) if s.id in labelled]
    assert SEED in {s.id for s in items}
    base = tmp_path_factory.mktemp("backtest-corpus")
    produced = {item.id for item in items}
    subset = base / "labels.tsv"  # the labels of the stories produced, ids only (no corpus text)
    kept = [line for line in label_lines if line.startswith("#") or line.split("\t")[0] in produced]
    subset.write_text("\n".join(kept) + "\n", encoding="utf-8")
    names = Names(topic_prefix=f"btc{os.getpid()}{time.monotonic_ns() % 10**6}.")
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    now = int(time.time() * 1000)
    records = []
    for i, item in enumerate(items):
        s = Story(
            id=item.id,
            feed=file_of(item.id),
            feed_url=f"file:///corpus/{file_of(item.id)}",
            title="",
            link="",
            text=item.text,
            language_hint=item.hint,
        )
        records.append((item.id.encode(), s.to_json(), now - (len(items) - i) * 60_000))
    produce(bootstrap, names.stories, records)
    shipped = yaml.safe_load((ROOT / "config" / "topics.yaml").read_text(encoding="utf-8"))
    running = config_dir(base / "config", names, shipped["topics"])
    shutil.copy(ROOT / "config" / "topics.yaml", running / "topics.yaml")
    candidate = base / "candidate.yaml"
    candidate.write_text(yaml.safe_dump(edited_topics(shipped), allow_unicode=True, sort_keys=False))
    yield {"root": root, "items": items, "labels": subset, "running": running, "candidate": candidate}


def test_finds_the_seed_and_agrees_with_evaluate(bootstrap: str, corpus: dict[str, Any]) -> None:
    running = corpus["running"]
    doc = backtest_json(
        bootstrap, "--topics", str(running / "topics.yaml"), "--config", str(running), "--labels", str(corpus["labels"])
    )
    assert doc["stories"] == len(corpus["items"]) and doc["bad_records"]["count"] == 0
    labels = doc["labels"]
    assert labels["stories"] == len(corpus["items"]) and labels["missing"] == 0
    # The seed is labelled dprk, russia and kim-russia-summit: no mistake on it means each was matched.
    assert not [e for e in labels["candidate"]["errors"] if e["id"] == SEED]
    for topic in ("dprk", "russia"):
        assert labels["candidate"]["topics"][topic]["tp"] >= 1
        assert doc["topics"][topic]["per_language"].get("hi", 0) >= 1
        assert doc["topics"][topic]["per_feed"].get(SEED) == 1
    # `wirewatch evaluate` on the same labelled stories: the same counts and the same mistakes.
    done = wirewatch(
        "evaluate", "--json", "--config", str(running), "--corpus", str(corpus["root"]),
        "--labels", str(corpus["labels"]), "--sentences", "0",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    evaluated = json.loads(done.stdout)
    assert evaluated["missing"] == [] and evaluated["unlabelled"] == 0
    assert labels["candidate"]["topics"] == evaluated["topics"]
    assert labels["running"]["topics"] == evaluated["topics"]
    assert labels["candidate"]["errors"] == sorted(evaluated["errors"], key=lambda e: e["id"])


def test_edited_topics_report_exactly_the_gained_and_lost_stories(bootstrap: str, corpus: dict[str, Any]) -> None:
    from workers.filter import language
    from workers.filter.matcher import Matcher
    from workers.filter.topics import load_topics

    running, candidate = corpus["running"], corpus["candidate"]
    doc = backtest_json(bootstrap, "--topics", str(candidate), "--config", str(running), "--samples", "1000")
    # The oracle: the filter's Matcher on the same texts, in this process, without Kafka or workers.
    old, new = Matcher(load_topics(running / "topics.yaml")), Matcher(load_topics(candidate))
    language.warm_up()
    want: dict[str, dict[str, set[str]]] = {}
    for item in corpus["items"]:
        lang = language.detect(item.text, hint=item.hint).language
        before, after = set(old.match(item.text, lang)), set(new.match(item.text, lang))
        for topic in after - before:
            want.setdefault(topic, {"gained": set(), "lost": set()})["gained"].add(item.id)
        for topic in before - after:
            want.setdefault(topic, {"gained": set(), "lost": set()})["lost"].add(item.id)
    assert want["dprk"]["lost"] and want["russia"]["gained"], "the edits must change something"
    assert SEED in want["dprk"]["lost"]
    for name, t in doc["topics"].items():
        expect = want.get(name, {"gained": set(), "lost": set()})
        assert ids(t["gained_samples"]) == expect["gained"], name
        assert ids(t["lost_samples"]) == expect["lost"], name
        assert (t["gained"], t["lost"]) == (len(expect["gained"]), len(expect["lost"])), name
    assert doc["topics"]["dprk"]["status"] == "changed" and doc["topics"]["kim-russia-summit"]["status"] == "unchanged"
