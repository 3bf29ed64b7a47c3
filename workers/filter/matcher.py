"""The filter stage's decision: which topics does a story's text match, with which terms, where.

``Matcher`` compiles every term of every topic once into an Aho-Corasick automaton that serves every story
(keys are the normalised literal starts of the terms, see ``workers.filter.terms``), and per story language a
second one: the topics' own terms compiled with that language's rules (``workers.filter.inflection``: Finnish
cases, Hebrew proclitics, Slovak endings...) where those change them, and the lexicon forms scoped to that
language (``Topic.scoped``). Language automata are built on first use, or ahead by ``warm``. ``match`` then
decides, in this order:

1. normalise the text (``workers.filter.textnorm``) keeping the map back to original offsets;
2. run the shared automaton and the story language's; confirm each candidate with its term's rules (word
   boundaries, prefix, Cyrillic case endings, Korean particles, Arabic proclitics, the language's endings);
3. per topic: skip it if the story's language is outside ``languages``; skip it if a ``veto`` term hit;
   drop every hit that overlaps a hit of a ``none`` term (the "Russian" of "Russian salad" does not count, but
   "Russia invaded" in the same story still does); then require a hit of ``terms`` (when it has terms), a hit
   in every ``all`` group, and at least ``min_hits`` hits (``match_explained`` also returns the near misses:
   the topics a ``veto`` or ``none`` kept from a match they would otherwise have made);
4. report the hits in original offsets, dropping a hit that lies inside a longer hit of the same topic
   ("Korea" inside "North Korea"), plus a snippet of about 160 characters around the first hit.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import ahocorasick

from workers.filter.capitals import state_spans
from workers.filter.inflection import RELATED
from workers.filter.terms import Pattern, compile_forms, compile_term, compiling, rules_key
from workers.filter.textnorm import NormalizedText, normalize, normalize_term
from workers.filter.topics import ANY_LANGUAGE, EXACT_KINDS, PROPER_KINDS, Topic, story_language

logger = logging.getLogger(__name__)

SNIPPET_CHARS = 160
SNIPPET_BEFORE = 60  # characters of context kept before the first hit


@dataclass(frozen=True)
class Hit:
    term: str  # the term as written in config (or the CLDR country name)
    start: int  # offsets into the original text passed to match()
    end: int


@dataclass(frozen=True)
class TopicMatch:
    topic: str
    terms: list[str]  # distinct terms that hit, in order of first hit
    hits: list[Hit]
    snippet: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "terms": list(self.terms),
            "hits": [{"term": h.term, "start": h.start, "end": h.end} for h in self.hits],
            "snippet": self.snippet,
        }


@dataclass(frozen=True)
class NearMiss:
    """A topic that would have matched but for its exclusions: the match it would have made, the ``veto``
    terms that hit and the ``none`` terms that removed hits."""

    match: TopicMatch
    veto: tuple[str, ...] = ()
    none: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        return "veto" if self.veto else "none"


class _Role(Enum):
    ANY = "any"
    ALL = "all"
    NONE = "none"  # cancels the hits it overlaps
    VETO = "veto"  # cancels the topic


@dataclass(slots=True)  # treat as frozen: a frozen one takes 5x as long to make, a tuple 24 bytes more
class _Use:
    topic: int  # index into Matcher.topics
    role: _Role
    group: int = 0  # index into topic.all_of for _Role.ALL
    order: int = 0  # position of the term in the topic, to break ties between equal spans
    capital: str = ""  # a capital's nominative: its hits count only in the state sense (workers.filter.capitals)


def snippet(text: str, start: int, end: int, width: int = SNIPPET_CHARS) -> str:
    """About ``width`` characters of ``text`` around ``[start, end)``, cut at spaces, whitespace collapsed."""
    lo = max(0, start - SNIPPET_BEFORE)
    hi = min(len(text), max(end, lo + width))
    if hi - lo < width:
        lo = max(0, hi - width)
    # Move the cuts outward to the nearest space (within 20 chars) so words are not split.
    if lo > 0:
        space = text.rfind(" ", max(0, lo - 20), lo)
        lo = space + 1 if space >= 0 else lo
    if hi < len(text):
        space = text.find(" ", hi, hi + 20)
        hi = space if space >= 0 else hi
    # str.split() splits on exactly the characters re's \s matches, and is several times faster than re.sub.
    body = " ".join(text[lo:hi].split())
    return ("…" if lo > 0 else "") + body + ("…" if hi < len(text) else "")


# Characters that start no key but fill stories (see ``_Automaton``), and a control character after them, so
# that a stub is no key a story holds (one that does finds the stub, which confirms nothing).
_STUBS = " .,;:!?'\"()[]/%&*+=<>#@0123456789«»“”„‘’…·،؛。、，"
_NEVER = "\x02"


class _Automaton:
    """One Aho-Corasick automaton over the keys of ``patterns``; ``find`` confirms its candidates."""

    def __init__(self, patterns: list[tuple[int, Pattern]], overrides: frozenset[int] = frozenset()) -> None:
        self.patterns = patterns
        self.overrides = overrides  # pattern indices whose shared-automaton hits this one replaces
        self._automaton = ahocorasick.Automaton()
        # Per key: its length and the (pattern index, pattern) pairs that start with it, as one tuple: no
        # per-candidate lookup in ``find``'s hot loop, and no list per key (a filter holds hundreds of thousands
        # of keys when topics name every country). The pattern, not its bound ``match_at``: a bound method per
        # entry was a fifth of the automata's memory.
        by_key: dict[str, list[tuple[int, Pattern]]] = {}
        for p_index, pattern in patterns:
            by_key.setdefault(pattern.key, []).append((p_index, pattern))
        # pyahocorasick finds a node's next letter by a linear scan of its children, in the order they were
        # added, and the root has a child per distinct first letter of the keys (hundreds when topics name every
        # country): each space, digit and punctuation mark of a story scanned them all, half of the search. Dead
        # ends for those characters come first (their value confirms nothing), then the keys with the most
        # common first letters. The keys and what they find are the same.
        for stub in _STUBS if patterns else ():
            self._automaton.add_word(stub + _NEVER, (2, ()))
        first_letters = Counter(key[0] for key in by_key)
        for key in sorted(by_key, key=lambda k: -first_letters[k[0]]):
            self._automaton.add_word(key, (len(key), tuple(by_key[key])))
        if patterns:
            self._automaton.make_automaton()

    def find(self, text: str) -> dict[int, list[tuple[int, int]]]:
        """Pattern index -> normalised spans of its confirmed hits."""
        found: dict[int, list[tuple[int, int]]] = defaultdict(list)
        if not self.patterns:
            return found
        for last, (key_len, confirms) in self._automaton.iter(text):
            start = last - key_len + 1
            for p_index, pattern in confirms:
                end = pattern.match_at(text, start)
                if end is not None:
                    found[p_index].append((start, end))
        return found


# Vietnamese words before a personal name (Chị Nga, Ông Đức): a one-syllable country name there is a person.
_VI_TITLES = frozenset("chị anh ông bà em cô chú bác cụ thầy bé cháu".split())


def _vietnamese_person(text: str, start: int, end: int) -> bool:
    """A one-syllable Vietnamese name inside a personal name: after a title (Chị Nga), or between two
    capitalised syllables (Trần Đức Lượng, Fung Nga Kei)."""
    before = text[:start].split()
    after = text[end:].split()
    prev = before[-1] if before else ""
    nxt = after[0] if after else ""
    if prev.casefold() in _VI_TITLES:
        return True
    return bool(prev[:1].isupper() and nxt[:1].isupper() and not prev.endswith((",", ".", ":", ";")))


def _capitalised(text: str, start: int) -> bool:
    """A name as a proper noun: a capital within its first three letters (Russia, bPáras, tSín) or a script
    without case. Lowercase china (porcelain), đức (virtue) and haina (Maori "signed") are other words."""
    piece = text[start : start + 3]
    return any(c.isupper() for c in piece) or not any(c.islower() and not _mkhedruli(c) for c in piece)


def _mkhedruli(ch: str) -> bool:
    """Georgian letters: Unicode gives them a case, but Georgian text has none (names are not capitalised)."""
    return "\u10d0" <= ch <= "\u10ff"


class Matcher:
    """Matches story texts against topics; build once, call ``match`` per story (thread-safe).

    Raises ValueError for a term that cannot be compiled (load_topics has already checked configured ones).
    """

    def __init__(self, topics: Sequence[Topic]) -> None:
        with compiling():
            self._build(topics)

    def _build(self, topics: Sequence[Topic]) -> None:
        self.topics: tuple[Topic, ...] = tuple(topics)
        self._terms: list[str] = []  # per pattern index: the term as written
        self._keys: list[str | None] = []  # per pattern index: its normalised text when the topic computed it
        uses_of: list[list[_Use]] = []
        self._scope: list[str | None] = []  # per pattern index: the story language it is for, None for all
        # Flags per pattern index, a byte each (a list of bools costs eight):
        self._exact = bytearray()  # a surface form, matched without language rules
        self._cldr = bytearray()  # a CLDR name no topic lists itself (no language rules)
        self._proper = bytearray()  # a lexicon or CLDR name: capitalised where case exists
        by_form: dict[tuple[str, str | None], int] = {}

        def index(term: str, scope: str | None, exact: bool, cldr: bool, proper: bool, key: str = "") -> int:
            form = (key or normalize_term(term) + ("*" if term.endswith("*") else ""), scope)
            p_index = by_form.get(form)
            if p_index is None:
                p_index = by_form[form] = len(self._terms)
                self._terms.append(term)
                self._keys.append(key or None)
                uses_of.append([])
                self._scope.append(scope)
                self._exact.append(exact)
                self._cldr.append(cldr)
                self._proper.append(proper)
            else:
                if not cldr:
                    self._cldr[p_index] = False  # another topic lists it: it takes the language's rules
                if not proper:
                    self._proper[p_index] = False
                if not exact:
                    self._exact[p_index] = False  # a form that is also a name or word takes the rules
            return p_index

        for t_index, topic in enumerate(self.topics):
            # (term, scope, exact, use, proper, universal, key): configured terms and CLDR names apply in every
            # story (scope None); universal: a lexicon form that applies everywhere with the default rules; key:
            # the normalised form when the topic computed it.
            uses: list[tuple[str, str | None, bool, _Use, bool, bool, str]] = [
                (t, None, False, _Use(t_index, _Role.ANY), False, False, "") for t in topic.terms
            ]
            for g_index, group in enumerate(topic.all_of):
                uses += [(t, None, False, _Use(t_index, _Role.ALL, g_index), False, False, "") for t in group]
            uses += [(t, None, False, _Use(t_index, _Role.NONE), False, False, "") for t in topic.none_of]
            uses += [(t, None, False, _Use(t_index, _Role.VETO), False, False, "") for t in topic.veto_of]
            for scoped in topic.scoped:
                if scoped.group == -2:
                    use = _Use(t_index, _Role.NONE)
                elif scoped.group >= 0:
                    use = _Use(t_index, _Role.ALL, scoped.group)
                else:
                    use = _Use(t_index, _Role.ANY)
                if scoped.capital and use.role is not _Role.NONE:
                    use = replace(use, capital=scoped.capital)
                # Names, and dictionary forms written with a capital (Kinijos, Kino), are proper nouns.
                proper = scoped.kind in PROPER_KINDS or (scoped.kind in EXACT_KINDS and scoped.text[:1].isupper())
                scope = None if scoped.language == ANY_LANGUAGE else scoped.language
                # English forms that apply everywhere keep the default rules in every story, as CLDR names do.
                uses.append((scoped.text, scope, scoped.kind in EXACT_KINDS, use, proper, scope is None, scoped.key))
            for order, (term, scope, exact, use, proper, universal, key) in enumerate(uses):
                # One pattern per distinct spelling and scope: topics sharing "Russia" share its automaton entry.
                cldr = scope is None and (universal or normalize_term(term) in topic.cldr_names)
                # On equal spans the story language's own form names the hit (Северная Корея, not Северна Корея).
                order = order - 1_000_000 if scope is not None else order
                proper = proper or (scope is None and normalize_term(term) in topic.proper_names)
                p_index = index(term, scope, exact, cldr, proper or cldr, key)
                uses_of[p_index].append(_Use(use.topic, use.role, use.group, order, use.capital))
        # Tuples, not lists, and the topics without their lexicon forms (every form is a pattern now): at a
        # countries topic per country, a quarter of a million patterns.
        self._uses: list[tuple[_Use, ...]] = [tuple(u) for u in uses_of]
        self.topics = tuple(replace(topic, scoped=()) for topic in self.topics)
        # Only the shared terms are compiled now; a language's own forms when its automaton is built.
        self._shared: dict[int, Pattern] = {
            i: compile_term(term, normalized=self._keys[i])
            for i, term in enumerate(self._terms)
            if self._scope[i] is None
        }
        shared = list(self._shared.items())
        self._default = _Automaton(shared)
        # The shared terms a language's rules may change: not the CLDR names (a countries topic has thousands,
        # and every language's automaton would walk them all again).
        self._ruled: tuple[int, ...] = tuple(i for i in self._shared if not self._cldr[i])
        self._by_language: dict[str, list[int]] = defaultdict(list)
        for i, scope in enumerate(self._scope):
            if scope is not None:
                self._by_language[scope].append(i)
        self._languages: dict[str, _Automaton] = {}
        self._lock = threading.Lock()
        # While ``warm`` builds several languages: (term, rules) -> its patterns, so languages sharing rules (hr,
        # sr, bs; the many without) share the Pattern objects instead of compiling each again.
        self._compiled: dict[tuple[str, object], list[Pattern]] | None = None
        normalize_term.cache_clear()  # its entries served the topic compile; the memory serves the automata
        logger.info("matcher built topics=%d patterns=%d shared=%d", len(self.topics), len(self._terms), len(shared))

    def _language(self, language: str) -> _Automaton:
        automaton = self._languages.get(language)
        if automaton is not None:
            return automaton
        with self._lock:
            automaton = self._languages.get(language)
            if automaton is None:
                automaton = self._languages[language] = self._build_language(language)
        return automaton

    def _build_language(self, language: str) -> _Automaton:
        patterns: list[tuple[int, Pattern]] = []
        overrides: set[int] = set()
        # The shared terms where the language's rules change them (a topic's "Putin" takes Finnish cases): in
        # this language they replace the shared pattern, as the rules say (Slovak endings instead of -s).
        for i in self._ruled:
            default = self._shared[i]
            forms = compile_forms(self._terms[i], language)
            if len(forms) > 1 or forms[0].words != default.words or forms[0].proclitics:
                patterns += [(i, p) for p in forms]
                overrides.add(i)
        memo = self._compiled
        rules = rules_key(language)
        for lang in (language, *RELATED.get(language, ())):
            for i in self._by_language.get(lang, ()):
                exact = self._exact[i]
                term, key = self._terms[i], self._keys[i]
                memo_key = (term, None if exact else rules)
                cached = memo.get(memo_key) if memo is not None else None
                if cached is not None:
                    forms = cached
                else:
                    forms = [compile_term(term, normalized=key)] if exact else compile_forms(term, language, key)
                    if memo is not None:
                        memo[memo_key] = forms
                patterns += [(i, p) for p in forms]
        return _Automaton(patterns, frozenset(overrides))

    @property
    def pattern_count(self) -> int:
        """Distinct (spelling, language) forms the matcher holds."""
        return len(self._terms)

    def warm(self, languages: Iterable[str]) -> frozenset[str]:
        """Build the automata of these story languages now, instead of at their first story; the languages
        built (as ``match`` looks them up: nb -> no)."""
        built = frozenset(story_language(language) for language in languages if language != "und")
        with self._lock:
            self._compiled = {}
        try:
            with compiling():
                for language in sorted(built):
                    self._language(language)
        finally:
            with self._lock:
                self._compiled = None
        return built

    @property
    def warmed(self) -> frozenset[str]:
        """The story languages whose automaton is built."""
        return frozenset(self._languages)

    def match(self, text: str, language: str = "und") -> dict[str, TopicMatch]:
        """Topic name -> match, for the topics ``text`` matches (see the module docstring for the rules)."""
        return self._decide(text, language, None)

    def match_explained(self, text: str, language: str = "und") -> tuple[dict[str, TopicMatch], dict[str, NearMiss]]:
        """``match``, plus the near misses: topics that would have matched without their ``veto`` and ``none``
        terms (the backtest shows them, so a topic's author sees what an exclusion removes)."""
        misses: dict[str, NearMiss] = {}
        return self._decide(text, language, misses), misses

    def _decide(self, text: str, language: str, misses: dict[str, NearMiss] | None) -> dict[str, TopicMatch]:
        if not text:
            return {}
        norm = normalize(text)
        found = self._default.find(norm.text)
        if language != "und":
            own = self._language(story_language(language))
            for p_index in own.overrides.intersection(found):
                del found[p_index]
            for p_index, spans in own.find(norm.text).items():
                found[p_index] += spans
        # Per topic: positive spans (start, end, order, term, use), exclusion spans (start, end, term), the veto
        # terms that hit.
        positive: dict[int, list[tuple[int, int, int, str, _Use]]] = defaultdict(list)
        excluded: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
        vetoed: dict[int, list[str]] = defaultdict(list)
        for p_index, spans in found.items():
            term = self._terms[p_index]
            if self._proper[p_index]:
                spans = [sp for sp in spans if _capitalised(text, norm.span(*sp)[0])]
                if spans and self._scope[p_index] == "vi" and " " not in self._terms[p_index].strip():
                    spans = [sp for sp in spans if not _vietnamese_person(text, *norm.span(*sp))]
                if not spans:
                    continue
            as_state: list[tuple[int, int]] | None = None
            for use in self._uses[p_index]:
                if use.role is _Role.VETO:
                    vetoed[use.topic].append(term)
                elif use.role is _Role.NONE:
                    excluded[use.topic] += [(s, e, term) for s, e in spans]
                elif use.capital:
                    if as_state is None:
                        as_state = self._state_spans(norm.text, spans, language, use.capital)
                    positive[use.topic] += [(s, e, use.order, term, use) for s, e in as_state]
                else:
                    positive[use.topic] += [(s, e, use.order, term, use) for s, e in spans]
        result: dict[str, TopicMatch] = {}
        for t_index, candidates in positive.items():
            topic = self.topics[t_index]
            if topic.languages is not None and language not in topic.languages:
                continue
            vetoes = vetoed.get(t_index)
            if vetoes and misses is None:
                continue
            kept = candidates
            masks = excluded.get(t_index)
            if masks:
                kept = [c for c in candidates if not any(c[0] < me and ms < c[1] for ms, me, _ in masks)]
            decided = None if vetoes else self._accept(topic, kept, norm, text)
            if decided is not None:
                result[topic.name] = decided
            elif misses is not None and (vetoes or kept is not candidates):
                # What the topic would have decided without its exclusions: a near miss if that is a match.
                near = self._accept(topic, candidates, norm, text)
                if near is not None:
                    removed_by = [
                        ms_term for ms, me, ms_term in masks or () if any(c[0] < me and ms < c[1] for c in candidates)
                    ]
                    misses[topic.name] = NearMiss(
                        near, tuple(dict.fromkeys(vetoes or ())), tuple(dict.fromkeys(removed_by))
                    )
        return result

    @staticmethod
    def _state_spans(text: str, spans: list[tuple[int, int]], language: str, capital: str) -> list[tuple[int, int]]:
        """A capital's hits where it may stand for the state (a topic with ``capitals: true``)."""
        return state_spans(text, spans, story_language(language), capital)

    def _accept(
        self, topic: Topic, candidates: list[tuple[int, int, int, str, _Use]], norm: NormalizedText, text: str
    ) -> TopicMatch | None:
        """The topic's match from its candidate hits (exclusions already applied), or None: a hit of ``terms``,
        one in every ``all`` group, ``min_hits`` hits."""
        if not candidates:
            return None
        # Without ``all`` groups every candidate is a hit of ``terms``: the role checks are for the others.
        if topic.all_of:
            if topic.terms and not any(c[4].role is _Role.ANY for c in candidates):
                return None
            if len({c[4].group for c in candidates if c[4].role is _Role.ALL}) < len(topic.all_of):
                return None
        hits = self._resolve([c[:4] for c in candidates], norm)
        if len(hits) < topic.min_hits:
            return None
        terms = list(dict.fromkeys(h.term for h in hits))
        return TopicMatch(topic.name, terms, hits, snippet(text, hits[0].start, hits[0].end))

    @staticmethod
    def _resolve(spans: list[tuple[int, int, int, str]], norm: NormalizedText) -> list[Hit]:
        """Hits in text order, without spans inside a longer (or equal, earlier-listed) span."""
        if len(spans) == 1:  # most matched topics have one hit: nothing to order or cover
            start, end, _order, term = spans[0]
            return [Hit(term, *norm.span(start, end))]
        ordered = sorted(set(spans), key=lambda s: (s[0], -s[1], s[2]))
        hits: list[Hit] = []
        covered_to = -1
        for start, end, _order, term in ordered:
            if end <= covered_to:
                continue
            covered_to = end
            o_start, o_end = norm.span(start, end)
            hits.append(Hit(term, o_start, o_end))
        return hits

    @staticmethod
    def to_json(matches: dict[str, TopicMatch]) -> list[dict[str, Any]]:
        """JSON-ready list of matches, in topic-name order."""
        return [matches[name].to_dict() for name in sorted(matches)]
