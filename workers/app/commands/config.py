"""`wirewatch config check`: validate every file of config/ and print a summary, or every error.

Each file is checked on its own so one broken file does not hide the mistakes of another; the
subscribers' topic references are checked only when topics.yaml itself is valid. Exit 0 when all is
well, 2 with one line per problem (file and key) otherwise. Topic terms carry no language of their
own, so the summary counts them by writing script, next to each topic's language restriction.
"""

from __future__ import annotations

import argparse
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workers.app.commands import add_config_option, config_dir
from workers.core.errors import ConfigError
from workers.settings.config import Feed, Settings, Subscriber, load_feeds, load_settings, load_subscribers


def script_of(term: str) -> str:
    """The Unicode script of a term's first letter (Latin, Cyrillic, Devanagari, Hangul...)."""
    for ch in term:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            return name.split(" ")[0].title() if name else "Other"
    return "Other"


def terms_by_script(topic: Any) -> dict[str, int]:
    words = list(topic.terms) + [t for group in topic.all_of for t in group]
    return dict(Counter(script_of(t) for t in words).most_common())


def _attempt(errors: list[str], fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except ConfigError as exc:
        errors.extend(str(exc).splitlines())
        return None


def summary(directory: Path, settings: Settings, feeds: list[Feed], topics: list[Any], subs: list[Subscriber]) -> str:
    k = settings.kafka
    lines = [
        f"config {directory}: OK",
        f"kafka: topic prefix {k.topic_prefix!r}, {k.partitions} partitions, key prefix {settings.redis.key_prefix!r}",
        f"feeds: {len(feeds)}",
    ]
    lines += [
        f"  {f.name}  every {f.interval:g}s  {f.url}" + (f"  [{f.language}]" if f.language else "") for f in feeds
    ]
    lines.append(f"topics: {len(topics)}")
    for t in topics:
        langs = ",".join(sorted(t.languages)) if t.languages else "all languages"
        by_script = terms_by_script(t)
        scripts = ", ".join(f"{s} {n}" for s, n in list(by_script.items())[:6])
        more = f", {len(by_script) - 6} more scripts" if len(by_script) > 6 else ""
        lines.append(f"  {t.name}  {sum(by_script.values())} terms ({scripts}{more})  {langs}")
    lines.append(f"subscribers: {len(subs)}")
    for s in subs:
        secret = f"env {s.secret_env}" if s.secret_env else f"file {s.secret_file}"
        langs = ",".join(s.languages) or "all languages"
        lines.append(f"  {s.name}  topics {','.join(s.topics)}  {langs}  secret from {secret}  {s.url}")
    return "\n".join(lines)


def check(args: argparse.Namespace) -> int:
    from workers.filter.topics import load_topics

    directory = config_dir(args)
    if not directory.is_dir():
        raise ConfigError(f"{directory}: config directory not found")
    errors: list[str] = []
    settings = _attempt(errors, lambda: load_settings(directory))
    feeds = _attempt(errors, lambda: load_feeds(directory))
    topics = _attempt(errors, lambda: load_topics(directory / "topics.yaml"))
    subs = None
    if topics is not None:
        subs = _attempt(errors, lambda: load_subscribers(directory, {t.name for t in topics}))
    if errors or subs is None:
        raise ConfigError("\n".join(errors) + f"\n{len(errors)} problem(s) in {directory}")
    print(summary(directory, settings, feeds, topics, subs[0]))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="check the configuration", description="Configuration tools.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    check_p = actions.add_parser(
        "check",
        help="validate config/ and print a summary, or every error with file and key",
        description="Validate every file of the config directory; exit 2 listing every problem.",
    )
    add_config_option(check_p).set_defaults(func=check)
