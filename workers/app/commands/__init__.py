"""The `wirewatch` subcommands, one module per group. Each module has ``register(subparsers)`` that adds
its parsers and sets ``func`` to a function taking the parsed args and returning an exit code."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from workers.core.errors import WirewatchError
from workers.settings import env

if TYPE_CHECKING:
    from workers.app.runtime import DaemonOptions


def add_config_option(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--config", metavar="DIR", help="config directory (default: $WIREWATCH_CONFIG or ./config)")
    return parser


def config_dir(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "config", None) or env.config_dir())


def add_daemon_options(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of every long-running daemon; logs go to stdout (12-factor) instead of stderr."""
    add_config_option(parser)
    parser.add_argument(
        "--health-port",
        type=int,
        metavar="PORT",
        help="port of /metrics, /healthz, /readyz; 0 turns it off "
        "(default: $WIREWATCH_HEALTH_PORT, settings daemon.health_port, "
        "else 9460 run, 9461 poll, 9462 filter, 9463 alert)",
    )
    parser.add_argument(
        "--shutdown-timeout",
        type=float,
        metavar="SECONDS",
        help="after SIGTERM/SIGINT, exit 1 if not stopped cleanly by then "
        "(default: $WIREWATCH_SHUTDOWN_TIMEOUT, settings daemon.shutdown_timeout, 30)",
    )
    parser.set_defaults(logs_to_stdout=True)
    return parser


def daemon_options(args: argparse.Namespace) -> DaemonOptions:
    from workers.app.runtime import DaemonOptions

    return DaemonOptions(health_port=args.health_port, shutdown_timeout=args.shutdown_timeout)


def redis_down(exc: Exception) -> WirewatchError:
    """The one line a command prints when Redis does not answer (instead of redis-py's traceback)."""
    return WirewatchError(f"Redis not reachable ({exc}); start it (`wirewatch stack up`) or set REDIS_URL")
