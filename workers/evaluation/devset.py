"""The multilingual development set for country topics: per-language precision and recall of a matcher.

Two sources of examples, each an (id, language, text, topics) with the topics it is about:

1. real sentences of the shared corpus, labelled by id in ``tests/fixtures/labels/langid_countries.tsv``
   (file, line, sha1_8, lang, topic, label, note): the text is read from the corpus at run time; a row whose
   line no longer has the recorded sha1 is skipped and counted as drifted, a line the corpus lacks as missing.
   A listed sentence is labelled for every topic of the file's ``# topics:`` header: it is about the topics it
   has a label-1 row for, and a negative for every other one;
2. sentences written for the set, in ``tests/fixtures/stories/multilingual_countries.yaml``.

``score`` runs ``match(text, language) -> set of topics`` over every example, once with the language the
example is labelled with (the file's or the fixture's) and, given a detector, once with the detected language,
as the filter stage would; and counts per topic and per (topic, language):

- a true positive when the example is about the topic and the topic matched;
- a false positive when the topic matched an example that is not about it;
- a false negative when the example is about the topic and it did not match;

keeping every miss and false positive. Only the topics the caller scores are counted: a topic the labels do
not know would make every match a false positive. ``format_table`` prints a row per language.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from workers.core.errors import ConfigError
from workers.evaluation.scoring import Accuracy, Counts

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "fixtures" / "labels" / "langid_countries.tsv"
STORIES = ROOT / "tests" / "fixtures" / "stories" / "multilingual_countries.yaml"
LABEL_COLUMNS = ("file", "line", "sha1_8", "lang", "topic", "label", "note")

Match = Callable[[str, str], set[str]]  # (text, language) -> the topics that matched
Detect = Callable[[str], str]  # text -> language code


@dataclass(frozen=True)
class Example:
    id: str  # "langid/lingua-go/sentences_fi.txt:12" or the fixture's id
    language: str
    text: str
    topics: frozenset[str]  # the topics the example is about
    kind: str  # the label note or the fixture class: case, lookalike, city, random...
    source: str  # "corpus" or "written"


@dataclass
class Loaded:
    examples: list[Example] = field(default_factory=list)
    topics: tuple[str, ...] = ()  # the topics every example is labelled for
    drifted: list[str] = field(default_factory=list)  # labelled lines whose text changed (sha1 differs)
    missing: list[str] = field(default_factory=list)  # labelled lines the corpus does not have


def sha1_8(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


def _label_rows(path: Path) -> tuple[tuple[str, ...], list[dict[str, str]]]:
    topics: tuple[str, ...] = ()
    rows: list[dict[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("# topics:"):
            topics = tuple(t.strip() for t in line.removeprefix("# topics:").split(",") if t.strip())
        if not line.strip() or line.startswith("#") or line.startswith("file\t"):
            continue
        cols = line.split("\t")
        if len(cols) != len(LABEL_COLUMNS) or not cols[1].isdigit() or cols[5] not in ("0", "1"):
            raise ConfigError(f"{path}:{number}: expected {', '.join(LABEL_COLUMNS)} separated by tabs")
        row = dict(zip(LABEL_COLUMNS, cols, strict=True))
        if row["topic"] != "-" and row["topic"] not in topics:
            raise ConfigError(f"{path}:{number}: topic {row['topic']!r} not in the '# topics:' header")
        rows.append(row)
    if not topics:
        raise ConfigError(f"{path}: no '# topics: a,b' header naming the labelled topics")
    return topics, rows


def load_corpus_labels(path: Path, corpus: Path) -> Loaded:
    """The labelled corpus sentences of ``path``, their text read from ``corpus`` (see the module docstring)."""
    topics, rows = _label_rows(path)
    by_line: dict[tuple[str, int], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_line[(row["file"], int(row["line"]))].append(row)
    loaded = Loaded(topics=topics)
    files: dict[str, list[str] | None] = {}
    for (rel, number), group in sorted(by_line.items()):
        if rel not in files:
            source = corpus / rel
            files[rel] = source.read_text(encoding="utf-8").split("\n") if source.is_file() else None
        lines, ident = files[rel], f"{rel}:{number}"
        if lines is None or not 1 <= number <= len(lines):
            loaded.missing.append(ident)
            continue
        text = lines[number - 1]
        if any(row["sha1_8"] != sha1_8(text) for row in group):
            loaded.drifted.append(ident)
            continue
        positive = [row for row in group if row["label"] == "1"]
        kind = (positive or group)[0]["note"]
        about = frozenset(row["topic"] for row in positive)
        loaded.examples.append(Example(ident, group[0]["lang"], text, about, kind, "corpus"))
    if loaded.drifted or loaded.missing:
        logger.warning(
            "devset labels skipped path=%s drifted=%d missing=%d", path, len(loaded.drifted), len(loaded.missing)
        )
    return loaded


def load_written(path: Path, topics: Iterable[str]) -> list[Example]:
    """The written sentences of ``path``; a malformed item is a ConfigError naming the file and the item."""
    known = set(topics)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a mapping with an 'items' list")
    out: list[Example] = []
    seen: set[str] = set()
    for position, item in enumerate(items, start=1):
        where = f"{path}: items[{position}]"
        if not isinstance(item, dict) or set(item) != {"id", "lang", "text", "topics", "class"}:
            raise ConfigError(f"{where}: expected exactly the keys id, lang, text, topics, class")
        ident, lang, text, about = item["id"], item["lang"], item["text"], item["topics"]
        # YAML 1.1 reads an unquoted `no` (Norwegian) as false: insist on strings.
        if not all(isinstance(v, str) and v for v in (ident, lang, text, item["class"])):
            raise ConfigError(f"{where}: id, lang, text and class must be non-empty strings (quote 'no')")
        if ident in seen:
            raise ConfigError(f"{where}: id {ident!r} used twice")
        if not isinstance(about, list) or not set(about) <= known:
            raise ConfigError(f"{where} ({ident}): topics must be a list of {sorted(known)}")
        seen.add(ident)
        out.append(Example(ident, lang, text, frozenset(about), item["class"], "written"))
    return out


@dataclass(frozen=True)
class Mistake:
    example: str
    language: str  # the language the matcher was given
    topic: str
    kind: str  # "fn" (a miss) or "fp"


@dataclass
class Score:
    topics: dict[str, Counts] = field(default_factory=dict)
    by_language: dict[tuple[str, str], Counts] = field(default_factory=dict)  # (topic, labelled language)
    mistakes: list[Mistake] = field(default_factory=list)

    @property
    def misses(self) -> list[Mistake]:
        return [m for m in self.mistakes if m.kind == "fn"]

    @property
    def false_positives(self) -> list[Mistake]:
        return [m for m in self.mistakes if m.kind == "fp"]

    def pooled(self, topics: Iterable[str], language: str | None = None) -> Counts:
        """The counts of ``topics`` added up, over every language or for one."""
        chosen = set(topics)
        parts = (
            [c for t, c in self.topics.items() if t in chosen]
            if language is None
            else [c for (t, lang), c in self.by_language.items() if t in chosen and lang == language]
        )
        return Counts(sum(c.tp for c in parts), sum(c.fp for c in parts), sum(c.fn for c in parts))

    def to_dict(self) -> dict[str, Any]:
        return {
            "topics": {t: c.to_dict() for t, c in sorted(self.topics.items())},
            "languages": {f"{t}/{lang}": c.to_dict() for (t, lang), c in sorted(self.by_language.items())},
            "mistakes": [m.__dict__ for m in self.mistakes],
        }


@dataclass
class Report:
    labelled: Score  # the matcher given each example's labelled language
    detected: Score | None  # given the detected language instead (None without a detector)
    detection: dict[str, Accuracy] = field(default_factory=dict)  # per labelled language
    examples: int = 0


def _count(score: Score, example: Example, language: str, matched: set[str], topics: Sequence[str]) -> None:
    for topic in topics:
        want, got = topic in example.topics, topic in matched
        for counts in (
            score.topics.setdefault(topic, Counts()),
            score.by_language.setdefault((topic, example.language), Counts()),
        ):
            counts.tp += want and got
            counts.fp += got and not want
            counts.fn += want and not got
        if want != got:
            score.mistakes.append(Mistake(example.id, language, topic, "fn" if want else "fp"))


def score(examples: Iterable[Example], match: Match, topics: Sequence[str], detect: Detect | None = None) -> Report:
    """Count ``match`` against the examples for ``topics`` (see the module docstring)."""
    report = Report(Score(), Score() if detect else None)
    for example in examples:
        report.examples += 1
        _count(report.labelled, example, example.language, match(example.text, example.language), topics)
        if detect is not None and report.detected is not None:
            found = detect(example.text)
            accuracy = report.detection.setdefault(example.language, Accuracy())
            accuracy.total += 1
            accuracy.correct += found == example.language
            _count(report.detected, example, found, match(example.text, found), topics)
    return report


def _cell(c: Counts) -> str:
    n_pos = c.tp + c.fn
    recall = "  -  " if c.recall is None else f"{c.recall:5.2f}"
    precision = "  -  " if c.precision is None else f"{c.precision:5.2f}"
    return f"{n_pos:5d} {recall} {precision}"


def format_table(result: Score, columns: Sequence[tuple[str, Sequence[str]]], min_recall: float = 0.9) -> str:
    """One row per labelled language: n_pos, recall and precision of each column (a topic or a pool of topics),
    then the totals and, per column, the languages with positives whose recall is at least ``min_recall``."""
    languages = sorted({lang for _topic, lang in result.by_language})
    head = "lang " + "".join(f" | {title[:17]:<17}" for title, _ in columns)
    sub = "     " + " | n_pos     R     P" * len(columns)
    lines = [head, sub]
    for lang in languages:
        lines.append(f"{lang:<5}" + "".join(f" | {_cell(result.pooled(ts, lang))}" for _, ts in columns))
    lines.append("all  " + "".join(f" | {_cell(result.pooled(ts))}" for _, ts in columns))
    for title, topics in columns:
        good = [
            lang
            for lang in languages
            if (c := result.pooled(topics, lang)).recall is not None and c.recall >= min_recall
        ]
        with_pos = sum(1 for lang in languages if result.pooled(topics, lang).recall is not None)
        lines.append(f"{title}: recall >= {min_recall} in {len(good)} of {with_pos} languages: {' '.join(good)}")
    return "\n".join(lines)


def detection_summary(report: Report) -> str:
    right = sum(a.correct for a in report.detection.values())
    total = sum(a.total for a in report.detection.values())
    return f"(detection right for {right} of {total} examples)"


def format_changes(labelled: Score, detected: Score, columns: Sequence[tuple[str, Sequence[str]]]) -> str:
    """The totals with the detected language, and the languages whose counts it changes."""
    lines = ["all  " + "".join(f" | {_cell(detected.pooled(ts))}" for _, ts in columns)]
    for lang in sorted({lang for _topic, lang in labelled.by_language}):
        before = [labelled.pooled(ts, lang).to_dict() for _, ts in columns]
        if before != [detected.pooled(ts, lang).to_dict() for _, ts in columns]:
            lines.append(f"{lang:<5}" + "".join(f" | {_cell(detected.pooled(ts, lang))}" for _, ts in columns))
    if len(lines) == 1:
        lines.append("(the same counts as with the labelled language in every language)")
    return "\n".join(lines)


def columns_for(topics: Sequence[str]) -> list[tuple[str, list[str]]]:
    """russia and dprk on their own, the other country topics pooled."""
    single = [(t, [t]) for t in ("russia", "dprk") if t in topics]
    others = [t for t in topics if t not in ("russia", "dprk")]
    return single + ([("countries: " + ",".join(others), others)] if others else [])


def load_all(corpus: Path, labels: Path = LABELS, stories: Path = STORIES) -> tuple[Loaded, list[Example]]:
    loaded = load_corpus_labels(labels, corpus)
    return loaded, load_written(stories, loaded.topics)


def matcher_function(matcher: Any) -> Match:
    """``Matcher.match`` as a ``Match``: the names of the topics that matched."""

    def match(text: str, language: str) -> set[str]:
        return set(matcher.match(text, language))

    return match


def main(argv: Sequence[str] | None = None) -> int:
    from workers.filter.language import detect
    from workers.filter.matcher import Matcher
    from workers.filter.topics import load_topics

    parser = argparse.ArgumentParser(prog="python -m workers.evaluation.devset", description=__doc__.splitlines()[0])
    parser.add_argument("--topics", action="append", type=Path, help="a topics file (repeatable)")
    parser.add_argument("--corpus", type=Path, help="the shared corpus (default: $WIREWATCH_CORPUS or ../shared)")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--stories", type=Path, default=STORIES)
    parser.add_argument("--source", choices=("all", "corpus", "written"), default="all")
    parser.add_argument("--mistakes", type=int, default=0, metavar="N", help="list up to N misses and fps per run")
    args = parser.parse_args(argv)
    corpus = args.corpus or Path(os.environ.get("WIREWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))
    try:
        loaded, written = load_all(corpus, args.labels, args.stories)
    except ConfigError as exc:
        parser.exit(2, f"error: {exc}\n")
    examples = [e for e in [*loaded.examples, *written] if args.source in ("all", e.source)]
    print(
        f"examples: {len(examples)} ({len(loaded.examples)} corpus sentences, {len(written)} written); "
        f"labels skipped: {len(loaded.drifted)} drifted, {len(loaded.missing)} missing"
    )
    for path in args.topics or [ROOT / "config" / "topics.yaml", ROOT / "tests" / "fixtures" / "topics_countries.yaml"]:
        matcher = Matcher(load_topics(path))
        topics = [t.name for t in matcher.topics if t.name in loaded.topics]
        report = score(examples, matcher_function(matcher), topics, lambda text: detect(text).language)
        columns = columns_for(topics)
        print(f"\n== {path}: topics {', '.join(topics)}; matched with the labelled language")
        print(format_table(report.labelled, columns))
        if report.detected is not None:
            print("\n-- with the detected language instead " + detection_summary(report))
            print(format_changes(report.labelled, report.detected, columns))
        texts = {e.id: e.text for e in examples}
        for mistake in report.labelled.mistakes[: args.mistakes]:
            text = " ".join(texts[mistake.example].split())[:100]
            print(f"  {mistake.kind} {mistake.topic:<9} {mistake.language:<3} {mistake.example}  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
