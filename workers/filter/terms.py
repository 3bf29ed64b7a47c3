"""Term syntax and the per-script rules that decide whether a candidate found by the automaton is a real hit.

A term is one or more words (split on spaces and hyphens). Compiling it decides, per word, how much of the
text may follow the written letters:

1. a trailing ``*`` makes the last word a prefix: ``Росси*`` matches России, Россией (the hit runs to the
   end of the word);
2. a Cyrillic word of four letters or more, unless written as an acronym (КНДР, США), takes a short case
   ending: its final vowel, й or ь (or a two-letter adjective ending such as -ая, -ий) may be replaced by up to
   ``CYRILLIC_MAX_ENDING`` Cyrillic letters, so Корея matches Корее, Корею, Кореей and Северная matches
   Северной; the last word of a multi-word term takes up to two letters however short (Ким Чен Ына);
3. a Hangul term's last word may be followed directly by one or two particles from ``KOREAN_PARTICLES``
   (북한은, 북한과의) but not by any other syllable (북한산 is a mountain);
4. the last word of a Latin-script term of three letters or more, unless written as an acronym (KCNA), may
   take a plural or genitive ``s`` or ``es`` (North Koreans, Russlands, russes) but nothing longer (Kim is not in
   Kimberley);
5. any other word in a spaced script must end at a word boundary: Russia is not in Prussia, रूस is not in
   रूसो because a Devanagari matra is part of the word;
6. the first word must start at a word boundary too, except that an Arabic term may carry one or two
   proclitic letters (و ف ب ل ك: وروسيا "and Russia", لروسيا "for Russia");
7. a side of the term written in an unspaced script (Han, kana, Thai, ...) needs no boundary: 朝鲜 matches
   inside 朝鲜半岛;
8. compiled ``west_slavic`` (the Matcher does so for Slovak, Czech and Polish stories, except the CLDR names
   of other languages: Latin script does not say which language a word is in, the story's language and the
   name's locale do), a Latin-script word of four letters or more, unless written as an acronym (KĽDR), takes
   a Slovak, Czech or Polish case ending instead of rule 4, from a closed list: a word ending in a vowel
   (Rusko, Moskva, ruský, Severná) swaps that vowel for one of ``WEST_SLAVIC_VOWEL_ENDINGS`` (Ruska, Ruskem,
   Moskve, Moskwie, ruského, Severnej), any other word (Putin, Kreml) may add one of
   ``WEST_SLAVIC_CONSONANT_ENDINGS`` (Putina, Putinovi, Kremlu, Putinova); the last word of a multi-word term
   inflects however short (Kim Jong Una). A closed list, not "any few letters" as in rule 2, because Latin
   letters after a stem are often another word: Rusko must not catch Ruskin or the village Ruskov.

9. compiled for a story ``language`` that has rules in ``workers.filter.inflection`` (Finnish, Hungarian,
   Greek, Hebrew, Tamil...), each word of that language's script takes the language's closed endings, final
   swaps, compounds or Korean compound heads instead of rules 2-4 and 8, the first word may carry the
   language's proclitics, and ``compile_forms`` adds the initial mutations (Irish, Welsh) as more patterns.

``key`` is the longest literal start of the term: the automaton looks for it, then ``Pattern.match_at``
applies the rules above at that place.
"""

from __future__ import annotations

import gc
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from workers.filter.inflection import Rules, mutated, rules_for, script_of
from workers.filter.textnorm import is_arabic, is_cyrillic, is_hangul, is_unspaced, is_word_char, normalize_term

CYRILLIC_MAX_ENDING = 3
CYRILLIC_MIN_INFLECTED = 4  # shorter words (Ким, Ын) stay exact unless last in a multi-word term
_CYRILLIC_VOWELS = set("аеиоуыэюяіїєйь")
_CYRILLIC_ADJECTIVE_ENDINGS = ("ая", "яя", "ое", "ее", "ый", "ий", "ой", "ые", "ие")
# After a stem of three letters (Кина -> Кин), only these may follow: the cases of nouns in -а/-я/-й.
CYRILLIC_SHORT_ENDINGS = frozenset("а е и у ю я ы і ї є ой ей ою ею ом ем ам ям ах ях ами ями".split())
ARABIC_PROCLITICS = set("وفبلك")
ARABIC_MAX_PROCLITICS = 2
KOREAN_PARTICLES = (
    "은 는 이 가 을 를 의 에 에서 에게 께 께서 과 와 도 만 로 으로 까지 부터 보다 처럼 마저 조차 "
    "이나 나 랑 이랑 하고 한테 이다 이며 이고 이라고 이라는 이란 인 측 으로서 로서"
).split()
KOREAN_MAX_PARTICLES = 2
MIN_PREFIX_CHARS = 2
LATIN_MIN_PLURAL = 3  # shorter words (Un, EU) stay exact
LATIN_PLURAL_ENDINGS = ("", "s", "es")
WEST_SLAVIC_LANGUAGES = frozenset({"sk", "cs", "pl"})
WEST_SLAVIC_MIN_INFLECTED = 4  # shorter words (Kim, Rus) stay exact unless last in a multi-word term
# Replacing the final vowel of a noun in -a/-o or an adjective (sk, cs, pl singular cases and adjective forms).
# The one-letter endings are also the vowels that are swapped, so every term still matches its own spelling.
WEST_SLAVIC_VOWEL_ENDINGS = frozenset(
    "a e i o u y á é í ú ý ě ą ę "  # Moskvy, Moskvě, Rusku, Rosję, Rosją, ruský, ruská, ruskú
    "ou om em ej ie je ji "  # Moskvou, Ruskom, Ruskem, ruskej, Moskwie, Koreje, Koreji
    "ého ému ém ých ým ými ího ímu ím ích ími "  # sk/cs adjectives: ruského, ruskému, ruském, Severního
    "ego emu ym ych ymi iego iemu iej im ich imi".split()  # pl adjectives: Północnej, rosyjskiego, rosyjskim
)
# Added to a word ending in a consonant: masculine nouns and their sk/cs possessive adjectives.
WEST_SLAVIC_CONSONANT_ENDINGS = frozenset(
    [""]
    + "a u e ovi owi om em ie".split()  # Putina, Kremlu, Putine, Putinovi, Kremlowi, Putinom, Putinem, Putinie
    + "ov ova ovo ovho ovej ovom ovu ovou ové ových ovým ovými ův ovy ově".split()  # Putinov režim, Putinova
)


@contextmanager
def compiling() -> Iterator[None]:
    """Pause the cyclic garbage collector while topics compile: they allocate a few hundred thousand objects
    that all live on (forms, patterns, automaton entries) and hold no cycles, and every collection would walk
    them again; a fifth to a third of the compile time went there. It runs again, as before, on leaving.

    On leaving, what was allocated meanwhile moves straight to the oldest generation (freeze, then unfreeze):
    otherwise the first young collection after the pause walks all of it, a quarter of a second at a countries
    topic per country. Garbage made meanwhile is still collected, by the next full collection."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


_NO_PROCLITICS: frozenset[str] = frozenset()  # one object for the hundreds of thousands of patterns without


class Ending(Enum):
    EXACT = "exact"  # the word ends where the text's word ends
    PREFIX = "prefix"  # any continuation of the word
    CYRILLIC = "cyrillic"  # a short case ending
    HANGUL = "hangul"  # Korean particles
    LATIN_PLURAL = "latin-plural"  # an optional -s/-es
    WEST_SLAVIC = "west-slavic"  # one of ``Word.endings``
    SUFFIX = "suffix"  # one of ``Word.endings``, or a compound of ``Word.compound`` letters or more


def _particle_sequences() -> frozenset[str]:
    seqs = {""}
    frontier = {""}
    for _ in range(KOREAN_MAX_PARTICLES):
        frontier = {s + p for s in frontier for p in KOREAN_PARTICLES}
        seqs |= frontier
    return frozenset(seqs)


_PARTICLE_SEQUENCES = _particle_sequences()


@dataclass(slots=True)  # treat as frozen: a frozen one takes 5x as long to make, a tuple 24 bytes more
class Word:
    stem: str  # normalised letters that must be present
    ending: Ending
    max_ending: int = 0  # letters allowed after the stem (Ending.CYRILLIC)
    endings: frozenset[str] = frozenset()  # what may follow the stem (Ending.WEST_SLAVIC, Ending.SUFFIX)
    compound: int = 0  # Ending.SUFFIX: this many letters or more may follow as a compound (0: none)
    heads: frozenset[str] = frozenset()  # Ending.HANGUL: compound nouns allowed before the particles


@dataclass(slots=True)  # treat as frozen: a frozen one takes 5x as long to make, a tuple 24 bytes more
class Pattern:
    term: str  # as written in the config
    words: tuple[Word, ...]
    key: str  # what the automaton looks for; the text at a hit starts with it
    proclitics: frozenset[str] = frozenset()  # letters that may be attached before the first word
    max_proclitics: int = 0

    def match_at(self, text: str, start: int) -> int | None:
        """End (exclusive) of the term's hit when ``text[start:]`` is one, else None. ``text`` is normalised."""
        if not self._left_ok(text, start):
            return None
        pos = start
        end = pos
        last = len(self.words) - 1
        for i, word in enumerate(self.words):
            if not text.startswith(word.stem, pos):
                return None
            pos += len(word.stem)
            tail = pos
            while tail < len(text) and is_word_char(text[tail]):
                tail += 1
            rest = text[pos:tail]
            # A word ending in an unspaced script, or in punctuation, needs no boundary after it.
            spaced_end = is_word_char(word.stem[-1]) and not is_unspaced(word.stem[-1])
            if word.ending is Ending.PREFIX:
                pos = tail
            elif word.ending is Ending.CYRILLIC:
                if len(rest) > word.max_ending or not all(is_cyrillic(c) for c in rest):
                    return None
                pos = tail
            elif word.ending is Ending.LATIN_PLURAL:
                if rest not in LATIN_PLURAL_ENDINGS:
                    return None
                pos = tail
            elif word.ending is Ending.WEST_SLAVIC:
                if rest not in word.endings:
                    return None
                pos = tail
            elif word.ending is Ending.SUFFIX:
                if rest not in word.endings and not (word.compound and len(rest) >= word.compound):
                    return None
                pos = tail
            elif word.ending is Ending.HANGUL and i == last:
                if rest not in _PARTICLE_SEQUENCES and not _compound_head(rest, word.heads):
                    return None
                # The hit stops before the particle; the particle is grammar, not part of the name.
            elif spaced_end and rest:
                return None
            end = pos
            if i < last:
                if not text.startswith(" ", pos):
                    return None
                pos += 1
        return end

    def _left_ok(self, text: str, start: int) -> bool:
        first = self.key[0]
        if start == 0 or is_unspaced(first) or not is_word_char(first):
            return True
        before = start
        if self.proclitics:
            while before > 0 and start - before < self.max_proclitics and text[before - 1] in self.proclitics:
                before -= 1
            if before != start and (before == 0 or not is_word_char(text[before - 1])):
                return True
            before = start
        if is_arabic(first):
            while before > 0 and start - before < ARABIC_MAX_PROCLITICS and text[before - 1] in ARABIC_PROCLITICS:
                before -= 1
            # Proclitics must themselves start a word; otherwise the letters belong to a longer word.
            if before != start and (before == 0 or not is_word_char(text[before - 1])):
                return True
            before = start
        return not is_word_char(text[before - 1])


def _compound_head(rest: str, heads: frozenset[str]) -> bool:
    return any(rest.startswith(h) and rest[len(h) :] in _PARTICLE_SEQUENCES for h in heads)


def split_words(term: str) -> list[str]:
    """The words of a configured term as written (spaces and hyphens separate words)."""
    return term.replace("-", " ").replace("\u2010", " ").replace("\u2011", " ").split()


def check_term(term: str) -> str:
    """Validate a configured term; return it stripped. Raises ValueError with the reason."""
    term = term.strip()
    if not term or term == "*":
        raise ValueError("empty term")
    body = term[:-1] if term.endswith("*") else term
    if "*" in body:
        raise ValueError(f"'*' is allowed only at the end of a term: {term!r}")
    norm = normalize_term(body).strip()
    if not norm or not any(is_word_char(c) for c in norm):
        raise ValueError(f"term has no letters or digits: {term!r}")
    if term.endswith("*") and len(split_words(normalize_term(body))[-1]) < MIN_PREFIX_CHARS:
        raise ValueError(f"prefix term needs at least {MIN_PREFIX_CHARS} characters before '*': {term!r}")
    return term


@lru_cache(maxsize=8192)  # asked per letter of a few hundred thousand lexicon forms when topics compile
def _is_latin(ch: str) -> bool:
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN")


_script_of_letter = lru_cache(maxsize=8192)(script_of)


def _script(stem: str) -> str:
    """``inflection.script_of(stem)``, which decides by the last letter: looked up per letter, not per word."""
    for ch in reversed(stem):
        if ch.isalpha():
            return _script_of_letter(ch)
    return "other"


def _has_word_char(text: str) -> bool:
    # The first character decides for almost every stem; ``map`` keeps the rest at C speed.
    return bool(text) and (is_word_char(text[0]) or any(map(is_word_char, text)))


def _cyrillic_word(written: str, stem: str, last_of_many: bool) -> Word:
    if written.isupper() and len(written) > 1:  # an acronym: КНДР, США
        return Word(stem, Ending.EXACT)
    if len(stem) < CYRILLIC_MIN_INFLECTED:
        return Word(stem, Ending.CYRILLIC, 2) if last_of_many else Word(stem, Ending.EXACT)
    for ending in _CYRILLIC_ADJECTIVE_ENDINGS:
        if stem.endswith(ending) and len(stem) - 2 >= 3:
            return Word(stem[:-2], Ending.CYRILLIC, CYRILLIC_MAX_ENDING)
    if stem[-1] in _CYRILLIC_VOWELS and len(stem) - 1 < CYRILLIC_MIN_INFLECTED:
        # A three-letter stem takes only the noun case endings: Кина gives Кине, Кину, Кином, not кино or Кинг.
        return Word(stem[:-1], Ending.WEST_SLAVIC, endings=CYRILLIC_SHORT_ENDINGS | {stem[-1]})
    if stem[-1] in _CYRILLIC_VOWELS:
        return Word(stem[:-1], Ending.CYRILLIC, CYRILLIC_MAX_ENDING)
    return Word(stem, Ending.CYRILLIC, CYRILLIC_MAX_ENDING)


def _west_slavic_word(stem: str) -> Word:
    if stem[-1] in WEST_SLAVIC_VOWEL_ENDINGS and len(stem) > 2:
        return Word(stem[:-1], Ending.WEST_SLAVIC, endings=WEST_SLAVIC_VOWEL_ENDINGS)
    return Word(stem, Ending.WEST_SLAVIC, endings=WEST_SLAVIC_CONSONANT_ENDINGS)


def _inflects_west_slavic(written: str, stem: str, last_of_many: bool) -> bool:
    if not _is_latin(stem[-1]) or not all(_is_latin(c) for c in stem if c.isalpha()):
        return False
    if written.isupper() and len(written) > 1:  # an acronym: KĽDR, KRLD
        return False
    return len(stem) >= WEST_SLAVIC_MIN_INFLECTED or last_of_many


def _language_word(rules: Rules, written: str, stem: str, last_of_many: bool) -> Word | None:
    """The word under a story language's rules (rule 9), or None where they do not apply to it."""
    if _script(stem) != rules.script or (written.isupper() and len(written) > 1):
        return None
    if rules.script == "hangul":
        return Word(stem, Ending.HANGUL, heads=rules.heads) if rules.heads else None
    if len(stem) < rules.min_letters and not last_of_many:
        return None
    body, endings = rules.forms(stem)
    compound = rules.compound if len(stem) >= rules.compound_min else 0
    return Word(body, Ending.SUFFIX, endings=endings, compound=compound)


def rules_key(language: str | None) -> object:
    """What ``compile_forms(term, language)`` depends on besides the term: languages sharing rules (hr, sr, bs;
    the many without) compile a term to equal patterns, which a cache may then share."""
    if language in WEST_SLAVIC_LANGUAGES:
        return "west-slavic"
    rules = rules_for(language) if language else None
    return None if rules is None else id(rules)


def compile_forms(term: str, language: str | None = None, normalized: str | None = None) -> list[Pattern]:
    """The patterns of ``term`` in a story of ``language``: ``compile_term``'s, plus one per initial mutation.
    ``normalized``: ``normalize_term(term)`` when the caller has it (see ``compile_term``)."""
    pattern = compile_term(term, language=language, normalized=normalized)
    rules = rules_for(language) if language else None
    if rules is None or not rules.mutations:
        return [pattern]
    first = split_words(term.rstrip("*"))[0]
    rest = term[len(first) :] if term.startswith(first) else term
    out = [pattern]
    for alt in mutated(normalize_term(first).strip(), rules.mutations):
        out.append(compile_term(alt + rest, language=language))
    return out


def _stems(term: str, normalized: str | None) -> list[tuple[str, str]]:
    """(written word, normalised stem) per word of ``term``; from ``normalized`` when its words line up with the
    written ones (a lexicon form's key, computed once when topics load), else normalising word by word."""
    written = split_words(term.rstrip("*"))
    if normalized is not None:
        parts = normalized.rstrip("*").split()
        if len(parts) == len(written):
            return [(w, s) for w, s in zip(written, parts, strict=True) if _has_word_char(s)]
    # A word of only dropped characters (an Arabic tatweel standing alone) or of punctuation is no word.
    pairs = [(w, normalize_term(w).strip()) for w in written]
    return [(w, s) for w, s in pairs if _has_word_char(s)]


def compile_term(
    term: str, west_slavic: bool = False, language: str | None = None, normalized: str | None = None
) -> Pattern:
    """Turn a configured term into a Pattern (see the module docstring). Raises ValueError for a bad term.

    ``west_slavic``: Latin-script words take Slovak, Czech and Polish case endings (rule 8); so does a
    ``language`` of sk, cs or pl. Another ``language`` with rules applies them (rule 9). ``normalized``: the
    term's normalised text, from a caller that checked it already (a lexicon form): it is not checked and not
    normalised again, which is most of the time of compiling a few hundred thousand forms.
    """
    term = check_term(term) if normalized is None else term.strip()
    west_slavic = west_slavic or language in WEST_SLAVIC_LANGUAGES
    rules = rules_for(language) if language and not west_slavic else None
    prefix = term.endswith("*")
    stems = _stems(term, normalized)
    if not stems:
        raise ValueError(f"term has no letters or digits: {term!r}")
    words: list[Word] = []
    for i, (written, stem) in enumerate(stems):
        is_last = i == len(stems) - 1
        last_of_many = is_last and len(stems) > 1
        language_word = _language_word(rules, written, stem, last_of_many) if rules else None
        if is_last and prefix:
            words.append(Word(stem, Ending.PREFIX))
        elif language_word is not None:
            words.append(language_word)
        elif west_slavic and _inflects_west_slavic(written, stem, last_of_many):
            words.append(_west_slavic_word(stem))
        elif is_cyrillic(stem[-1]) and all(is_cyrillic(c) for c in stem if c.isalpha()):
            words.append(_cyrillic_word(written, stem, last_of_many))
        elif is_hangul(stem[-1]) and is_last:
            words.append(Word(stem, Ending.HANGUL))
        elif is_last and _is_latin(stem[-1]) and len(stem) >= LATIN_MIN_PLURAL and not written.isupper():
            words.append(Word(stem, Ending.LATIN_PLURAL))
        else:
            words.append(Word(stem, Ending.EXACT))
    # The key runs over whole exact words and stops after the first stem that may be followed by more letters.
    key_parts: list[str] = []
    for word in words:
        key_parts.append(word.stem)
        if word.ending is not Ending.EXACT:
            break
    proclitics = rules.proclitics if rules and _script(words[0].stem) == rules.script else _NO_PROCLITICS
    return Pattern(
        term=term,
        words=tuple(words),
        key=" ".join(key_parts),
        proclitics=proclitics,
        max_proclitics=rules.max_proclitics if proclitics and rules else 0,
    )
