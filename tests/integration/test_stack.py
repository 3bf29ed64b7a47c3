"""`wirewatch stack` and its pid files: it signals only its own processes, replaces a stale pid file, and its
Redis keeps its data across a restart (AOF). Real processes: a stranger, the broker and redis-server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from tests.support import ROOT
from workers.devstack.stack import free_port

pytestmark = pytest.mark.integration


def stack(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", "stack", action],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=120,
    )


@pytest.fixture
def stack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        "WIREWATCH_STATE_DIR": str(tmp_path / "state"),
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    yield env
    stack("down", env)


@pytest.fixture
def stranger() -> Iterator[subprocess.Popen[bytes]]:
    """A process that is not the stack's, whose pid ends up in the pid files (a reused pid)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield proc
    proc.kill()
    proc.wait()


def test_a_stale_pid_file_never_signals_a_stranger_and_is_replaced(
    stack_env: dict[str, str], stranger: subprocess.Popen[bytes]
) -> None:
    d = Path(stack_env["WIREWATCH_STATE_DIR"]) / "stack"
    d.mkdir(parents=True)
    for name in ("broker", "redis"):
        (d / f"{name}.pid").write_text(str(stranger.pid))
    down = stack("down", stack_env)
    assert down.returncode == 0, down.stderr
    assert stranger.poll() is None, "stack down signalled a process that is not the stack's"
    assert down.stdout.count("stale pid file") == 2, down.stdout
    for name in ("broker", "redis"):
        (d / f"{name}.pid").write_text(str(stranger.pid))
    up = stack("up", stack_env)
    assert up.returncode == 0, up.stdout + up.stderr
    assert up.stdout.count("stale pid file") == 2 and up.stdout.count(": ready on") == 2, up.stdout
    status = stack("status", stack_env)
    assert status.returncode == 0 and status.stdout.count(": ready") == 2, status.stdout
    down = stack("down", stack_env)
    assert down.stdout.count("stopped (pid") == 2 and stranger.poll() is None, down.stdout


def test_the_stack_redis_keeps_its_data_across_a_restart(stack_env: dict[str, str]) -> None:
    assert stack("up", stack_env).returncode == 0
    with Redis.from_url(stack_env["REDIS_URL"], socket_timeout=5) as r:
        r.set("wirewatch:seen:x", "1")
    assert stack("down", stack_env).returncode == 0
    assert stack("up", stack_env).returncode == 0
    with Redis.from_url(stack_env["REDIS_URL"], socket_timeout=5) as r:
        assert r.get("wirewatch:seen:x") == b"1", "what was seen survives a stack restart (appendonly yes)"
