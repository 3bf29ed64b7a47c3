"""The `wirewatch` command. Each group of subcommands lives in its own module of workers.commands.

A user's mistake (bad config, bad arguments) exits 2 with one clear message and no traceback.
"""

from __future__ import annotations

import argparse
import sys

from workers.commands import daemons, dlq, evaluate, feeds, match, stack, subscribers
from workers.errors import ConfigError, WirewatchError

COMMAND_MODULES = [daemons, match, evaluate, stack, subscribers, dlq, feeds]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wirewatch", description="Streaming news monitoring: feeds -> Kafka -> topics -> webhooks."
    )
    parser.add_argument(
        "--log-level", default=None, help="DEBUG, INFO, WARNING (default: $WIREWATCH_LOG_LEVEL or INFO)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from workers.daemon import setup_logging

    setup_logging(args.log_level)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"wirewatch: config error:\n{exc}", file=sys.stderr)
        return 2
    except WirewatchError as exc:
        print(f"wirewatch: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
