"""The command line as a user meets it: real processes, real exit codes."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import ROOT, corpus_file, wirewatch
from workers.devstack.stack import free_port


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


# --- operations commands (issue 6) ----------------------------------------------------------------

COMMANDS = [
    ["poll"],
    ["filter"],
    ["alert"],
    ["run"],
    ["demo"],
    ["match"],
    ["stack"],
    ["kafka"],
    ["kafka", "init"],
    ["config"],
    ["config", "check"],
    ["secret", "new"],
    ["tail"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=" ".join)
def test_help_of_every_operations_command(cmd: list[str]) -> None:
    proc = wirewatch(*cmd, "--help")
    assert proc.returncode == 0 and "usage: wirewatch" in proc.stdout, proc.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["kafka"],
        ["kafka", "drop"],
        ["config"],
        ["config", "check", "--strict"],
        ["secret"],
        ["secret", "old"],
        ["tail", "--max", "many"],
        ["poll", "--health-port", "http"],
        ["run", "--shutdown-timeout", "soon"],
        ["--log-format", "xml", "poll"],
        ["--log-level", "chatty", "poll"],
    ],
    ids=" ".join,
)
def test_wrong_arguments_of_operations_commands_exit_2(args: list[str]) -> None:
    proc = wirewatch(*args)
    assert proc.returncode == 2 and "usage:" in proc.stderr, (proc.returncode, proc.stderr)


def run_env(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=timeout,
    )


def test_config_check_prints_a_summary(secret: str) -> None:
    proc = run_env("config", "check", "--config", str(ROOT / "config"), env={"WIREWATCH_DEMO_SECRET": secret})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "feeds: 5" in out and "demo-wire-hi  every 15s" in out
    assert "topics: 3" in out and re.search(r"dprk  \d+ terms \(Latin \d+, Cyrillic \d+", out)
    assert "subscribers: 3" in out and "secret from env WIREWATCH_DEMO_SECRET" in out
    assert secret not in out + proc.stderr


def test_config_check_lists_every_error_with_file_and_key(tmp_path: Path) -> None:
    d = tmp_path / "config"
    shutil.copytree(ROOT / "config", d)
    (d / "feeds.yaml").write_text("feeds:\n  - name: Bad Name\n    url: ftp://x\n")
    (d / "settings.yaml").write_text("kafka:\n  partitions: 0\n")
    proc = run_env("config", "check", "--require-secrets", "--config", str(d), env={"WIREWATCH_DEMO_SECRET": ""})
    assert proc.returncode == 2
    err = proc.stderr
    assert f"{d}/feeds.yaml: feeds[0].name:" in err
    assert f"{d}/feeds.yaml: feeds[0].url:" in err
    assert f"{d}/settings.yaml: kafka.partitions:" in err
    assert f"{d}/subscribers.yaml: subscribers[0].secret_env:" in err
    # every problem of every file: each subscriber's missing secret too, not the first one alone
    problems = [ln for ln in err.splitlines() if ln.startswith(f"{d}/")]
    assert len(problems) >= 4 and f"{len(problems)} problem(s)" in err


@pytest.mark.integration
def test_kafka_init_creates_topics_idempotently(make_config, bootstrap: str, names) -> None:  # type: ignore[no-untyped-def]
    cfg = make_config(feeds=[{"name": "f", "url": "http://127.0.0.1:1/f.xml"}], settings={"kafka": {"partitions": 3}})
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    first = run_env("kafka", "init", "--config", str(cfg), env=env)
    assert first.returncode == 0, first.stderr
    for topic in names.all_topics():
        assert f"{topic}: created, 3 partitions, replication 1, retention" in first.stdout
    again = run_env("kafka", "init", "--config", str(cfg), env=env)
    assert again.returncode == 0, again.stderr
    for topic in names.all_topics():
        assert f"{topic}: exists, 3 partitions\n" in again.stdout


def test_kafka_init_without_a_broker_fails_clearly(make_config) -> None:  # type: ignore[no-untyped-def]
    cfg = make_config(feeds=[{"name": "f", "url": "http://127.0.0.1:1/f.xml"}])
    proc = run_env(
        "kafka",
        "init",
        "--timeout",
        "1",
        "--config",
        str(cfg),
        env={"KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"},
    )
    assert proc.returncode == 1 and "not reachable" in proc.stderr, proc.stderr


@pytest.mark.integration
def test_stack_up_status_down(tmp_path: Path) -> None:
    env = {
        "WIREWATCH_STATE_DIR": str(tmp_path / "state"),
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}",
        "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    try:
        up = run_env("stack", "up", env=env)
        assert up.returncode == 0, up.stderr
        assert re.search(r"broker: ready on 127\.0\.0\.1:\d+ \(pid \d+, log .*broker\.log\)", up.stdout)
        assert re.search(r"redis: ready on 127\.0\.0\.1:\d+ \(pid \d+, log .*redis\.log\)", up.stdout)
        status = run_env("stack", "status", env=env)
        assert status.returncode == 0 and status.stdout.count(": ready") == 2, status.stdout
        again = run_env("stack", "up", env=env)
        assert again.returncode == 0 and again.stdout.count("already running") == 2
    finally:
        down = run_env("stack", "down", env=env)
    assert down.returncode == 0 and down.stdout.count("stopped (pid") == 2, down.stdout
    status = run_env("stack", "status", env=env)
    assert status.returncode == 1 and status.stdout.count(": down") == 2


@pytest.mark.integration
def test_tail_prints_matches(make_config, bootstrap: str, names) -> None:  # type: ignore[no-untyped-def]
    from kafka import KafkaProducer

    from workers.core.events import MatchEvent, TopicHit
    from workers.core.stories import Story
    from workers.infra.kafka import ensure_topics, send_all, topic_specs
    from workers.settings.config import KafkaSettings

    cfg = make_config(feeds=[{"name": "f", "url": "http://127.0.0.1:1/f.xml"}])
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    story = Story(
        id="s1", feed="ani", feed_url="http://x/f.xml", title="किम जोंग उन रूस पहुंचे", link="http://x/kim", text="..."
    )
    event = MatchEvent(
        story, "hi", 0.99, {"dprk": TopicHit(["किम जोंग उन"], [], ""), "russia": TopicHit(["रूस"], [], "")}
    )
    producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        send_all(producer, [(names.matches, b"s1", event.to_json()), (names.matches, b"bad", b"not json")])
    finally:
        producer.close()
    env = {"KAFKA_BOOTSTRAP_SERVERS": bootstrap}
    proc = run_env("tail", "--from-beginning", "--max", "1", "--config", str(cfg), env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "dprk,russia  [hi]  किम जोंग उन रूस पहुंचे  http://x/kim" in proc.stdout
    as_json = run_env("tail", "--from-beginning", "--json", "--idle-exit", "2", "--config", str(cfg), env=env)
    lines = as_json.stdout.splitlines()
    assert json.loads([x for x in lines if x.startswith("{")][0])["topics"]["dprk"] == ["किम जोंग उन"]
    assert any("unreadable match" in x for x in lines)
