"""REDIS_URL parsing: the schemes accepted, the problems named, the password never printed."""

from __future__ import annotations

import pytest

from workers.settings.redis_url import is_cluster_url, parse_cluster_url, redacted, url_problem


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "rediss://user:pw@redis.example:6380/2",
        "unix:///run/redis.sock?db=1",
        "redis+cluster://127.0.0.1:7000",
        "redis+cluster://10.0.0.1:7000,10.0.0.2:7000,[::1]:7002/0",
        "rediss+cluster://app:s%40cret@redis-0.internal:6379,redis-1.internal:6379",
    ],
)
def test_usable_urls(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    "url,problem",
    [
        ("garbage", "must start with"),
        ("http://127.0.0.1:6379", "must start with"),
        ("redis://:6379/0", "has no host"),
        ("redis://127.0.0.1:6379/x", "is not a number"),
        ("redis+cluster://", "is not host:port"),
        ("redis+cluster://127.0.0.1", "'127.0.0.1' is not host:port"),
        ("redis+cluster://127.0.0.1:7000,", "'' is not host:port"),
        ("redis+cluster://127.0.0.1:70000", "is not host:port"),
        ("redis+cluster://127.0.0.1:7000/1", "only database 0"),
        ("redis+sentinel://127.0.0.1:26379/primary", "must start with"),
    ],
)
def test_problems_are_named(url: str, problem: str) -> None:
    assert problem in (url_problem(url) or "")


def test_cluster_url_nodes_tls_and_credentials() -> None:
    parsed = parse_cluster_url("rediss+cluster://app:s%40cret@10.0.0.1:7000,[::1]:7001?x=1")
    assert parsed.nodes == [("10.0.0.1", 7000), ("::1", 7001)]
    assert parsed.tls and parsed.auth == {"username": "app", "password": "s@cret"}
    assert parse_cluster_url("redis+cluster://:pw@h:1").auth == {"password": "pw"}
    assert not parse_cluster_url("redis+cluster://h:1").tls and is_cluster_url("redis+cluster://h:1")
    assert not is_cluster_url("redis://h:1/0")


@pytest.mark.parametrize(
    "url,shown",
    [
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
        ("redis://:hunter2@127.0.0.1:6379/0", "redis://***@127.0.0.1:6379/0"),
        ("rediss://user:hunter2@h:6380/1", "rediss://***@h:6380/1"),
        ("redis+cluster://user:hunter2@a:1,b:2", "redis+cluster://***@a:1,b:2"),
        ("rediss+cluster://:p@ss@a:1,b:2/0", "rediss+cluster://***@a:1,b:2/0"),
        ("unix://:hunter2@/run/redis.sock", "unix://***@/run/redis.sock"),
        ("unix:///run/redis.sock?db=1&password=hunter2", "unix:///run/redis.sock?db=1&password=***"),
    ],
)
def test_redacted_hides_the_password_of_every_scheme(url: str, shown: str) -> None:
    assert redacted(url) == shown and "hunter2" not in redacted(url)
