"""The "try a text" box: the filter's own language detection and matcher on a pasted text, and the text cut into
segments so the page can mark each hit. Pure apart from building the matcher, which runs once, in the background
(the country lexicon takes a few seconds), so the console answers its other pages meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from workers.filter import language
from workers.filter.matcher import Matcher, TopicMatch
from workers.filter.topics import Topic


@dataclass(frozen=True)
class Segment:
    text: str
    topics: tuple[str, ...] = ()  # the topics whose hits cover it; empty for plain text


@dataclass(frozen=True)
class TrialResult:
    language: str
    probability: float
    topics: dict[str, TopicMatch]
    segments: list[Segment]


def highlight(text: str, found: dict[str, TopicMatch]) -> list[Segment]:
    """The text as plain and hit segments; overlapping hits of several topics become one marked segment."""
    spans = sorted((h.start, h.end, name) for name, m in found.items() for h in m.hits)
    merged: list[tuple[int, int, set[str]]] = []
    for start, end, name in spans:
        if merged and start < merged[-1][1]:
            s, e, names = merged[-1]
            merged[-1] = (s, max(e, end), names | {name})
        else:
            merged.append((start, end, {name}))
    out, pos = [], 0
    for start, end, names in merged:
        if start > pos:
            out.append(Segment(text[pos:start]))
        out.append(Segment(text[start:end], tuple(sorted(names))))
        pos = end
    if pos < len(text):
        out.append(Segment(text[pos:]))
    return out


class TextTrial:
    def __init__(self, topics: Sequence[Topic]) -> None:
        self._topics = topics
        self._matcher: Matcher | None = None
        self._built = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._build, name="console-matcher", daemon=True).start()

    def _build(self) -> None:
        try:
            language.warm_up()
            self._matcher = Matcher(self._topics)
        finally:
            self._built.set()

    @property
    def ready(self) -> bool:
        return self._built.is_set()

    def run(self, text: str) -> TrialResult:
        if self._matcher is None:
            self._built.wait(120)
        if self._matcher is None:
            self._build()  # the background build failed: build here, and let its error show
        assert self._matcher is not None
        det = language.detect(text)
        found = self._matcher.match(text, det.language)
        return TrialResult(det.language, round(det.probability, 3), found, highlight(text, found))
