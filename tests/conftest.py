"""Fixtures: one real broker and one real redis-server per test session (started here unless
KAFKA_BOOTSTRAP_SERVERS / WIREWATCH_TEST_REDIS_URL point at running ones), a flushed Redis database
and unique Kafka topic and key prefixes per test, config directories, and real daemon processes.

Redis Cluster: a test module opts in with one line,

    pytestmark = [pytest.mark.integration, pytest.mark.redis_cluster]

and each of its tests that uses ``redis_url`` (directly or through ``redis``, ``daemon_env``, ``daemons``)
runs twice: ``[standalone]`` and ``[cluster]``, the second against a real 3-primary Redis Cluster
(tests/redis_cluster.py) started once per session, on first use, or named by WIREWATCH_TEST_REDIS_CLUSTER_URL.
The cluster variants are skipped with the reason when redis-server or redis-cli is missing."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.kafka_support import TEST_SESSION_MS
from tests.redis_cluster import LocalCluster, missing_tools
from tests.support import ROOT, Daemon
from workers.core.names import Names
from workers.core.signing import new_secret
from workers.devstack.feedserver import FeedServer
from workers.devstack.receiver import Receiver
from workers.devstack.stack import EmbeddedBroker, EmbeddedRedis, free_port
from workers.infra.redis import RedisClient, make_redis

REDIS_KINDS = ("standalone", "cluster")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a module marked ``redis_cluster`` run on each kind of Redis (see the module docstring)."""
    if "redis_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker("redis_cluster"):
        metafunc.parametrize("redis_kind", REDIS_KINDS, indirect=True)


@pytest.fixture(scope="session")
def bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    broker = EmbeddedBroker(free_port(), tmp_path_factory.mktemp("broker") / "broker.log")
    broker.start()
    yield broker.bootstrap
    broker.stop()


@pytest.fixture(scope="session")
def redis_standalone_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if os.environ.get("WIREWATCH_TEST_REDIS_URL"):
        yield os.environ["WIREWATCH_TEST_REDIS_URL"]
        return
    d = tmp_path_factory.mktemp("redis")
    server = EmbeddedRedis(free_port(), d / "redis.log", d)
    server.start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A ``redis+cluster://`` URL of three primaries started here (about 2 s), stopped at the session's end."""
    if os.environ.get("WIREWATCH_TEST_REDIS_CLUSTER_URL"):
        yield os.environ["WIREWATCH_TEST_REDIS_CLUSTER_URL"]
        return
    if why := missing_tools():
        pytest.skip(f"no Redis Cluster: {why}")
    cluster = LocalCluster(tmp_path_factory.mktemp("redis-cluster"))
    cluster.start()  # stops what it started when it fails
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def redis_kind(request: pytest.FixtureRequest) -> str:
    """``standalone`` unless the module is marked ``redis_cluster`` (then both, by pytest_generate_tests)."""
    return str(getattr(request, "param", "standalone"))


@pytest.fixture
def redis_url(redis_kind: str, request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(f"redis_{redis_kind}_url"))


@pytest.fixture
def redis(redis_url: str) -> Iterator[RedisClient]:
    """A client of the test's Redis (either kind), built as the daemons build theirs; the database flushed."""
    client = make_redis(redis_url, 5)
    client.flushdb()  # a cluster client flushes every primary
    yield client
    client.close()


@pytest.fixture
def producer(bootstrap: str, names: Names) -> Iterator[Any]:
    """A producer to the test's own topics (created here), for a poller under test."""
    from workers.infra.kafka import ensure_topics, make_producer, topic_specs
    from workers.settings.config import KafkaSettings

    ensure_topics(bootstrap, topic_specs(names, KafkaSettings(partitions=2)))
    p = make_producer(bootstrap, "test-poller")
    yield p
    p.close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A real HTTP feed server on 127.0.0.1; tests put routes in ``feed_server.routes``."""
    server = FeedServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def names() -> Names:
    tag = uuid.uuid4().hex[:10]
    return Names(topic_prefix=f"t{tag}.", key_prefix=f"t{tag}:")


@pytest.fixture
def secret() -> str:
    return new_secret()


@pytest.fixture
def make_config(tmp_path: Path, names: Names) -> Callable[..., Path]:
    """Write a config directory: the shipped topics, the given feeds and subscribers, test settings."""

    def make(
        feeds: list[dict[str, Any]],
        subscribers: list[dict[str, Any]] | None = None,
        settings: dict[str, Any] | None = None,
        name: str = "config",
    ) -> Path:
        d = tmp_path / name
        d.mkdir(exist_ok=True)
        shutil.copy(ROOT / "config" / "topics.yaml", d / "topics.yaml")
        (d / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}, allow_unicode=True))
        (d / "subscribers.yaml").write_text(yaml.safe_dump({"subscribers": subscribers or []}, allow_unicode=True))
        base: dict[str, Any] = {
            "kafka": {"topic_prefix": names.topic_prefix, "partitions": 2, "session_timeout_ms": TEST_SESSION_MS},
            "redis": {"key_prefix": names.key_prefix},
            "poller": {"fetch_timeout": 2.0},
            "alerter": {"delivery_timeout": 2.0, "retry_schedule": [0.5, 1, 2]},
        }
        for section, values in (settings or {}).items():
            base.setdefault(section, {}).update(values)
        (d / "settings.yaml").write_text(yaml.safe_dump(base))
        return d

    return make


@pytest.fixture
def receiver(secret: str) -> Iterator[Receiver]:
    """A verifying webhook receiver on 127.0.0.1; ``receiver.url`` is its base URL, the path names the subscriber."""
    r = Receiver(secret=secret)
    port = r.start()
    r.url = f"http://127.0.0.1:{port}"  # type: ignore[attr-defined]
    yield r
    r.stop()


@pytest.fixture
def daemon_env(bootstrap: str, redis_url: str, secret: str) -> dict[str, str]:
    """The environment of a daemon process run by a test: the test's servers and secret, no health port."""
    return dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        REDIS_URL=redis_url,
        WIREWATCH_TEST_SECRET=secret,
        WIREWATCH_LOG_LEVEL="INFO",
        PYTHONPATH=str(ROOT),
        WIREWATCH_HEALTH_PORT="0",  # parallel tests (and engineers) must not fight over the default ports
        WIREWATCH_WEB_PORT="0",  # nor `wirewatch run` over the console's
    )


@pytest.fixture
def daemons(daemon_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []
    env = daemon_env

    def start(role: str, config_dir: Path, **extra_env: str) -> Daemon:
        d = Daemon(role, config_dir, {**env, **extra_env}, tmp_path / f"{role}-{len(started)}.log")
        started.append(d)
        return d

    yield start
    for d in started:
        d.close()
