"""`wirewatch config check`: validate every file of config/ and print a summary, or every error.

Every file and the environment are checked as a daemon checks them (``settings.config.load_config``), and
every problem is listed: one broken file does not hide the mistakes of another, nor one problem of a file
the others; the subscribers' topic references are checked only when topics.yaml itself is valid. Feed URLs
are printed with their password masked. Exit 0 when all is
well, 2 with one line per problem (file and key) otherwise. A subscriber's ``secret_env`` variable that is
not set here is a note with the command that makes one, not an error (a fresh checkout has none; the machine
that runs ``config check`` is often not the one that signs); ``--require-secrets`` makes it an error, as the
alerter does at start. Topic terms carry no language of their
own, so the summary counts them by writing script, next to each topic's language restriction.
"""

from __future__ import annotations

import argparse
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from workers.app.commands import add_config_option, config_dir
from workers.core.errors import ConfigError
from workers.core.urls import mask_url
from workers.settings.config import Feed, Settings, Subscriber


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


def summary(directory: Path, settings: Settings, feeds: list[Feed], topics: list[Any], subs: list[Subscriber]) -> str:
    k = settings.kafka
    lines = [
        f"config {directory}: OK",
        f"kafka: topic prefix {k.topic_prefix!r}, {k.partitions} partitions, key prefix {settings.redis.key_prefix!r}",
        f"feeds: {len(feeds)}",
    ]
    lines += [
        f"  {f.name}  every {f.interval:g}s  {mask_url(f.url)}" + (f"  [{f.language}]" if f.language else "")
        for f in feeds
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
        secret = f"env {', '.join(s.secret_envs)}" if s.secret_env else f"file {', '.join(s.secret_files)}"
        langs = ",".join(s.languages) or "all languages"
        gets = f"topics {','.join(s.topics)}  {langs}" if s.topics else "no topics"
        gets += "  ops events (feed.quiet, topic.quiet)" if s.ops else ""
        lines.append(f"  {s.name}  {gets}  secret from {secret}  {s.url}")
    return "\n".join(lines)


def check(args: argparse.Namespace) -> int:
    from workers.app.configure import load_config

    directory = config_dir(args)
    unset: list[str] | None = None if args.require_secrets else []
    try:
        cfg = load_config(directory, unset_secrets=unset)  # every file and the environment, every problem at once
    except ConfigError as exc:
        problems = str(exc).splitlines()
        raise ConfigError("\n".join(problems) + f"\n{len(problems)} problem(s) in {directory}") from None
    print(summary(directory, cfg.settings, cfg.feeds, cfg.topics, cfg.subscribers))
    for line in unset or []:
        print(f"note: {line}; only `wirewatch alert` and `run` need it (`wirewatch demo` makes its own)")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="check the configuration", description="Configuration tools.")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    check_p = actions.add_parser(
        "check",
        help="validate config/ and print a summary, or every error with file and key",
        description="Validate every file of the config directory; exit 2 listing every problem.",
    )
    check_p.add_argument(
        "--require-secrets",
        action="store_true",
        help="an unset secret_env variable is an error (run it where the alerter runs); default: a note",
    )
    add_config_option(check_p).set_defaults(func=check)
