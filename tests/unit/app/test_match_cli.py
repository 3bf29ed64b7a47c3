"""`wirewatch match --jsonl` and `wirewatch evaluate` as a user runs them: real processes, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import corpus_dir, wirewatch


def test_match_jsonl_keeps_ids_and_order_and_survives_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "ru-1", "text": "Северная Корея провела испытание ракеты у берегов Японии"}),
        "",
        "not json",
        json.dumps({"id": 7, "text": "A Russian salad recipe for the holidays"}),
        json.dumps({"id": "no-text"}),
        json.dumps({"id": "ko", "text": "러시아 외무장관이 평양을 방문해 북한 당국자들과 회담했다"}),
        json.dumps({"id": "hinted", "text": "Putin", "language": "ru"}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    for args, stdin in ((["--jsonl", str(path)], None), (["--jsonl", "-"], path.read_text(encoding="utf-8"))):
        proc = wirewatch("match", *args, stdin=stdin)
        assert proc.returncode == 0, proc.stderr
        out = [json.loads(line) for line in proc.stdout.splitlines()]
        assert [o["id"] for o in out] == ["ru-1", None, 7, "no-text", "ko", "hinted"]
        assert out[0]["language"] == "ru" and out[0]["topics"] == {"dprk": ["Северная Корея"]}
        assert "not JSON" in out[1]["error"] and out[1]["line"] == 3
        assert out[2]["topics"] == {}  # "Russian salad" is excluded
        assert "error" in out[3]
        assert out[4]["language"] == "ko" and set(out[4]["topics"]) == {"dprk", "russia"}
        assert out[5]["language"] == "ru" and out[5]["topics"] == {"russia": ["Putin"]}  # short: the hint wins


def test_match_json_with_another_config(tmp_path: Path) -> None:
    (tmp_path / "topics.yaml").write_text("topics:\n  grain:\n    terms: [wheat*]\n", encoding="utf-8")
    proc = wirewatch("match", "--json", "--config", str(tmp_path), "Wheat harvest in Russia")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["topics"] == {"grain": ["wheat*"]}


def test_match_json_and_jsonl_exclude_each_other() -> None:
    proc = wirewatch("match", "--json", "--jsonl", "-", stdin="")
    assert proc.returncode == 2 and "not allowed with" in proc.stderr


def test_evaluate_prints_precision_recall_and_accuracy(tmp_path: Path) -> None:
    # A small label file over real corpus stories keeps the run short; the shipped one is used by default.
    labels = tmp_path / "labels.tsv"
    labels.write_text(
        "# topics: dprk,russia\n"
        "seed/ani-kim-russia-visit.hi.txt\thi\tdprk,russia\n"
        "articles/newspaper4k/txt_yna_co_kr.txt\ten\tdprk\n"
        "articles/fundus/ind_TimesOfIndia.json#V1\ten\t-\tpassing mention of Russia\n",
        encoding="utf-8",
    )
    proc = wirewatch("evaluate", "--labels", str(labels), "--sentences", "2", "--json", "--corpus", str(corpus_dir()))
    if "no corpus at" in proc.stderr:
        pytest.skip("corpus not found (set WIREWATCH_CORPUS)")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["topics"]["dprk"] == {"tp": 2, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0}
    assert report["topics"]["russia"]["fp"] == 1 and report["topics"]["russia"]["recall"] == 1.0
    assert report["story_language_accuracy"]["hi"] == {"correct": 1, "total": 1}
    languages = len(list((corpus_dir() / "langid" / "lingua-go").glob("sentences_*.txt")))
    assert report["sentence_language_accuracy"]["all"]["total"] == 2 * languages  # 2 sentences per language file
    assert report["unlabelled"] == 1 and report["missing"] == []  # the other article of TimesOfIndia.json
    assert {"id": "articles/fundus/ind_TimesOfIndia.json#V1", "topic": "russia", "kind": "fp"} in report["errors"]


def test_evaluate_refuses_a_missing_corpus(tmp_path: Path) -> None:
    proc = wirewatch("evaluate", "--corpus", str(tmp_path / "nowhere"))
    assert proc.returncode == 1 and "no corpus at" in proc.stderr
