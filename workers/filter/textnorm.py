"""Text normalisation for matching, with a map back to the original offsets.

Terms and story text go through the same ``normalize`` so that a term matches however the story spells it:

1. the text is cut into segments (a base character plus the marks that follow it, so Devanagari matras,
   Bengali split vowels and Hangul vowel/final jamo stay with their base and compose as a whole);
2. each segment becomes NFKC(casefold(NFKC(segment))) - full-width forms, ligatures and case differences go;
3. characters that carry no letter of their own are dropped: format characters (ZWJ/ZWNJ U+200C/U+200D,
   soft hyphen, bidi marks), the Devanagari nukta U+093C (so जज़ीरा == जजीरा), Arabic short-vowel marks
   and tatweel (vowelled and justified Arabic equals plain Arabic);
4. spellings that writers use interchangeably are folded: Russian ё -> е, Arabic أ/إ/آ -> ا and ى -> ي,
   typographic apostrophes -> ';
5. every run of whitespace and hyphens becomes one space, so multi-word terms are plain strings for the
   automaton and "Kim Jong-un" equals "Kim Jong Un".

Most segments map one character to one character; only the others are recorded, so the offset map stays
small and ``NormalizedText.span()`` turns a normalised span back into the original one by bisection.

The script helpers decide word boundaries: letters, marks and digits are word characters (a Devanagari
matra continues a word, so रूस is not a word inside रूसो); Han, kana, Thai, Lao, Khmer, Myanmar and
Tibetan are written without spaces between words, so terms in them match as plain substrings.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

NUKTA = "\u093c"
SEPARATORS = "-\u2010\u2011"  # hyphens join words like spaces do: "Kim Jong-un" == "Kim Jong Un"

# Dropped after normalisation; see step 3 of the module docstring.
_DROP_RANGES = (
    (0x064B, 0x065F),  # Arabic harakat (fathatan .. wavy hamza below)
    (0x0670, 0x0670),  # Arabic superscript alef
    (0x0640, 0x0640),  # Arabic tatweel
    (0x093C, 0x093C),  # Devanagari nukta
)
_FOLD = str.maketrans(
    {
        **{"ё": "е", "أ": "ا", "إ": "ا", "آ": "ا", "ى": "ي", "’": "'", "ʼ": "'", "‘": "'"},
        # Greek tonos and dialytika: headlines in capitals drop them, and writers differ on them.
        **dict(zip("άέήίόύώΐΰϊϋ", "αεηιουωιυιυ", strict=True)),
    }
)

# Scripts written without spaces between words: a term in them needs no word boundary.
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3005, 0x3007),  # ideographic iteration mark, closing mark, number zero
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3FFFF),  # CJK extensions B..
)

_CACHE_LIMIT = 50_000
_segment_cache: dict[str, str] = {}
_continues_cache: dict[str, bool] = {}


def _in_ranges(cp: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _continues(ch: str) -> bool:
    """True if ``ch`` belongs to the segment of the character before it (a mark or a Hangul medial/final jamo)."""
    hit = _continues_cache.get(ch)
    if hit is None:
        cp = ord(ch)
        hit = unicodedata.category(ch).startswith("M") or 0x1160 <= cp <= 0x11FF or 0xD7B0 <= cp <= 0xD7FF
        if len(_continues_cache) > _CACHE_LIMIT:
            _continues_cache.clear()
        _continues_cache[ch] = hit
    return hit


_SEPARATOR_RE = re.compile(r"[\s\-\u2010\u2011]+")
# Runs of spaces once every separator is a space: a literal start the regex engine skips to, where the
# patterns above and ``_RUN_RE`` try a match at every space of a story (a fifth of normalising one).
_SPACE_RUN_RE = re.compile("  +")
# The ASCII characters ``_SEPARATOR_RE`` matches to a space, the others to themselves (see ``_char_table``).
_ASCII_SEPARATORS = {c: " " if _SEPARATOR_RE.fullmatch(chr(c)) else chr(c) for c in range(128)}


def _is_separator(out: str) -> bool:
    return bool(out) and all(c.isspace() or c in SEPARATORS for c in out)


def _normalize_segment(seg: str) -> str:
    out = _segment_cache.get(seg)
    if out is None:
        folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", seg).casefold())
        out = "".join(
            c for c in folded if unicodedata.category(c) != "Cf" and not _in_ranges(ord(c), _DROP_RANGES)
        ).translate(_FOLD)
        if _is_separator(out):
            out = " "  # every separator is one space; normalize() merges runs of them
        if len(_segment_cache) > _CACHE_LIMIT:
            _segment_cache.clear()
        _segment_cache[seg] = out
    return out


@dataclass(frozen=True)
class NormalizedText:
    """A normalised text plus the segments whose length changed, to map offsets back to the original."""

    text: str
    original_length: int
    # Parallel lists, one entry per segment whose normalised length differs from its original length.
    _nstart: list[int] = field(default_factory=list, repr=False)
    _nend: list[int] = field(default_factory=list, repr=False)
    _ostart: list[int] = field(default_factory=list, repr=False)
    _oend: list[int] = field(default_factory=list, repr=False)

    def _locate(self, i: int) -> tuple[int, int]:
        """Original (start, end) of the segment that produced normalised character ``i``."""
        k = bisect_right(self._nstart, i) - 1
        if k < 0:
            return i, i + 1
        if i < self._nend[k]:
            return self._ostart[k], self._oend[k]
        o = self._oend[k] + (i - self._nend[k])
        return o, o + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the normalised span ``[start, end)`` (``end > start``)."""
        return self._locate(start)[0], self._locate(end - 1)[1]


def _normalize_ascii(text: str) -> NormalizedText:
    # Case folding keeps every offset in ASCII; only separator runs other than one space change length. The
    # text is rewritten at C speed; the loop runs per run of two separators or more, not per word.
    spaced = text.lower().translate(_ASCII_SEPARATORS)  # ASCII text translates at C speed
    if "  " not in spaced:
        return NormalizedText(spaced, len(text))
    mapped = _SPACE_RUN_RE.sub(" ", spaced)
    nstart: list[int] = []
    nend: list[int] = []
    ostart: list[int] = []
    oend: list[int] = []
    shift = 0  # original offset minus normalised offset so far
    for m in _SPACE_RUN_RE.finditer(spaced):
        start, end = m.span()
        npos = start - shift
        nstart.append(npos)
        nend.append(npos + 1)
        ostart.append(start)
        oend.append(end)
        shift += end - start - 1
    return NormalizedText(mapped, len(text), nstart, nend, ostart, oend)


_DROPPED = "\x00"  # stands for a dropped character in the fast path
_EXPANDED = "\x01"  # stands for a character that normalises to several ("…" -> "...", "ß" -> "ss")
# What changes length: runs of dropped characters, runs of separators (two spaces or more, with any dropped
# characters between them) and expanded characters. A single space is left alone, so the loop below runs per
# oddity, not per word.
_RUN_RE = re.compile(r"\x00+| [ \x00]* |\x01")


def _char_table(chars: set[str]) -> tuple[dict[int, str], dict[str, str]]:
    """Per character: its one-character replacement (or a placeholder), and the expansions of the others.

    Characters that stay as they are map to themselves: ``str.translate`` raises and clears a KeyError for
    every character its table lacks, which made it twice as slow."""
    table: dict[int, str] = {}
    expansions: dict[str, str] = {}
    for ch in chars:
        out = _segment_cache.get(ch)
        if out is None:
            out = _normalize_segment(ch)
        if out == ch:
            table[ord(ch)] = ch
            continue
        if len(out) > 1:
            table[ord(ch)] = _EXPANDED
            expansions[ch] = out
        else:
            table[ord(ch)] = out or _DROPPED
    return table, expansions


class _Chars:
    """Every character a text or term has held so far: its replacement (or a placeholder) in ``table``, the
    expansions, and what lets most texts skip ``str.translate`` (a dictionary look-up per character) for
    ``str.lower`` and a few ``str.replace`` at C speed (see ``_Chars.map``).

    Kept across texts, since building the table per story was a fifth of the time of matching it; a full one is
    replaced, not cleared, so that a thread reading the old one still reads it whole."""

    __slots__ = ("expansions", "known", "lowerable", "swaps", "table")

    def __init__(self) -> None:
        self.table: dict[int, str] = {}
        self.expansions: dict[str, str] = {}
        self.known: set[str] = set()
        # Characters whose replacement ``str.lower`` gives, or that ``swaps`` replaces after it.
        self.lowerable: set[str] = set()
        # A character ``str.lower`` leaves alone -> its one-character replacement, when that replacement is its
        # own (so that no other swap or lowering touches it again: the swaps can run in any order).
        self.swaps: dict[str, str] = {}

    def learn(self, new: set[str]) -> None:
        table, expansions = _char_table(new)
        self.table.update(table)
        self.expansions.update(expansions)
        for ch in new:
            out = table[ord(ch)]
            lower = ch.lower()
            # Σ lowers by its context (final ς), not alone; İ lowers to two characters.
            if ch == "\u03a3" or len(lower) != 1:
                continue
            if out == lower and self._fixed(lower):
                self.lowerable.add(ch)
            elif lower == ch and (out in (_DROPPED, _EXPANDED) or self._fixed(out)):
                self.swaps[ch] = out
                self.lowerable.add(ch)
        self.known.update(new)  # last: a character counts as known once the table holds it

    def _fixed(self, ch: str) -> bool:
        """Whether ``ch`` is its own replacement."""
        out = self.table.get(ord(ch))
        if out is None:
            out = _char_table({ch})[0][ord(ch)]
        return out == ch

    def map(self, text: str, letters: set[str]) -> str:
        """``text.translate(self.table)``; ``letters``: the set of its characters."""
        if letters <= self.lowerable:
            mapped = text.lower()
            for ch in letters.intersection(self.swaps):
                mapped = mapped.replace(ch, self.swaps[ch])
            return mapped
        return text.translate(self.table)


_CHAR_LIMIT = 50_000
_chars = _Chars()


def _tables(text: str) -> tuple[_Chars, set[str]]:
    """The kept characters, covering every character of ``text`` now, and the set of those characters."""
    global _chars
    chars = _chars
    letters = set(text)
    new = letters.difference(chars.known)
    if new:
        if len(chars.known) + len(new) > _CHAR_LIMIT:
            chars = _Chars()
            new = letters
        chars.learn(new)
        _chars = chars
    return chars, letters


def _normalize_fast(text: str) -> NormalizedText | None:
    """``normalize`` for text in NFC, character by character at C speed (``_Chars.map`` and one regex).

    In NFC text no character composes with its neighbour, so mapping each character on its own (NFKC, case
    fold, drops, folds) gives what the segment loop gives. Offsets change only where separator runs collapse,
    characters are dropped or a character expands; a dropped mark stays with the character before it, as in
    its segment. None when the text is not NFC or holds the placeholders: the segment loop handles it.
    """
    if _DROPPED in text or _EXPANDED in text or not unicodedata.is_normalized("NFC", text):
        return None
    chars, letters = _tables(text)
    expansions = chars.expansions
    mapped = chars.map(text, letters)  # one character for one, so offsets are still the original ones
    plain = _DROPPED not in mapped and _EXPANDED not in mapped
    if plain and "  " not in mapped:
        return NormalizedText(mapped, len(text))  # the common case: nothing changes length
    nstart: list[int] = []
    nend: list[int] = []
    ostart: list[int] = []
    oend: list[int] = []
    shift = 0  # original offset minus normalised offset so far

    def record(n0: int, n1: int, o0: int, o1: int) -> None:
        nstart.append(n0)
        nend.append(n1)
        ostart.append(o0)
        oend.append(o1)

    def replace(m: re.Match[str]) -> str:
        nonlocal shift
        run_start, run_end = m.span()
        npos = run_start - shift
        run = m.group()
        if run == _EXPANDED:
            out = expansions[text[run_start]]
            record(npos, npos + len(out), run_start, run_end)
            shift -= len(out) - 1
            return out
        if " " in run:
            record(npos, npos + 1, run_start, run_end)
            shift += run_end - run_start - 1
            return " "
        shift += run_end - run_start
        if npos > 0 and unicodedata.category(text[run_start])[0] == "M":
            # A dropped mark (nukta, haraka) stays with the character before it, as in its segment.
            if oend and oend[-1] == run_start:
                oend[-1] = run_end
            else:
                record(npos - 1, npos, run_start - 1, run_end)
        else:  # format characters (ZWJ, soft hyphen) belong to no character: an empty span
            record(npos, npos, run_start, run_end)
        return ""

    runs = _SPACE_RUN_RE if plain else _RUN_RE
    return NormalizedText(runs.sub(replace, mapped), len(text), nstart, nend, ostart, oend)


def normalize(text: str) -> NormalizedText:
    """Normalise ``text`` for matching (see the module docstring) and keep the offset map."""
    if text.isascii():
        return _normalize_ascii(text)
    fast = _normalize_fast(text)
    if fast is not None:
        return fast
    return _normalize_segments(text)


def _normalize_segments(text: str) -> NormalizedText:
    """The general path: segment by segment (a base and its marks), for text that is not NFKC already."""
    parts: list[str] = []
    nstart: list[int] = []
    nend: list[int] = []
    ostart: list[int] = []
    oend: list[int] = []
    npos = 0
    i = 0
    n = len(text)
    previous_space = False
    continues = _continues_cache
    segments = _segment_cache
    while i < n:
        j = i + 1
        while j < n:
            more = continues.get(text[j])
            if not (_continues(text[j]) if more is None else more):
                break
            j += 1
        seg = text[i:j]
        out = segments.get(seg)
        if out is None:
            out = _normalize_segment(seg)
        if out == " ":
            # Runs of whitespace and hyphens become one space, so "Kim  Jong-un" equals the term "Kim Jong Un".
            if previous_space:
                out = ""
            previous_space = True
        elif out:
            previous_space = False
        if len(out) != j - i:
            nstart.append(npos)
            nend.append(npos + len(out))
            ostart.append(i)
            oend.append(j)
        parts.append(out)
        npos += len(out)
        i = j
    return NormalizedText("".join(parts), n, nstart, nend, ostart, oend)


@lru_cache(maxsize=1 << 17)
def normalize_term(term: str) -> str:
    """The normalised form of a configured term (same rules as the text). Cached: compiling topics normalises
    each of a few hundred thousand lexicon forms several times (dedupe, key, words), story texts never come here.

    Only the text is wanted, not the offset map: ASCII is lowered with its separator runs collapsed, and NFC text
    is mapped through the table kept across texts and terms; anything that changes
    length goes the general way."""
    if term.isascii():
        return _SEPARATOR_RE.sub(" ", term.lower())
    if _DROPPED in term or _EXPANDED in term or not unicodedata.is_normalized("NFC", term):
        return normalize(term).text
    chars, letters = _tables(term)
    mapped = chars.map(term, letters)
    if _DROPPED in mapped or _EXPANDED in mapped or "  " in mapped:
        return normalize(term).text
    return mapped


@lru_cache(maxsize=8192)  # called per candidate hit and per letter after it: a C-level cache pays off
def is_word_char(ch: str) -> bool:
    """Letters, marks and digits make words; a matra or virama therefore continues a Devanagari word."""
    return unicodedata.category(ch)[0] in "LMN"


@lru_cache(maxsize=8192)
def is_unspaced(ch: str) -> bool:
    """True for scripts written without spaces between words (Han, kana, Thai, ...)."""
    return _in_ranges(ord(ch), _UNSPACED_RANGES)


def is_cyrillic(ch: str) -> bool:
    return 0x0400 <= ord(ch) <= 0x052F


def is_hangul(ch: str) -> bool:
    cp = ord(ch)
    return 0xAC00 <= cp <= 0xD7A3 or 0x1100 <= cp <= 0x11FF or 0x3130 <= cp <= 0x318F


def is_arabic(ch: str) -> bool:
    cp = ord(ch)
    return 0x0600 <= cp <= 0x06FF or 0x0750 <= cp <= 0x077F or 0xFB50 <= cp <= 0xFDFF or 0xFE70 <= cp <= 0xFEFF
