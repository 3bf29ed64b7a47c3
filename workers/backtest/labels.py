"""Label files and the counting of precision and recall, shared by `wirewatch evaluate` (corpus files) and
`wirewatch backtest --labels` (stories read back from Kafka), so both score a story the same way.

Label files are TSV: ``id <TAB> language <TAB> topics <TAB> note``, ``-`` for none, ``#`` starts a comment, and a
``# topics: a,b`` header names the topics the labellers decided for every story. Per scored topic a story is:

1. a true positive when it is labelled with the topic and the filter matched it;
2. a false positive when the filter matched a topic it is not labelled with;
3. a false negative when it is labelled with a topic the filter did not match.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.core.errors import ConfigError


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
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the label file: {exc}") from None
    for number, line in enumerate(lines, start=1):
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


def tally(
    label: Label, matched: Iterable[str], scored: Iterable[str], *counts: dict[str, Counts]
) -> list[tuple[str, str]]:
    """Count one labelled story's outcome per scored topic into each of ``counts`` (topic -> Counts, missing
    topics added); return its mistakes as (topic, "fp" | "fn")."""
    found = set(matched)
    mistakes: list[tuple[str, str]] = []
    for topic in scored:
        want, got = topic in label.topics, topic in found
        for table in counts:
            c = table.setdefault(topic, Counts())
            c.tp += want and got
            c.fp += got and not want
            c.fn += want and not got
        if want != got:
            mistakes.append((topic, "fn" if want else "fp"))
    return mistakes
