"""The command line as a user meets it: real processes, real exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support import ROOT, corpus_file


def wirewatch(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args], capture_output=True, text=True, cwd=ROOT, input=stdin, timeout=120
    )


def test_match_json_on_the_seed_file() -> None:
    proc = wirewatch("match", "--json", "--file", str(corpus_file("seed/ani-kim-russia-visit.hi.txt")))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["language"] == "hi" and out["probability"] > 0.9
    assert {"dprk", "russia"} <= set(out["topics"])
    assert "उत्तर कोरिया" in out["topics"]["dprk"] or "उत्तर कोरियाई" in out["topics"]["dprk"]


@pytest.mark.parametrize(
    "text,topic",
    [
        ("Северная Корея провела испытание ракеты у берегов Японии", "dprk"),
        ("러시아 외무장관이 평양을 방문해 북한 당국자들과 회담했다", "dprk"),
    ],
)
def test_match_text_from_stdin(text: str, topic: str) -> None:
    proc = wirewatch("match", "--json", "-", stdin=text)
    assert proc.returncode == 0, proc.stderr
    assert topic in json.loads(proc.stdout)["topics"]


@pytest.mark.parametrize("args", [["frobnicate"], ["stack", "sideways"], ["match", "--bogus"], []])
def test_wrong_arguments_are_a_usage_error(args: list[str]) -> None:
    proc = wirewatch(*args)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr


def test_every_command_has_help() -> None:
    for cmd in ("poll", "filter", "alert", "demo", "match", "stack"):
        proc = wirewatch(cmd, "--help")
        assert proc.returncode == 0 and "usage:" in proc.stdout, cmd
