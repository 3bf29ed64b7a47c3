"""What a topic matches, form by form, for analysts: ``wirewatch topics expand TOPIC [--language xx]``.

Each row is one form the matcher looks for: where it applies (every story, or stories of one language), where it
came from (``hand-written`` in topics.yaml, ``cldr`` for the country names every story gets, else the lexicon's
source: ``cldr-territory``, ``cldr-currency``, ``cldr-language``, ``cldr-zone``, ``iso-codes``, ``simplemma``,
``countryinfo``, ``manual``, or ``rule`` for a form a rule derives), and how its words may inflect (``rules``:
``exact``, ``+s/es``, ``cyrillic endings``, ``fi endings (212)``, ``prefix``...). The listing is built from the
same compiled patterns the matcher uses, so it cannot drift from what matches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from workers.filter.inflection import RELATED
from workers.filter.terms import Ending, Pattern, compile_forms, compile_term
from workers.filter.textnorm import normalize_term
from workers.filter.topics import Topic

_ROLE = {-1: "any", -2: "none"}


@dataclass(frozen=True)
class Form:
    language: str  # "*" for every story
    text: str
    role: str  # any, all[n], none, veto
    kind: str  # term, name, adjective, language, capital, demonym, form, derived, not
    source: str
    rules: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def describe(pattern: Pattern, language: str | None = None) -> str:
    """How the words of a compiled pattern may end, in a few words."""
    parts = []
    for word in pattern.words:
        if word.ending is Ending.EXACT:
            parts.append("exact")
        elif word.ending is Ending.PREFIX:
            parts.append("prefix")
        elif word.ending is Ending.LATIN_PLURAL:
            parts.append("+s/es")
        elif word.ending is Ending.CYRILLIC:
            parts.append(f"cyrillic endings (<= {word.max_ending})")
        elif word.ending is Ending.HANGUL:
            parts.append("particles" + (f" + {len(word.heads)} compound heads" if word.heads else ""))
        else:
            label = language or "west slavic"
            extra = f", compounds of {word.compound}+ letters" if word.compound else ""
            parts.append(f"{label} endings ({len(word.endings)}{extra})")
    if pattern.proclitics:
        parts.append(f"proclitics {''.join(sorted(pattern.proclitics))}")
    return "; ".join(parts)


def expand(topic: Topic, languages: Iterable[str] | None = None) -> list[Form]:
    """Every form of ``topic``: the shared ones, then per language (all the topic's languages by default)."""
    cldr = topic.cldr_names
    shared: list[tuple[str, str]] = [(t, "any") for t in topic.terms]
    shared += [(t, f"all[{i}]") for i, group in enumerate(topic.all_of) for t in group]
    shared += [(t, "none") for t in topic.none_of] + [(t, "veto") for t in topic.veto_of]
    rows: list[Form] = []
    for text, role in shared:
        source = "cldr" if normalize_term(text) in cldr else "hand-written"
        rows.append(Form("*", text, role, "term", source, describe(compile_term(text))))
    wanted = sorted({s.language for s in topic.scoped} if languages is None else set(languages))
    for language in wanted:
        for text, role in shared:
            if normalize_term(text) in cldr:
                continue
            default = compile_term(text)
            for pattern in compile_forms(text, language):
                if pattern.words != default.words or pattern.proclitics or pattern.term != default.term:
                    rows.append(Form(language, pattern.term, role, "term", "hand-written", describe(pattern, language)))
        for scoped in topic.scoped:
            if scoped.language not in (language, *RELATED.get(language, ())):
                continue
            role = _ROLE.get(scoped.group, f"all[{scoped.group}]")
            source = "rule" if scoped.kind == "derived" else scoped.source
            if scoped.kind == "form":
                rows.append(Form(language, scoped.text, role, scoped.kind, source, describe(compile_term(scoped.text))))
                continue
            for pattern in compile_forms(scoped.text, language):
                rows.append(Form(language, pattern.term, role, scoped.kind, source, describe(pattern, language)))
    return rows
