"""make_redis without a server: the explicit timeouts of a standalone client, the one error of a dead cluster."""

from __future__ import annotations

import time

import pytest
from redis import Redis
from redis.exceptions import RedisError

from workers.devstack.stack import free_port
from workers.infra.redis import RedisProbe, connect_redis, is_cluster, make_redis


def test_a_standalone_client_has_the_explicit_timeouts() -> None:
    client = make_redis("redis://127.0.0.1:1/3", 2.5)
    kwargs = client.connection_pool.connection_kwargs
    assert isinstance(client, Redis) and not is_cluster(client)
    assert kwargs["socket_timeout"] == 2.5 and kwargs["socket_connect_timeout"] == 2.5 and kwargs["db"] == 3
    client.close()


def test_an_unreachable_cluster_is_a_redis_error_naming_the_url_without_its_password() -> None:
    url = f"redis+cluster://app:hunter2@127.0.0.1:{free_port()},127.0.0.1:{free_port()}"
    started = time.monotonic()
    with pytest.raises(RedisError) as err:  # what every command turns into its one "Redis not reachable" line
        connect_redis(url, 0.5)
    assert time.monotonic() - started < 10, "dead seed nodes fail fast"
    assert "hunter2" not in str(err.value) and "***@127.0.0.1" in str(err.value)
    probe = RedisProbe(url)  # readiness: built at start without connecting, false while the cluster is down
    with pytest.raises(RedisError):
        probe()
