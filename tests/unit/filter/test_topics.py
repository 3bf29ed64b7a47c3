"""Topic definitions: the shipped config loads and expands; every kind of mistake names file, topic and field."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from workers.core.errors import ConfigError
from workers.filter.countries import country_names
from workers.filter.textnorm import normalize_term
from workers.filter.topics import Topic, load_topics

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "topics.yaml"


def _by_name(topics: list[Topic]) -> dict[str, Topic]:
    return {t.name: t for t in topics}


def test_shipped_config_loads() -> None:
    topics = _by_name(load_topics(SHIPPED))
    assert {"dprk", "russia", "kim-russia-summit"} <= topics.keys()
    dprk, russia, summit = topics["dprk"], topics["russia"], topics["kim-russia-summit"]
    assert dprk.countries == ("KP",)
    # Config terms come first, in config order, then names, then CLDR names; the lexicon's forms are scoped.
    assert dprk.terms[:4] == ("Korean Central News Agency", "KCNA", "Pyongyang", "Kim Jong Un")
    assert "kim jong un" in dprk.proper_names and "kcna" not in dprk.proper_names
    # The CLDR names of languages detection returns apply in their own stories (scoped); the English ones and
    # those of languages it never returns apply in every story (terms).
    dprk_scoped = {(t.text, t.language) for t in dprk.scoped}
    for cldr_name, lang in (
        ("Corea del Norte", "es"),
        ("Coreia do Norte", "pt"),
        ("Северна Корея", "bg"),
        ("Korea Północna", "pl"),
        ("Kuzey Kore", "tr"),
    ):
        assert (cldr_name, lang) in dprk_scoped
    russia_scoped = {(t.text.casefold(), t.language) for t in russia.scoped}
    for cldr_name, lang in (
        ("Rusia", "es"),
        ("Rosja", "pl"),
        ("Venäjä", "fi"),
        ("Ρωσία", "el"),
        ("רוסיה", "he"),
        ("روسیه", "fa"),
    ):
        assert (cldr_name.casefold(), lang) in russia_scoped
    assert "North Korea" in dprk.terms and "Russia" in russia.terms
    assert "Russian salad" in russia.none_of
    assert len(summit.all_of) == 2 and not summit.terms
    assert all(t.min_hits == 1 and t.languages is None for t in topics.values())


def test_country_names_keep_the_default_rules_and_their_own_language_forms_are_scoped() -> None:
    topics = _by_name(load_topics(SHIPPED))
    russia, dprk = topics["russia"], topics["dprk"]
    # CLDR names the config does not list keep the default rules everywhere (Larisi, mfe, must not take Slovak
    # endings); a configured term (Kremlin, Pyongyang) is not one of them.
    assert {"larisi", "russia"} <= russia.cldr_names
    # Names that only languages detection returns give are not among every story's terms (they are scoped).
    assert {"venäjä", "rusko"}.isdisjoint(russia.cldr_names)
    assert "kremlin" not in russia.cldr_names and "pyongyang" not in dprk.cldr_names
    # The Slovak, Czech and Polish names come back as forms scoped to those languages, which inflect them.
    scoped = {(t.text.casefold(), t.language) for t in russia.scoped}
    assert {("rusko", "sk"), ("rusko", "cs"), ("rosja", "pl"), ("venäjä", "fi")} <= scoped
    assert ("rusko", "fi") not in scoped


def test_country_names_filtered_and_deduplicated() -> None:
    names = country_names(["KP", "RU"])
    ru = set(names["RU"])
    assert {"Rus", "Nga", "Risi", "Lasa", "Ruslan", "Rasha"}.isdisjoint(ru)  # short Latin names and collisions
    assert "Korea, North" not in names["KP"]  # inverted sort form
    normalized = [normalize_term(n) for n in names["KP"]]
    assert len(normalized) == len(set(normalized))
    assert {"北朝鮮", "북한", "朝鲜", "كوريا الشمالية", "उत्तर कोरिया", "КНДР"} <= set(names["KP"])


def test_country_names_are_cached() -> None:
    country_names(["KP"])
    started = time.perf_counter()
    country_names(["KP"])
    assert time.perf_counter() - started < 0.01


def test_topic_options(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text(
        "topics:\n"
        "  t1:\n"
        "    terms: [' Russia ', 'russia', Moscow]\n"  # stripped, and duplicates after normalisation dropped
        "    languages: [en, hi]\n"
        "    min_hits: 2\n"
        "    all: [{terms: [Kim]}, {countries: [KP]}]\n"
        "    none: [Russian salad]\n"
        "    veto: [Russian roulette]\n",
        encoding="utf-8",
    )
    (topic,) = load_topics(path)
    assert topic.terms == ("Russia", "Moscow")
    assert topic.languages == frozenset({"en", "hi"})
    assert topic.min_hits == 2
    assert topic.all_of[0] == ("Kim",) and "North Korea" in topic.all_of[1]
    assert topic.none_of == ("Russian salad",)
    assert topic.veto_of == ("Russian roulette",)


BAD_FILES = [
    ("unknown-key", "topics:\n  dprk:\n    terms: [DPRK]\n    colour: red\n", ["topics.dprk.colour", "Extra inputs"]),
    ("empty-veto", "topics:\n  dprk:\n    terms: [DPRK]\n    veto: ['']\n", ["topics.dprk.veto[0]", "empty term"]),
    ("empty-term", "topics:\n  dprk:\n    terms: [DPRK, '', KCNA]\n", ["topics.dprk.terms[1]", "empty term"]),
    ("blank-term", "topics:\n  dprk:\n    terms: [DPRK, '   ']\n", ["topics.dprk.terms[1]", "empty term"]),
    ("star-term", "topics:\n  dprk:\n    terms: ['*']\n", ["topics.dprk.terms[0]", "empty term"]),
    ("null-term", "topics:\n  dprk:\n    terms: [DPRK, null]\n", ["topics.dprk.terms[1]", "string"]),
    ("only-zwj", 'topics:\n  dprk:\n    terms: ["\\u200d"]\n', ["topics.dprk.terms[0]", "no letters"]),
    ("inner-star", "topics:\n  dprk:\n    terms: ['Ko*rea']\n", ["topics.dprk.terms[0]", "only at the end"]),
    ("short-prefix", "topics:\n  dprk:\n    terms: ['K*']\n", ["topics.dprk.terms[0]", "prefix"]),
    (
        "empty-none",
        "topics:\n  russia:\n    terms: [Russia]\n    none: ['']\n",
        ["topics.russia.none[0]", "empty term"],
    ),
    (
        "bad-language",
        "topics:\n  dprk:\n    terms: [DPRK]\n    languages: [hi, xx]\n",
        ["topics.dprk.languages[1]", "'xx'"],
    ),
    ("long-language", "topics:\n  dprk:\n    terms: [DPRK]\n    languages: [hindi]\n", ["topics.dprk.languages[0]"]),
    ("empty-languages", "topics:\n  dprk:\n    terms: [DPRK]\n    languages: []\n", ["topics.dprk", "languages"]),
    ("bad-country", "topics:\n  dprk:\n    countries: [KP, XX]\n", ["topics.dprk.countries[1]", "'XX'"]),
    ("lower-country", "topics:\n  dprk:\n    countries: [kp]\n", ["topics.dprk.countries[0]", "country code"]),
    ("group-country", "topics:\n  s:\n    all: [{countries: [ZZ]}]\n", ["topics.s.all[0].countries[0]", "country"]),
    ("empty-group", "topics:\n  s:\n    all: [{}]\n", ["topics.s.all[0]", "group needs terms"]),
    ("group-key", "topics:\n  s:\n    all: [{term: [x]}]\n", ["topics.s.all[0].term", "Extra inputs"]),
    ("missing-terms", "topics:\n  dprk:\n    description: nothing to match\n", ["topics.dprk", "terms: missing"]),
    ("null-topic", "topics:\n  dprk:\n", ["topics.dprk", "valid dictionary"]),
    ("zero-min-hits", "topics:\n  dprk:\n    terms: [DPRK]\n    min_hits: 0\n", ["topics.dprk.min_hits", "1"]),
    ("empty-name", "topics:\n  '':\n    terms: [DPRK]\n", ["topics", "topic #1", "name"]),
    ("null-name", "topics:\n  dprk:\n    terms: [x]\n  ~:\n    terms: [DPRK]\n", ["topics", "topic #2", "name"]),
    ("bad-name", "topics:\n  North Korea:\n    terms: [DPRK]\n", ["topics", "'North Korea'", "name"]),
    ("no-topics", "feeds: []\n", ["topics", "Field required"]),
    ("topics-list", "topics:\n  - dprk\n", ["topics", "dictionary"]),
    ("yaml-syntax", "topics:\n  dprk: [unclosed\n", ["invalid YAML"]),
]


@pytest.mark.parametrize(("case", "content", "expected"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_topic_file(tmp_path: Path, case: str, content: str, expected: list[str]) -> None:
    path = tmp_path / f"{case}.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_topics(path)
    message = str(err.value)
    assert message.startswith(f"{path}: "), message
    for part in expected:
        assert part in message, message


def test_every_problem_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "topics.yaml"
    path.write_text("topics:\n  a:\n    terms: ['']\n  b:\n    countries: [XX]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_topics(path)
    lines = str(err.value).splitlines()
    assert [line.split(": ")[1] for line in lines] == ["topics.a.terms[0]", "topics.b.countries[0]"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_topics(tmp_path / "nope.yaml")
