"""The one way wirewatch builds a Redis client: explicit timeouts, so a dead server fails a call, never hangs it."""

from __future__ import annotations

from redis import Redis


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
