"""Demonyms and adjectives from data (source ``omw-wiktionary``: WordNet's country links, OMW's Wiktionary
translations), for countries the development set does not evaluate, and the build rules that keep common words
out. The build functions run here on a small WordNet and Wiktionary wordnet written for the test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from workers.filter import lexicon
from workers.filter.matcher import Matcher
from workers.filter.topics import TopicsFile, build_topics

ROOT = Path(__file__).resolve().parents[3]
SOURCE = "omw-wiktionary"

# Countries outside the seven with hand-written rows (RU KP CN DE SY MX ID), in several languages each.
FROM_DATA = [
    ("FR", "de", "demonym", "Franzose"),
    ("FR", "ru", "demonym", "француз"),
    ("FR", "fi", "adjective", "ranskalainen"),
    ("FR", "pl", "demonym", "Francuz"),
    ("FR", "el", "demonym", "Γάλλος"),
    ("JP", "fi", "demonym", "japanilainen"),
    ("JP", "sw", "demonym", "Mjapani"),
    ("JP", "ko", "demonym", "일본인"),
    ("JP", "et", "demonym", "jaapanlane"),
    ("BR", "tr", "demonym", "Brezilyalı"),
    ("BR", "es", "demonym", "brasileño"),
    ("BR", "ru", "demonym", "бразилец"),
    ("IR", "ru", "demonym", "иранец"),
    ("IR", "de", "demonym", "Iraner"),
    ("UA", "ru", "adjective", "украинский"),
    ("UA", "hu", "adjective", "ukrán"),
    # CLDR says Türkiye, WordNet Turkey: the country is found through its English demonym, Turkish
    ("TR", "de", "demonym", "Türke"),
    ("TR", "ru", "demonym", "турок"),
]

# Words the same language's Wiktionary wordnet also gives to another sense, and a people WordNet lists among a
# country's members that is not its demonym: none may be a data demonym or adjective of that country.
NOT_FROM_DATA = [
    ("CN", "es", "chino"),  # also "curly"
    ("CN", "es", "china"),  # also "orange" (the fruit)
    ("CN", "ur", "چینی"),  # also "sugar"
    ("CN", "he", "סיני"),  # also Sinai
    ("FR", "sv", "fransyska"),  # also a cut of meat (loin)
    ("FR", "es", "francés"),  # also a sexual act
    ("FR", "de", "Baske"),  # the Basques live in France; they are not its demonym
    ("FR", "fi", "baski"),
    ("DE", "vi", "Đức"),  # one Latin word under 5 letters: also a personal name, and in đạo đức ("morality")
    ("RU", "vi", "nga"),  # likewise a personal name
    ("DK", "tr", "Dan"),
]


def _data_rows(code: str) -> dict[tuple[str, str, str], lexicon.Entry]:
    return {(e.lang, e.kind, e.text): e for e in lexicon.entries([code])[code] if e.source == SOURCE}


@pytest.mark.parametrize(("code", "lang", "kind", "text"), FROM_DATA)
def test_country_outside_the_seven_has_data_forms(code: str, lang: str, kind: str, text: str) -> None:
    rows = _data_rows(code)
    assert (lang, kind, text) in rows, f"{code} {lang} {kind} {text!r} not from {SOURCE}"
    assert rows[(lang, kind, text)].lemma  # the English WordNet lemma it translates


def test_data_covers_many_countries_and_languages() -> None:
    found = lexicon.entries(["FR", "JP", "BR", "UA", "IR", "NG", "AR", "VN"])
    for code, entries in found.items():
        langs = {e.lang for e in entries if e.source == SOURCE and e.kind in ("demonym", "adjective")}
        assert len(langs) >= 10, f"{code}: data forms in only {sorted(langs)}"


@pytest.mark.parametrize(("code", "lang", "text"), NOT_FROM_DATA)
def test_common_word_is_not_a_data_demonym(code: str, lang: str, text: str) -> None:
    texts = {t.casefold() for (lg, _kind, t) in _data_rows(code) if lg == lang}
    assert text.casefold() not in texts


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    topics = {code.lower(): {"countries": [code]} for code in ("FR", "JP", "BR", "DE")}
    return Matcher(build_topics(TopicsFile.model_validate({"topics": topics}), Path("topics.yaml")))


MATCHES = [
    ("de", "Ein Franzose gewann das Rennen in Monaco.", "fr", True),
    ("de", "Die Basken feierten ihr Fest in Bayonne.", "fr", False),
    ("fi", "Japanilainen yhtiö osti tehtaan Tampereelta.", "jp", True),
    ("fi", "Yhtiö osti tehtaan Tampereelta.", "jp", False),
    ("sw", "Mjapani mmoja alishinda mbio hizo.", "jp", True),
    ("sw", "Mkenya mmoja alishinda mbio hizo.", "jp", False),
    ("tr", "Brezilyalı futbolcu yeni takımına imza attı.", "br", True),
    ("tr", "Arjantinli futbolcu yeni takımına imza attı.", "br", False),
    # Norwegian definite plural (-ne, -ane), a rule added with the data demonyms (tysker-ne, japaner-ne)
    ("no", "Japanerne vant turneringen.", "jp", True),
    ("no", "Koreanerne vant turneringen.", "jp", False),
    ("vi", "Người Đức thắng giải đấu.", "de", True),
    ("vi", "Nhà trường tổ chức buổi học về đạo đức cho học sinh.", "de", False),
]


@pytest.mark.parametrize(("lang", "text", "topic", "expected"), MATCHES)
def test_data_demonym_matches_its_language(matcher: Matcher, lang: str, text: str, topic: str, expected: bool) -> None:
    assert (topic in matcher.match(text, lang)) is expected


# ------------------------------------------------------------------------------- the build, on small data


def _build_module() -> ModuleType:
    pytest.importorskip("pycountry", reason="the build needs the 'lexicon' extra: pip install -e '.[lexicon]'")
    spec = importlib.util.spec_from_file_location("build_lexicon_under_test", ROOT / "scripts" / "build_lexicon.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


HEADER = "  1 This software and database is being provided to you, the LICENSEE, by\n"
# WordNet 3.0 lines (offset lexfile pos n_words word lex_id... n_pointers pointers | gloss), trimmed: Chad the
# country (an African country, so a country), Lake Chad (a lake), a Chadian (member of Chad), a people living in
# Chad that is not its demonym, the adjective "Chadian" (at a Debian offset one past OMW's), "curly".
NOUN = HEADER + (
    "08544813 15 n 03 country 0 state 0 land 0 000 | the territory occupied by a nation\n"
    "08698379 15 n 02 African_country 0 African_nation 0 001 @ 08544813 n 0000 | any one of the countries of Africa\n"
    "08720037 15 n 02 Chad 0 Republic_of_Chad 0 004 @i 08698379 n 0000 + 03054745 a 0101 %m 09697650 n 0000"
    " %m 09600001 n 0000 | a landlocked country in north central Africa\n"
    "09330467 17 n 02 Lake_Chad 0 Chad 0 000 | a lake in north central Africa\n"
    "09697650 18 n 01 Chadian 0 001 #m 08720037 n 0000 | a native or inhabitant of Chad\n"
    "09600001 18 n 01 Sara 0 001 #m 08720037 n 0000 | a people of southern Chad\n"
)
ADJ = HEADER + (
    "03054745 01 a 01 Chadian 0 001 \\ 08720037 n 0101 | of or relating to Chad or its people\n"
    "01030022 00 a 01 curly 0 000 | having curls\n"
)
WIKT_FI = "# Wiktionary\tfin\thttp://wiktionary.org/\tCC BY-SA\n" + (
    "09697650-n\tfin:lemma\ttšadilainen\n"
    "03054744-a\tfin:lemma\ttšadilainen\n"
    "09600001-n\tfin:lemma\tsarat\n"
    "09697650-n\tfin:lemma\tkiharainen\n"  # also "curly" below: left out
    "01030022-a\tfin:lemma\tkiharainen\n"
    "09697650-n\tfin:lemma\t(a native) 2\n"  # a gloss, not a word
)


@pytest.fixture()
def built(tmp_path: Path) -> dict[tuple[str, str, str], str]:
    build = _build_module()
    wordnet, wikt = tmp_path / "wordnet", tmp_path / "wikt"
    wordnet.mkdir()
    wikt.mkdir()
    (wordnet / "data.noun").write_text(NOUN, encoding="utf-8")
    (wordnet / "data.adj").write_text(ADJ, encoding="utf-8")
    (wikt / "wn-wikt-fin.tab").write_text(WIKT_FI, encoding="utf-8")
    lex = build.Lexicon()
    lex.add("TD", "en", "name", "Chad", "Chad", "cldr-territory")
    build.add_wordnet(lex, frozenset({"TD"}), wikt, wordnet)
    return {(r.lang, r.kind, r.text): r.lemma for r in lex.rows.values() if r.source == SOURCE}


def test_build_takes_the_countrys_people_and_adjective(built: dict[tuple[str, str, str], str]) -> None:
    assert built[("fi", "demonym", "tšadilainen")] == "chadian"
    # The adjective is found at OMW's offset although Debian's data.adj puts it one byte later.
    assert built[("fi", "adjective", "tšadilainen")] == "chadian"


def test_build_leaves_out_a_people_an_ambiguous_word_and_glosses(built: dict[tuple[str, str, str], str]) -> None:
    texts = {text for _lang, _kind, text in built}
    assert "sarat" not in texts  # a member of Chad whose English name does not start like Chad's
    assert "kiharainen" not in texts  # the Finnish Wiktionary wordnet also gives it to "curly"
    assert not any("native" in t for t in texts)
    assert len(built) == 2


def test_build_needs_the_wiktionary_files(tmp_path: Path) -> None:
    build = _build_module()
    with pytest.raises(SystemExit, match="no wn-wikt"):
        build.read_wikt(tmp_path)
