"""The one way wirewatch builds a Redis client: explicit timeouts, so a dead server fails a call, never hangs it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis import Redis
from redis.exceptions import NoScriptError, ResponseError


def make_redis(url: str, socket_timeout: float) -> Redis:
    # redis-py 7 and older wait forever on a dead server without these.
    return Redis.from_url(
        url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout, health_check_interval=30
    )


def redacted(url: str) -> str:
    """A Redis URL without its password, for logs."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def is_cluster(client: object) -> bool:
    """Whether a client speaks to a Redis Cluster (whose keys of one call must share a hash slot)."""
    from redis.cluster import RedisCluster

    return isinstance(client, RedisCluster)


def run_scripts(client: Any, calls: Sequence[tuple[Any, Sequence[Any], Sequence[Any]]]) -> list[Any]:
    """Run registered scripts ``(script, keys, args)`` in one non-transactional pipeline, in order.

    A plain pipeline loads missing scripts itself, a Redis Cluster pipeline does not, and a restarted server (or
    Redis 7.4+ evicting its script cache) may have dropped one: on NOSCRIPT every script of the calls is loaded
    (on every primary) and the pipeline run once more. Callers pass only scripts that may run twice."""
    for attempt in (1, 2):
        try:
            with client.pipeline(transaction=False) as pipe:
                for script, keys, args in calls:
                    script(keys=keys, args=args, client=pipe)
                return list(pipe.execute())
        except ResponseError as exc:
            if attempt == 2 or not (isinstance(exc, NoScriptError) or "NOSCRIPT" in str(exc)):
                raise
            for script in {id(s): s for s, _, _ in calls}.values():
                script.sha = client.script_load(script.script)
    raise AssertionError("unreachable")
