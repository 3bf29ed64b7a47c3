"""`wirewatch match`: the language and matching topics of a text, without Kafka or Redis."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workers.commands import add_config_option, config_dir
from workers.errors import ConfigError


def read_text(args: argparse.Namespace) -> str:
    if args.file:
        return sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8", errors="replace")
    if args.text == "-":
        return sys.stdin.read()
    if args.text is not None:
        return str(args.text)
    raise ConfigError("give a text, --file PATH or - for standard input")


def run(args: argparse.Namespace) -> int:
    from workers import language
    from workers.matching import Matcher
    from workers.topics import load_topics

    text = read_text(args)
    matcher = Matcher(load_topics(config_dir(args) / "topics.yaml"))
    det = language.detect(text)
    found = matcher.match(text, det.language)
    if args.json:
        print(
            json.dumps(
                {
                    "language": det.language,
                    "probability": round(det.probability, 4),
                    "topics": {name: list(m.terms) for name, m in found.items()},
                },
                ensure_ascii=False,
            )
        )
    else:
        print(f"language: {det.language} (p={det.probability:.2f})")
        if not found:
            print("no topic matches")
        for name, m in found.items():
            print(f"{name}: {', '.join(m.terms)}\n    …{m.snippet}…")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "match",
        help="detect the language of a text and match the topics",
        description="Detect the language and the matching topics; no Kafka or Redis needed.",
    )
    add_config_option(p)
    p.add_argument("text", nargs="?", help="the text, or - for standard input")
    p.add_argument("--file", metavar="PATH", help="read the text from a file (- for standard input)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
