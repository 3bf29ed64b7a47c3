"""How far analysts can trust the filter: precision and recall against a labelled set, and language accuracy.

``evaluate`` runs the filter's own decisions (language with the feed's hint, then ``Matcher.match`` with that
language) over every labelled story and counts, per topic and per labelled language:

1. a true positive when the story is labelled with the topic and the filter matched it;
2. a false positive when the filter matched a topic the story is not labelled with;
3. a false negative when the story is labelled with a topic the filter did not match.

Only the topics the label file names (its ``# topics:`` header) are scored, since a topic nobody labelled
would score every match as a false positive. Language accuracy is the share of texts whose detected language
equals the labelled one, per labelled language; texts without a language label are left out of it.

Label files and the counting are ``workers.backtest.labels``'s, which `wirewatch backtest --labels` uses too: both
score a story the same way.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from workers.backtest.labels import Counts, Label, LabelSet, load_labels, tally
from workers.evaluation.corpus import CorpusText
from workers.filter.language import UNDETERMINED, Detection, normalize_code
from workers.filter.matcher import Matcher

__all__ = ["Counts", "Label", "LabelSet", "Report", "evaluate", "format_report", "load_labels"]

logger = logging.getLogger(__name__)

Detector = Callable[[str, str | None], Detection]


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
        pooled: dict[str, Counts] = {}
        for topic, kind in tally(label, matched, scored, report.topics, pooled):
            report.errors.append((story.id, topic, kind))
        into = report.languages.setdefault(language, Counts())
        for c in pooled.values():
            into.tp, into.fp, into.fn = into.tp + c.tp, into.fp + c.fp, into.fn + c.fn
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
