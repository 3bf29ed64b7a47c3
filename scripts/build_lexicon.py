"""Build the multilingual country lexicon, ``workers/filter/lexicon/countries.tsv.gz``, from named sources.

Run ``python scripts/build_lexicon.py --wikt DIR [--wordnet DIR] [--out DIR]`` (needs the ``lexicon`` extra:
simplemma, pycountry, countryinfo; and two datasets read from disk, not committed: OMW's Wiktionary wordnets,
omw-data's ``wns/wikt``, and WordNet 3.0's database files, Debian's ``wordnet-base``). The output is
deterministic: rows sorted, gzip without a timestamp. Each row is
``code, lang, kind, text, lemma, source``; see ``workers/filter/lexicon/SOURCES.md`` for the sources, their
licences and the decisions below.

Order of work, per ISO 3166-1 code of ``workers.filter.countries.known_codes()``:

1. ``name`` from CLDR territory names (every locale's own data file) and from iso-codes' translated names
   (pycountry's gettext catalogs): inverted forms ("Korea, North") dropped, "A (B)" and "A - B" split into
   their parts, each part keeping the full name as its lemma;
2. ``adjective`` from CLDR currency names: the currency's own noun (the word shared with the currencies of
   other countries in that locale) is removed and what is left is kept ("orosz rubel" -> "orosz"). It is the
   attributive part of the name: an adjective in most languages, a genitive of the country's name in some
   ("Venäjän rupla" -> "Venäjän", "Ρούβλι Ρωσίας" -> "Ρωσίας"); either is a term for the country;
3. ``language`` from CLDR language names of the country's own language (likely territory of the language and
   official there), kept only where the name agrees with a name or adjective of the country in that locale
   (fr "russe" for RU; not "anglais" for US, nor "arabe" for EG);
4. ``capital``: countryinfo's English capital, localised through CLDR time-zone exemplar cities when the
   capital is a zone city, and through iso-codes' translated subdivision names when it is a subdivision;
5. ``demonym`` in English from countryinfo; ``demonym`` and ``adjective`` in every language of OMW's Wiktionary
   wordnets, for the people and adjective synsets WordNet links to the country, each word kept only where it is
   unambiguous in its language (``add_wordnet``);
6. ``form`` from simplemma's dictionaries, each scanned once (a third time for the forms found: one that is
   also a form of another lemma is left out, as Croatian Kino, "cinema"): every surface form whose lemma equals an entry
   of 1-5 in that language (and, for adjectives, the lemma of the entry itself: sr "руска" -> "руски");
7. ``manual`` rows from ``scripts/lexicon_manual.tsv``.

Rows are distinct per (code, lang, kind, normalised text); a form equal to another kind's text is dropped.
"""

from __future__ import annotations

import argparse
import gettext
import gzip
import io
import pickle
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import babel
import babel.localedata
from babel.core import get_global, parse_locale

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from workers.filter.countries import MIN_LATIN_CHARS, known_codes  # noqa: E402
from workers.filter.textnorm import normalize_term  # noqa: E402

OUT_DIR = ROOT / "workers" / "filter" / "lexicon"
OUT_FILE = "countries.tsv.gz"
MANUAL = ROOT / "scripts" / "lexicon_manual.tsv"
KINDS = ("name", "adjective", "language", "capital", "demonym", "form", "not")  # not: an exclusion (none term)
# simplemma language codes whose dictionaries serve several lexicon languages.
SIMPLEMMA_LANGS = {
    "hbs": ("hr", "sr", "sr-Latn", "bs", "bs-Cyrl", "cnr"),
    "nb": ("nb", "no"),
    "tl": ("tl", "fil"),
}
MAX_ADJECTIVE_WORDS = 3
# Words in the currency names of at least this many countries of one locale are function words ("de", "ya").
FUNCTION_WORD_COUNTRIES = 15


@dataclass(frozen=True, order=True)
class Row:
    code: str
    lang: str
    kind: str
    text: str
    lemma: str
    source: str


def norm(text: str) -> str:
    return normalize_term(text).strip()


def clean(text: str) -> str:
    return " ".join(text.replace("\t", " ").split())


def has_letter(text: str) -> bool:
    return any(unicodedata.category(c)[0] == "L" for c in text)


# ---------------------------------------------------------------------------------------------- CLDR (babel)


def _lang_tag(locale_id: str, likely: dict[str, str]) -> str | None:
    """``sr_Latn_BA`` -> ``sr-Latn``, ``zh_Hant_TW`` -> ``zh-Hant``, ``pt_BR`` -> ``pt``; None for root."""
    lang, _territory, script, *_ = parse_locale(locale_id)
    if lang in ("root", "und"):
        return None
    default = parse_locale(likely[lang])[2] if lang in likely else None
    return f"{lang}-{script}" if script and script != default else lang


def cldr_locales() -> Iterator[tuple[str, dict]]:
    """(lexicon language, own data) per CLDR locale, in sorted locale order."""
    likely = get_global("likely_subtags")
    for locale_id in sorted(babel.localedata.locale_identifiers()):
        tag = _lang_tag(locale_id, likely)
        if tag is None:
            continue
        with open(babel.localedata.resolve_locale_filename(locale_id), "rb") as fh:
            yield tag, pickle.load(fh)


_DASH_SPLIT = re.compile(r"\s+[-\u2013\u2014]\s+")
_PARENS = re.compile(r"^(.*?)\s*[(（]([^()（）]*)[)）]\s*$")


def split_name(name: str) -> list[str]:
    """The usable parts of a CLDR or ISO name; [] for inverted forms.

    "Конго (КДР)" -> ["Конго", "КДР"], "Congo - Kinshasa" -> ["Congo", "Kinshasa"], "Korea, North" -> [].
    A part shared by two countries ("Congo") stays with both: news text uses it for either.
    """
    name = clean(name)
    if "," in name or "，" in name:
        return []
    parts = [name]
    m = _PARENS.match(name)
    if m:
        parts = [m.group(1), m.group(2)]
    out: list[str] = []
    for part in parts:
        out.extend(p.strip() for p in _DASH_SPLIT.split(part))
    return [p for p in out if has_letter(p)]


def _territory_of_currency(code: str, territory_currencies: dict, codes: frozenset[str]) -> str | None:
    """ISO 4217 codes start with the country's alpha-2 code; trust it only where CLDR agrees."""
    territory = code[:2]
    if territory in codes and any(c[0] == code for c in territory_currencies.get(territory, ())):
        return territory
    return None


_WORD = re.compile(r"\S+")


def currency_leftovers(currency_names: dict[str, str], currency_territory: dict[str, str]) -> dict[str, set[str]]:
    """Per country, what is left of its currency names in one locale once the currency noun is removed.

    Words found in the currency names of ``FUNCTION_WORD_COUNTRIES`` countries or more ("de", "ya") are
    dropped; the noun is then the word found in the currency names of the most countries ("rubel" in hu:
    Russia, Belarus, Latvia, Tajikistan). A tie for that place makes the currency ambiguous, and a leftover
    word that other countries' currencies use too ("CSI" of "rublo della CSI") makes the leftover unsafe:
    both are skipped. Parenthesised dates ("(1991-1998)") are removed first.
    """
    words_of: dict[str, list[str]] = {}
    countries_of_word: dict[str, set[str]] = defaultdict(set)
    for cur, name in sorted(currency_names.items()):
        territory = currency_territory.get(cur)
        if territory is None or not isinstance(name, str):
            continue
        words = _WORD.findall(re.sub(r"\s*\([^)]*\)", "", clean(name)))
        words_of[cur] = words
        for w in words:
            countries_of_word[w.casefold()].add(territory)
    out: dict[str, set[str]] = defaultdict(set)
    for cur, words in words_of.items():
        df = {w: len(countries_of_word[w.casefold()]) for w in words}
        words = [w for w in words if df[w] < FUNCTION_WORD_COUNTRIES]
        counts = sorted({(df[w], w.casefold()) for w in words}, reverse=True)
        if len(counts) < 2 or counts[0][0] < 2 or counts[0][0] == counts[1][0]:
            continue
        # Acronyms ("WIR" franc, "US" dollar, "CSI") are not adjectives, and "wir", "us" are common words.
        rest = [w for w in words if w.casefold() != counts[0][1] and not (w.isupper() and len(w) > 1)]
        if len(rest) <= MAX_ADJECTIVE_WORDS and all(df[w] == 1 and has_letter(w) for w in rest):
            out[currency_territory[cur]].add(" ".join(rest))
    return out


def _agrees(a: str, b: str) -> bool:
    """Two texts start alike, accents aside (the first 4 letters, or all but one of the shorter one)."""
    a, b = _fold(a), _fold(b)
    need = max(1, min(4, min(len(a), len(b)) - 1))
    return a[:need] == b[:need]


def _plainer(kind: str, text: str, than: str) -> bool:
    """Of two spellings that differ in case only, the one to keep: "России" rather than "РОССИИ", and the
    adjective "российский" rather than "Российский" (a currency name that starts a sentence)."""
    if than.isupper() and not text.isupper():
        return True
    return kind == "adjective" and sum(map(str.isupper, text)) < sum(map(str.isupper, than))


class Lexicon:
    """Rows collected so far, distinct per (code, lang, kind, normalised text), first source wins."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, str], Row] = {}
        self._index: dict[tuple[str, str, str], set[str]] = defaultdict(set)

    def add(self, code: str, lang: str, kind: str, text: str, lemma: str, source: str) -> None:
        text, lemma = clean(text), clean(lemma)
        key_text = norm(text)
        if not key_text or not has_letter(key_text):
            return
        key = (code, lang, kind, key_text)
        old = self.rows.get(key)
        if old is None:
            self.rows[key] = Row(code, lang, kind, text, lemma or text, source)
            self._index[(code, lang, kind)].add(key_text)
        elif old.source == source and _plainer(kind, text, old.text):
            self.rows[key] = Row(code, lang, kind, text, lemma or text, source)

    def texts(self, code: str, lang: str, kinds: Iterable[str]) -> set[str]:
        """Normalised texts of the given kinds for one code and language."""
        return set().union(*(self._index.get((code, lang, kind), ()) for kind in kinds))

    def by_lang(self, kinds: Iterable[str]) -> dict[str, list[Row]]:
        kinds = set(kinds)
        out: dict[str, list[Row]] = defaultdict(list)
        for row in self.rows.values():
            if row.kind in kinds:
                out[row.lang].append(row)
        return out


def add_cldr(lex: Lexicon, codes: frozenset[str]) -> None:
    """Names, currency adjectives, language names and zone cities from every CLDR locale (one pass)."""
    territory_currencies = get_global("territory_currencies")
    territory_languages = get_global("territory_languages")
    likely = get_global("likely_subtags")
    all_currencies = {c[0] for v in territory_currencies.values() for c in v}
    currency_territory = {
        cur: t for cur in all_currencies if (t := _territory_of_currency(cur, territory_currencies, codes))
    }
    own_languages: dict[str, list[str]] = defaultdict(list)  # country -> languages it is the home of
    for lang, subtags in likely.items():
        territory = parse_locale(subtags)[1]
        status = territory_languages.get(territory, {}).get(lang, {}).get("official_status") or ""
        if territory in codes and "_" not in lang and status.endswith("official") and "regional" not in status:
            own_languages[territory].append(lang)
    leftovers: dict[tuple[str, str], set[str]] = defaultdict(set)
    language_names: dict[tuple[str, str], set[str]] = defaultdict(set)
    cities: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # zone -> lang -> cities
    for tag, data in cldr_locales():
        for code, name in sorted((data.get("territories") or {}).items()):
            if code in codes and isinstance(name, str):
                for part in split_name(name):
                    lex.add(code, tag, "name", part, name, "cldr-territory")
        for code, rest in currency_leftovers(data.get("currency_names") or {}, currency_territory).items():
            leftovers[(code, tag)] |= rest
        languages = data.get("languages") or {}
        for code, langs in own_languages.items():
            for lang in langs:
                if isinstance(languages.get(lang), str):
                    language_names[(code, tag)].add(languages[lang])
        for zone, info in (data.get("time_zones") or {}).items():
            if isinstance(info, dict) and info.get("city"):
                cities[zone][tag].add(info["city"])
    vouching: dict[tuple[str, str], set[str]] = defaultdict(set)  # noisy phrases that still vouch for a language
    for (code, tag), texts in sorted(leftovers.items()):
        names = lex.texts(code, tag, ["name"])
        name_words = {w for name in names for w in name.split()}
        for text in sorted(texts):
            words = norm(text).split()
            # "Ruble ya Urusi" leaves "Urusi", "Rúp Nga" leaves "Nga": the name itself, nothing new.
            if any(f" {name} " in f" {' '.join(words)} " for name in names):
                continue
            # "nouveau kwanza angolais" leaves "kwanza angolais", "Mexican Silver Peso" leaves "Mexican Silver",
            # "peso de plata mexicano" leaves "plata mexicano": a phrase is the country's attribute only if every
            # word of it is the country's ("Trinidad Tobago", "Արաբական Միացյալ Էմիրությունների"); a currency
            # noun, a metal or a qualifier (kwanza, plata, silver, antiga, financer) makes it noise. Keeping only
            # the country's words instead would make new one-word entries of half a name ("Afrika Randı" ->
            # "Afrika", Africa for South Africa), so the phrase goes whole.
            ours = [any(_agrees(w, n) for n in name_words) for w in words]
            if len(words) > 1 and any(ours):
                vouching[(code, tag)].add(norm(text))
            if len(words) > 1 and not all(ours):
                continue
            lex.add(code, tag, "adjective", text, text, "cldr-currency")
    for (code, tag), texts in sorted(language_names.items()):
        # A phrase dropped above for its noise still vouches for a language name, as it did when it was kept: hr
        # "bosanski" agrees only with such a phrase.
        known = lex.texts(code, tag, ["name", "adjective"]) | vouching.get((code, tag), set())
        for text in sorted(texts):
            if any(_agrees(norm(text), k) for k in known):
                lex.add(code, tag, "language", text, text, "cldr-language")
    add_capitals(lex, codes, cities)


# ------------------------------------------------------------------------------------- capitals, demonyms


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def _strings(value: object) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    return tuple(clean(v) for v in values if isinstance(v, str) and clean(v))


def countryinfo_data(codes: frozenset[str]) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """ISO code -> (English capitals, English demonyms) from countryinfo (South Africa has three capitals)."""
    import countryinfo

    out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for info in countryinfo.all_countries():
        data = info.info()
        code = (data.get("ISO") or {}).get("alpha2", "")
        if code in codes and code not in out:
            out[code] = (_strings(data.get("capital")), _strings(data.get("demonym")))
    return out


def add_capitals(lex: Lexicon, codes: frozenset[str], cities: dict[str, dict[str, set[str]]]) -> None:
    zone_territories = get_global("zone_territories")
    en_city: dict[str, str] = {}  # zone -> English exemplar city (CLDR derives it from the zone id)
    for zone, territory in zone_territories.items():
        if territory in codes:
            derived = zone.split("/")[-1].replace("_", " ")
            en_city[zone] = next(iter(sorted(cities.get(zone, {}).get("en", ()))), derived)
    zones_of: dict[str, list[str]] = defaultdict(list)
    for zone in sorted(en_city):
        zones_of[zone_territories[zone]].append(zone)
    catalogs = _iso_catalogs("iso3166-2")
    for code, (capitals, demonyms) in sorted(countryinfo_data(codes).items()):
        for demonym in demonyms:
            lex.add(code, "en", "demonym", demonym, demonym, "countryinfo")
        for capital in capitals:
            _add_capital(lex, code, capital, zones_of, en_city, cities, catalogs)


def _add_capital(
    lex: Lexicon,
    code: str,
    capital: str,
    zones_of: dict[str, list[str]],
    en_city: dict[str, str],
    cities: dict[str, dict[str, set[str]]],
    catalogs: list[tuple[str, gettext.GNUTranslations]],
) -> None:
    import pycountry

    lex.add(code, "en", "capital", capital, capital, "countryinfo")
    for zone in zones_of.get(code, ()):
        if _fold(en_city[zone]) == _fold(capital):
            for tag, names in sorted(cities.get(zone, {}).items()):
                for name in sorted(names):
                    lex.add(code, tag, "capital", name, capital, "cldr-zone")
    for sub in sorted(pycountry.subdivisions.get(country_code=code) or (), key=lambda s: s.code):
        if _fold(sub.name).split()[0] != _fold(capital).split()[0]:
            continue
        for tag, catalog in catalogs:
            translated = catalog.gettext(sub.name)
            if translated != sub.name:
                lex.add(code, tag, "capital", translated, capital, "iso-codes")


# ------------------------------------------------------------------------------------ iso-codes (pycountry)


def _iso_tag(locale_dir: str) -> str:
    """gettext catalog directory -> lexicon language: ``zh_TW`` -> ``zh-Hant``, ``sr@latin`` -> ``sr-Latn``."""
    if locale_dir in ("zh_TW", "zh_HK"):
        return "zh-Hant"
    if locale_dir.endswith("@latin"):
        return locale_dir.split("@")[0] + "-Latn"
    return locale_dir.split("@")[0].split("_")[0]


def _iso_catalogs(domain: str) -> list[tuple[str, gettext.GNUTranslations]]:
    import pycountry

    out = []
    for entry in sorted(Path(pycountry.LOCALES_DIR).iterdir()):
        mo = entry / "LC_MESSAGES" / f"{domain}.mo"
        if mo.is_file() and "@" not in entry.name.replace("@latin", ""):
            with open(mo, "rb") as fh:
                out.append((_iso_tag(entry.name), gettext.GNUTranslations(fh)))
    return out


def add_iso_names(lex: Lexicon, codes: frozenset[str]) -> None:
    import pycountry

    catalogs = _iso_catalogs("iso3166-1")
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        if country.alpha_2 not in codes:
            continue
        english = [getattr(country, f, None) for f in ("name", "common_name", "official_name")]
        for msgid in [e for e in english if e]:
            for part in split_name(msgid):
                lex.add(country.alpha_2, "en", "name", part, msgid, "iso-codes")
            for tag, catalog in catalogs:
                translated = catalog.gettext(msgid)
                if translated != msgid:  # untranslated: gettext hands back the English text
                    for part in split_name(translated):
                        lex.add(country.alpha_2, tag, "name", part, translated, "iso-codes")


# -------------------------------------------------------------------------------------------- simplemma


def _records(lang: str) -> Iterator[tuple[bytes, bytes]]:
    """(form, lemma) pairs of one simplemma dictionary, streamed from its front-coded data.

    Uses simplemma 2.0.0's reader internals (pinned in the ``lexicon`` extra) so the dictionary is never a
    Python dict: Finnish would take several hundred MB.
    """
    from simplemma.strategies.dictionaries import dictionary_factory, frontcode

    data = dictionary_factory._read_decompressed(lang)
    reverse, _count, pos = frontcode._read_header(data)
    for _start, key, value in frontcode._iter_records(data, pos):
        yield (key[::-1], value[::-1]) if reverse else (key, value)


def _variants(text: str) -> set[bytes]:
    return {v.encode() for v in (text, text.lower(), text[:1].upper() + text[1:], text.capitalize())}


def add_forms(lex: Lexicon) -> None:
    """Every simplemma form whose lemma is an entry of the same language (see step 6 of the docstring)."""
    from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

    from workers.filter.inflection import rules_for
    from workers.filter.lexicon import story_language

    base = lex.by_lang(["name", "adjective", "language", "capital", "demonym"])
    # The data demonyms and adjectives (omw-wiktionary, several thousand words) get simplemma's forms only in
    # languages without ending or final-swap rules (Russian, Polish, Czech, Ukrainian...): where
    # workers.filter.inflection has them (Finnish, Turkish, Hungarian, Scandinavian, South Slavic, Baltic,
    # Greek, Romance...), the matcher derives their cases itself, and the forms took the countries-only filter
    # past its 400 MB (420 MB measured with every language's; keeping only the forms those rules do not match
    # still added 9,200 rows, some 11 MB at the measured cost of a pattern).
    for lang, rows in base.items():
        if (rules := rules_for(story_language(lang))) is not None and (rules.endings or rules.swap):
            base[lang] = [r for r in rows if r.source != "omw-wiktionary"]
    for sm_lang in sorted(SUPPORTED_LANGUAGES):
        langs = SIMPLEMMA_LANGS.get(sm_lang, (sm_lang,))
        entries = [row for lang in langs for row in base.get(lang, ())]
        if not entries:
            continue
        targets: dict[bytes, list[Row]] = defaultdict(list)
        for row in entries:
            for v in _variants(row.text):
                targets[v].append(row)
        attributive = {v: rows for v, rows in targets.items() if any(r.kind in ("adjective", "language") for r in rows)}
        found: list[tuple[bytes, bytes, list[Row]]] = []
        lemma_of_entry: dict[bytes, list[Row]] = defaultdict(list)
        for form, lemma in _records(sm_lang):
            if lemma in targets:
                found.append((form, lemma, targets[lemma]))
            hit = attributive.get(form)
            if hit and lemma not in targets and _agrees(norm(lemma.decode()), norm(form.decode())):
                lemma_of_entry[lemma].extend(r for r in hit if r.kind in ("adjective", "language"))
        if lemma_of_entry:  # a second pass for the lemmas of entries that are themselves forms
            for form, lemma in _records(sm_lang):
                if lemma in lemma_of_entry:
                    found.append((form, lemma, lemma_of_entry[lemma]))
        # A form that the dictionary also gives as a form of another lemma is another word too (Croatian Kino is
        # a vocative of Kina and "cinema"): a third pass finds those and they are left out.
        wanted = {form.lower() for form, _lemma, _rows in found}
        own = {lemma.lower() for _form, lemma, _rows in found}
        ambiguous = {
            form.lower() for form, lemma in _records(sm_lang) if form.lower() in wanted and lemma.lower() not in own
        }
        for form, lemma, rows in found:
            text = form.decode()
            if any(c.isdigit() for c in text) or form.lower() in ambiguous:
                continue
            for row in rows:
                lex.add(row.code, row.lang, "form", text, lemma.decode(), "simplemma")


# ------------------------------------------------------------------------- WordNet + Wiktionary (OMW)

WORDNET_DIR = Path("/usr/share/wordnet")  # Debian's wordnet-base: Princeton WordNet 3.0's database files
# WordNet 3.0 synsets that a country's (instance) hypernym chain reaches: "country, state, land", "state, nation,
# country, land, commonwealth", and "Baltic State", which WordNet files under "geographical area". A US state
# reaches none ("American state" -> "state, province").
COUNTRY_SYNSETS = frozenset({"08544813", "08168978", "09012101"})
PERSON_LEXFILE = "18"  # noun.person: a member of a country that is a person is its demonym ("Chadian")
LOCATION_LEXFILE = "15"  # noun.location
# OMW's Wiktionary wordnets are named by ISO 639-3 code; these are the lexicon languages of the codes that
# pycountry cannot map to an ISO 639-1 code (individual languages of a macrolanguage, Serbo-Croatian).
# Bokmål goes to "nb" only: "no" stories read "nb" rows (``lexicon.story_language``).
WIKT_LANGS = {"arb": ("ar",), "als": ("sq",), "cmn": ("zh",), "zsm": ("ms",), "nob": ("nb",), "nno": ("nn",)}
# Serbo-Croatian (hbs) entries go to the languages of their script.
HBS_LANGS = {"Latn": ("hr", "bs", "sr-Latn"), "Cyrl": ("sr", "bs-Cyrl")}
MAX_WIKT_WORDS = 3
_GLOSS_MARKS = frozenset('()[]{}/;:,=<>"')
MIN_WIKT_LETTERS = 3


@dataclass(frozen=True)
class Synset:
    key: str  # "08929922-n"; adjectives are "-a" whatever their satellite type
    lexfile: str
    lemmas: tuple[str, ...]  # WordNet spelling, "_" for spaces
    pointers: tuple[tuple[str, str], ...]  # (symbol, target key)


def _wn_pos(pos: str) -> str:
    return "a" if pos in ("a", "s") else pos


def read_wordnet(wordnet_dir: Path) -> dict[str, Synset]:
    """Noun and adjective synsets of WordNet 3.0's ``data.noun`` and ``data.adj``, keyed by their offsets."""
    out: dict[str, Synset] = {}
    for name in ("data.noun", "data.adj"):
        with open(wordnet_dir / name, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("  "):  # the licence header
                    continue
                fields = line.split(" | ")[0].split()
                offset, lexfile, pos, n_words = fields[0], fields[1], _wn_pos(fields[2]), int(fields[3], 16)
                lemmas = tuple(fields[4 + 2 * i] for i in range(n_words))
                at = 4 + 2 * n_words
                n_pointers = int(fields[at])
                pointers = tuple(
                    (fields[at + 1 + 4 * i], f"{fields[at + 2 + 4 * i]}-{_wn_pos(fields[at + 3 + 4 * i])}")
                    for i in range(n_pointers)
                )
                key = f"{offset}-{pos}"
                out[key] = Synset(key, lexfile, lemmas, pointers)
    return out


def _wikt_langs(iso3: str, text: str) -> tuple[str, ...]:
    import pycountry

    if iso3 == "hbs":
        return HBS_LANGS["Cyrl" if any("CYRILLIC" in unicodedata.name(c, "") for c in text) else "Latn"]
    if iso3 in WIKT_LANGS:
        return WIKT_LANGS[iso3]
    lang = pycountry.languages.get(alpha_3=iso3)
    return (lang.alpha_2,) if lang is not None and hasattr(lang, "alpha_2") else ()


def read_wikt(wikt_dir: Path) -> dict[str, dict[str, set[str]]]:
    """lexicon language -> lemma -> WordNet keys, from OMW's ``wn-wikt-<iso639-3>.tab`` files (English left
    out: its file holds English words of the translation tables, not a wordnet of English)."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    files = sorted(wikt_dir.glob("wn-wikt-*.tab"))
    if not files:
        raise SystemExit(f"{wikt_dir}: no wn-wikt-*.tab files (see workers/filter/lexicon/SOURCES.md)")
    for path in files:
        iso3 = path.name[len("wn-wikt-") : -len(".tab")]
        if iso3 == "eng" or not iso3.isalpha() or not iso3.islower():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split("\t")
            if line.startswith("#") or len(fields) < 3 or not fields[1].endswith(":lemma"):
                continue
            key, text = fields[0], clean(fields[2])
            key = key[:-1] + "a" if key.endswith("-s") else key
            for lang in _wikt_langs(iso3, text):
                out[lang][text].add(key)
    return out


def _wikt_key(key: str, known: Collection[str]) -> str | None:
    """The OMW key of a synset read from Debian's WordNet files: Debian's ``data.adj`` is one byte longer than
    Princeton's from offset 1683350 on (offsets are byte positions), so an adjective's key is its offset or the
    offset before it, whichever OMW knows."""
    if key in known:
        return key
    offset, pos = key.split("-")
    earlier = f"{int(offset) - 1:08d}-{pos}"
    return earlier if pos == "a" and earlier in known else None


def _is_country(key: str, synsets: dict[str, Synset], seen: set[str] | None = None) -> bool:
    seen = set() if seen is None else seen
    if key.split("-")[0] in COUNTRY_SYNSETS:
        return True
    syn = synsets.get(key)
    if syn is None or key in seen:
        return False
    seen.add(key)
    return any(sym in ("@", "@i") and _is_country(t, synsets, seen) for sym, t in syn.pointers)


def _wn_text(lemma: str) -> str:
    return norm(re.sub(r"\(.*\)$", "", lemma).replace("_", " "))


def country_synsets(lex: Lexicon, codes: frozenset[str], synsets: dict[str, Synset]) -> dict[str, list[str]]:
    """ISO code -> WordNet country synsets, the first tier that finds any: noun.location synsets that are
    countries by their hypernyms and whose first lemma is an English name of the code; the same with any lemma
    ("Burma" finds "Myanmar, Burma"; "Soviet Union, Russia" is not Russia while the first tier finds it);
    locations that are part of a country, by first lemma (Serbia and Montenegro, parts of "Serbia and
    Montenegro"). A homonym that is not a country stays out: Georgia the US state, Lake Chad."""
    locations = [s for s in synsets.values() if s.lexfile == LOCATION_LEXFILE]
    countries = [s for s in locations if _is_country(s.key, synsets)]
    country_keys = {s.key for s in countries}
    parts = [s for s in locations if any(sym == "#p" and t in country_keys for sym, t in s.pointers)]
    # Last tier: the countries an adjective pertains to whose lemma is the code's English demonym (countryinfo):
    # CLDR and iso-codes say Türkiye and Eswatini, WordNet Turkey and Swaziland, and "Turkish", "Swazi" join them.
    pertains: dict[str, set[str]] = defaultdict(set)  # folded adjective lemma -> country keys
    for syn in synsets.values():
        if syn.key.endswith("-a"):
            for sym, target in syn.pointers:
                if sym == "\\" and target in country_keys:
                    for lemma in syn.lemmas:
                        pertains[_fold(_wn_text(lemma))].add(target)
    out: dict[str, list[str]] = {}
    for code in sorted(codes):
        names = {_fold(name) for name in lex.texts(code, "en", ["name"])}  # "Côte d'Ivoire", "Cote_d'Ivoire"
        for tier, first_only in ((countries, True), (countries, False), (parts, True)):
            found = [
                s.key
                for s in tier
                if any(_fold(_wn_text(lemma)) in names for lemma in s.lemmas[: 1 if first_only else None])
            ]
            if found:
                out[code] = sorted(found)
                break
    claimed = {key for keys in out.values() for key in keys}
    for code in sorted(codes - out.keys()):
        demonyms = {_fold(d) for d in lex.texts(code, "en", ["demonym"])}
        by_demonym = set().union(*(pertains.get(d, set()) for d in demonyms)) - claimed if demonyms else set()
        if len(by_demonym) == 1:  # one country only, and no other code's: "Congolese" pertains to both Congos
            out[code] = sorted(by_demonym)
    return out


def reverse_pointers(synsets: dict[str, Synset]) -> dict[str, list[tuple[str, str]]]:
    """Target key -> (symbol, source key) of every pointer."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for syn in synsets.values():
        for sym, target in syn.pointers:
            out[target].append((sym, syn.key))
    return out


def related_synsets(
    country: list[str], names: set[str], synsets: dict[str, Synset], reverse: dict[str, list[tuple[str, str]]]
) -> dict[str, str]:
    """Synset key -> lexicon kind for a country's adjectives and people.

    Adjectives: derived from its name (``+``) or pertaining to it (``\\``). People: persons that are its members
    (WordNet's member meronyms ``%m``, or the reverse ``#m``) or derived from its name (``+``), kept only when
    an English lemma of theirs starts like an English name of the country or like one of its adjectives
    ("Chadian", "French person" for French): WordNet also lists peoples that live there as members (the Basques
    of France).
    """
    adjectives: set[str] = set()
    people: set[str] = set()
    for key in country:
        links = [(sym, t) for sym, t in synsets[key].pointers] + [(_reverse_symbol(sym), t) for sym, t in reverse[key]]
        for sym, target in links:
            syn = synsets.get(target)
            if syn is None:
                continue
            if target.endswith("-a") and sym in ("+", "\\"):
                adjectives.add(target)
            elif target.endswith("-n") and sym in ("%m", "+") and syn.lexfile == PERSON_LEXFILE:
                people.add(target)
    heads = names | {_wn_text(lemma) for key in adjectives for lemma in synsets[key].lemmas}
    out = {key: "adjective" for key in adjectives}
    for key in sorted(people):
        if any(_agrees(_wn_text(lemma), head) for lemma in synsets[key].lemmas for head in heads):
            out[key] = "demonym"
    return out


def _reverse_symbol(sym: str) -> str:
    """The pointer seen from its target: a person's ``#m`` (member of) is the country's ``%m`` (has member);
    an adjective's ``\\`` (pertains to) is kept as it is."""
    return {"#m": "%m"}.get(sym, sym)


def _wikt_text_ok(text: str) -> bool:
    """One to three words of letters (hyphens, apostrophes and spaces allowed), at least three letters: no
    digits, brackets, slashes or notes, which in OMW's Wiktionary data mark glosses, not words. A single word
    in Latin script needs ``MIN_LATIN_CHARS`` letters, the policy of ``workers.filter.countries`` for names:
    Vietnamese ``Đức`` and ``nga`` are also personal names and syllables of other words (đạo đức, "morality"),
    Turkish ``Dan``, German ``Pole``; ``người Đức`` ("German person") stays."""
    if any(c.isdigit() or c in _GLOSS_MARKS for c in text):
        return False
    words, letters = text.split(), sum(c.isalpha() for c in text)
    latin = all("LATIN" in unicodedata.name(c, "") for c in text if c.isalpha())
    if len(words) == 1 and latin and letters < MIN_LATIN_CHARS:
        return False
    return len(words) <= MAX_WIKT_WORDS and letters >= MIN_WIKT_LETTERS


def add_wordnet(lex: Lexicon, codes: frozenset[str], wikt_dir: Path, wordnet_dir: Path) -> None:
    """Demonyms and adjectives of every country WordNet has, in every language of OMW's Wiktionary wordnets.

    WordNet links a country to its people and adjectives (``related_synsets``); OMW gives the Wiktionary
    translations of those synsets. A word is taken for a language only when it is unambiguous there: a lemma
    that the same language's Wiktionary wordnet also gives to a sense other than the country, its people, its
    adjectives or a sense that shares their English lemma (the language "Russian", "the French") is another
    word too and is left out.
    """
    synsets = read_wordnet(wordnet_dir)
    reverse = reverse_pointers(synsets)
    wikt = read_wikt(wikt_dir)
    texts_of: dict[str, list[tuple[str, str]]] = defaultdict(list)  # OMW key -> (language, lemma)
    for lang, lemmas in wikt.items():
        for text, keys in lemmas.items():
            for key in keys:
                texts_of[key].append((lang, text))
    english: dict[str, set[str]] = defaultdict(set)  # OMW key -> English lemmas (WordNet's)
    omw_key: dict[str, str] = {}
    for syn in synsets.values():
        found = _wikt_key(syn.key, texts_of.keys())
        if found is not None:
            omw_key[syn.key] = found
            english[found] |= {_wn_text(lemma) for lemma in syn.lemmas}
    by_english: dict[str, set[str]] = defaultdict(set)
    for key, english_lemmas in english.items():
        for lemma in english_lemmas:
            by_english[lemma].add(key)
    for code, country in sorted(country_synsets(lex, codes, synsets).items()):
        names = lex.texts(code, "en", ["name"])
        related = {
            omw_key[key]: kind
            for key, kind in related_synsets(country, names, synsets, reverse).items()
            if key in omw_key
        }
        own_english = set().union(*(english[k] for k in related)) if related else set()
        allowed = (
            {omw_key.get(k, k) for k in country} | set(related) | set().union(*(by_english[e] for e in own_english))
        )
        for key, kind in sorted(related.items()):
            for lang, text in sorted(texts_of[key]):
                if _wikt_text_ok(text) and wikt[lang][text] <= allowed:
                    lex.add(code, lang, kind, text, sorted(english[key])[0], "omw-wiktionary")


# --------------------------------------------------------------------------------------------- manual, output


def add_manual(lex: Lexicon, codes: frozenset[str]) -> None:
    for lineno, line in enumerate(MANUAL.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 5 or fields[0] not in codes or fields[2] not in KINDS or not fields[4].strip():
            raise SystemExit(f"{MANUAL}:{lineno}: want code, lang, kind, text, reason (tab-separated): {line!r}")
        code, lang, kind, text, _reason = fields
        lex.add(code, lang, kind, text, text, "manual")


def finish(lex: Lexicon) -> list[Row]:
    """Sorted rows; a form equal to an entry of another kind for the same code and language is dropped."""
    other = {(k[0], k[1], k[3]) for k in lex.rows if k[2] != "form"}
    return sorted(r for k, r in lex.rows.items() if k[2] != "form" or (k[0], k[1], k[3]) not in other)


def write(rows: list[Row], out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    buf.write("code\tlang\tkind\ttext\tlemma\tsource\n")
    for r in rows:
        buf.write(f"{r.code}\t{r.lang}\t{r.kind}\t{r.text}\t{r.lemma}\t{r.source}\n")
    path = out_dir / OUT_FILE
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    return path


def report(rows: list[Row], path: Path) -> None:
    by_source = Counter(r.source for r in rows)
    by_kind = Counter(r.kind for r in rows)
    by_lang = Counter(r.lang for r in rows)
    print(f"{path}: {len(rows)} rows, {path.stat().st_size} bytes")
    print("per source: " + ", ".join(f"{k}={v}" for k, v in sorted(by_source.items())))
    print("per kind:   " + ", ".join(f"{k}={v}" for k, v in sorted(by_kind.items())))
    print("per language: " + ", ".join(f"{k}={v}" for k, v in sorted(by_lang.items())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output directory (default: %(default)s)")
    parser.add_argument(
        "--wikt",
        type=Path,
        required=True,
        help="directory of OMW's wn-wikt-*.tab files (omw-data's wns/wikt at the commit SOURCES.md names)",
    )
    parser.add_argument(
        "--wordnet", type=Path, default=WORDNET_DIR, help="WordNet 3.0 database directory (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    codes = known_codes()
    lex = Lexicon()
    add_cldr(lex, codes)
    add_iso_names(lex, codes)
    add_wordnet(lex, codes, args.wikt, args.wordnet)
    add_manual(lex, codes)
    add_forms(lex)
    rows = finish(lex)
    missing = sorted(codes - {r.code for r in rows})
    if missing:
        raise SystemExit(f"no entry for {', '.join(missing)}")
    report(rows, write(rows, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
