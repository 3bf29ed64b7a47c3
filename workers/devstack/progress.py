"""How far the demo's pipeline got: whether a consumer group has committed to the end of a topic, and
whether every sample feed has gone all the way to the receiver (the one line the demo prints when done)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def group_caught_up(bootstrap: str, group: str, topic: str) -> bool:
    """Whether a consumer group has committed up to the end of every partition of a topic."""
    from kafka import KafkaAdminClient, KafkaConsumer

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        return _caught_up(admin, consumer, group, topic)[0]
    finally:
        consumer.close()
        admin.close()


def _caught_up(admin: Any, consumer: Any, group: str, topic: str) -> tuple[bool, int]:
    """(caught up, records in the topic) with clients the caller keeps open."""
    from kafka.structs import TopicPartition

    parts = consumer.partitions_for_topic(topic) or set()
    ends = consumer.end_offsets([TopicPartition(topic, p) for p in parts])
    committed = admin.list_group_offsets(group).get(group, {})
    done = all(ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp]) for tp in ends)
    return done, sum(ends.values())


@dataclass
class Progress:
    """Watches the demo: done once every sample feed was fetched twice (so the first fetch's stories are all
    in Kafka: a feed is fetched again only after its previous poll, stories acknowledged, has finished), the
    filter and the alerter have committed to the end of their topics, and nothing changed since the last look."""

    bootstrap: str
    filter_group: str
    stories: str
    alerter_group: str
    matches: str
    _last: tuple[int, int, int] | None = None

    def done(self, fetches_per_feed: list[int], alerts: int) -> tuple[bool, int]:
        """(done, stories in Kafka); call it about once a second."""
        if not fetches_per_feed or min(fetches_per_feed) < 2:
            return False, 0
        from kafka import KafkaAdminClient, KafkaConsumer

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        try:
            filtered, stories = _caught_up(admin, consumer, self.filter_group, self.stories)
            alerted, matches = _caught_up(admin, consumer, self.alerter_group, self.matches)
        finally:
            consumer.close()
            admin.close()
        now = (stories, matches, alerts)
        steady, self._last = now == self._last, now
        return filtered and alerted and steady and stories > 0, stories
