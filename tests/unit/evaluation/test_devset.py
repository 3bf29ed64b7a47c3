"""The multilingual development set: label ids resolve to corpus lines, drift is caught, the counting is right."""

from __future__ import annotations

import shutil
from pathlib import Path

import babel
import pytest

from tests.support import ROOT, corpus_dir
from workers.core.errors import ConfigError
from workers.evaluation.devset import (
    LABELS,
    STORIES,
    Example,
    columns_for,
    format_changes,
    format_table,
    load_all,
    load_corpus_labels,
    load_written,
    score,
    sha1_8,
)
from workers.filter.language import detect
from workers.filter.matcher import Matcher
from workers.filter.topics import load_topics

HEADER = "# topics: russia,dprk\nfile\tline\tsha1_8\tlang\ttopic\tlabel\tnote\n"


def write_corpus(root: Path, lines: list[str]) -> str:
    rel = "langid/lingua-go/sentences_xx.txt"
    (root / rel).parent.mkdir(parents=True)
    (root / rel).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rel


def row(rel: str, line: int, sha: str, topic: str, label: int, note: str = "name") -> str:
    return f"{rel}\t{line}\t{sha}\txx\t{topic}\t{label}\t{note}\n"


def test_label_ids_resolve_and_a_changed_line_is_skipped(tmp_path: Path) -> None:
    lines = ["Russia and North Korea signed a pact.", "Borussia won.", "An ordinary sentence."]
    rel = write_corpus(tmp_path, lines)
    labels = tmp_path / "labels.tsv"
    labels.write_text(
        HEADER
        + row(rel, 1, sha1_8(lines[0]), "russia", 1)
        + row(rel, 1, sha1_8(lines[0]), "dprk", 1)
        + row(rel, 2, sha1_8(lines[1]), "russia", 0, "lookalike")
        + row(rel, 3, sha1_8("the text it had before"), "-", 0, "random")
        + row(rel, 9, "00000000", "-", 0, "random"),
        encoding="utf-8",
    )
    loaded = load_corpus_labels(labels, tmp_path)
    assert loaded.topics == ("russia", "dprk")
    assert [(e.id, e.text, e.topics, e.kind) for e in loaded.examples] == [
        (f"{rel}:1", lines[0], frozenset({"russia", "dprk"}), "name"),
        (f"{rel}:2", lines[1], frozenset(), "lookalike"),
    ]
    assert loaded.drifted == [f"{rel}:3"] and loaded.missing == [f"{rel}:9"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a\t1\tx\n", "labels.tsv:3: expected file, line"),
        ("f\t1\tabcd1234\txx\tkorea\t1\tname\n", "labels.tsv:3: topic 'korea' not in the"),
        ("f\tone\tabcd1234\txx\trussia\t1\tname\n", "labels.tsv:3: expected file, line"),
    ],
)
def test_bad_label_rows(tmp_path: Path, body: str, message: str) -> None:
    labels = tmp_path / "labels.tsv"
    labels.write_text(HEADER + body, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_corpus_labels(labels, tmp_path)


def test_written_items_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "stories.yaml"
    path.write_text("items:\n  - {id: no-1, lang: no, text: Russland svarte., topics: [russia], class: name}\n")
    with pytest.raises(ConfigError, match=r"items\[1\]: id, lang, text and class must be non-empty strings"):
        load_written(path, ["russia"])
    path.write_text('items:\n  - {id: a, lang: "no", text: Kina svarte., topics: [china], class: name}\n')
    with pytest.raises(ConfigError, match=r"items\[1\] \(a\): topics must be a list of \['russia'\]"):
        load_written(path, ["russia"])


def test_counts_per_topic_and_language() -> None:
    examples = [
        Example("1", "fi", "Venäjä", frozenset({"russia"}), "case", "written"),  # russia tp
        Example("2", "fi", "Venäjällä", frozenset({"russia"}), "case", "written"),  # russia fn
        Example("3", "fi", "Borussia", frozenset(), "negative", "written"),  # russia fp
        Example("4", "ko", "북한", frozenset({"dprk"}), "name", "written"),  # dprk tp
        Example("5", "ko", "평양냉면", frozenset(), "negative", "written"),  # nothing
    ]
    matched = {"Venäjä": {"russia"}, "Borussia": {"russia"}, "북한": {"dprk", "other"}}
    report = score(examples, lambda text, lang: matched.get(text, set()), ["russia", "dprk"], lambda text: "fi")
    russia = report.labelled.topics["russia"]
    assert (russia.tp, russia.fp, russia.fn, russia.precision, russia.recall) == (1, 1, 1, 0.5, 0.5)
    assert report.labelled.by_language[("dprk", "ko")].to_dict()["recall"] == 1.0
    assert report.labelled.by_language[("dprk", "fi")].to_dict() == {
        "tp": 0,
        "fp": 0,
        "fn": 0,
        "precision": None,
        "recall": None,
    }
    assert [(m.example, m.topic) for m in report.labelled.misses] == [("2", "russia")]
    assert [(m.example, m.topic) for m in report.labelled.false_positives] == [("3", "russia")]
    pooled = report.labelled.pooled(["russia", "dprk"])
    assert (pooled.tp, pooled.fp, pooled.fn) == (2, 1, 1)
    # The detector says "fi" for everything: the Korean examples count as misdetected, the counts stay put.
    assert {k: (a.correct, a.total) for k, a in report.detection.items()} == {"fi": (3, 3), "ko": (0, 2)}
    assert report.detected is not None and report.detected.mistakes[0].language == "fi"
    table = format_table(report.labelled, columns_for(["russia", "dprk"]))
    assert "fi   " in table and "russia: recall >= 0.9 in 0 of 1 languages" in table
    assert "dprk: recall >= 0.9 in 1 of 1 languages: ko" in table
    assert "same counts" in format_changes(report.labelled, report.detected, columns_for(["russia", "dprk"]))


@pytest.fixture(scope="module")
def corpus() -> Path:
    root = corpus_dir()
    if not (root / "langid" / "lingua-go").is_dir():
        pytest.skip(f"corpus not found at {root} (set WIREWATCH_CORPUS)")
    return root


def test_a_corrupted_copy_of_a_corpus_file_is_detected(corpus: Path, tmp_path: Path) -> None:
    rel = "langid/lingua-go/sentences_fi.txt"
    (tmp_path / rel).parent.mkdir(parents=True)
    shutil.copy(corpus / rel, tmp_path / rel)
    labels = [line for line in LABELS.read_text(encoding="utf-8").splitlines() if line.startswith(rel + "\t")]
    number = int(labels[0].split("\t")[1])
    lines = (tmp_path / rel).read_text(encoding="utf-8").split("\n")
    lines[number - 1] += " (edited)"
    (tmp_path / rel).write_text("\n".join(lines), encoding="utf-8")
    loaded = load_corpus_labels(LABELS, tmp_path)
    assert loaded.drifted == [f"{rel}:{number}"]
    assert {e.id.split(":")[0] for e in loaded.examples} == {rel}  # the other files are missing from the copy
    assert len(loaded.missing) > 1000


def test_the_shipped_topics_run_over_the_whole_set(corpus: Path) -> None:
    """Nothing about recall here (that would pin today's matcher): the set resolves, is valid and is counted."""
    loaded, written = load_all(corpus)
    assert loaded.drifted == [] and loaded.missing == []
    rows = [line.split("\t") for line in LABELS.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    positives = {(r[0], r[1], r[4]) for r in rows[1:] if r[5] == "1"}
    resolved = {(e.id.rsplit(":", 1)[0], e.id.rsplit(":", 1)[1], t) for e in loaded.examples for t in e.topics}
    assert positives == resolved
    # Labels name corpus lines, never hold their text.
    assert max(len(line) for line in LABELS.read_text(encoding="utf-8").splitlines()) <= 120
    codes = {c for c in babel.Locale("en").languages if isinstance(c, str)}
    assert {e.language for e in written} <= codes and {e.language for e in loaded.examples} <= codes
    assert len({e.id for e in written}) == len(written) and STORIES.is_file()
    matcher = Matcher(load_topics(ROOT / "config" / "topics.yaml"))
    topics = ["russia", "dprk"]
    examples = [*loaded.examples, *written]
    report = score(examples, lambda text, lang: set(matcher.match(text, lang)), topics, lambda t: detect(t).language)
    for topic in topics:
        counts = report.labelled.topics[topic]
        assert counts.tp + counts.fn == sum(topic in e.topics for e in examples)
    assert sum(a.total for a in report.detection.values()) == len(examples)
