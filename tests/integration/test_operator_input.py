"""What a careless operator meets at the command line: a clear line and the right exit code, never a traceback;
a closed pipe is quiet; no password of a feed URL is printed; replaying story dead letters does not grow the DLQ."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from redis import Redis

from tests.support import ROOT, read_topic
from workers.core.deadletter import dead_letter
from workers.core.names import Names
from workers.devstack.stack import free_port
from workers.infra.kafka import ensure_topics, make_producer, send_all, topic_specs
from workers.settings.config import KafkaSettings

pytestmark = pytest.mark.integration


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )


def closed_pipe(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command whose standard output is a pipe nobody reads (`| head -0`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "workers", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            timeout=60,
        )
    finally:
        os.close(write)
    return proc


def no_traceback(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr


@pytest.fixture
def cfg(make_config: Any) -> Path:
    feeds = [{"name": f"f{i}", "url": "http://reader:${WW_FEED_PW}@127.0.0.1:1/f.xml"} for i in range(50)]
    subs = [{"name": "desk", "url": "http://127.0.0.1:1/h", "secret_env": "WIREWATCH_TEST_SECRET", "topics": ["dprk"]}]
    return make_config(feeds=feeds, subscribers=subs)  # type: ignore[no-any-return]


@pytest.fixture
def env(daemon_env: dict[str, str]) -> dict[str, str]:
    return {**daemon_env, "WW_FEED_PW": "s3cret-pw"}


def test_a_garbage_redis_url_is_a_config_error(cfg: Path, env: dict[str, str]) -> None:
    proc = cli("poll", "--config", str(cfg), env={**env, "REDIS_URL": "garbage"})
    assert proc.returncode == 2 and "environment REDIS_URL" in proc.stderr, proc.stderr
    no_traceback(proc)


def test_config_check_reports_every_problem_of_a_file(cfg: Path, env: dict[str, str]) -> None:
    subs = [
        {"name": "a", "url": "http://127.0.0.1:1/h", "secret_env": "WW_UNSET_VAR", "topics": ["dprk"]},
        {"name": "b", "url": "http://127.0.0.1:1/h", "secret_env": "WIREWATCH_TEST_SECRET", "topics": ["nope"]},
    ]
    (cfg / "subscribers.yaml").write_text(json.dumps({"subscribers": subs}))
    proc = cli("config", "check", "--require-secrets", "--config", str(cfg), env=env)
    assert proc.returncode == 2, proc.stderr
    assert "WW_UNSET_VAR is not set" in proc.stderr and "unknown topic 'nope'" in proc.stderr, proc.stderr


@pytest.mark.parametrize("path", ["/nonexistent/story.txt", "/"])
def test_match_file_that_cannot_be_read(path: str) -> None:
    for args in (["match", "--file", path], ["match", "--jsonl", path]):
        proc = cli(*args)
        assert proc.returncode == 2 and path in proc.stderr, proc.stderr
        no_traceback(proc)


def test_output_into_a_closed_pipe_is_quiet(cfg: Path, env: dict[str, str], bootstrap: str) -> None:
    for args in (["feeds", "list"], ["subscribers", "list"], ["config", "check"], ["kafka", "init"]):
        proc = closed_pipe(*args, "--config", str(cfg), env=env)
        no_traceback(proc)
        assert proc.returncode in (0, 141), (args, proc.returncode, proc.stderr)


def test_redis_down_is_one_clear_line(cfg: Path, env: dict[str, str]) -> None:
    down = {**env, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    for args in (["subscribers", "list"], ["subscribers", "enable", "desk"]):
        proc = cli(*args, "--config", str(cfg), env=down)
        assert proc.returncode == 1 and "Redis not reachable" in proc.stderr, proc.stderr
        no_traceback(proc)


def test_kafka_down_fails_fast_with_one_clear_line(cfg: Path, env: dict[str, str]) -> None:
    started = time.monotonic()
    proc = cli("dlq", "list", "--config", str(cfg), env={**env, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"})
    assert proc.returncode == 1 and "Kafka not reachable" in proc.stderr, proc.stderr
    assert time.monotonic() - started < 20
    no_traceback(proc)


def test_no_feed_password_is_printed(cfg: Path, env: dict[str, str]) -> None:
    for args in (["feeds", "list"], ["config", "check"]):
        proc = cli(*args, "--config", str(cfg), env=env)
        assert proc.returncode == 0, proc.stderr
        assert "s3cret-pw" not in proc.stdout + proc.stderr and "reader:***@127.0.0.1" in proc.stdout, proc.stdout


def dead_story(bootstrap: str, names: Names, value: bytes, offset: int) -> None:
    """A story dead letter as the filter writes it: the record's original bytes and where it was read."""
    rec = SimpleNamespace(topic=names.stories, partition=0, offset=offset, value=value)
    producer = make_producer(bootstrap, "test")
    send_all(producer, [(names.stories_dlq, b"k", dead_letter("malformed story: not JSON", rec))])
    producer.close()


@pytest.mark.redis_cluster  # the replayed marks' pipelines on standalone Redis and on a Redis Cluster
def test_replaying_story_dead_letters_does_not_grow_the_dlq(
    cfg: Path, env: dict[str, str], bootstrap: str, names: Names, redis: Redis
) -> None:
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=1)))
    value = b"\xff not a story"
    dead_story(bootstrap, names, value, 7)
    first = cli("dlq", "replay", "--stories", "--config", str(cfg), env=env)
    assert first.returncode == 0 and "produced 1 story message(s)" in first.stdout, first.stdout + first.stderr
    # the filter would dead-letter it again; here it is done by hand, as the filter writes it
    stories = read_topic(bootstrap, names.stories, 1)
    assert base64.b64encode(stories[0].value) == base64.b64encode(value)
    dead_story(bootstrap, names, value, 8)
    second = cli("dlq", "replay", "--stories", "--config", str(cfg), env=env)
    assert second.returncode == 0 and "produced 0 story message(s)" in second.stdout, second.stdout + second.stderr
    assert "2 already replayed" in second.stdout, second.stdout


def test_a_story_replayed_before_the_upgrade_is_not_replayed_again(
    cfg: Path, env: dict[str, str], bootstrap: str, names: Names, redis: Redis
) -> None:
    """Marks of the layout without hash tags are honoured until they expire (README "Upgrading")."""
    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=1)))
    value = b"\xfe replayed by the previous version"
    redis.set(names.legacy_replayed(hashlib.sha256(value).hexdigest()), 1, ex=3600)
    dead_story(bootstrap, names, value, 3)
    proc = cli("dlq", "replay", "--stories", "--config", str(cfg), env=env)
    assert proc.returncode == 0 and "produced 0 story message(s)" in proc.stdout, proc.stdout + proc.stderr
    assert "1 already replayed" in proc.stdout
