"""`wirewatch match`: the language and matching topics of a text, without Kafka or Redis.

One text comes from the argument, ``--file PATH`` or ``-`` (standard input). With ``--jsonl`` the input holds one
JSON object per line (``{"id": ..., "text": ...}``, optional ``"language"`` hint) and one result object per line
comes out carrying the same ``id``; the detector and the topics are loaded once for all of them. A line that is
not such an object gives ``{"id": ..., "error": "..."}`` and the next line goes on.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from workers.app.commands import add_config_option, config_dir
from workers.core.errors import ConfigError
from workers.filter.matcher import Matcher


def _unreadable(path: str, exc: OSError) -> ConfigError:
    return ConfigError(f"{path}: cannot read: {exc.strerror or exc}")


def read_text(args: argparse.Namespace) -> str:
    if args.file:
        if args.file == "-":
            return sys.stdin.read()
        try:
            return Path(args.file).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:  # missing, a directory, no permission: the user's mistake, exit 2
            raise _unreadable(args.file, exc) from None
    if args.text == "-":
        return sys.stdin.read()
    if args.text is not None:
        return str(args.text)
    raise ConfigError("give a text, --file PATH or - for standard input")


def result(text: str, matcher: Matcher, hint: str | None = None) -> dict[str, Any]:
    """The JSON result for one text: language, probability and the terms that hit per topic."""
    from workers.filter import language

    det = language.detect(text, hint=hint)
    found = matcher.match(text, det.language)
    return {
        "language": det.language,
        "probability": round(det.probability, 4),
        "topics": {name: list(m.terms) for name, m in found.items()},
    }


def jsonl_results(lines: Iterable[str], matcher: Matcher) -> Iterator[dict[str, Any]]:
    """One result per non-blank input line, in input order, each carrying the line's ``id``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            yield {"id": None, "line": number, "error": f"not JSON: {exc}"}
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            ident = item.get("id") if isinstance(item, dict) else None
            yield {"id": ident, "line": number, "error": "expected an object with a string 'text'"}
            continue
        hint = item.get("language") if isinstance(item.get("language"), str) else None
        yield {"id": item.get("id"), **result(item["text"], matcher, hint)}


def _open_lines(args: argparse.Namespace) -> IO[str]:
    source = args.file or args.text
    if source in (None, "-"):
        return sys.stdin
    try:
        fh = Path(source).open(encoding="utf-8", errors="replace")
        fh.read(0)  # a directory opens on some systems and fails on the first read
    except OSError as exc:
        raise _unreadable(source, exc) from None
    return fh


def run(args: argparse.Namespace) -> int:
    from workers.filter import language
    from workers.filter.topics import load_topics

    matcher = Matcher(load_topics(config_dir(args) / "topics.yaml"))
    if args.jsonl:
        language.warm_up()
        with _open_lines(args) as lines:
            for out in jsonl_results(lines, matcher):
                print(json.dumps(out, ensure_ascii=False))
        return 0
    text = read_text(args)
    if args.json:
        print(json.dumps(result(text, matcher), ensure_ascii=False))
        return 0
    det = language.detect(text)
    found = matcher.match(text, det.language)
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
    p.add_argument("text", nargs="?", help="the text, or - for standard input (with --jsonl: a JSONL file or -)")
    p.add_argument("--file", metavar="PATH", help="read the text from a file (- for standard input)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print one JSON object")
    mode.add_argument(
        "--jsonl", action="store_true", help='read {"id":..., "text":...} per line, print one result per line'
    )
    p.set_defaults(func=run)
