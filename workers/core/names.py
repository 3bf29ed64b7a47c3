"""Kafka topic and consumer-group names and Redis key names, in one place.

Every Kafka name starts with the configured topic prefix and every Redis key with the configured key
prefix, so several installs (or several tests) can share one cluster without seeing each other.

Redis Cluster: a key's ``{...}`` part (its hash tag) alone picks its slot, and a script or a pipeline of
wirewatch only ever touches keys of one slot, so the tags below say what is used together:

- ``{feeds}``: the feed schedule, every feed's health and conditional-GET validators. The claim script
  needs the schedule as one key, and a poller's batch reads and writes all of them in one round trip.
- ``{f<feed tag>}`` (one per feed, from its canonical URL): the feed's seen marks, checked and written per
  poll. Many small keys, spread over the cluster feed by feed.
- ``{fm}``: the filter's marks of the stories it matched (``workers.filter.followups``), read and written
  once per batch.
- ``{dlq}``: the replayed-story marks of ``wirewatch dlq replay --stories``, read and written per run.
- ``{topics}``: each day's story clusters per topic (``topic.quiet``), incremented by the alerter per batch.

No name is ever built inside Lua: scripts get every key in KEYS. Keys of an older layout (``legacy_*``)
are read only while upgrading (README "Upgrading"). The key prefix holds no ``{`` or ``}`` (checked with
the settings), so it never becomes a tag itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from workers.core.urls import canonical_url

FEEDS_TAG = "{feeds}"
DLQ_TAG = "{dlq}"
TOPICS_TAG = "{topics}"
FILTER_MARKS_TAG = "{fm}"


def feed_tag(feed_url: str) -> str:
    """The hash tag of one feed's seen marks: short, brace-free, and stable while the URL keeps its canonical
    form (the form story ids are built from)."""
    return "{f" + hashlib.sha256(canonical_url(feed_url).encode("utf-8", "surrogatepass")).hexdigest()[:16] + "}"


def as_text(value: bytes | str | int) -> str:
    """A Redis reply as text: redis-py returns bytes unless the client decodes responses."""
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass(frozen=True)
class Names:
    topic_prefix: str = "wirewatch."
    key_prefix: str = "wirewatch:"

    # Kafka topics
    @property
    def stories(self) -> str:
        return f"{self.topic_prefix}stories"

    @property
    def matches(self) -> str:
        return f"{self.topic_prefix}matches"

    @property
    def stories_dlq(self) -> str:
        return f"{self.topic_prefix}stories.dlq"

    @property
    def alerts_dlq(self) -> str:
        return f"{self.topic_prefix}alerts.dlq"

    def all_topics(self) -> list[str]:
        return [self.stories, self.matches, self.stories_dlq, self.alerts_dlq]

    # Kafka consumer groups
    @property
    def filter_group(self) -> str:
        return f"{self.topic_prefix}filter"

    @property
    def alerter_group(self) -> str:
        return f"{self.topic_prefix}alerter"

    # Redis keys (each written with an expiry, except the retry queue and digest buffers which empty themselves)
    def seen(self, feed_url: str, story_id: str) -> str:
        """A story of this feed was produced and acknowledged; one slot per feed."""
        return f"{self.key_prefix}seen:{feed_tag(feed_url)}:{story_id}"

    def validators(self, feed_url: str) -> str:
        return f"{self.key_prefix}{FEEDS_TAG}:validators:{feed_url}"

    @property
    def feed_schedule(self) -> str:
        """Sorted set: feed name -> next due time (Unix seconds), shared by every poller process."""
        return f"{self.key_prefix}{FEEDS_TAG}:schedule"

    def feed_health(self, feed_name: str) -> str:
        return f"{self.key_prefix}{FEEDS_TAG}:health:{feed_name}"

    @property
    def feeds_layout(self) -> str:
        """Hash: when the upgraded poller stops reading the old seen marks (``legacy_seen_until``)."""
        return f"{self.key_prefix}{FEEDS_TAG}:layout"

    # The poller's previous layout (no hash tags), read only while upgrading (workers.poller.upgrade).
    def legacy_seen(self, story_id: str) -> str:
        return f"{self.key_prefix}seen:{story_id}"

    def legacy_validators(self, feed_url: str) -> str:
        return f"{self.key_prefix}feed:validators:{feed_url}"

    @property
    def legacy_feed_schedule(self) -> str:
        return f"{self.key_prefix}feed:schedule"

    def legacy_feed_health(self, feed_name: str) -> str:
        return f"{self.key_prefix}feed:health:{feed_name}"

    def filter_marks(self, width_s: int, index: int) -> str:
        """Hash of the stories the filter matched in one time slice: story digest -> the topics its versions
        matched (``workers.filter.followups``)."""
        return f"{self.key_prefix}{FILTER_MARKS_TAG}:m:{width_s}:{index}"

    def dedup_slice(self, subscriber: str, width_s: int, index: int) -> str:
        """Hash of a subscriber's dedup entries of the per-subscriber layout, read only while upgrading
        (``workers.alerter.legacy``)."""
        return f"{self.key_prefix}dedup:{subscriber}:slice:{width_s}:{index}"

    # The alerter's layout (``workers.alerter.dedup``, ``workers.alerter.outbox``). Every key one script or
    # pipeline touches shares one hash tag, so each call stays on one Redis Cluster slot.
    def cluster_index(self, width_s: int, index: int) -> str:
        """Hash of the story fingerprints (exact and near-duplicate bands) filed in one time slice, for every
        subscriber; all slices share the ``{fp}`` tag, as the resolve script reads several at once."""
        return f"{self.key_prefix}{{fp}}:ix:{width_s}:{index}"

    def cluster(self, cluster_id: str) -> str:
        """Hash of a story cluster: its member stories (id -> feed, URL, first seen) and their count."""
        return f"{self.key_prefix}{{c:{cluster_id}}}"

    def outbox_queue(self, subscriber: str) -> str:
        """Sorted set: item id -> when it may be attempted next (a lease end while a lane holds it)."""
        return f"{self.key_prefix}{{s:{subscriber}}}:q"

    def outbox_buffer(self, subscriber: str) -> str:
        """Sorted set: alert id -> when buffered, for a subscriber with digest batching."""
        return f"{self.key_prefix}{{s:{subscriber}}}:buf"

    def outbox_items(self, subscriber: str) -> str:
        """Hash: item id -> the item (payload, attempts, last error) of the queue and the buffer."""
        return f"{self.key_prefix}{{s:{subscriber}}}:items"

    def delivered_markers(self, subscriber: str, width_s: int, index: int) -> str:
        """Hash of "this cluster went to this subscriber" markers written in one time slice: field = a group of
        clusters (one byte), value = the group's fixed-width records (``workers.alerter.outbox``)."""
        return f"{self.key_prefix}{{s:{subscriber}}}:mk:{width_s}:{index}"

    def old_delivered_markers(self, subscriber: str, width_s: int, index: int) -> str:
        """``delivered_markers`` before they were packed (one 12-byte field per cluster): read, never written,
        for one retention window after the upgrade."""
        return f"{self.key_prefix}{{s:{subscriber}}}:m:{width_s}:{index}"

    def spreading_marks(self, subscriber: str) -> str:
        """Hash: cluster -> the last ``story.spreading`` step sent to this subscriber, one expiry for all: the
        layout before ``spreading_slice``, read (never written) until it expires."""
        return f"{self.key_prefix}{{s:{subscriber}}}:sp"

    def spreading_slice(self, subscriber: str, width_s: int, index: int) -> str:
        """Hash: cluster -> the last ``story.spreading`` step sent to this subscriber (no repeat after a restart),
        for the marks written in one time slice, so each slice expires on its own."""
        return f"{self.key_prefix}{{s:{subscriber}}}:sp:{width_s}:{index}"

    def topic_spikes(self, topic: str) -> str:
        """String: a topic's spike detector state (baseline per hour of the week, the open window and its
        stories), one slot per topic."""
        return f"{self.key_prefix}{{t:{topic}}}:spike"

    def quiet_feed_events(self) -> str:
        """The feeds that fell quiet, waiting for the alerter to send ``feed.quiet`` (a sorted set, member = the
        record's JSON): in ``{feeds}``, written in the poller's health pipeline."""
        return f"{self.key_prefix}{FEEDS_TAG}:ops:quiet"

    def topic_day_counts(self, day: int) -> str:
        """Story clusters per topic founded on one UTC day (a hash, field = topic), for ``topic.quiet``."""
        return f"{self.key_prefix}{TOPICS_TAG}:day:{day}"

    def quiet_topics(self, day: int) -> str:
        """The topics judged quiet for one UTC day (a set), for the console."""
        return f"{self.key_prefix}{TOPICS_TAG}:quiet:{day}"

    def ops_sent(self, subscriber: str, event_id: str) -> str:
        """The mark that an ops event was queued for a subscriber, so a restart or a second alerter queues it once."""
        return f"{self.key_prefix}{{s:{subscriber}}}:ops:{event_id}"

    def replayed(self, digest: str) -> str:
        """A story dead letter's value already replayed by ``wirewatch dlq replay --stories`` (its SHA-256)."""
        return f"{self.key_prefix}{DLQ_TAG}:replayed:{digest}"

    def legacy_replayed(self, digest: str) -> str:
        """``replayed`` before hash tags: still read for one dead-letter retention after the upgrade."""
        return f"{self.key_prefix}dlq:replayed:{digest}"

    def sent(self, alert_id: str) -> str:
        return f"{self.key_prefix}sent:{alert_id}"

    def dups(self, alert_id: str) -> str:
        return f"{self.key_prefix}dups:{alert_id}"

    def attempts(self, subscriber: str) -> str:
        """List: a subscriber's last delivery attempts, newest first (``workers.infra.attemptlog``)."""
        return f"{self.key_prefix}attempts:{subscriber}"

    def endpoint(self, subscriber: str) -> str:
        return f"{self.key_prefix}endpoint:{subscriber}"

    @property
    def retry_due(self) -> str:
        return f"{self.key_prefix}retry:due"

    @property
    def retry_payloads(self) -> str:
        return f"{self.key_prefix}retry:payloads"

    def digest_buffer(self, subscriber: str) -> str:
        """Sorted set: alert id -> when it was buffered, for a subscriber with digest batching."""
        return f"{self.key_prefix}digest:buffer:{subscriber}"

    def digest_alerts(self, subscriber: str) -> str:
        """Hash: alert id -> alert JSON, the payloads of ``digest_buffer``."""
        return f"{self.key_prefix}digest:alerts:{subscriber}"

    def digest_lease(self, subscriber: str) -> str:
        return f"{self.key_prefix}digest:lease:{subscriber}"

    def in_digest(self, alert_id: str) -> str:
        """The digest id an alert was sealed into, so it never enters a second one."""
        return f"{self.key_prefix}digest:of:{alert_id}"
