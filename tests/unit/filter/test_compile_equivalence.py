"""The fast compile and search give what the plain ones give: same patterns, same candidate hits, same text.

Topics compile a few hundred thousand lexicon forms, so the Matcher takes shortcuts: forms compile from the
normalised text computed when topics load, languages sharing rules share compiled patterns, the automaton
holds dead-end stubs and orders its keys, and ``normalize`` takes fast paths for ASCII and NFC text. Each test
here compares a shortcut with the plain way on a fixed set: every lexicon form of a dozen countries, in the
story languages whose rules differ most, and sentences written for this test.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from workers.filter import textnorm
from workers.filter.matcher import Matcher
from workers.filter.terms import Pattern, compile_forms, compile_term
from workers.filter.textnorm import NormalizedText, _normalize_segments, normalize, normalize_term
from workers.filter.topics import TopicsFile, build_topics

CODES = ("RU", "KP", "KR", "CN", "DE", "FI", "HU", "TR", "IL", "IN", "GR", "VN", "IE", "CD", "US", "FR")
# Languages with suffix rules, proclitics, mutations, west-Slavic endings, Cyrillic and Hangul rules, none.
LANGUAGES = ("fi", "hu", "tr", "he", "ga", "cy", "sk", "pl", "ru", "sr", "el", "hi", "ta", "ko", "zh", "de", "vi", "en")

SENTENCES = (
    "Venäjän presidentti vieraili Kiinassa, ja Pohjois-Korean  lähettiläs Saksassa.",
    "Oroszország és Kína  tárgyalt; az oroszok Magyarországon.",
    "Rusya'nın Ankara büyükelçisi Çin'e gitti.",
    "ראש הממשלה טס לרוסיה ובסין נפגש עם שגריר קוריאה.",
    "Bhí sé i bPáras agus san Fhrainc, ansin sa tSín.",
    "Yng Ngogledd Corea a Rwsia.",
    "Rusko a Čína podepsaly dohodu s Ruskem -- v Moskvě.",
    "Rosja i Chiny: Rosję odwiedził prezydent Korei Północnej.",
    "Россия и Китай — союзники; в России и КНДР выборы.",
    "Русија и Кина, у Русији.",
    "Η Ρωσία και η Κίνα, ρωσικού φυσικού αερίου.",
    "रूस और चीन के बीच रशियात बातचीत, भारत में।",
    "ரஷ்யாவில் சீனாவுடன் பேச்சு.",
    "북한은 중국과 러시아에서 회담했다. 북한산에 올랐다.",
    "中俄关系和朝鲜半岛, 中国 外交部",
    "Die Russlandpolitik der Bundesregierung und Nordkoreas Raketen.",
    "Nga và Trung Quốc; chị Nga đến Hàn Quốc.",
    "North Korea's launch, Russia (again) and the Democratic Republic of the Congo.",
    "Kim  Jong-un met\tPutin in Pyongyang\n\non Tuesday; the U.S. & France 100% said “no”…",
    "İstanbul'da ÇİN ve Straße… ﬁnal ＡＢＣ Ｋорея",
)


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    config = TopicsFile.model_validate({"topics": {c.lower(): {"countries": [c]} for c in CODES}})
    built = Matcher(build_topics(config, Path("topics.yaml")))
    built.warm(LANGUAGES)
    return built


def _plain(matcher: Matcher, p_index: int, language: str | None) -> list[Pattern]:
    """The pattern(s) of one form compiled the plain way: from the term as written, normalised from scratch,
    for this language alone."""
    term = matcher._terms[p_index]
    if language is None or matcher._exact[p_index]:
        return [compile_term(term)]
    return compile_forms(term, language)


def test_patterns_equal_plain_compile(matcher: Matcher) -> None:
    shared = matcher._shared
    assert len(shared) > 1000
    for p_index, pattern in shared.items():
        assert [pattern] == _plain(matcher, p_index, None), matcher._terms[p_index]
    for language in LANGUAGES:
        automaton = matcher._language(language)
        by_index: dict[int, list[Pattern]] = defaultdict(list)
        for p_index, pattern in automaton.patterns:
            by_index[p_index].append(pattern)
        assert by_index, language
        for p_index, patterns in by_index.items():
            assert patterns == _plain(matcher, p_index, language), (language, matcher._terms[p_index])


def _brute_find(patterns: list[tuple[int, Pattern]], text: str) -> dict[int, list[tuple[int, int]]]:
    """Every pattern tried at every place its key occurs, without an automaton."""
    found: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for p_index, pattern in patterns:
        start = text.find(pattern.key)
        while start >= 0:
            end = pattern.match_at(text, start)
            if end is not None:
                found[p_index].append((start, end))
            start = text.find(pattern.key, start + 1)
    return {k: sorted(v) for k, v in found.items()}


def _texts(matcher: Matcher) -> list[str]:
    # The sentences, and each lexicon form of the warmed languages inside a sentence, inflected or attached.
    forms = [matcher._terms[i] for language in LANGUAGES for i, _ in matcher._language(language).patterns[::7]]
    framed = [f"In {form}n, ({form}) and {form}ssa: ב{form} {form}'nin." for form in forms]
    return [*SENTENCES, *framed]


def test_automaton_finds_what_brute_force_finds(matcher: Matcher) -> None:
    texts = [normalize(t).text for t in _texts(matcher)]
    hits = 0
    for automaton in (matcher._default, *(matcher._language(language) for language in LANGUAGES)):
        for text in texts:
            found = automaton.find(text)
            assert all(spans == sorted(spans) for spans in found.values())
            assert dict(found) == _brute_find(automaton.patterns, text), text
            hits += sum(len(spans) for spans in found.values())
    assert hits > 1000  # the texts do hit: an empty answer on both sides would prove nothing


def test_stub_character_in_a_story_finds_nothing(matcher: Matcher) -> None:
    assert (
        not matcher._default.find(normalize(" \x02 .\x02 Russia\x02").text).keys()
        - matcher._default.find(normalize("Russia").text).keys()
    )
    assert "ru" in matcher.match("\x02 Russia \x02", "en")


def _ascii_plain(text: str) -> list[tuple[int, int]]:
    """Original offsets per normalised character of an ASCII text, one separator run at a time."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        j = i + 1
        if text[i].isspace() or text[i] == "-":
            while j < len(text) and (text[j].isspace() or text[j] == "-"):
                j += 1
        out.append((i, j))
        i = j
    return out


def test_normalize_fast_paths_equal_plain_ones(matcher: Matcher) -> None:
    texts = [*SENTENCES, *_texts(matcher)[::3], "a  b", " - x", "x -- y", "  ", "\n\n\tlead", "trail \t", "A-B"]
    texts += [f"{form}  -  {form}s\t({form})--x" for form in matcher._terms[::50] if form.isascii()]
    for text in texts:
        fast = normalize(text)
        assert fast.text == _normalize_segments(text).text, text
        if text.isascii():
            assert [fast.span(i, i + 1) for i in range(len(fast.text))] == _ascii_plain(text), text
    assert sum(t.isascii() for t in texts) > 100


def _offsets(norm: NormalizedText) -> list[tuple[int, int]]:
    return [norm.span(i, i + 1) for i in range(len(norm.text))]


def test_normalize_table_kept_across_texts_equals_a_fresh_one(
    matcher: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ``normalize`` keeps its character table from text to text (and shares it with ``normalize_term``): what
    # it gives must not depend on what came before, nor on the table being replaced when it is full.
    texts = [t for t in (*SENTENCES, *_texts(matcher)[::5]) if not t.isascii()]
    assert len(texts) > 100
    expected = []
    for text in texts:
        monkeypatch.setattr(textnorm, "_chars", textnorm._Chars())  # as if this text were the first
        alone = normalize(text)
        assert textnorm._chars.known >= set(text)  # it did go through the kept table
        expected.append((alone.text, _offsets(alone)))
        assert alone.text == _normalize_segments(text).text, text
    for text, want in zip(reversed(texts), reversed(expected), strict=True):  # a table warmed by the others
        got = normalize(text)
        assert (got.text, _offsets(got)) == want, text
        assert normalize_term(text) == want[0], text
    monkeypatch.setattr(textnorm, "_CHAR_LIMIT", 40)  # full after a text or two: replaced again and again
    monkeypatch.setattr(textnorm, "_chars", textnorm._Chars())
    replaced = 0
    for text, want in zip(texts, expected, strict=True):
        before = textnorm._chars
        got = normalize(text)
        assert (got.text, _offsets(got)) == want, text
        replaced += textnorm._chars is not before
        assert len(textnorm._chars.known) <= max(40, len(set(text)))
    assert replaced > 10


def test_space_runs_found_by_the_literal_pattern_as_by_the_general_one(
    matcher: Matcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where nothing is dropped or expanded, ``normalize`` finds separator runs with a pattern of spaces only;
    # the general one (runs of spaces and dropped characters) must find the same, at the same offsets.
    texts = [*SENTENCES, *_texts(matcher)[::5]]
    texts += [f"Россия\n\n и  Китай{gap}Корея — {gap}x" for gap in ("  ", "\t\n", " - ", "\u2010 ", "\x1c\x1f ")]
    texts += [f"Russia{gap}and China\r\n{gap}" for gap in ("  ", "\x0b\x0c", " -- ", "\x1c\x1d\x1e\x1f", "\r")]
    fast = [(n.text, _offsets(n)) for n in map(normalize, texts)]
    monkeypatch.setattr(textnorm, "_SPACE_RUN_RE", textnorm._RUN_RE)
    general = [(n.text, _offsets(n)) for n in map(normalize, texts)]
    assert fast == general
    assert sum(len(n) < len(t) for (n, _), t in zip(fast, texts, strict=True)) > 10  # runs there are
    for text in texts[-5:]:
        assert [normalize(text).span(i, i + 1) for i in range(len(normalize(text).text))] == _ascii_plain(text)


# Characters that lower or normalise unlike most: context (Σ), two letters (İ), folds (Ё, ё), compatibility forms
# (ℂ, ﬁ, Ⅻ, full-width), dropped marks and format characters, expansions (ß, …), separators and quotes.
_TRICKY = "ΣΑΣ Σ σς İstanbul ЁЖ ёж ℂℌ ﬁ Ⅻ ＡＢｃ ß … ’‘ʼ “” \n\t\u00a0\u3000 जज़ीरा مُحَمَّد ـ \u200c\u00ad ΆΈ ά Ǆǅǆ ẞ"


def test_lowering_and_swaps_give_what_the_table_gives() -> None:
    # Most texts skip ``str.translate`` for ``str.lower`` and a few replacements: that must give the table's
    # text exactly, and texts with a character that lowers otherwise must take the table.
    texts = [*SENTENCES, _TRICKY, *(_TRICKY[i : i + 9] for i in range(len(_TRICKY))), *_TRICKY, "ΣΑΣ", "ΚΑΣ."]
    chars = textnorm._Chars()
    lowered = 0
    for text in texts:
        letters = set(text)
        chars.learn(letters - chars.known)
        assert chars.map(text, letters) == text.translate(chars.table), text
        lowered += letters <= chars.lowerable
    assert 20 < lowered < len(texts)  # both ways are taken
    assert "\u03a3" not in chars.lowerable and "İ" not in chars.lowerable and "Ё" not in chars.lowerable
    assert chars.swaps["\n"] == " " and chars.swaps["’"] == "'" and chars.swaps["ё"] == "е"
