"""Topic definitions: config/topics.yaml validated and expanded into ``Topic`` objects for the Matcher.

Order of decisions in ``load_topics``:

1. read the YAML and check that every topic has a usable name (the mapping key);
2. validate each topic with pydantic (unknown keys refused; every term checked by ``terms.check_term``;
   language codes must be CLDR language codes, country codes two-letter CLDR territory codes; a topic needs
   ``terms``, ``countries`` or ``all``); every problem becomes one ConfigError line naming file, topic, field;
3. compile every term once, so a term the matcher cannot use is reported here, not at the first story;
4. expand ``countries`` into CLDR names (one pass over the locale files for all codes) and append them to the
   topic's terms, skipping names equal after normalisation to a term already listed: these apply in every
   story, with the default script rules;
5. expand ``countries`` again into the lexicon's entries (``workers.filter.lexicon``: names, adjectives,
   language names, capitals, demonyms and inflected forms per language) as ``scoped`` terms: each applies only
   in stories of its own language (or a related one, ``inflection.RELATED``), where that language's rules
   inflect it; so short or ambiguous forms (Vietnamese Nga, Turkish Rus, Chinese 俄) cannot hit elsewhere.
   The lexicon's ``not`` entries become exclusions in their language (Japanese 露出, "exposure", for 露).

File format (see config/topics.yaml for a commented example)::

    topics:
      <name>:                 # lowercase letters, digits, '-' and '_'
        description: text     # optional
        terms: [..]           # any of these hits (a trailing '*' makes a prefix term)
        names: [..]           # like terms, for proper names: they hit only where the story capitalises them
                              # (Putin, not Romanian "putin"; Путин*, not путина, the fishing season)
        countries: [KP]       # adds the country's name in every CLDR language to terms
        all:                  # each group must hit as well
          - terms: [..]
            countries: [..]
        none: [..]            # exclusions: a hit inside one of these does not count ("Russian salad")
        veto: [..]            # if any of these hits anywhere, the topic does not match
        languages: [hi, en]   # only stories detected in these languages (default: all)
        min_hits: 1           # at least this many hits of terms and all-groups together
        capitals: false       # true: the countries' capitals count as the country where they stand for the
                              # state ("Moscow said", not "in Moscow"); any: every mention counts
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, NamedTuple

import babel
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from workers.core.errors import ConfigError
from workers.filter import lexicon
from workers.filter.countries import country_names, known_codes
from workers.filter.language import detectable_languages
from workers.filter.terms import check_term, compile_term, compiling
from workers.filter.textnorm import normalize_term
from workers.settings import yamlfile

logger = logging.getLogger(__name__)

NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@lru_cache(maxsize=1)
def _language_codes() -> frozenset[str]:
    codes = babel.Locale("en").languages
    return frozenset(code for code in codes if isinstance(code, str) and re.fullmatch(r"[a-z]{2,3}", code))


def _check_language(code: str) -> str:
    if code not in _language_codes() or code == "und":
        raise ValueError(f"unknown language code {code!r} (use ISO 639-1 such as 'hi', 'ru', 'zh')")
    return code


def _check_country(code: str) -> str:
    if code not in known_codes():
        raise ValueError(f"unknown country code {code!r} (use ISO 3166-1 alpha-2 such as 'KP', 'RU')")
    return code


def _yaml_norway(code: Any) -> Any:
    # YAML 1.1 (PyYAML) reads an unquoted NO as false; no other country code is a YAML boolean.
    return "NO" if code is False else code


Term = Annotated[str, AfterValidator(check_term)]
LanguageCode = Annotated[str, AfterValidator(_check_language)]
CountryCode = Annotated[str, BeforeValidator(_yaml_norway), AfterValidator(_check_country)]


class GroupConfig(BaseModel):
    """One ``all`` group: at least one of its terms (or country names) must hit."""

    model_config = ConfigDict(extra="forbid")

    terms: list[Term] = Field(default_factory=list)
    names: list[Term] = Field(default_factory=list)
    countries: list[CountryCode] = Field(default_factory=list)

    @model_validator(mode="after")
    def _not_empty(self) -> GroupConfig:
        if not self.terms and not self.names and not self.countries:
            raise ValueError("group needs terms, names or countries")
        return self


class TopicConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = ""
    terms: list[Term] = Field(default_factory=list)
    names: list[Term] = Field(default_factory=list)
    countries: list[CountryCode] = Field(default_factory=list)
    all: list[GroupConfig] = Field(default_factory=list)
    none: list[Term] = Field(default_factory=list)
    veto: list[Term] = Field(default_factory=list)
    languages: list[LanguageCode] | None = None
    min_hits: int = Field(default=1, ge=1)
    # The countries' capitals count as the country: true in the state sense (workers.filter.capitals), any: every
    # mention (docs/decisions/0015, 0018).
    capitals: bool | Literal["any"] = False

    @model_validator(mode="after")
    def _has_terms(self) -> TopicConfig:
        if not self.terms and not self.names and not self.countries and not self.all:
            raise ValueError("terms: missing; a topic needs terms, names, countries or all")
        if self.languages is not None and not self.languages:
            raise ValueError("languages: empty list; leave it out to accept every language")
        return self


class TopicsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: dict[str, TopicConfig]


class ScopedTerm(NamedTuple):  # not a frozen dataclass: made a few hundred thousand times per compile, 5x faster
    """A lexicon form of a topic's country that applies only in stories of ``language``."""

    text: str
    language: str  # a story language code, as detection returns it ("fi", "zh", "no")
    kind: str  # the lexicon kind: name, adjective, language, capital, demonym, form, not
    source: str  # the lexicon source (cldr-territory, simplemma, manual...)
    code: str  # the country
    group: int = -1  # -1: one of the topic's terms; n: one of all-group n; -2: an exclusion
    key: str = ""  # the normalised text (with a trailing * for a prefix), computed once here
    capital: str = ""  # the normalised capital this is a form of, when only its state sense counts


# Lexicon kinds a country expands into, and which of them are exact surface forms (no rules on top).
SCOPED_KINDS = frozenset({"name", "adjective", "language", "capital", "demonym", "form", "not"})
EXACT_KINDS = frozenset({"form"})
# Kinds that are proper nouns: where the script has case they must be capitalised in the story (not so
# adjectives and demonyms, which Romance and Slavic languages write in lowercase).
PROPER_KINDS = frozenset({"name", "capital"})


story_language = lexicon.story_language

# Languages whose CLDR names need not be in every story's terms: detection returns them, so their stories get
# those names scoped (English stays: its names apply everywhere, see UNIVERSAL_ENGLISH_KINDS).
SCOPED_ONLY = detectable_languages() - {"en"}


@dataclass(frozen=True)
class Topic:
    """A topic ready for the Matcher; ``terms`` already holds the country names."""

    name: str
    terms: tuple[str, ...] = ()  # any of these (config terms, then country names)
    all_of: tuple[tuple[str, ...], ...] = ()  # each group must hit
    none_of: tuple[str, ...] = ()  # exclusions: cancel the hits they overlap
    veto_of: tuple[str, ...] = ()  # any hit vetoes the topic
    languages: frozenset[str] | None = None  # None: every language
    min_hits: int = 1
    countries: tuple[str, ...] = ()
    description: str = ""
    scoped: tuple[ScopedTerm, ...] = ()  # lexicon forms of the countries, each for stories of its language
    # Normalised CLDR names among ``terms`` that the config does not list: they keep the default rules in every
    # story (Larisi, Russia in one language, must not take Slovak endings and catch Larisa); the forms of a
    # story's own language come from ``scoped``.
    cldr_names: frozenset[str] = frozenset()
    proper_names: frozenset[str] = frozenset()  # normalised ``names`` of the config: capitalised hits only

    @property
    def any_of(self) -> tuple[str, ...]:
        return self.terms


def _expand(terms: list[str], countries: list[str], names: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    out: list[str] = []
    seen: set[str] = set()
    for term in [*terms, *(name for code in countries for name in names[code])]:
        norm = normalize_term(term)
        if norm not in seen:
            seen.add(norm)
            out.append(term)
    return tuple(out)


def _cldr_names(cfg: TopicConfig, names: dict[str, tuple[str, ...]]) -> frozenset[str]:
    configured = {
        normalize_term(t) for t in [*cfg.terms, *cfg.names, *(t for g in cfg.all for t in [*g.terms, *g.names])]
    }
    codes = {*cfg.countries, *(c for g in cfg.all for c in g.countries)}
    return frozenset(norm for code in codes for name in names[code] if (norm := normalize_term(name)) not in configured)


def _base_form(text: str, language: str) -> str:
    """A lexicon text as the language's rules expect it: Irish names lose their article and lenition
    (an Ghearmáin -> Gearmáin), which the mutation rules then give back with the other initial forms."""
    if language == "cy":
        words = text.split()
        if len(words) > 1 and words[0].casefold() in ("yr", "y"):
            return " ".join(words[1:])
        return text
    if language == "ga":
        words = text.split()
        if len(words) > 1 and words[0].casefold() in ("an", "na"):
            words = words[1:]
        first = words[0]
        if len(first) > 2 and first[1] in "hH" and first[0].casefold() in "bcdfgmpst":
            words[0] = first[0] + first[2:]
        return " ".join(words)
    return text


# Germanic demonyms from the adjective: Danish/Norwegian/Swedish russisk -> russer(e), German russisch -> Russe(n).
_DEMONYM_FROM_ADJECTIVE = {
    "da": ("isk", ("er", "ere", "erne", "ers")),
    "no": ("isk", ("er", "ere", "erne", "ers")),
    "sv": ("isk", ("are", "arna", "ares")),
    "de": ("isch", ("e", "en", "in", "innen")),
    "nl": ("isch", ("en",)),
}


# Persian writes a two-word name joined by a zero-width non-joiner (کره‌شمالی), which normalisation removes.
_SOLID_COMPOUND_LANGUAGES = frozenset(("fi", "et", "hu", "de", "nl", "sv", "no", "da", "af", "el", "fa"))
# Languages whose stories often come without their accents (typed on keyboards without them, old feeds, URLs
# turned titles): Mexico for México, Moscu for Moscú, Turkiye for Türkiye. Their forms get an unaccented twin,
# and one without the accented letters at all, as text that went through a wrong charset comes (Mxico).
ACCENT_FOLD_LANGUAGES = frozenset(("es", "pt", "ca", "it", "fr", "ro", "tr"))
ACCENT_FOLD_MIN_LETTERS = 4  # shorter folded words collide with other words
# Devanagari spellings that differ only in vowel length (रूस and रुस, रशिया and रशीया): news writes both.
VOWEL_LENGTH_LANGUAGES = frozenset(("hi", "ne", "mr"))
_LONG_TO_SHORT = str.maketrans({"\u0942": "\u0941", "\u0940": "\u093f", "\u090a": "\u0909", "\u0908": "\u0907"})
_SHORT_TO_LONG = str.maketrans({"\u0941": "\u0942", "\u093f": "\u0940", "\u0909": "\u090a", "\u0907": "\u0908"})
_DERIVING_LANGUAGES = (
    _SOLID_COMPOUND_LANGUAGES | {"sw"} | _DEMONYM_FROM_ADJECTIVE.keys() | ACCENT_FOLD_LANGUAGES | VOWEL_LENGTH_LANGUAGES
)


def _unaccented(text: str) -> str:
    """``text`` without its combining accents (and Turkish dotless ı as i): for matching only."""
    decomposed = unicodedata.normalize("NFD", text.replace("ı", "i"))
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def _folds(text: str, language: str) -> list[str]:
    """The spellings of ``text`` that ``language``'s stories often use instead (see the two tables above)."""
    out: list[str] = []
    if language in ACCENT_FOLD_LANGUAGES and sum(c.isalpha() for c in text) >= ACCENT_FOLD_MIN_LETTERS:
        out.append(_unaccented(text))
        # Text that lost its non-ASCII letters on the way (a charset mistake upstream): Mxico, alemn.
        dropped = "".join(c for c in text if c.isascii())
        if sum(c.isalpha() for c in dropped) >= ACCENT_FOLD_MIN_LETTERS:
            out.append(dropped)
    elif language in VOWEL_LENGTH_LANGUAGES:
        out += [text.translate(_LONG_TO_SHORT), text.translate(_SHORT_TO_LONG)]
    return [t for t in dict.fromkeys(out) if t != text]


def _derived(text: str, language: str, kind: str) -> list[str]:
    """Forms a rule derives from one lexicon text: a multi-word name written solid (Pohjois-Korea ->
    pohjoiskorealaiset in Finnish, Nordkorea); a demonym from a Germanic adjective (russisk -> russerne); the
    spellings without accents or with the other vowel length (``_folds``)."""
    if language not in _DERIVING_LANGUAGES:
        return []
    out: list[str] = _folds(text, language)
    words = text.replace("-", " ").split()
    if kind == "name" and len(words) == 2 and language in _SOLID_COMPOUND_LANGUAGES:
        out.append(words[0] + words[1].casefold())
    if language == "sw" and kind == "name" and len(words) == 1 and len(text) > 4:
        # Swahili noun classes: U-rusi the country, Wa-rusi the people, M-rusi one, Ki-rusi the language or manner.
        stem = text[1:] if text[0] in "Uu" and text[1] not in "aeiou" else text.casefold()
        out += [prefix + stem for prefix in ("Wa", "M", "Ki")]
    rule = _DEMONYM_FROM_ADJECTIVE.get(language)
    if rule and kind in ("adjective", "language") and len(words) == 1 and text.casefold().endswith(rule[0]):
        stem = text[: -len(rule[0])]
        if len(stem) >= 3:
            out += [stem + ending for ending in rule[1]]
    return out


# English is the lingua franca of wire copy and of short headlines that detection gets wrong: its names,
# adjectives and demonyms apply in every story, as a topic's own terms do (its capitals stay English-only:
# Male, Victoria, Praia and Lima are words or other places elsewhere).
UNIVERSAL_ENGLISH_KINDS = frozenset({"name", "adjective", "language", "demonym", "form", "derived", "not"})
ANY_LANGUAGE = "*"


# Story languages written in Latin script that often keep the English spelling of a foreign capital.
LATIN_LANGUAGES = frozenset(
    "af az ca cs cy da de en eo es et eu fi fr ga hr hu id is it la lt lv ms nl no pl pt ro sk sl so sq sv sw "
    "tl tr uz vi".split()
)


def _capital_fallback(entries: tuple[lexicon.Entry, ...], code: str, group: int, state: bool) -> list[ScopedTerm]:
    """The English capital (Pyongyang, Damascus) for Latin-script languages that have no capital of their own
    for the country in the lexicon: their news mostly writes the English or the local romanised spelling."""
    english = [e.text for e in entries if e.kind == "capital" and e.lang == "en"]
    if not english or group == -2:
        return []
    have = {story_language(e.lang) for e in entries if e.kind == "capital"}
    key = normalize_term(english[0])
    return [
        ScopedTerm(english[0], language, "capital", "cldr-zone (en)", code, group, key, key if state else "")
        for language in sorted(LATIN_LANGUAGES - have)
    ]


def _capital_lemmas(entries: tuple[lexicon.Entry, ...]) -> frozenset[tuple[str, str]]:
    """(language, text) of a country's capitals that are not also its name (Moskva, not Singapore): the
    capital entries and the inflected forms whose lemma they are (Moskvasse) are left out by default."""
    # Normalised: simplemma's lemmas are lowercase (Turkish moskova'da has the lemma moskova, the capital Moskova).
    names = {(e.lang, normalize_term(e.text).strip()) for e in entries if e.kind == "name"}
    return frozenset(
        k for e in entries if e.kind == "capital" and (k := (e.lang, normalize_term(e.text).strip())) not in names
    )


def _capital_of(entry: lexicon.Entry, lemmas: frozenset[tuple[str, str]]) -> str:
    """The capital ``entry`` is (or is a form of), normalised; "" when it is none."""
    if entry.kind == "capital" and (entry.lang, norm := normalize_term(entry.text).strip()) in lemmas:
        return norm
    if entry.kind == "form" and (entry.lang, norm := normalize_term(entry.lemma).strip()) in lemmas:
        return norm
    return ""


def _scoped(
    codes: list[str], group: int, found: dict[str, tuple[lexicon.Entry, ...]], capitals: bool | str = False
) -> list[ScopedTerm]:
    out: list[ScopedTerm] = []
    seen: set[tuple[str, str, int, bool]] = set()
    state = capitals is True  # only the state sense of a capital counts (workers.filter.capitals)
    for code in codes:
        lemmas = _capital_lemmas(found[code])
        if capitals:
            out += _capital_fallback(found[code], code, group, state)
        for entry in found[code]:
            if entry.kind not in SCOPED_KINDS:
                continue
            capital = _capital_of(entry, lemmas)
            if capital and not capitals:
                continue
            language = story_language(entry.lang)
            if language == "en" and entry.kind in UNIVERSAL_ENGLISH_KINDS:
                language = ANY_LANGUAGE
            text = _base_form(entry.text, language)
            norm = normalize_term(text)
            where = -2 if entry.kind == "not" else group
            # A name and a lowercase word of the same spelling are both kept (Venäjä the country, venäjä the
            # language): the matcher merges them into one pattern that then matches in any case.
            key = (norm + ("*" if entry.text.endswith("*") else ""), language, where, entry.kind in PROPER_KINDS)
            if key in seen:
                continue
            seen.add(key)
            capital = capital if state else ""
            out.append(ScopedTerm(text, language, entry.kind, entry.source, code, where, key[0], capital))
            for derived in _derived(text, language, entry.kind):
                norm_derived = normalize_term(derived)
                # A capital's own spelling folded (Moscu) is the nominative its forms are compared with.
                of = norm_derived.strip() if capital and entry.kind == "capital" else capital
                out.append(ScopedTerm(derived, language, "derived", entry.source, code, where, norm_derived, of))
    return out


def _check_names(path: Path, data: Any) -> None:
    topics = data.get("topics") if isinstance(data, dict) else None
    if not isinstance(topics, dict):
        return  # pydantic reports the missing or mistyped mapping
    for position, name in enumerate(topics, start=1):
        if not isinstance(name, str) or not NAME_RE.fullmatch(name):
            raise ConfigError(
                f"{path}: topics: topic #{position} name {name!r}: missing or invalid name "
                "(lowercase letters, digits, '-', '_')"
            )


def build_topics(config: TopicsFile, path: Path, *, expand: bool = True) -> list[Topic]:
    """Expand validated config into Topics; a term the matcher cannot compile is a ConfigError.

    ``expand=False`` checks everything but leaves the countries unexpanded (no CLDR names, no lexicon forms):
    what the poller and the alerter need, who validate topics.yaml but match nothing."""
    with compiling():
        return _build_topics(config, path, expand)


def _build_topics(config: TopicsFile, path: Path, expand: bool) -> list[Topic]:
    codes = {c for t in config.topics.values() for c in [*t.countries, *(c for g in t.all for c in g.countries)]}
    if not expand:
        codes = set()
    # The names every story gets: English, and the languages detection never returns (their stories come out as
    # another language); the names of the detected languages apply in their own stories, from the lexicon.
    found = lexicon.entries(codes)  # one read of the lexicon for every code
    names = country_names(codes, skip_languages=SCOPED_ONLY, entries=found) if codes else {}
    topics: list[Topic] = []
    for name, cfg in config.topics.items():
        topic = Topic(
            name=name,
            terms=_expand([*cfg.terms, *cfg.names], cfg.countries if expand else [], names),
            all_of=tuple(_expand([*g.terms, *g.names], g.countries if expand else [], names) for g in cfg.all),
            proper_names=frozenset(normalize_term(t) for t in [*cfg.names, *(n for g in cfg.all for n in g.names)]),
            none_of=tuple(cfg.none),
            veto_of=tuple(cfg.veto),
            languages=frozenset(cfg.languages) if cfg.languages is not None else None,
            min_hits=cfg.min_hits,
            countries=tuple(cfg.countries),
            description=cfg.description,
            cldr_names=_cldr_names(cfg, names) if expand else frozenset(),
            scoped=tuple(
                [
                    *_scoped(list(cfg.countries), -1, found, cfg.capitals),
                    *(t for i, g in enumerate(cfg.all) for t in _scoped(list(g.countries), i, found, cfg.capitals)),
                ]
            )
            if expand
            else (),
        )
        # The configured terms are checked here, so a mistake names the file and topic; the country names and
        # lexicon forms are compiled by the Matcher (a test compiles every country).
        configured = [*cfg.terms, *cfg.names, *(t for g in cfg.all for t in [*g.terms, *g.names]), *cfg.none, *cfg.veto]
        for term in configured:
            try:
                compile_term(term)
            except ValueError as exc:
                raise ConfigError(f"{path}: topics.{name}: term {term!r}: {exc}") from None
        topics.append(topic)
        logger.debug("topic loaded topic=%s terms=%d groups=%d", name, len(topic.terms), len(topic.all_of))
    return topics


def load_topics(path: Path, *, expand: bool = True) -> list[Topic]:
    """Read and validate a topics file; raise ConfigError naming file, topic and field on any mistake.
    ``expand=False``: validated, countries not expanded (see ``build_topics``)."""
    data = yamlfile.read_yaml(path)
    _check_names(path, data)
    config = yamlfile.validate(TopicsFile, data, path)
    return build_topics(config, path, expand=expand)
