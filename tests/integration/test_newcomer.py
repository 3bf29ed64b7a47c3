"""What a newcomer meets first: --version, a secret made by a command, the shipped config checked on a fresh
install (no secret in the environment), and `wirewatch demo` printing alerts apart from the logs, on ports
from the environment, with one line when the sample feeds are all delivered."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support import ROOT, wait_until, wirewatch
from workers.core.signing import check_secret
from workers.devstack.stack import free_port

# what a fresh shell has: no wirewatch variable at all (the demo secret least of all)
CLEAN_ENV = {k: v for k, v in os.environ.items() if not k.startswith(("WIREWATCH_", "KAFKA_", "REDIS_"))}


def clean(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**CLEAN_ENV, **extra},
        timeout=120,
    )


def test_version_names_the_installed_version() -> None:
    from importlib import metadata

    proc = wirewatch("--version")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"wirewatch {metadata.version('wirewatch')}"


def test_secret_new_prints_a_fresh_valid_secret() -> None:
    first, second = wirewatch("secret", "new"), wirewatch("secret", "new")
    assert first.returncode == 0 and second.returncode == 0, first.stderr
    a, b = first.stdout.strip(), second.stdout.strip()
    assert a.startswith("whsec_") and check_secret(a) is None and a != b
    assert first.stderr == ""  # the secret goes to stdout only, nothing else is said


def test_shipped_config_passes_check_on_a_fresh_install() -> None:
    proc = clean("config", "check")
    assert proc.returncode == 0, proc.stderr
    assert "config config: OK" in proc.stdout and "subscribers: 3" in proc.stdout
    # it says exactly what to set, once per subscriber naming the variable
    notes = [ln for ln in proc.stdout.splitlines() if ln.startswith("note: ")]
    assert len(notes) == 3, proc.stdout
    assert all('export WIREWATCH_DEMO_SECRET="$(wirewatch secret new)"' in ln for ln in notes)


def test_check_with_require_secrets_fails_as_the_alerter_would() -> None:
    proc = clean("config", "check", "--require-secrets")
    assert proc.returncode == 2
    assert "subscribers[0].secret_env: environment variable WIREWATCH_DEMO_SECRET is not set" in proc.stderr
    assert "wirewatch secret new" in proc.stderr
    made = clean("secret", "new").stdout.strip()
    ok = clean("config", "check", "--require-secrets", WIREWATCH_DEMO_SECRET=made)
    assert ok.returncode == 0 and "note:" not in ok.stdout and made not in ok.stdout + ok.stderr


def test_the_alerter_names_the_variable_and_the_command() -> None:
    proc = clean("alert", "--health-port", "0")
    assert proc.returncode == 2
    assert 'export WIREWATCH_DEMO_SECRET="$(wirewatch secret new)"' in proc.stderr + proc.stdout


@pytest.mark.parametrize("value", ["http", "70000"])
def test_a_bad_demo_port_is_a_config_error(value: str) -> None:
    proc = clean("demo", WIREWATCH_DEMO_RECEIVER_PORT=value)
    assert proc.returncode == 2 and "environment WIREWATCH_DEMO_RECEIVER_PORT" in proc.stderr, proc.stderr


@pytest.mark.integration
@pytest.mark.timeout(180)
def test_demo_prints_alerts_apart_from_logs_and_says_when_done(tmp_path: Path) -> None:
    feeds_port, receiver_port = free_port(), free_port()
    out_path = tmp_path / "demo.out"
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workers", "demo"],
            cwd=ROOT,
            env={
                **CLEAN_ENV,
                "WIREWATCH_STATE_DIR": str(tmp_path / "state"),
                "WIREWATCH_DEMO_FEEDS_PORT": str(feeds_port),
                "WIREWATCH_DEMO_RECEIVER_PORT": str(receiver_port),
            },
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: "sample feeds delivered" in out_path.read_text(), 150, 0.5, what="the done line")
            time.sleep(1)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(60)
    text = out_path.read_text()
    assert proc.returncode == 0, text
    assert f"http://127.0.0.1:{feeds_port}/" in text and f"http://127.0.0.1:{receiver_port}/" in text
    done = re.search(r"all 5 sample feeds delivered: (\d+) stories, (\d+) alert\(s\)", text)
    assert done, text
    alerts_before_done = text[: done.start()].count("ALERT ")
    assert int(done.group(2)) == alerts_before_done > 0
    # the terminal holds no daemon log line; the logs are in their files
    assert not re.search(r"\b(INFO|DEBUG)\b", text), text
    state = tmp_path / "state" / "demo"
    assert "delivered" in (state / "alert.log").read_text()
    assert (state / "poll.log").stat().st_size > 0 and (state / "filter.log").stat().st_size > 0
