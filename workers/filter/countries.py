"""Country names in every language CLDR knows, for topics that say ``countries: [KP]``.

Decisions, in order, for each name CLDR gives a country code:

1. read every locale's own data file once (not babel's merged, cached ``Locale`` objects: those would load
   each parent again and keep about 100 MB of locale data alive); the reading is cached per process;
2. drop inverted sort forms ("Korea, North");
3. drop short names written in Latin script (fewer than ``MIN_LATIN_CHARS`` letters): CLDR's names in small
   languages include "Nga", "Rus", "Risi", "Lasa", which are words or names in other languages;
4. drop the names in ``COLLIDING_NAMES``, which are common words or personal names elsewhere;
5. dedupe after normalisation, keeping the first spelling, and remember the languages of the locales that gave
   each name (a Slovak name takes Slovak case endings in a Slovak story, a Hausa name does not: see
   ``workers.filter.terms``).
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
import unicodedata
from collections.abc import Iterable

import babel.localedata

from workers.filter.textnorm import normalize_term

logger = logging.getLogger(__name__)

MIN_LATIN_CHARS = 5
# Normalised names that CLDR lists for a country but that mostly mean something else in news text.
COLLIDING_NAMES = frozenset(
    {
        "ruslan",  # "Russia" in one small locale (bew); a common first name everywhere else
        "rasha",  # "Russia" in some African locales; a common Arabic first name
        "ደቡብ፡ኮሪያ",  # Ge'ez CLDR data gives KP a name that reads "South Korea"
    }
)

# CLDR codes that name no place: unknown region, pseudo-locales, "Outlying Oceania".
_NOT_PLACES = frozenset({"ZZ", "XA", "XB", "QO"})

_lock = threading.Lock()
_names: dict[str, tuple[str, ...]] = {}
_languages: dict[str, set[str]] = {}  # normalised name -> languages of the locales that give it
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


def _load(codes: set[str]) -> None:
    started = time.perf_counter()
    found: dict[str, list[tuple[str, str]]] = {code: [] for code in codes}
    for locale_id in sorted(babel.localedata.locale_identifiers()):
        try:
            with open(babel.localedata.resolve_locale_filename(locale_id), "rb") as fh:
                data = pickle.load(fh)
        except Exception:  # one broken locale file must not lose the others
            logger.warning("cannot read CLDR locale locale=%s", locale_id, exc_info=True)
            continue
        territories = data.get("territories") or {}
        for code in codes:
            name = territories.get(code)
            if name:
                found[code].append((name, locale_id.split("_")[0]))
    for code, names in found.items():
        seen: set[str] = set()
        kept: list[str] = []
        for name, language in ((part, lang) for full, lang in names for part in name_parts(full)):
            norm = normalize_term(name).strip()
            if norm in seen:
                _languages[norm].add(language)
            elif _keep(name):
                seen.add(norm)
                kept.append(name.strip())
                _languages.setdefault(norm, set()).add(language)
        _names[code] = tuple(kept)
    logger.info("country names loaded codes=%s seconds=%.2f", ",".join(sorted(codes)), time.perf_counter() - started)


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


def country_names(codes: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Names of each country code in every CLDR locale, filtered as the module docstring says.

    Codes not yet cached are read in one pass over the locale files, so ask for all codes at once.
    """
    wanted = {c.upper() for c in codes}
    with _lock:
        missing = wanted - _names.keys()
        if missing:
            _load(missing)
        return {code: _names[code] for code in wanted}


def name_languages(name: str) -> frozenset[str]:
    """Languages (CLDR locale languages: ``sk``, ``pl``...) whose locales give ``name`` to a country loaded by
    ``country_names``; empty for a name CLDR does not give."""
    with _lock:
        return frozenset(_languages.get(normalize_term(name).strip(), ()))
