"""How far analysts can trust the filter: precision and recall against a labelled set, and language accuracy.

``evaluate`` runs the filter's own decisions (language with the feed's hint, then ``Matcher.match`` with that
language) over every labelled story and counts, per topic and per labelled language:

1. a true positive when the story is labelled with the topic and the filter matched it;
2. a false positive when the filter matched a topic the story is not labelled with;
3. a false negative when the story is labelled with a topic the filter did not match.

Only the topics the label file names (its ``# topics:`` header) are scored, since a topic nobody labelled
would score every match as a false positive. Language accuracy is the share of texts whose detected language
equals the labelled one, per labelled language; texts without a language label are left out of it.

Label files are TSV: ``id <TAB> language <TAB> topics <TAB> note``, ``-`` for none, ``#`` starts a comment.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workers.core.errors import ConfigError
from workers.evaluation.corpus import CorpusText
from workers.filter.language import UNDETERMINED, Detection, normalize_code
from workers.filter.matcher import Matcher

logger = logging.getLogger(__name__)

Detector = Callable[[str, str | None], Detection]


@dataclass(frozen=True)
class Label:
    id: str
    language: str | None
    topics: frozenset[str]


@dataclass(frozen=True)
class LabelSet:
    topics: tuple[str, ...]  # the topics the labellers decided for every story
    labels: dict[str, Label]


def load_labels(path: Path) -> LabelSet:
    """Read a label file; a malformed line is a ConfigError naming file and line."""
    labels: dict[str, Label] = {}
    topics: tuple[str, ...] = ()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("# topics:"):
            topics = tuple(t.strip() for t in line.removeprefix("# topics:").split(",") if t.strip())
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 3 or not cols[0]:
            raise ConfigError(f"{path}:{number}: expected id, language and topics separated by tabs")
        if cols[0] in labels:
            raise ConfigError(f"{path}:{number}: id {cols[0]!r} labelled twice")
        named = frozenset(t for t in cols[2].split(",") if t and t != "-")
        unknown = named - set(topics)
        if unknown:
            raise ConfigError(f"{path}:{number}: topics {sorted(unknown)} not in the '# topics:' header")
        labels[cols[0]] = Label(cols[0], None if cols[1] in ("", "-") else cols[1], named)
    if not topics:
        raise ConfigError(f"{path}: no '# topics: a,b' header naming the labelled topics")
    return LabelSet(topics, labels)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    def to_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn, "precision": self.precision, "recall": self.recall}


@dataclass
class Accuracy:
    correct: int = 0
    total: int = 0

    @property
    def value(self) -> float | None:
        return self.correct / self.total if self.total else None


def accuracy_total(per_language: dict[str, Accuracy]) -> Accuracy:
    return Accuracy(sum(a.correct for a in per_language.values()), sum(a.total for a in per_language.values()))


@dataclass
class Report:
    topics: dict[str, Counts] = field(default_factory=dict)
    languages: dict[str, Counts] = field(default_factory=dict)  # all scored topics pooled, per labelled language
    story_language: dict[str, Accuracy] = field(default_factory=dict)
    sentence_language: dict[str, Accuracy] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (id, topic, "fp"|"fn")
    unlabelled: int = 0  # stories of the corpus the label file does not name
    missing: list[str] = field(default_factory=list)  # labelled ids the corpus no longer has

    def to_dict(self) -> dict[str, Any]:
        return {
            "topics": {k: v.to_dict() for k, v in sorted(self.topics.items())},
            "languages": {k: v.to_dict() for k, v in sorted(self.languages.items())},
            "story_language_accuracy": _accuracies(self.story_language),
            "sentence_language_accuracy": _accuracies(self.sentence_language),
            "errors": [{"id": i, "topic": t, "kind": k} for i, t, k in self.errors],
            "unlabelled": self.unlabelled,
            "missing": self.missing,
        }


def _accuracies(per_language: dict[str, Accuracy]) -> dict[str, Any]:
    out: dict[str, Any] = {k: {"correct": a.correct, "total": a.total} for k, a in sorted(per_language.items())}
    out["all"] = {"correct": accuracy_total(per_language).correct, "total": accuracy_total(per_language).total}
    return out


def score_language(texts: Iterable[CorpusText], detector: Detector) -> dict[str, Accuracy]:
    """Per labelled language: how many texts the detector got right."""
    out: dict[str, Accuracy] = defaultdict(Accuracy)
    for item in texts:
        if item.language is None:
            continue
        found = detector(item.text, item.hint).language
        out[item.language].total += 1
        # labels as the detector spells them: lingua-go's "nb" sentences are Norwegian, "no" to langdetect and us
        out[item.language].correct += found == (normalize_code(item.language) or item.language)
    return dict(out)


def evaluate(
    stories: Iterable[CorpusText],
    label_set: LabelSet,
    matcher: Matcher,
    detector: Detector,
    sentences: Iterable[CorpusText] = (),
) -> Report:
    """Score the filter over ``stories`` against ``label_set`` (see the module docstring)."""
    report = Report()
    scored = [t for t in label_set.topics if any(t == topic.name for topic in matcher.topics)]
    report.topics = {t: Counts() for t in scored}
    seen: set[str] = set()
    for story in stories:
        label = label_set.labels.get(story.id)
        if label is None:
            report.unlabelled += 1
            continue
        seen.add(story.id)
        det = detector(story.text, story.hint)
        matched = set(matcher.match(story.text, det.language))
        language = label.language or UNDETERMINED
        if label.language is not None:
            acc = report.story_language.setdefault(language, Accuracy())
            acc.total += 1
            acc.correct += det.language == label.language
        pooled = report.languages.setdefault(language, Counts())
        for topic in scored:
            want, got = topic in label.topics, topic in matched
            for counts in (report.topics[topic], pooled):
                counts.tp += want and got
                counts.fp += got and not want
                counts.fn += want and not got
            if want != got:
                report.errors.append((story.id, topic, "fn" if want else "fp"))
    report.missing = sorted(set(label_set.labels) - seen)
    report.sentence_language = score_language(sentences, detector)
    return report


def _pct(value: float | None) -> str:
    return "   -  " if value is None else f"{value * 100:5.1f}%"


def format_report(report: Report) -> str:
    """The report as an analyst reads it: tables of precision/recall and accuracy, then the mistakes."""
    lines = ["topic                 precision  recall   tp  fp  fn"]
    for name, c in sorted(report.topics.items()):
        lines.append(f"{name:<20}  {_pct(c.precision)}    {_pct(c.recall)}  {c.tp:3d} {c.fp:3d} {c.fn:3d}")
    lines += ["", "language (all topics)  precision  recall   tp  fp  fn"]
    for code, c in sorted(report.languages.items()):
        if c.tp or c.fp or c.fn:
            lines.append(f"{code:<20}   {_pct(c.precision)}    {_pct(c.recall)}  {c.tp:3d} {c.fp:3d} {c.fn:3d}")
    for title, per_language in (
        ("language detection, stories", report.story_language),
        ("language detection, lingua-go sentences", report.sentence_language),
    ):
        if not per_language:
            continue
        total = accuracy_total(per_language)
        lines += ["", f"{title}: {_pct(total.value).strip()} of {total.total}"]
        cells = [f"{code} {_pct(a.value).strip()} ({a.total})" for code, a in sorted(per_language.items())]
        lines += ["  " + "  ".join(cells[i : i + 6]) for i in range(0, len(cells), 6)]
    if report.errors:
        lines += ["", "mistakes (fp: matched but not labelled, fn: labelled but not matched):"]
        lines += [f"  {kind}  {topic:<18} {story_id}" for story_id, topic, kind in report.errors]
    if report.missing:
        lines += ["", f"labelled but not in the corpus ({len(report.missing)}): {', '.join(report.missing[:5])}"]
    if report.unlabelled:
        lines += ["", f"stories without a label, not scored: {report.unlabelled}"]
    return "\n".join(lines)
