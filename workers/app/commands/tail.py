"""`wirewatch tail`: follow the matches live in a terminal, one line per match (topics, language,
title, link), for an analyst. It reads the matches topic without a consumer group, so it never takes
partitions or offsets from the alerter; ``--from-beginning`` replays what the topic still holds."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from typing import Any

from workers.app.commands import add_config_option, config_dir
from workers.app.configure import load_config
from workers.core.errors import WirewatchError
from workers.core.events import MatchEvent
from workers.core.stories import StoryFormatError
from workers.settings.env import Env


def format_match(event: MatchEvent) -> str:
    # a later version that only carries topics an earlier version matched (workers.filter.followups) shows them
    # in parentheses, so its line is never blank in the topics column
    topics = ",".join([*sorted(event.topics), *(f"({t})" for t in sorted(event.carried))])
    return f"{topics}  [{event.language}]  {event.story.title}  {event.story.link}"


def as_json(event: MatchEvent) -> str:
    doc = {
        "topics": {name: hit.terms for name, hit in event.topics.items()},
        "carried": sorted(event.carried),
        "language": event.language,
        "title": event.story.title,
        "link": event.story.link,
        "feed": event.story.feed,
        "id": event.story.id,
    }
    return json.dumps(doc, ensure_ascii=False)


def tail(args: argparse.Namespace) -> int:
    from kafka.errors import KafkaError
    from kafka.structs import TopicPartition

    from workers.infra.kafka import make_reader

    cfg = load_config(config_dir(args), need=())
    topic = cfg.names.matches
    bootstrap = Env.from_environ().kafka_bootstrap
    stop = {"now": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        consumer = make_reader(bootstrap)
    except KafkaError as exc:
        raise WirewatchError(f"kafka at {bootstrap} not reachable: {type(exc).__name__}") from None
    shown = 0
    try:
        parts = consumer.partitions_for_topic(topic)
        if not parts:
            raise WirewatchError(f"topic {topic} does not exist yet (run `wirewatch kafka init` or start a daemon)")
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        (consumer.seek_to_beginning if args.from_beginning else consumer.seek_to_end)(*tps)
        print(f"following {topic} on {bootstrap} (Ctrl-C stops)", file=sys.stderr, flush=True)
        deadline = time.monotonic() + args.idle_exit if args.idle_exit else None
        while not stop["now"] and (args.max is None or shown < args.max):
            batch = [r for recs in consumer.poll(timeout_ms=500).values() for r in recs]
            for rec in batch:
                try:
                    event = MatchEvent.from_json(rec.value or b"")
                except StoryFormatError as exc:
                    print(f"(unreadable match at partition {rec.partition} offset {rec.offset}: {exc})", flush=True)
                    continue
                print(as_json(event) if args.json else format_match(event), flush=True)
                shown += 1
                if args.max is not None and shown >= args.max:
                    break
            if batch and args.idle_exit:
                deadline = time.monotonic() + args.idle_exit
            if deadline is not None and time.monotonic() > deadline:
                break
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser(
        "tail",
        help="follow matches live: topics, language, title, link",
        description="Print each new match of the matches topic as it arrives (no consumer group).",
    )
    add_config_option(p)
    p.add_argument("--from-beginning", action="store_true", help="start with the oldest match the topic holds")
    p.add_argument("--json", action="store_true", help="one JSON object per match")
    p.add_argument("--max", type=int, metavar="N", help="exit after N matches")
    p.add_argument("--idle-exit", type=float, metavar="SECONDS", help="exit after this long without a new match")
    p.set_defaults(func=tail)
