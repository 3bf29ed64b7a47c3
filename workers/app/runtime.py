"""The composition root: each daemon built from config and environment, and run until SIGTERM/SIGINT.

Start-up order: install the signal handlers; load and validate config (a mistake exits 2 with the file and key; a
SIGTERM meanwhile ends the start-up with exit 0); a consumer checks that kafka-python can read every compression
codec (exit 1 naming the missing package, since one such record would stall it); open the health port (``/readyz``
says false until connected); connect to Redis and Kafka with backoff (a server that is not up yet is waited for, not
a crash-loop); create the Kafka topics if missing (as `wirewatch kafka init` does: configured partitions,
replication and retention); build each stage by its ``from_settings()``, with a group watch beside each consumer
(``infra.groupwatch``: ``/readyz`` says false while its group is stalled); then loop. ``wirewatch run`` runs the
three loops in threads of one process, sharing the producer and the Redis client. SIGHUP reloads feeds, topics
and subscribers between batches (settings need a restart). Shutdown: each loop ends after its current batch,
then the consumers close without committing more, the producer flushes, every client is closed, within the
shutdown timeout.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from workers.alerter.worker import Alerter
from workers.app.configure import load_config
from workers.core.errors import ConfigError, WirewatchError
from workers.core.names import Names
from workers.filter.worker import FilterWorker
from workers.infra import metrics, otel
from workers.infra.groupwatch import GroupWatch
from workers.infra.health import HealthServer, Readiness
from workers.infra.kafka import (
    client_id,
    ensure_topics,
    kafka_reachable,
    make_producer,
    require_codecs,
    topic_specs,
)
from workers.infra.lifecycle import Stopper, run_loop, settle_heap, with_backoff
from workers.infra.redis import RedisClient, RedisProbe, connect_redis, redacted
from workers.poller.worker import Poller
from workers.settings import env
from workers.settings.config import Config, Settings
from workers.settings.env import Env, otlp_endpoint, otlp_metrics_interval, otlp_sample_ratio

logger = logging.getLogger(__name__)

T = TypeVar("T")

ROLES = ("poll", "filter", "alert")
ROLE_NEEDS = {"poll": ("feeds",), "filter": ("topics",), "alert": ("topics", "subscribers")}
# One port per role so the three daemons can share a host (systemd, Procfile); in Kubernetes each pod
# may use its own default. WIREWATCH_HEALTH_PORT, settings daemon.health_port or --health-port override.
DEFAULT_HEALTH_PORTS = {"run": 9460, "poll": 9461, "filter": 9462, "alert": 9463}


@dataclass(frozen=True)
class DaemonOptions:
    """Command-line overrides; None means "from the environment, then settings.yaml, then the default"."""

    health_port: int | None = None
    shutdown_timeout: float | None = None


@dataclass
class Loop:
    role: str
    worker: Any
    after: Callable[[], None]


def health_port(role: str, settings: Settings, options: DaemonOptions) -> int:
    """--health-port, else $WIREWATCH_HEALTH_PORT, else settings daemon.health_port, else the role's default."""
    for value in (options.health_port, env.number("WIREWATCH_HEALTH_PORT", int), settings.daemon.health_port):
        if value is not None:
            if not 0 <= value <= 65535:
                raise ConfigError(f"health port {value} is out of range 0-65535")
            return value
    return DEFAULT_HEALTH_PORTS[role]


def shutdown_timeout(settings: Settings, options: DaemonOptions) -> float:
    """--shutdown-timeout, else $WIREWATCH_SHUTDOWN_TIMEOUT, else settings daemon.shutdown_timeout (30 s)."""
    for value in (options.shutdown_timeout, env.number("WIREWATCH_SHUTDOWN_TIMEOUT", float)):
        if value is not None:
            if value <= 0:
                raise ConfigError(f"shutdown timeout {value} must be positive")
            return value
    return settings.daemon.shutdown_timeout


def config_needs(roles: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted({need for r in roles for need in ROLE_NEEDS[r]}))


def run_daemon(role: str, config_dir: Path, options: DaemonOptions | None = None) -> int:
    """Run one daemon ('poll', 'filter', 'alert') or all three ('run') until stopped; return the exit code."""
    options = options or DaemonOptions()
    roles = ROLES if role == "run" else (role,)
    metrics.use_role(role)  # /metrics shows this daemon's metrics only
    # Handlers first: loading config takes a second (CLDR names), and a SIGTERM in it (a supervisor stopping
    # a group that is still starting) must stop us with exit 0, not kill us by the default action (-15).
    stopper = Stopper()
    stopper.install()
    cfg = load_config(config_dir, need=config_needs(roles), match="filter" in roles)
    if any(r in ("filter", "alert") for r in roles):
        require_codecs()  # before waiting for any server: a consumer without every codec could stall for good
    stopper.shutdown_timeout = shutdown_timeout(cfg.settings, options)
    env = Env.from_environ()
    otlp = otlp_endpoint()
    if otlp and not otel.available():
        raise ConfigError(
            "environment WIREWATCH_OTLP_ENDPOINT: set, but the extra otel is not installed "
            "(pip install 'wirewatch[otel]')"
        )
    web = _web_address() if role == "run" else None  # a wrong host exits 2 here, before anything connects
    port = health_port(role, cfg.settings, options)
    readiness = Readiness(role)
    readiness.mark("config", True)
    readiness.mark("kafka", False)
    uses_redis = any(r in ("poll", "filter", "alert") for r in roles)  # the filter: its marks (filter.followups)
    if uses_redis:
        readiness.mark("redis", False)
    health = HealthServer(readiness, cfg.settings.daemon.health_host, port) if port else None
    if health is not None:
        try:
            health.start()
        except OSError as exc:
            raise WirewatchError(f"cannot open the health port {port}: {exc.strerror}") from None
    if otlp:
        otel.configure(otlp, role, otlp_metrics_interval(), otlp_sample_ratio())
    try:
        with ExitStack() as stack:
            loops = _connect(roles, cfg, env, stopper, stack, readiness, uses_redis)
            if loops is not None:
                if web is not None:
                    _start_console(cfg, env, web, stack)
                logger.info("%s started kafka=%s redis=%s", role, env.kafka_bootstrap, redacted(env.redis_url))
                settle_heap()
                _run_loops(loops, stopper, config_dir)
            readiness.mark("stopping", False)
    finally:
        if health is not None:
            health.stop()
        otel.shutdown()  # after the loops and the producer's flush: their last spans go too
        stopper.disarm()
    logger.info("%s exited cleanly", role)
    return 0


def _web_address() -> tuple[str, int] | None:
    """Where `wirewatch run` serves the web console; None when $WIREWATCH_WEB_PORT is 0 or the extra 'web' is
    not installed (the daemons run without it)."""
    if env.number("WIREWATCH_WEB_PORT", int) == 0:
        return None
    try:
        from workers.console.server import address
    except ImportError as exc:
        logger.warning("web console not started: the extra 'web' is not installed (%s missing)", exc.name)
        return None
    return address()


def _start_console(cfg: Config, env: Env, where: tuple[str, int], stack: ExitStack) -> None:
    """The console in a thread of this process; a port in use costs the console, never the daemons."""
    from workers.console.server import ConsoleServer
    from workers.infra.redis import make_redis

    redis = make_redis(env.redis_url, cfg.settings.redis.socket_timeout)
    stack.callback(redis.close)
    try:
        server = ConsoleServer(cfg, env, redis, *where)
    except OSError as exc:
        logger.error("web console not started: cannot listen on %s:%d: %s", where[0], where[1], exc.strerror)
        return
    server.start()
    stack.callback(server.stop)


def _connect(
    roles: tuple[str, ...],
    cfg: Config,
    env: Env,
    stopper: Stopper,
    stack: ExitStack,
    readiness: Readiness,
    uses_redis: bool,
) -> list[Loop] | None:
    """Clients with backoff, then the workers; None when stopped while waiting for a server."""
    redis: RedisClient | None = None
    if uses_redis:
        redis = with_backoff("redis", lambda: connect_redis(env.redis_url, cfg.settings.redis.socket_timeout), stopper)
        if redis is None:
            return None
        stack.callback(redis.close)
        probe = RedisProbe(env.redis_url)
        stack.callback(probe.close)
        readiness.add("redis", probe)
    created = with_backoff(
        "kafka",
        lambda: ensure_topics(env.kafka_bootstrap, topic_specs(cfg.names, cfg.settings.kafka)),
        stopper,
    )
    if created is None:
        return None
    if created:
        logger.info("created topics %s", ", ".join(created))
    producer = make_producer(env.kafka_bootstrap, client_id("-".join(roles)))
    stack.callback(producer.close, timeout=cfg.settings.daemon.shutdown_timeout)
    stack.callback(producer.flush, timeout=cfg.settings.daemon.shutdown_timeout)
    readiness.add("kafka", lambda: kafka_reachable(env.kafka_bootstrap))
    loops = [_build(role, cfg, env, producer, redis, stopper, stack, readiness) for role in roles]
    for loop in loops:
        details = getattr(loop.worker, "readiness_details", None)
        if details is not None:  # e.g. the alerter's outbox depths
            readiness.detail(loop.role, details)
    return loops


def _run_loops(loops: list[Loop], stopper: Stopper, config_dir: Path) -> None:
    def one(loop: Loop) -> None:
        run_loop(
            loop.role,
            loop.worker.run_once,
            stopper,
            reload=lambda: reload_worker(loop.role, loop.worker, config_dir),
            after=loop.after,
        )

    if len(loops) == 1:
        one(loops[0])
        return
    threads = [threading.Thread(target=one, args=(loop,), name=loop.role, daemon=True) for loop in loops]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():  # join in slices so the main thread keeps handling signals
            t.join(0.5)


def reload_worker(role: str, worker: Any, config_dir: Path) -> bool:
    """Load config/ again and hand it to the worker; on any mistake keep the running config."""
    try:
        cfg = load_config(config_dir, need=ROLE_NEEDS[role], match=role == "filter")
    except ConfigError as exc:
        metrics.CONFIG_RELOADS.labels(result="error").inc()
        logger.error(
            "config reload failed, keeping the running config role=%s error=%s", role, "; ".join(str(exc).splitlines())
        )
        return False
    worker.reload(cfg)
    metrics.CONFIG_RELOADS.labels(result="ok").inc()
    logger.info(
        "config reloaded role=%s feeds=%d topics=%d subscribers=%d",
        role,
        len(cfg.feeds),
        len(cfg.topics),
        len(cfg.subscribers),
    )
    return True


# Each stage builds itself from the config, the environment and the shared clients.
STAGES: dict[str, type[Poller] | type[FilterWorker] | type[Alerter]] = {
    "poll": Poller,
    "filter": FilterWorker,
    "alert": Alerter,
}


# The group and topic of each consuming stage, watched for a stall (workers/infra/stall.py).
CONSUMES: dict[str, Callable[[Names], tuple[str, str]]] = {
    "filter": lambda n: (n.filter_group, n.stories),
    "alert": lambda n: (n.alerter_group, n.matches),
}


def _build(
    role: str,
    cfg: Config,
    env: Env,
    producer: Any,
    redis: Any,
    stopper: Stopper,
    stack: ExitStack,
    readiness: Readiness,
) -> Loop:
    worker = STAGES[role].from_settings(cfg, env, producer, redis, stopper, stack)
    if not isinstance(worker, FilterWorker | Alerter):
        return Loop(role, worker, worker.after_batch)
    group, topic = CONSUMES[role](cfg.names)
    watch = GroupWatch(env.kafka_bootstrap, group, topic, cfg.settings.kafka).start()
    stack.callback(watch.close)
    readiness.add(f"group {group}", lambda: watch.ready)

    def after() -> None:
        worker.after_batch()
        watch.observe(worker.consumer)

    return Loop(role, worker, after)
