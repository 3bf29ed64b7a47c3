"""Building each daemon from config and environment, and running it until SIGTERM/SIGINT.

Start-up order: load and validate config (a mistake exits 2 with the file and key), connect to Redis
and Kafka with backoff (a server that is not up yet is waited for, not a crash-loop), create the
Kafka topics if missing, then loop. Shutdown: the loop ends after the current batch, then the
consumer commits nothing more, the producer flushes, and every client is closed.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TypeVar

import httpx
from redis import Redis

from workers.config import Config, Env, load_config
from workers.daemon import Stopper, run_loop
from workers.kafka_io import ensure_topics, make_consumer, make_producer

logger = logging.getLogger(__name__)

T = TypeVar("T")


def make_redis(url: str, socket_timeout: float) -> Redis:
    # redis-py 7 and older wait forever on a dead server without these.
    return Redis.from_url(
        url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout, health_check_interval=30
    )


def with_backoff(what: str, fn: Callable[[], T], stopper: Stopper, max_delay: float = 30.0) -> T | None:
    """Call fn until it succeeds; None when a stop was asked while waiting."""
    delay = 0.5
    while not stopper.stopping:
        try:
            return fn()
        except Exception as exc:
            logger.warning("%s not reachable (%s: %s); retrying in %.1fs", what, type(exc).__name__, exc, delay)
            stopper.sleep(delay)
            delay = min(max_delay, delay * 2)
    return None


def client_id(role: str) -> str:
    return f"wirewatch-{role}-{socket.gethostname()}-{os.getpid()}"


def http_client(user_agent: str) -> httpx.Client:
    return httpx.Client(
        headers={"user-agent": user_agent},
        max_redirects=5,
        verify=True,
        limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
    )


def run_daemon(role: str, config_dir: Path) -> int:
    """Run one daemon ('poll', 'filter' or 'alert') until stopped; return the exit code."""
    need = {"poll": ("feeds",), "filter": ("topics",), "alert": ("topics", "subscribers")}[role]
    cfg = load_config(config_dir, need=need)
    env = Env.from_environ()
    stopper = Stopper()
    stopper.install()
    with ExitStack() as stack:
        redis = make_redis(env.redis_url, cfg.settings.redis.socket_timeout)
        stack.callback(redis.close)
        if role in ("poll", "alert") and with_backoff("redis", redis.ping, stopper) is None:
            return 0
        created = with_backoff(
            "kafka",
            lambda: ensure_topics(env.kafka_bootstrap, cfg.names.all_topics(), cfg.settings.kafka.partitions),
            stopper,
        )
        if created is None:
            return 0
        if created:
            logger.info("created topics %s", ", ".join(created))
        producer = make_producer(env.kafka_bootstrap, client_id(role))
        stack.callback(producer.close, timeout=30)
        stack.callback(producer.flush, timeout=30)
        worker = _build(role, cfg, env, producer, redis, stopper, stack)
        stack.callback(worker.close)
        logger.info("%s started kafka=%s redis=%s", role, env.kafka_bootstrap, _redacted(env.redis_url))
        run_loop(role, worker.run_once, stopper)
    return 0


def _build(role: str, cfg: Config, env: Env, producer, redis: Redis, stopper: Stopper, stack: ExitStack):  # type: ignore[no-untyped-def]
    names, settings = cfg.names, cfg.settings
    if role == "poll":
        from workers.poller import Poller

        http = http_client(settings.poller.user_agent)
        stack.callback(http.close)
        return Poller(cfg.feeds, producer, redis, http, names, settings.poller, stopper)
    if role == "filter":
        from workers import language
        from workers.filter import FilterWorker
        from workers.matching import Matcher

        language.warm_up()
        consumer = make_consumer(
            env.kafka_bootstrap, names.stories, names.filter_group, settings.kafka, client_id(role)
        )
        stack.callback(consumer.close, autocommit=False)
        return FilterWorker(consumer, producer, Matcher(cfg.topics), names, stopper)
    from workers.alerter import Alerter
    from workers.delivery import webhook_clients

    clients = webhook_clients(cfg.subscribers)
    for client in clients.values():
        stack.callback(client.close)
    consumer = make_consumer(env.kafka_bootstrap, names.matches, names.alerter_group, settings.kafka, client_id(role))
    stack.callback(consumer.close, autocommit=False)
    return Alerter(consumer, producer, redis, clients, cfg.subscribers, cfg.secrets, names, settings.alerter, stopper)


def _redacted(url: str) -> str:
    """A Redis URL without its password, for logs."""
    if "@" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url
