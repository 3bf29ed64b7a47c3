"""Helpers of the tests that run several real daemons of each stage: distinct good stories produced straight to
the stories topic, replicas with a health port, and the alerts a receiver got per subscriber."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.ops_support import readyz, sample
from tests.support import Daemon
from workers.core.names import Names
from workers.core.stories import Story
from workers.devstack.receiver import Receiver
from workers.devstack.stack import free_port
from workers.infra.kafka import make_producer, send_all

SUBSCRIBERS = ("desk-a", "desk-b")


def good_story(i: int, batch: str = "good") -> Story:
    """A North Korea story unlike every other (its own link, title and body of under 40 words, so neither the
    body hash nor the near-duplicate check makes two of them one story)."""
    return Story(
        id=f"{batch}-{i}",
        feed="wire",
        feed_url="http://127.0.0.1/wire.xml",
        title=f"Pyongyang test number {i} of series {batch}",
        link=f"http://127.0.0.1/{batch}/{i}",
        text=f"North Korea launched test {i} of the {batch} series towards the sea, officials in Seoul said on "
        f"day {i}, and Pyongyang warned of more.",
    )


def produce_values(bootstrap: str, topic: str, values: list[tuple[bytes, bytes]]) -> None:
    producer = make_producer(bootstrap, "test-stages")
    try:
        send_all(producer, [(topic, key, value) for key, value in values])
    finally:
        producer.close()


def produce_stories(bootstrap: str, names: Names, stories: list[Story]) -> None:
    produce_values(bootstrap, names.stories, [(s.id.encode(), s.to_json()) for s in stories])


def subscribers(receiver_url: str) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "url": f"{receiver_url}/hooks/{name}",
            "secret_env": "WIREWATCH_TEST_SECRET",
            "topics": ["dprk"],
            "local": True,
        }
        for name in SUBSCRIBERS
    ]


def alerts(receiver: Receiver) -> dict[str, list[str]]:
    """The story ids each subscriber was POSTed, in order, repeats included."""
    out: dict[str, list[str]] = {name: [] for name in SUBSCRIBERS}
    for r in list(receiver.received):
        out.setdefault(r.path.rsplit("/", 1)[-1], []).append(r.json["story"]["id"])
    return out


@dataclass
class Replica:
    daemon: Daemon
    port: int

    def group_ready(self, group: str) -> bool | None:
        """The daemon's ``/readyz`` check of its group (None: not answering or not watching yet)."""
        status, body = readyz(self.port)
        return body.get("checks", {}).get(f"group {group}") if status else None

    def stalls(self, group: str) -> float:
        return sample(self.port, "wirewatch_consumer_stalls_total", group=group)


def replica_starter(daemons: Callable[..., Daemon], config_dir: Path) -> Callable[[str], Replica]:
    def start(role: str) -> Replica:
        port = free_port()
        return Replica(daemons(role, config_dir, WIREWATCH_HEALTH_PORT=str(port)), port)

    return start
