"""`wirewatch poll|filter|alert` and `wirewatch demo`."""

from __future__ import annotations

import argparse
from typing import Any

from workers.app.commands import add_config_option, add_daemon_options, config_dir, daemon_options


def run_daemon(args: argparse.Namespace) -> int:
    from workers.app.runtime import run_daemon as run

    return run(args.command, config_dir(args), daemon_options(args))


def run_demo(args: argparse.Namespace) -> int:
    from workers.devstack.demo import run_demo as run

    return run(config_dir(args))


def register(sub: Any) -> None:
    for name, helptext in (
        ("poll", "run the feed poller"),
        ("filter", "run the language/topic filter"),
        ("alert", "run the webhook alerter"),
    ):
        add_daemon_options(sub.add_parser(name, help=helptext, description=helptext)).set_defaults(func=run_daemon)
    demo = sub.add_parser(
        "demo",
        help="run everything offline: stack, sample feeds, daemons, receiver",
        description="The whole pipeline on this machine; Ctrl-C stops everything.",
    )
    add_config_option(demo).set_defaults(func=run_demo)
