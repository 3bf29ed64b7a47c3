"""The environment, read in this one module: server addresses, secrets and the ``WIREWATCH_*`` overrides.

Server addresses and secrets never come from config/, which installs share; everything else an operator may
set by environment is named here, so ``grep`` finds every variable wirewatch reads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from workers.core.errors import ConfigError
from workers.settings.redis_url import url_problem

T = TypeVar("T", int, float)

DEFAULT_BOOTSTRAP = "127.0.0.1:19092"  # the embedded broker of `wirewatch stack up`
DEFAULT_REDIS_URL = "redis://127.0.0.1:16379/0"  # the embedded redis-server of `wirewatch stack up`

_ENV_REF = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


@dataclass(frozen=True)
class Env:
    """Server addresses from the environment (never from config/, which is shared between installs)."""

    kafka_bootstrap: str = DEFAULT_BOOTSTRAP
    redis_url: str = DEFAULT_REDIS_URL

    @classmethod
    def from_environ(cls) -> Env:
        return cls(
            kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP),
            redis_url=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL),
        )


_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]/]+):(\d{1,5})$")
_NUMBERS: dict[str, type[int] | type[float]] = {
    "WIREWATCH_HEALTH_PORT": int,
    "WIREWATCH_OTLP_METRICS_INTERVAL": float,
    "WIREWATCH_OTLP_SAMPLE_RATIO": float,
    "WIREWATCH_SHUTDOWN_TIMEOUT": float,
    "WIREWATCH_WEB_PORT": int,
}


def _bootstrap_problem(servers: str) -> str | None:
    for server in servers.split(","):
        m = _HOST_PORT.match(server.strip())
        if not m or not 0 < int(m.group(2)) < 65536:
            return f"{server.strip()!r} is not host:port (a comma-separated list of them)"
    return None


def problems() -> list[str]:
    """Every problem of the variables read at start, one line each naming the variable (never a secret's value:
    those are checked where config/ names them)."""
    out = []
    redis_url = os.environ.get("REDIS_URL", DEFAULT_REDIS_URL)
    if problem := url_problem(redis_url):
        out.append(f"environment REDIS_URL: {problem}")
    if problem := _bootstrap_problem(os.environ.get("KAFKA_BOOTSTRAP_SERVERS", DEFAULT_BOOTSTRAP)):
        out.append(f"environment KAFKA_BOOTSTRAP_SERVERS: {problem}")
    endpoint = otlp_endpoint()
    if endpoint and not re.match(r"^https?://[^/\s]+(/\S*)?$", endpoint):
        out.append(f"environment WIREWATCH_OTLP_ENDPOINT: {endpoint!r} is not an http(s):// URL of an OTLP collector")
    for name, kind in _NUMBERS.items():
        try:
            number(name, kind)
        except ConfigError as exc:
            out.append(str(exc))
    return out


def expand_env(value: str) -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}`` so feed and webhook URLs can follow the environment."""

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ValueError(f"environment variable {name} is not set")

    return _ENV_REF.sub(sub, value)


def secret(name: str) -> str | None:
    """A subscriber's secret from the variable its ``secret_env`` names; None when unset or empty."""
    return os.environ.get(name) or None


def text(name: str) -> str | None:
    """A ``WIREWATCH_*`` setting; None when unset or empty."""
    return os.environ.get(name) or None


def number(name: str, kind: type[T]) -> T | None:
    """A numeric ``WIREWATCH_*`` setting; None when unset or empty, a ConfigError when not a number."""
    raw = os.environ.get(name)
    if raw in (None, ""):
        return None
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"environment {name}: {raw!r} is not a {kind.__name__}") from None


DEMO_PORTS = {"WIREWATCH_DEMO_FEEDS_PORT": 8765, "WIREWATCH_DEMO_RECEIVER_PORT": 8766}


def demo_ports() -> tuple[int, int]:
    """(sample feeds, webhook receiver) ports of ``wirewatch demo`` on 127.0.0.1, from the variables of
    ``DEMO_PORTS`` (defaults 8765, 8766); a ConfigError naming the variable when it is not a port."""
    ports = []
    for name, default in DEMO_PORTS.items():
        port = number(name, int)
        if port is not None and not 0 < port < 65536:
            raise ConfigError(f"environment {name}: {port} is not a port (1-65535)")
        ports.append(port or default)
    return ports[0], ports[1]


def otlp_endpoint() -> str | None:
    """The OTLP/HTTP collector's base URL (``WIREWATCH_OTLP_ENDPOINT``, e.g. ``http://collector:4318``); None: no
    OpenTelemetry export."""
    return text("WIREWATCH_OTLP_ENDPOINT")


def otlp_metrics_interval() -> float:
    """Seconds between two OTLP metric exports (``WIREWATCH_OTLP_METRICS_INTERVAL``, default 30)."""
    value = number("WIREWATCH_OTLP_METRICS_INTERVAL", float)
    return value if value is not None and value > 0 else 30.0


def otlp_sample_ratio() -> float:
    """The share of story traces exported (``WIREWATCH_OTLP_SAMPLE_RATIO``, 0-1, default 1: every one)."""
    value = number("WIREWATCH_OTLP_SAMPLE_RATIO", float)
    return 1.0 if value is None else min(1.0, max(0.0, value))


def web_token() -> str | None:
    """The operator token of the web console (``WIREWATCH_WEB_TOKEN``); None: the console binds to loopback only."""
    return os.environ.get("WIREWATCH_WEB_TOKEN") or None


def web_host() -> str | None:
    """Where the web console listens (``WIREWATCH_WEB_HOST``); None: 127.0.0.1."""
    return text("WIREWATCH_WEB_HOST")


def config_dir() -> Path:
    return Path(text("WIREWATCH_CONFIG") or "config")


def state_dir() -> Path:
    """Where the dev stack and the demo keep pid, log and data files."""
    return Path(os.environ.get("WIREWATCH_STATE_DIR", ".wirewatch"))


def corpus_dir(default: Path) -> Path:
    """The shared real-world corpus (``WIREWATCH_CORPUS`` overrides the checkout's ``../shared/corpus``)."""
    return Path(os.environ.get("WIREWATCH_CORPUS", default))


def for_child(**overrides: str) -> dict[str, str]:
    """This process's environment with ``overrides``, for a daemon the demo or the dev stack starts."""
    return {**os.environ, **overrides}
