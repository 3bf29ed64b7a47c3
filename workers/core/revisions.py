"""What changed between two versions of one story, and whether a subscriber hears of it.

A wire story is filed again and again under the same guid or link: the headline carries a slug that says why
(``UPDATE 2-``, ``REFILE-``, ``CORRECTED-``, ``WRAPUP 1-``), paragraphs are added, a number (a death toll)
changes, and sometimes the story is killed (``STORY WITHDRAWN``, ``KILL``). This module is the pure part of
that: parse the slug off a headline, describe a change (old and new title, paragraphs added and removed,
numbers changed), and decide by a subscriber's ``updates`` policy whether it is worth an event:

- ``none``: never;
- ``all``: any change of title or body;
- ``material`` (the default): a changed title (beyond its slug and case), a changed number, a paragraph
  added or removed with at least ``MIN_MATERIAL_WORDS`` words, a new slug that announces a change (UPDATE n,
  CORRECTED, WRAPUP; the same slug filed again, as with a typo fixed under UPDATE 1, is not), or a kill. A
  typo fix, a re-filing (REFILE, which agencies use to fix formatting) or whitespace is not material.

A withdrawal is always sent, whatever the policy except ``none``: a subscriber who acted on a story must
learn that it was killed.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

UpdatePolicy = Literal["none", "material", "all"]
UPDATE_POLICIES: tuple[UpdatePolicy, ...] = ("none", "material", "all")
DEFAULT_UPDATES: UpdatePolicy = "material"

# A paragraph this long is news when it appears or goes; a shorter one is a dateline, a credit or a fix.
MIN_MATERIAL_WORDS = 8
# An added paragraph this similar (word-level ratio) to a removed one is that paragraph edited.
EDIT_RATIO = 0.6
# The paragraphs of a diff kept in an event: enough to read what changed, bounded for the payload.
MAX_DIFF_PARAGRAPHS = 5
MAX_DIFF_CHARS = 400

# Reuters/AP/AFP-style headline slugs. The kind is what the event reports; ``n`` is the update's number.
_SLUG = re.compile(
    r"^\s*(?:(?P<kind>UPDATE|REFILE|CORRECTED|CORRECTION|WRAPUP|RPT|REPEAT|ADVISORY|KILL|WITHDRAWN)"
    r"(?:\s+(?P<n>\d{1,3}))?\s*[-:–—|]+\s*)",
    re.I,
)
_WITHDRAWN = re.compile(r"\b(?:story\s+withdrawn|withdrawn\s+story|kill\s+story|mandatory\s+kill)\b", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")

SlugKind = Literal["update", "refile", "corrected", "wrapup", "repeat", "advisory", "kill"]
_KINDS: dict[str, SlugKind] = {
    "update": "update",
    "refile": "refile",
    "corrected": "corrected",
    "correction": "corrected",
    "wrapup": "wrapup",
    "rpt": "repeat",
    "repeat": "repeat",
    "advisory": "advisory",
    "kill": "kill",
    "withdrawn": "kill",
}
# Slugs that by themselves say the story changed in substance.
_MATERIAL_SLUGS = frozenset({"update", "corrected", "wrapup"})


@dataclass(frozen=True)
class Slug:
    kind: SlugKind | None
    n: int | None
    title: str  # the headline without its slug

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "n": self.n}


def parse_slug(title: str) -> Slug:
    """``UPDATE 2-Kim meets Putin`` -> (update, 2, "Kim meets Putin"); a title without a slug keeps kind None."""
    m = _SLUG.match(title)
    if not m:
        return Slug(None, None, title.strip())
    n = m.group("n")
    return Slug(_KINDS[m.group("kind").lower()], int(n) if n else None, title[m.end() :].strip())


def is_withdrawal(title: str, text: str) -> bool:
    """A kill notice: a KILL/WITHDRAWN slug, or the agencies' wording in the title or the body's first lines."""
    if parse_slug(title).kind == "kill":
        return True
    return bool(_WITHDRAWN.search(title) or _WITHDRAWN.search(text[:300]))


def _fold(text: str) -> str:
    """Case, width and spacing folded: a change of these alone is no change."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def paragraphs(text: str) -> list[str]:
    """A body's paragraphs: split on blank lines, else on single newlines (feeds differ), folded whitespace."""
    parts = re.split(r"\n\s*\n", text) if "\n\n" in text else text.split("\n")
    return [" ".join(p.split()) for p in parts if p.strip()]


def _clip(text: str) -> str:
    return text if len(text) <= MAX_DIFF_CHARS else text[: MAX_DIFF_CHARS - 1].rstrip() + "…"


@dataclass(frozen=True)
class Change:
    """How a version differs from the one before it."""

    old_title: str
    new_title: str
    slug: Slug
    title_changed: bool  # beyond slug, case and spacing
    added: list[str] = field(default_factory=list)  # paragraphs new in this version (clipped, at most 5)
    removed: list[str] = field(default_factory=list)
    edited: list[tuple[str, str]] = field(default_factory=list)  # (old, new) of a paragraph reworded
    changed_words: int = 0  # words of the largest paragraph added or removed, or of its largest edit
    numbers_changed: bool = False
    body_changed: bool = False
    withdrawn: bool = False
    slug_changed: bool = True  # the slug differs from the old headline's (UPDATE 1 -> UPDATE 2)

    def to_dict(self) -> dict[str, object]:
        return {
            "title": {"old": self.old_title, "new": self.new_title} if self.title_changed else None,
            "paragraphs_added": self.added,
            "paragraphs_removed": self.removed,
            "paragraphs_edited": [{"old": old, "new": new} for old, new in self.edited],
            "numbers_changed": self.numbers_changed,
            "slug": self.slug.to_dict(),
        }


def _pair_edits(added: list[str], removed: list[str]) -> tuple[list[tuple[str, str]], list[int]]:
    """Take out of ``added`` and ``removed`` the paragraphs that are one paragraph reworded (a typo fixed, a
    figure changed), pairing each added one with its most similar removed one; returns the pairs and the
    number of words each edit changed."""
    pairs: list[tuple[str, str]] = []
    changed: list[int] = []
    for new in list(added):
        best, best_ratio = None, EDIT_RATIO
        for old in removed:
            ratio = difflib.SequenceMatcher(None, old.split(), new.split(), autojunk=False).ratio()
            if ratio >= best_ratio:
                best, best_ratio = old, ratio
        if best is None:
            continue
        ops = difflib.SequenceMatcher(None, best.split(), new.split(), autojunk=False).get_opcodes()
        changed.append(sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in ops if tag != "equal"))
        pairs.append((best, new))
        added.remove(new)
        removed.remove(best)
    return pairs, changed


def describe(old_title: str, old_text: str, new_title: str, new_text: str) -> Change:
    """The change from one version to the next, paragraph by paragraph (a set difference keeps order)."""
    slug = parse_slug(new_title)
    title_changed = _fold(parse_slug(old_title).title) != _fold(slug.title)
    old_paras, new_paras = paragraphs(old_text), paragraphs(new_text)
    old_set, new_set = {_fold(p) for p in old_paras}, {_fold(p) for p in new_paras}
    added = [p for p in new_paras if _fold(p) not in old_set]
    removed = [p for p in old_paras if _fold(p) not in new_set]
    edited, changed = _pair_edits(added, removed)
    longest = max([len(p.split()) for p in added + removed] + changed, default=0)
    # the slug's own number (UPDATE 1 -> UPDATE 2) is no changed figure
    numbers_changed = sorted(_NUMBER.findall(parse_slug(old_title).title + " " + old_text)) != sorted(
        _NUMBER.findall(slug.title + " " + new_text)
    )
    return Change(
        old_title=old_title,
        new_title=new_title,
        slug=slug,
        title_changed=title_changed,
        added=[_clip(p) for p in added[:MAX_DIFF_PARAGRAPHS]],
        removed=[_clip(p) for p in removed[:MAX_DIFF_PARAGRAPHS]],
        edited=[(_clip(o), _clip(n)) for o, n in edited[:MAX_DIFF_PARAGRAPHS]],
        changed_words=longest,
        numbers_changed=numbers_changed,
        body_changed=_fold(old_text) != _fold(new_text),
        withdrawn=is_withdrawal(new_title, new_text),
        slug_changed=parse_slug(old_title).to_dict() != slug.to_dict(),
    )


def is_material(change: Change) -> bool:
    """Whether a reader who saw the last version needs to see this one (see the module docstring)."""
    return (
        change.withdrawn
        or change.title_changed
        or change.numbers_changed
        or change.changed_words >= MIN_MATERIAL_WORDS
        or (change.slug.kind in _MATERIAL_SLUGS and change.slug_changed)
    )


def worth_sending(change: Change, policy: UpdatePolicy) -> bool:
    """A subscriber's ``updates`` policy applied to one change."""
    if policy == "none":
        return False
    if change.withdrawn:
        return True
    if policy == "all":
        return change.title_changed or change.body_changed or _fold(change.old_title) != _fold(change.new_title)
    return is_material(change)
