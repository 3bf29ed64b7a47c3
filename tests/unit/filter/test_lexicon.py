"""The country lexicon: the loader's behaviour, entries that prove each source works, and a deterministic build."""

from __future__ import annotations

import gzip
import importlib.metadata
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from workers.filter import lexicon
from workers.filter.countries import known_codes
from workers.filter.lexicon import LEXICON_FILE, Entry, entries

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def _fresh_cache():
    lexicon.clear_cache()
    yield
    lexicon.clear_cache()


def _texts(code: str, lang: str, kind: str) -> set[str]:
    return {e.text for e in entries([code])[code] if e.lang == lang and e.kind == kind}


# (code, lang, kind, text, source): one or more per source, in several languages and scripts.
EXPECTED = [
    ("RU", "fi", "name", "Venäjä", "cldr-territory"),
    ("RU", "vi", "name", "Nga", "cldr-territory"),
    ("CD", "en", "name", "Congo", "cldr-territory"),  # split from "Congo - Kinshasa"
    ("CD", "en", "name", "Kinshasa", "cldr-territory"),
    ("CD", "tt", "name", "КДР", "cldr-territory"),  # split from "Конго (КДР)"
    ("RU", "en", "name", "Russian Federation", "iso-codes"),
    ("RU", "hu", "adjective", "orosz", "cldr-currency"),
    ("RU", "it", "adjective", "russo", "cldr-currency"),
    ("DE", "it", "adjective", "tedesco", "cldr-currency"),  # from the Deutsche Mark, a historical currency
    ("RU", "fi", "adjective", "Venäjän", "cldr-currency"),  # "Venäjän rupla": a genitive
    ("RU", "el", "adjective", "Ρωσίας", "cldr-currency"),
    ("RU", "fr", "language", "russe", "cldr-language"),
    ("CN", "hu", "language", "kínai", "cldr-language"),
    ("RU", "fa", "language", "روسی", "cldr-language"),
    ("RU", "de", "capital", "Moskau", "cldr-zone"),
    ("KP", "ko", "capital", "평양", "cldr-zone"),
    ("SY", "fr", "capital", "Damas", "cldr-zone"),
    ("CN", "it", "capital", "Pechino", "iso-codes"),  # Beijing is no zone city; it is an ISO 3166-2 subdivision
    ("KP", "en", "capital", "Pyongyang", "countryinfo"),
    ("RU", "en", "demonym", "Russian", "countryinfo"),
    ("RU", "fi", "form", "Venäjällä", "simplemma"),
    ("RU", "hu", "form", "Oroszországban", "simplemma"),
    ("RU", "hu", "form", "oroszok", "simplemma"),
    ("RU", "ru", "form", "России", "simplemma"),
    ("RU", "sr", "form", "Русије", "simplemma"),
    ("RU", "hr", "form", "Rusije", "simplemma"),
    ("RU", "ro", "form", "Rusiei", "simplemma"),
    ("RU", "is", "form", "Rússlands", "simplemma"),
    ("RU", "sq", "form", "Rusisë", "simplemma"),
    ("RU", "tr", "form", "rusya'nın", "simplemma"),
    ("RU", "he", "form", "רוסים", "simplemma"),
    ("RU", "el", "form", "ρωσικού", "simplemma"),  # a form of ρωσικός, lemma of the language name Ρωσικά
    ("DE", "el", "adjective", "γερμανικός", "omw-wiktionary"),  # was a simplemma form until the data gave it
    ("RU", "fi", "form", "Moskovassa", "simplemma"),
    ("RU", "zh", "name", "俄", "manual"),
    ("RU", "ja", "name", "露", "manual"),
    ("RU", "ru", "name", "РФ", "manual"),
]


@pytest.mark.parametrize(("code", "lang", "kind", "text", "source"), EXPECTED)
def test_expected_entry(code: str, lang: str, kind: str, text: str, source: str) -> None:
    found = [e for e in entries([code])[code] if (e.lang, e.kind, e.text) == (lang, kind, text)]
    assert found, f"{code} {lang} {kind} {text!r} missing; have {sorted(_texts(code, lang, kind))[:20]}"
    assert found[0].source == source


def test_form_records_its_lemma() -> None:
    (entry,) = [e for e in entries(["RU"])["RU"] if e.text == "Venäjällä"]
    assert entry == Entry("Venäjällä", "fi", "form", "Venäjä", "simplemma")


def test_every_known_code_has_entries_and_no_text_is_empty() -> None:
    found = entries(known_codes())
    assert set(found) == set(known_codes())
    assert not [code for code, rows in found.items() if not rows]
    assert not [e for rows in found.values() for e in rows if not e.text.strip() or not e.lemma.strip()]
    assert {e.kind for rows in found.values() for e in rows} <= lexicon.KINDS


def test_currency_phrases_keep_only_the_country_words() -> None:
    # "Mexican Silver Peso" and "peso de plata mexicano" once left "Mexican Silver", "plata mexicano": a metal is
    # no attribute of the country. A phrase whose every word is the country's stays.
    adjectives = {norm for e in entries(["MX"])["MX"] if e.kind == "adjective" for norm in [e.text.casefold()]}
    assert not [a for a in adjectives if {"plata", "prata", "silver", "srebrne", "ვერცხლის"} & set(a.split())]
    assert "mexicano" in adjectives and "mexican" in adjectives
    assert "Trinidad Tobago" in _texts("TT", "cy", "adjective")


def test_no_inverted_names() -> None:
    assert not [e for rows in entries(known_codes()).values() for e in rows if "," in e.text and e.kind == "name"]


def test_unknown_code_is_empty_and_codes_are_case_insensitive() -> None:
    found = entries(["xx", "ru", "", "Q1"])
    assert found["XX"] == () and found[""] == () and found["Q1"] == ()
    assert found["RU"] and all(isinstance(e, Entry) for e in found["RU"])


def test_keeps_only_what_was_asked() -> None:
    assert set(entries(["KP"])) == {"KP"}
    assert {key[1] for key in lexicon._cache} == {"KP"}


def test_cached_per_process(monkeypatch: pytest.MonkeyPatch) -> None:
    first = entries(["RU"])["RU"]
    monkeypatch.setattr(lexicon, "_read", lambda *_: pytest.fail("read again"))
    assert entries(["RU"])["RU"] is first


def test_reads_a_given_file(tmp_path: Path) -> None:
    path = tmp_path / "countries.tsv.gz"
    rows = [
        "code\tlang\tkind\ttext\tlemma\tsource",
        "KP\tko\tcapital\t평양\tPyongyang\tcldr-zone",
        "RU\tfi\tname\tx\tx\tx",
    ]
    path.write_bytes(gzip.compress(("\n".join(rows) + "\n").encode()))
    pyongyang = Entry("평양", "ko", "capital", "Pyongyang", "cldr-zone")
    assert entries(["KP", "DE"], path=path) == {"KP": (pyongyang,), "DE": ()}


def test_thread_safe() -> None:
    results: list[dict[str, tuple[Entry, ...]]] = []
    threads = [threading.Thread(target=lambda: results.append(entries(["RU", "KP", "DE"]))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8 and all(r["RU"] is results[0]["RU"] for r in results)


# The versions the committed file was built with (SOURCES.md); other versions give other data, not a bug.
BUILT_WITH = {"babel": "2.19.0", "simplemma": "2.0.0", "pycountry": "26.2.16", "countryinfo": "1.0.1"}


def _version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


# The datasets the build reads from disk (SOURCES.md): OMW's Wiktionary wordnets (omw-data's wns/wikt, at the
# commit SOURCES.md names) in the directory $WIREWATCH_OMW_WIKT, and WordNet 3.0 (Debian's wordnet-base).
OMW_WIKT = Path(os.environ.get("WIREWATCH_OMW_WIKT", "/nonexistent"))
WORDNET = Path("/usr/share/wordnet")


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.skipif(
    any(_version(p) != v for p, v in BUILT_WITH.items()),
    reason=f"the build needs the 'lexicon' extra at the versions of the committed file ({BUILT_WITH}): "
    "pip install -e '.[lexicon]'",
)
@pytest.mark.skipif(
    not (OMW_WIKT / "wn-wikt-fin.tab").is_file() or not (WORDNET / "data.adj").is_file(),
    reason="the build needs OMW's wns/wikt in $WIREWATCH_OMW_WIKT and wordnet-base (SOURCES.md)",
)
def test_build_is_deterministic_and_matches_committed_file(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "build_lexicon.py"),
            "--out",
            str(tmp_path),
            "--wikt",
            str(OMW_WIKT),
            "--wordnet",
            str(WORDNET),
        ],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    assert (tmp_path / LEXICON_FILE.name).read_bytes() == LEXICON_FILE.read_bytes(), (
        "committed lexicon is stale: run python scripts/build_lexicon.py"
    )
