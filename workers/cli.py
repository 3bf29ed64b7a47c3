"""The `wirewatch` command: run a daemon, match a text, run the embedded stack or the demo.

A user's mistake (bad config, bad arguments) exits 2 with one clear message and no traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from workers.errors import ConfigError, WirewatchError

logger = logging.getLogger(__name__)


def _config_dir(args: argparse.Namespace) -> Path:
    return Path(args.config or os.environ.get("WIREWATCH_CONFIG", "config"))


def cmd_daemon(args: argparse.Namespace) -> int:
    from workers.runtime import run_daemon

    return run_daemon(args.command, _config_dir(args))


def cmd_match(args: argparse.Namespace) -> int:
    from workers import language
    from workers.matching import Matcher
    from workers.topics import load_topics

    if args.file:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8", errors="replace")
    elif args.text == "-":
        text = sys.stdin.read()
    elif args.text is not None:
        text = args.text
    else:
        raise ConfigError("give a text, --file PATH or - for standard input")
    matcher = Matcher(load_topics(_config_dir(args) / "topics.yaml"))
    det = language.detect(text)
    found = matcher.match(text, det.language)
    if args.json:
        print(json.dumps({"language": det.language, "probability": round(det.probability, 4),
                          "topics": {name: list(m.terms) for name, m in found.items()}}, ensure_ascii=False))
    else:
        print(f"language: {det.language} (p={det.probability:.2f})")
        if not found:
            print("no topic matches")
        for name, m in found.items():
            print(f"{name}: {', '.join(m.terms)}\n    …{m.snippet}…")
    return 0


def cmd_stack(args: argparse.Namespace) -> int:
    from workers import stackctl

    return stackctl.main(args.action)


def cmd_demo(args: argparse.Namespace) -> int:
    from workers.demo import run_demo

    return run_demo(_config_dir(args))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wirewatch", description=__doc__.splitlines()[0])
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING (default: $WIREWATCH_LOG_LEVEL or INFO)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--config", metavar="DIR", help="config directory (default: $WIREWATCH_CONFIG or ./config)")
        return p

    for name, helptext in (("poll", "run the feed poller"), ("filter", "run the language/topic filter"),
                           ("alert", "run the webhook alerter")):
        with_config(sub.add_parser(name, help=helptext, description=helptext)).set_defaults(func=cmd_daemon)

    m = with_config(sub.add_parser("match", help="detect the language of a text and match the topics",
                                   description="Detect the language and the matching topics; no Kafka or Redis."))
    m.add_argument("text", nargs="?", help="the text, or - for standard input")
    m.add_argument("--file", metavar="PATH", help="read the text from a file (- for standard input)")
    m.add_argument("--json", action="store_true", help="print one JSON object")
    m.set_defaults(func=cmd_match)

    s = sub.add_parser("stack", help="start/stop the embedded broker and redis-server for development",
                       description="The embedded Tansu broker and redis-server, in the background.")
    s.add_argument("action", choices=["up", "down", "status"])
    s.set_defaults(func=cmd_stack)

    d = with_config(sub.add_parser("demo", help="run everything offline: stack, sample feeds, daemons, receiver",
                                   description="The whole pipeline on this machine; Ctrl-C stops everything."))
    d.set_defaults(func=cmd_demo)
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
