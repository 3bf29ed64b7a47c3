"""`wirewatch run`: the poller, the filter and the alerter as three threads of one process, for small
installs (one container, one unit). They share one producer, one Redis client and one health port;
a SIGTERM stops all three, a SIGHUP reloads all three."""

from __future__ import annotations

import argparse
from typing import Any

from workers.app.commands import add_daemon_options, config_dir, daemon_options


def run(args: argparse.Namespace) -> int:
    from workers.app.runtime import run_daemon

    return run_daemon("run", config_dir(args), daemon_options(args))


def register(sub: Any) -> None:
    helptext = "run the poller, filter and alerter in one process (small installs)"
    add_daemon_options(sub.add_parser("run", help=helptext, description=helptext)).set_defaults(func=run)
