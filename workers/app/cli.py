"""The `wirewatch` command. Each group of subcommands lives in its own module of workers.app.commands.

Exit codes: 0 success, 1 a runtime failure (a server unreachable, a check that failed), 2 a user's
mistake (bad config, bad arguments: one clear message, no traceback), 130 interrupted, 141 when standard
output was closed by its reader (``| head``), quietly, as other command-line tools do.
Daemons log to stdout (one JSON object per line unless --log-format text); other commands print
their results on stdout and log to stderr.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import metadata

from workers.app.commands import (
    backtest,
    config,
    daemons,
    dlq,
    evaluate,
    feeds,
    kafka,
    match,
    run,
    secret,
    stack,
    stories,
    subscribers,
    tail,
    topics,
    web,
)
from workers.core.errors import ConfigError, WirewatchError
from workers.infra.logs import FORMATS, LEVELS
from workers.settings import env

COMMAND_MODULES = [
    daemons,
    match,
    evaluate,
    backtest,
    topics,
    stack,
    stories,
    subscribers,
    dlq,
    run,
    kafka,
    config,
    tail,
    feeds,
    secret,
    web,
]


def version() -> str:
    """The installed distribution's version (pyproject.toml), or "unknown" when run from an uninstalled tree."""
    try:
        return metadata.version("wirewatch")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch", description="Streaming news monitoring: feeds -> Kafka -> topics -> webhooks."
    )
    parser.add_argument("--version", action="version", version=f"wirewatch {version()}")
    parser.add_argument(
        "--log-level", default=None, type=str.upper, choices=LEVELS, help="default: $WIREWATCH_LOG_LEVEL or INFO"
    )
    parser.add_argument(
        "--log-format",
        default=None,
        choices=FORMATS,
        help="json (one object per line) or text; default: $WIREWATCH_LOG_FORMAT or json",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from workers.infra.logs import setup_logging

    try:
        if getattr(args, "logs_to_stdout", False):
            setup_logging(args.log_level, args.log_format, sys.stdout)
        else:  # a tool's own output is on stdout: keep stderr for what needs attention
            setup_logging(args.log_level or env.text("WIREWATCH_LOG_LEVEL") or "WARNING", args.log_format)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handler, not at interpreter exit
        return code
    except ConfigError as exc:
        print(f"wirewatch: config error:\n{exc}", file=sys.stderr)
        return 2
    except WirewatchError as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return _closed_stdout()


def _closed_stdout() -> int:
    """The reader of standard output went away (``| head``): stop quietly. Output still buffered would fail
    again when Python flushes it at exit, so standard output is pointed at /dev/null first."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141  # 128 + SIGPIPE, what a shell reports for a tool killed by a closed pipe


if __name__ == "__main__":
    sys.exit(main())
