"""The one way wirewatch builds a Redis client: explicit timeouts, so a dead server fails a call, never hangs it.

``REDIS_URL`` (checked at start by ``workers.settings.redis_url``) picks the deployment:

- ``redis://`` / ``rediss://`` / ``unix://``: one Redis server. A primary with replicas is this case too:
  point the URL at the primary, or at the DNS name or virtual address your failover moves to the promoted
  replica. wirewatch never reads from replicas, so it never acts on a lagging copy. Sentinel discovery
  (``redis+sentinel://``) is not built in: an address that follows the primary does the same job.
- ``redis+cluster://host:port[,host:port...]`` / ``rediss+cluster://``: a Redis Cluster. The hosts are seed
  nodes; the client reads the slot map from them and follows MOVED/ASK. Every multi-key script and pipeline
  of wirewatch touches keys of one hash slot (the ``{...}`` hash tags of ``workers.core.names``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

from redis import Redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.client import Pipeline
from redis.cluster import ClusterNode, ClusterPipeline, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from workers.settings.redis_url import is_cluster_url, parse_cluster_url, redacted

__all__ = ["RedisClient", "RedisPipeline", "is_cluster", "make_redis", "ping_all", "redacted", "run_scripts"]

# Either client: the stages use only what both have (single-key commands, one-slot pipelines and scripts).
RedisClient: TypeAlias = Redis | RedisCluster
RedisPipeline: TypeAlias = Pipeline | ClusterPipeline


def make_redis(url: str, socket_timeout: float) -> RedisClient:
    """A client for ``url``. A cluster client reads the slot map at once, so it raises redis-py's
    ``ConnectionError`` (a ``RedisError``, like any call to a dead server) when no seed node answers."""
    # redis-py 7 and older wait forever on a dead server without these.
    timeouts: dict[str, Any] = dict(
        socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout, health_check_interval=30
    )
    if not is_cluster_url(url):
        return Redis.from_url(url, **timeouts)
    parsed = parse_cluster_url(url)
    try:
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in parsed.nodes],  # type: ignore[no-untyped-call]
            ssl=parsed.tls,
            # MOVED/ASK and a failover are absorbed by a few quick retries, then by the stage's own backoff.
            retry=Retry(ExponentialWithJitterBackoff(base=0.05, cap=1.0), retries=3),
            **dict[str, Any](parsed.auth),
            **timeouts,
        )
    except RedisClusterException as exc:  # not a RedisError: re-raised so callers catch one family
        raise RedisConnectionError(f"Redis Cluster not reachable at {redacted(url)}: {exc}") from None


def is_cluster(client: object) -> bool:
    return isinstance(client, RedisCluster)


def ping_all(client: RedisClient) -> bool:
    """Readiness: every primary answers (a cluster spreads the keys over all of them)."""
    if isinstance(client, RedisCluster):
        return bool(client.ping(target_nodes=RedisCluster.PRIMARIES))
    return bool(client.ping())


def connect_redis(url: str, socket_timeout: float) -> RedisClient:
    """A client whose every primary answered; raises (and closes what it opened) when one does not."""
    client = make_redis(url, socket_timeout)
    try:
        ping_all(client)
    except Exception:
        client.close()
        raise
    return client


class RedisProbe:
    """The readiness check of /readyz: its own client with a short timeout (a probe must answer fast), built on
    first use, since a cluster client connects when built and the server may be down right then."""

    def __init__(self, url: str, timeout: float = 1.0) -> None:
        self.url = url
        self.timeout = timeout
        self.client: RedisClient | None = None

    def __call__(self) -> bool:
        if self.client is None:
            self.client = make_redis(self.url, self.timeout)
        return ping_all(self.client)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


def run_scripts(client: Any, calls: Sequence[tuple[Any, Sequence[Any], Sequence[Any]]]) -> list[Any]:
    """Run registered scripts ``(script, keys, args)`` in one non-transactional pipeline, in order.

    On one Redis the pipeline sends EVALSHA and loads what the server lacks before it executes. redis-py refuses
    EVALSHA in a Redis Cluster pipeline, so there each call is an EVAL of the script's text (the server caches
    it by its digest); the pipeline is split per primary, and each call's keys are of one slot."""
    cluster = is_cluster(client)
    with client.pipeline(transaction=False) as pipe:
        for script, keys, args in calls:
            if cluster:
                pipe.execute_command("EVAL", script.script, len(keys), *keys, *args)
            else:
                script(keys=keys, args=args, client=pipe)
        return list(pipe.execute())
