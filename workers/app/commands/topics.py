"""`wirewatch topics expand TOPIC [--language xx] [--json]`: every form a topic matches, per language, with where
each came from (hand-written, CLDR, the lexicon's sources, a rule) and how it inflects. For analysts who want to
see why a story matched, or why it did not. `topics stats` is in ``topicstats``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from workers.app.commands import add_config_option, config_dir, topicstats
from workers.core.errors import ConfigError


def expand(args: argparse.Namespace) -> int:
    from workers.filter.expand import expand as expand_topic
    from workers.filter.topics import load_topics

    topics = {t.name: t for t in load_topics(config_dir(args) / "topics.yaml")}
    topic = topics.get(args.topic)
    if topic is None:
        raise ConfigError(f"no topic {args.topic!r} in topics.yaml (topics: {', '.join(sorted(topics))})")
    languages = [args.language] if args.language else None
    rows = expand_topic(topic, languages)
    if args.json:
        json.dump([r.to_dict() for r in rows], sys.stdout, ensure_ascii=False, indent=1)
        print()
        return 0
    width = max((len(r.text) for r in rows), default=4)
    for r in rows:
        print(f"{r.language:<4} {r.text:<{width}}  {r.role:<6} {r.kind:<9} {r.source:<14} {r.rules}")
    print(f"{len(rows)} forms", file=sys.stderr)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("topics", help="inspect topics", description="Inspect the topics of topics.yaml.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    ex = actions.add_parser(
        "expand",
        help="every form a topic matches, per language, with its source",
        description="Every form TOPIC matches: the shared ones (language *), then per story language.",
    )
    add_config_option(ex)
    ex.add_argument("topic", metavar="TOPIC")
    ex.add_argument("--language", metavar="XX", help="only this story language (ISO 639-1: fi, hu, ko...)")
    ex.add_argument("--json", action="store_true", help="a JSON list of {language, text, role, kind, source, rules}")
    ex.set_defaults(func=expand)
    topicstats.register(actions)
