"""`wirewatch backtest`: replay the stories Kafka retains through a candidate topics file and the running topics
(``config/topics.yaml`` of --config), and report what would change: matches per topic, day, feed and language,
the stories gained and lost (with samples), the near misses a veto or none removed, and with --labels precision
and recall as `wirewatch evaluate` counts them. Text on stdout, or --json, or --html OUT (one self-contained page);
progress on stderr. The consumer joins no group and nothing is produced (see ``workers.backtest``)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from workers.app.commands import add_config_option, config_dir
from workers.core.errors import ConfigError, WirewatchError

T = TypeVar("T")
DEFAULT_SAMPLES = 20


def _collect(problems: list[str], load: Callable[[], T]) -> T | None:
    try:
        return load()
    except ConfigError as exc:
        problems.extend(str(exc).splitlines())
        return None


def _cores() -> int:
    # The cores this process may use (a container's or taskset's limit), not every core of the machine.
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def run(args: argparse.Namespace) -> int:
    from workers.app.configure import load_config
    from workers.backtest.engine import Context
    from workers.backtest.labels import load_labels
    from workers.backtest.page import render
    from workers.backtest.progress import Progress
    from workers.backtest.replay import replay
    from workers.backtest.report import document, score, text
    from workers.backtest.window import window
    from workers.filter.matcher import Matcher
    from workers.filter.topics import load_topics
    from workers.infra.kafka import kafka_reachable
    from workers.settings.env import Env

    problems: list[str] = []
    if args.since is not None and (args.start is not None or args.end is not None):
        problems.append("--since: give either --since or --from/--to, not both")
    if args.workers < 1:
        problems.append(f"--workers: {args.workers} (need at least 1)")
    if args.samples < 1:
        problems.append(f"--samples: {args.samples} (need at least 1)")
    win = _collect(problems, lambda: window(args.since, args.start, args.end))
    directory = config_dir(args)
    cfg = _collect(problems, lambda: load_config(directory, need=("topics",), match=True))
    candidate_path = Path(args.topics)
    if not candidate_path.is_file():
        problems.append(f"{candidate_path}: topics file not found")
        candidate = None
    else:
        candidate = _collect(problems, lambda: load_topics(candidate_path))
    labels = _collect(problems, lambda: load_labels(Path(args.labels))) if args.labels else None
    if args.html and not Path(args.html).resolve().parent.is_dir():
        problems.append(f"--html: {Path(args.html).parent} is not a directory")
    if cfg is not None and candidate is not None and args.topic is not None:
        if args.topic not in {t.name for t in [*candidate, *cfg.topics]}:
            problems.append(f"--topic: no topic {args.topic!r} in {candidate_path} or {directory / 'topics.yaml'}")
    if problems or cfg is None or candidate is None or win is None:
        raise ConfigError("\n".join(problems))

    bootstrap = Env.from_environ().kafka_bootstrap
    if not kafka_reachable(bootstrap, timeout=3.0):  # before compiling anything: say so at once
        raise WirewatchError(
            f"Kafka at {bootstrap} not reachable; start it (`wirewatch stack up`) or set KAFKA_BOOTSTRAP_SERVERS"
        )
    running_by_name = {t.name: t for t in cfg.topics}
    candidate_names = tuple(t.name for t in candidate)
    running_names = tuple(running_by_name)
    reported = tuple(n for n in dict.fromkeys([*candidate_names, *running_names]) if args.topic in (None, n))
    changed = frozenset(t.name for t in candidate if t.name in running_by_name and t != running_by_name[t.name])
    ctx = Context(
        Matcher(candidate),
        Matcher(cfg.topics),
        reported,
        frozenset(labels.labels) if labels is not None else frozenset(),
        args.samples,
    )
    progress = Progress(sys.stderr, enabled=not args.quiet)
    started = time.monotonic()
    done = replay(bootstrap, cfg.names.stories, win, ctx, args.workers, progress)
    seconds = time.monotonic() - started
    doc = document(
        done.summary,
        stories_topic=cfg.names.stories,
        window=win,
        candidate_file=str(candidate_path),
        running_file=str(directory / "topics.yaml"),
        candidate=candidate_names,
        running=running_names,
        changed=changed,
        reported=reported,
        records=done.records,
        outside=done.outside,
        seconds=seconds,
        workers=args.workers,
        labels=score(labels, done.summary, {"candidate": candidate_names, "running": running_names}, args.topic)
        if labels is not None
        else None,
    )
    if args.html:
        Path(args.html).write_text(render(doc), encoding="utf-8")
        print(f"backtest: wrote {args.html}", file=sys.stderr)
    elif args.json:
        print(json.dumps(doc, ensure_ascii=False))
    else:
        print(text(doc))
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "backtest",
        help="replay the retained stories through candidate topics and compare with the running ones",
        description="Read the stories Kafka retains (no consumer group, nothing produced), match them with the "
        "topics of --topics FILE and with the running config/topics.yaml, and report matches per day, feed and "
        "language, the stories gained and lost, the near misses a veto or none removed, and with --labels "
        "precision and recall.",
    )
    add_config_option(p)
    p.add_argument("--topics", required=True, metavar="FILE", help="the candidate topics file")
    p.add_argument("--since", metavar="DURATION", help="the last DURATION of stories: 72h, 30m, 7d (default: all)")
    p.add_argument("--from", dest="start", metavar="TIME", help="first record time, ISO 8601 (UTC unless given)")
    p.add_argument("--to", dest="end", metavar="TIME", help="end of the window (exclusive), ISO 8601")
    p.add_argument("--topic", metavar="NAME", help="report this topic only")
    p.add_argument("--labels", metavar="TSV", help="label file (as `wirewatch evaluate`'s): precision and recall")
    p.add_argument(
        "--workers",
        type=int,
        default=_cores(),
        metavar="N",
        help="matching processes (default: the cores this process may run on)",
    )
    p.add_argument(
        "--samples", type=int, default=DEFAULT_SAMPLES, metavar="N", help="stories shown per list (default 20)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print one JSON object")
    out.add_argument("--html", metavar="OUT", help="write one self-contained HTML page to OUT")
    p.set_defaults(func=run)
