"""Country names in every language CLDR knows, for topics that say ``countries: [KP]``: the names every story
is matched against, whatever its language (each language's own forms come scoped, from ``workers.filter.lexicon``).

Decisions, in order, for each name CLDR gives a country code (read from the lexicon's ``cldr-territory`` rows,
which ``scripts/build_lexicon.py`` took from babel's locale files; the reading is cached per process):

1. drop inverted sort forms ("Korea, North") and parenthetical qualifiers (``name_parts``);
2. drop short names written in Latin script (fewer than ``MIN_LATIN_CHARS`` letters): CLDR's names in small
   languages include "Nga", "Rus", "Risi", "Lasa", which are words or names in other languages;
3. drop the names in ``COLLIDING_NAMES``, which are common words or personal names elsewhere;
4. dedupe after normalisation, keeping the first spelling, and remember the languages of the locales that gave
   each name, so a caller can leave out the names of languages that get them scoped anyway
   (``skip_languages``): "Venäjä" needs no place among every story's terms when Finnish stories have it.
"""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Iterable

import babel

from workers.filter import lexicon
from workers.filter.textnorm import normalize_term

logger = logging.getLogger(__name__)

MIN_LATIN_CHARS = 5
# Normalised names that CLDR lists for a country but that mostly mean something else in news text.
COLLIDING_NAMES = frozenset(
    {
        "ruslan",  # "Russia" in one small locale (bew); a common first name everywhere else
        "rasha",  # "Russia" in some African locales; a common Arabic first name
        "ደቡብ፡ኮሪያ",  # Ge'ez CLDR data gives KP a name that reads "South Korea"
        "rosia",  # "Russia" in Malagasy; Romanian Roșia (Roșia Montană and other places), often typed without ș
    }
)

CLDR = "cldr-territory"  # the lexicon source of CLDR's territory names

# CLDR codes that name no place: unknown region, pseudo-locales, "Outlying Oceania".
_NOT_PLACES = frozenset({"ZZ", "XA", "XB", "QO"})

_lock = threading.Lock()
_names: dict[str, tuple[str, ...]] = {}
_languages: dict[str, frozenset[str]] = {}  # normalised name -> languages of the locales that give it
# One frozenset object per distinct set of languages: 35,000 names share a few hundred sets, and a set of its own
# per name cost 9 MB in a filter with a countries topic per country.
_language_sets: dict[frozenset[str], frozenset[str]] = {}


def _intern(languages: set[str]) -> frozenset[str]:
    langs = frozenset(languages)
    return _language_sets.setdefault(langs, langs)


_known_codes: frozenset[str] | None = None


def known_codes() -> frozenset[str]:
    """Two-letter territory codes CLDR has names for (``KP``, ``RU``, ...)."""
    global _known_codes
    if _known_codes is None:
        territories = babel.Locale("en").territories
        _known_codes = frozenset(
            code
            for code in territories
            if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in _NOT_PLACES
        )
    return _known_codes


def _is_latin(name: str) -> bool:
    return all("LATIN" in unicodedata.name(c, "") for c in name if c.isalpha())


def _keep(name: str) -> bool:
    if "," in name:
        return False
    norm = normalize_term(name).strip()
    if not norm or norm in COLLIDING_NAMES:
        return False
    letters = sum(1 for c in norm if c.isalpha())
    return not (_is_latin(norm) and letters < MIN_LATIN_CHARS)


def _load(codes: set[str], found: dict[str, tuple[lexicon.Entry, ...]] | None) -> None:
    started = time.perf_counter()
    found = found if found is not None and codes <= found.keys() else lexicon.entries(codes)
    languages: dict[str, set[str]] = {}  # this load's names, merged into _languages (interned) at the end

    def add(norm: str, language: str) -> None:
        if norm not in languages:
            languages[norm] = set(_languages.get(norm, ()))
        languages[norm].add(language)

    for code in codes:
        names = [(e.text, lexicon.story_language(e.lang)) for e in found[code] if e.kind == "name" and e.source == CLDR]
        seen: set[str] = set()
        kept: list[str] = []
        for name, language in ((part, lang) for full, lang in names for part in name_parts(full)):
            norm = normalize_term(name).strip()
            if norm in seen:
                add(norm, language)
            elif _keep(name):
                seen.add(norm)
                kept.append(name.strip())
                add(norm, language)
        _names[code] = tuple(kept)
    for norm, langs in languages.items():
        _languages[norm] = _intern(langs)
    logger.info("country names loaded codes=%d seconds=%.2f", len(codes), time.perf_counter() - started)


def name_parts(name: str) -> list[str]:
    """A CLDR name without its parenthetical qualifier, plus the qualifier when it is an acronym:
    "Конго (КДР)" -> ["Конго", "КДР"], "Congo (Kinshasa)" -> ["Congo"] (a city is not the country)."""
    if "(" not in name:
        return [name]
    base, _, rest = name.partition("(")
    inner = rest.split(")")[0].strip()
    parts = [base.strip()] if base.strip() else []
    letters = [c for c in inner if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters) and " " not in inner:
        parts.append(inner)
    return parts


def country_names(
    codes: Iterable[str],
    *,
    skip_languages: frozenset[str] = frozenset(),
    entries: dict[str, tuple[lexicon.Entry, ...]] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Names of each country code in every CLDR locale, filtered as the module docstring says, without the
    names that only locales of ``skip_languages`` give.

    Codes not yet cached are read in one pass over the lexicon (or taken from ``entries``, already read), so
    ask for all codes at once.
    """
    wanted = {c.upper() for c in codes}
    with _lock:
        missing = wanted - _names.keys()
        if missing:
            _load(missing, entries)
        if not skip_languages:
            return {code: _names[code] for code in wanted}
        return {
            code: tuple(n for n in _names[code] if not _languages[normalize_term(n).strip()] <= skip_languages)
            for code in wanted
        }


def name_languages(name: str) -> frozenset[str]:
    """Languages (CLDR locale languages: ``sk``, ``pl``...) whose locales give ``name`` to a country loaded by
    ``country_names``; empty for a name CLDR does not give."""
    with _lock:
        return _languages.get(normalize_term(name).strip(), frozenset())
