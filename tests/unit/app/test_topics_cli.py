"""`wirewatch topics expand` and `wirewatch evaluate --multilingual`, as an analyst runs them."""

from __future__ import annotations

import json

import pytest

from tests.support import corpus_dir, wirewatch


def test_topics_expand_lists_each_form_with_its_source_and_rules() -> None:
    proc = wirewatch("topics", "expand", "russia", "--language", "fi", "--json")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    by_text = {(r["language"], r["text"]): r for r in rows}
    # Shared terms of topics.yaml, then the Finnish forms: CLDR's name under Finnish rules, dictionary forms.
    assert by_text[("*", "Kremlin")]["source"] == "hand-written"
    assert by_text[("*", "Putin")]["kind"] == "term"
    assert by_text[("fi", "Putin")]["rules"].startswith("fi endings")
    assert {"simplemma", "cldr-territory", "cldr-zone"} <= {r["source"] for r in rows if r["language"] == "fi"}
    assert ("fi", "Venäjällä") in by_text and by_text[("fi", "Venäjällä")]["kind"] == "form"
    assert all(r["language"] in ("*", "fi") for r in rows)


def test_topics_expand_names_an_unknown_topic() -> None:
    proc = wirewatch("topics", "expand", "atlantis")
    assert proc.returncode == 2 and "no topic 'atlantis'" in proc.stderr and "russia" in proc.stderr


def test_evaluate_multilingual_reports_per_topic_and_language(tmp_path) -> None:  # type: ignore[no-untyped-def]
    corpus = corpus_dir()
    if not (corpus / "langid" / "lingua-go").is_dir():
        pytest.skip(f"no lingua-go sentences under {corpus} (set WIREWATCH_CORPUS)")
    labels = tmp_path / "labels.tsv"
    labels.write_text("# topics: dprk,russia\nseed/ani-kim-russia-visit.hi.txt\thi\tdprk,russia\n", encoding="utf-8")
    proc = wirewatch(
        "evaluate", "--multilingual", "--labels", str(labels), "--sentences", "0", "--json", "--corpus", str(corpus)
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)["multilingual"]
    for view in ("detected", "labelled"):
        topics = out[view]["topics"]
        assert set(topics) == {"dprk", "russia"}
        assert topics["russia"]["tp"] > 100 and 0 < topics["russia"]["recall"] <= 1
        assert "russia/fi" in out[view]["languages"]
