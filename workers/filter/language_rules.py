"""What ``language.detect`` adds to langdetect for the languages it has no profile for.

1. ``by_letters``: letters that, among every language ``detect`` can return, only one language writes decide
   that language without any model. Each entry of ``UNIQUE_LETTERS`` is a closed list; the language wins when
   the text holds at least ``UNIQUE_MIN`` of its letters (one stray name is not a text), is mostly written in
   their script (Cyrillic ѕ looks like Latin s), and holds no unique letter of another language and none of
   the language's ``foreign`` letters (the letters it never writes, which show the text is something else:
   Turkish misread as Latin-1 turns ğ ş into ð þ, but keeps ç ü).
2. ``second_opinion``: when langdetect has answered a language that texts of a language it lacks are known to
   come out as (``LANDING``: Mongolian as Russian, Serbian as Macedonian, Basque as Indonesian, Zulu as
   Swahili, Latin as Italian...), Lingua (``lingua-language-detector``, low accuracy mode) is asked,
   restricted to langdetect's answer and those of the lacking languages whose letters the text fits
   (``writes``). Lingua's answer replaces langdetect's only when it is one of the lacking languages and Lingua
   gives it at least ``LINGUA_SURE`` among the candidates: on the languages langdetect knows, langdetect keeps
   the last word, so it does not lose a text it got right to another language it could have named.
2b. On a text under ``CONFIRM_CHARS`` characters, where Lingua's own docs say low accuracy mode (trigrams
   only) "will drop significantly", that overrule needs a second look: Lingua in high accuracy mode (1- to
   5-grams), restricted to the two languages in question (langdetect's answer and Lingua's pick), must
   prefer the pick too. Its models load lazily, only for a pair that needs it (none of the corpus stories
   do): Swahili and Tsonga add 5 MB after ``warm_up``, but every pair at once would add 554 MB.

Norwegian: langdetect answers ``no``; Bokmål stays ``no`` (the code feeds, topics and langdetect already use;
``nb`` hints normalise to it). Nynorsk would be ``nn``, but it is not asked for (see ``LANDING``).
"""

from __future__ import annotations

import ctypes
import logging
import re
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class UniqueLetters:
    language: str
    letters: str  # lower case; no other language detect can return writes any of them
    script: str  # a character class of the script; most of the text's letters must be of it
    foreign: str = ""  # letters the language never writes: their presence vetoes the decision


CYRILLIC = "\u0400-\u052f"
LATIN = "a-zA-Z\u00c0-\u024f\u1e00-\u1eff"


# Checked against the alphabets of the 55 langdetect languages, the script-owned ones (language._SCRIPTS) and
# the languages of LANDING. Not here, because another returnable language shares them: Serbian/Macedonian
# ј љ њ џ, Kazakh/Mongolian ө ү, Belarusian/Ukrainian/Kazakh і, Croatian/Bosnian/Serbian/Vietnamese đ,
# Vietnamese/Yoruba ẹ ọ, Latvian/Maori macrons.
UNIQUE_LETTERS = (
    UniqueLetters("be", "ў", CYRILLIC),  # U+045E, Cyrillic short u
    UniqueLetters("sr", "ђћ", CYRILLIC),  # Serbian Cyrillic dje, tshe
    UniqueLetters("mk", "ѓќѕ", CYRILLIC),  # Macedonian gje, kje, dze (so a Macedonian text with them is never Serbian)
    UniqueLetters("kk", "әғқңұһ", CYRILLIC),  # Cyrillic schwa, ghayn, qa, eng, straight u, shha
    UniqueLetters("az", "ə", LATIN),  # U+0259, Latin schwa
    # eth (Faroese and Old English are not returnable); not thorn: Turkish decoded as Latin-1 turns ş into þ
    # (and ğ into ð, hence the foreign letters, Turkish's ç ü that survive that decoding)
    UniqueLetters("is", "ð", LATIN, foreign="çüşğıcqwz"),
    UniqueLetters("eo", "ĉĝĥĵŝŭ", LATIN),  # Esperanto's circumflexed consonants and u-breve
)
UNIQUE_MIN = 2


def by_letters(cleaned: str) -> tuple[str, int] | None:
    """(language, count of its unique letters) when exactly one language's unique letters occur, else None."""
    lower = cleaned.lower()
    found: tuple[str, int] | None = None
    for rule in UNIQUE_LETTERS:
        count = sum(lower.count(c) for c in rule.letters)
        if not count:
            continue
        if found is not None or any(c in lower for c in rule.foreign):
            return None
        found = (rule.language, count)
    if found is None or found[1] < UNIQUE_MIN:
        return None
    rule = next(r for r in UNIQUE_LETTERS if r.language == found[0])
    letters = sum(c.isalpha() for c in lower)
    # Cyrillic ѕ or Latin-looking letters sprinkled in another script's text (homoglyphs) decide nothing
    return found if len(re.findall(f"[{rule.script}]", lower)) * 2 >= letters else None


# langdetect's answer -> the languages it has no profile for whose texts come out as that answer: plain
# langdetect's confusions on the lingua-go sentences, where at least 5% of a lacking language's sentences got
# that answer. Left out, each for a measured reason:
# - kk, az, is: their unique letters decide 95-99% of their texts; asking Lingua for the rest cost Ukrainian,
#   Turkish and Scandinavian texts more than it won;
# - bs (as hr), ms (as id), nn (as no), Latin sr (as hr): near twins that Lingua tells apart no better than
#   a coin, taking 5-30% of langdetect's correct Croatian, Indonesian and Norwegian with them;
# - English (where Irish, Latin, Sesotho, Setswana and Yoruba land too): it is most stories, so Lingua on each
#   would cost most of the time budget, and it took a few English texts for Irish or Latin.
LANDING: dict[str, tuple[str, ...]] = {
    "ru": ("be", "mn"),
    "uk": ("be",),
    "mk": ("sr",),
    "af": ("tn",),
    "ca": ("ga", "la", "yo"),
    "cs": ("yo",),
    "cy": ("ga",),
    "es": ("eo", "ga"),
    "et": ("eo", "st", "tn"),
    "fr": ("ga", "la"),
    "hr": ("eo", "sn", "tn", "yo"),
    "hu": ("yo",),
    "id": ("eu", "lg", "mi", "st", "tn", "yo", "zu"),
    "it": ("eo", "eu", "la", "tn"),
    "lt": ("eo",),
    "lv": ("mi",),
    "nl": ("eu",),
    "pt": ("ga", "la"),
    "ro": ("la",),
    "sl": ("eo", "eu", "yo"),
    "so": ("lg", "tn"),
    "sw": ("lg", "mi", "sn", "st", "tn", "ts", "xh", "yo", "zu"),
    "tl": ("lg", "mi", "st", "tn"),
    "tr": ("eu",),
}
# Letters a lacking language never writes, so Lingua is not offered it for a text holding them: Cyrillic ones as
# written; for Latin ones, the accents (combining marks after NFD decomposition) the language writes, every
# other one and any non-ASCII base letter counting against it (Catalan's ç or Czech's č are never Latin or
# Yoruba), and the ASCII letters it has no use for (Yoruba has no c, Maori no l, Shona no l).
FOREIGN_CYRILLIC = {
    "be": "иїщъєґ",  # Belarusian writes і for и, ’ for ъ, шч for щ
    "mn": "іїєґўјљњђћџ",
    "sr": "йщъыьэюяёіїєґў",  # Serbian writes ј, љ, њ instead
}
# Latin: (the accents it writes, ASCII letters it never writes outside foreign names)
LATIN_WRITES = {
    "la": ("\u0302\u0303\u0304\u0306\u0308", ""),  # editions' macrons, breves, diaereses (poëta)
    "eo": ("\u0302\u0306", "qwxy"),  # ĉ ĝ ĥ ĵ ŝ, ŭ
    "ga": ("\u0301", ""),  # the fada
    "eu": ("\u0301\u0303\u0308", ""),  # ñ, ü, loan accents
    "mi": ("\u0304", "bcdfjlqsvxyz"),  # macrons; a e h i k m n o p r t u w, ng and wh
    "yo": ("\u0300\u0301\u0304\u0323", "cqvxz"),  # tones and the dot of ẹ ọ ṣ
    "sn": ("", "lqx"),
    "lg": ("", "hqx"),  # and ŋ
}
_MARK_RE = re.compile(r"[\u0300-\u036f]")
_NON_ASCII_LATIN_RE = re.compile(r"[\u00c0-\u014a\u014c-\u024f\u1e00-\u1eff]")  # all but ŋ (U+014B)


def writes(code: str, cleaned: str) -> bool:
    """False when ``cleaned`` holds a letter or accent that language ``code`` never writes (see the tables)."""
    lower = cleaned.lower()
    if code in FOREIGN_CYRILLIC:
        return not any(c in lower for c in FOREIGN_CYRILLIC[code])
    if code in LATIN_WRITES:
        marks, foreign = LATIN_WRITES[code]
        decomposed = unicodedata.normalize("NFD", lower)
        if _NON_ASCII_LATIN_RE.search(decomposed) or any(c in decomposed for c in foreign):
            return False  # ø, æ, ß, ł, ı... survive decomposition
        return all(m in marks for m in _MARK_RE.findall(decomposed))
    return True


LINGUA_CHARS = 300  # Lingua is as sure on 300 characters of a story as on 600, at half the cost
LOW_ACCURACY = True
LINGUA_SURE = 0.999  # Lingua's confidence in its answer, among the candidates, for it to count
# Lingua's docs: low accuracy mode is unreliable under 120 characters. Measured on all 74,150 lingua-go
# sentences: any bound from 100 to 200 keeps the same answers (the one Swahili sentence plain langdetect got
# right and Lingua's trigrams called Tsonga at 0.9999 comes back, nothing else changes); asking the high
# accuracy mode for more than a preference (>= 0.6 to 0.9 of the pair) costs 1 to 78 correct answers.
CONFIRM_CHARS = 120

_detectors: dict[tuple[str, ...], Any] = {}  # candidate set -> its detector (the high accuracy pairs: _high)
_lock = threading.Lock()


def _build(codes: tuple[str, ...], low: bool) -> Any:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    iso = [getattr(IsoCode639_1, c.upper()) for c in codes]
    # Low accuracy mode (trigrams only): the candidates are few, the texts sentences or longer, and it needs a
    # fifth of the memory and time of the full models. Either mode loads a language's models on first use
    # (Lingua's default), so a high accuracy pair costs nothing until a short text needs it.
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*iso)
    return (builder.with_low_accuracy_mode() if low else builder).build()


def _detector(codes: tuple[str, ...]) -> Any:
    """The (low accuracy, unless ``LOW_ACCURACY`` is off) detector of a candidate set, built once, kept."""
    detector = _detectors.get(codes)
    if detector is None:
        with _lock:
            detector = _detectors.get(codes)
            if detector is None:
                detector = _detectors[codes] = _build(codes, LOW_ACCURACY)
    return detector


def candidates(answer: str, cleaned: str = "") -> tuple[str, ...]:
    """The languages Lingua chooses among when langdetect answered ``answer`` for ``cleaned``; empty when it is
    not asked (no lacking language lands on that answer, or the text holds letters none of them writes)."""
    lacking = [code for code in LANDING.get(answer, ()) if writes(code, cleaned)]
    return tuple(sorted({answer, *lacking})) if lacking else ()


def second_opinion(cleaned: str, answer: str) -> tuple[str, float] | None:
    """Lingua's (language, confidence) when it overrules langdetect's ``answer`` (step 2 above), else None."""
    codes = candidates(answer, cleaned)
    if not codes:
        return None
    try:
        values = _detector(codes).compute_language_confidence_values(cleaned[:LINGUA_CHARS])
        if not values or values[0].value < LINGUA_SURE:
            return None
        code = values[0].language.iso_code_639_1.name.lower()
        if code not in LANDING[answer] or not confirmed(cleaned, answer, code):
            return None
    except Exception:  # a Lingua failure leaves langdetect's answer standing
        logger.warning("lingua failed chars=%d", len(cleaned), exc_info=True)
        return None
    return code, round(float(values[0].value), 4)


def confirmed(cleaned: str, answer: str, code: str) -> bool:
    """Whether Lingua's overrule of ``answer`` by ``code`` stands (step 2b above): always on a text of
    ``CONFIRM_CHARS`` or more, else only if high accuracy mode, between the two, prefers ``code`` too."""
    if len(cleaned) >= CONFIRM_CHARS:
        return True
    pair = tuple(sorted((answer, code)))
    values = _high_detector(pair).compute_language_confidence_values(cleaned)
    return bool(values) and values[0].language.iso_code_639_1.name.lower() == code


# High accuracy pairs kept loaded at once. Every pair of LANDING loaded together is +554 MB (the lingua-go
# sentences load them all); past this many the least recently used pair's models are unloaded, and the heap
# trimmed: 24 pairs in turn then hold 100-140 MB, against 440 MB kept. Loading a pair again costs 0.15-0.4 s of
# CPU, once per short overruled text of a sixth language pair: rare in news (no corpus story needs any pair).
MAX_HIGH_PAIRS = 4
_high: OrderedDict[tuple[str, ...], Any] = OrderedDict()  # pair -> high accuracy detector, oldest use first


def _high_detector(pair: tuple[str, ...]) -> Any:
    evicted = []
    with _lock:  # building one loads no model (lazy), so it is made here: two threads never make the same pair
        detector = _high.get(pair)
        if detector is not None:
            _high.move_to_end(pair)
            return detector
        detector = _high[pair] = _build(pair, low=False)
        while len(_high) > MAX_HIGH_PAIRS:
            evicted.append(_high.popitem(last=False)[1])
    for old in evicted:
        # Lingua keeps models per language for all its detectors: the low accuracy ones' trigrams of these two
        # languages go too, and reload on their next use (a few milliseconds), as the pair's would
        old.unload_language_models()
    if evicted:
        _trim_heap()
    return detector


def _trim_heap() -> None:
    """Give freed model memory back to the system (glibc keeps it otherwise); a no-op elsewhere."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def warm_up() -> None:
    """Build the low accuracy detectors and load their models, so the first story that needs one is not slow.
    The high accuracy pairs stay unloaded: few texts need them, and their models are large."""
    for answer in LANDING:
        codes = candidates(answer)
        if codes:
            _detector(codes).compute_language_confidence_values("warm up")
