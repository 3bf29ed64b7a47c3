"""Later versions of a story a subscriber received: ``story.updated`` and ``story.withdrawn`` events.

The poller produces a changed entry as the same story id with ``version`` n+1; the filter matches it like any
story; here, in order: the cluster record says how the version relates to the one it keeps
(``dedup.MEMBER_LUA``) and hands back the version before it; the change is described once per story
(``revisions.describe``); each subscriber whose marker says it received the cluster gets an event if its
``updates`` policy finds the change worth it (``revisions.worth_sending``) and it was not sent that version
already; a subscriber that never received the cluster gets a plain ``story.matched`` (the version newly
matches its topics). A syndicated copy under another URL is another story id: it stays a duplicate.

Choices where the issue is silent: a change is described against the previous version the alerter saw, not
against what each subscriber last got (one kept version per cluster; a subscriber who skipped an immaterial
typo fix reads the next diff against the fixed text); only the cluster's founding story has versions (a
copy's own revisions are duplicates); ``previous_alert_id`` is null when the subscriber's first alert of the
cluster was for a copy (the marker keeps 8 bytes of that id, not the id).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from workers.alerter.dedup import Resolved, alert_id
from workers.alerter.outbox import Had, marker_owner
from workers.core.events import MatchEvent
from workers.core.revisions import Change, describe
from workers.settings.config import Subscriber

EVENT_SCHEMA_VERSION = 1
UPDATED, WITHDRAWN = "story.updated", "story.withdrawn"


def follows(sub: Subscriber, event: MatchEvent) -> bool:
    """Whether a later version is for this subscriber should it have received the story: one of its topics is
    matched by this version or carried from an earlier one (``MatchEvent.carried``), whatever the version's
    language or hit count (a kill notice is a line, and may read as another language). The marker decides the
    rest: a subscriber who never received the story gets nothing from it unless it covers it like a new story."""
    return event.story.version > 1 and any(t in event.topics or t in event.carried for t in sub.topics)


def change_of(event: MatchEvent, res: Resolved) -> Change | None:
    """The change this version makes to the one before it, or None when it is no later version the record
    can compare (a first version, a copy's revision, an out-of-order one, a record that expired)."""
    if event.story.version <= 1 or res.version not in ("new", "redo") or res.previous is None:
        return None
    old_title, old_body = res.previous
    return describe(old_title, old_body, event.story.title, event.story.text)


def previous_alert_id(sub: Subscriber, story_id: str, had: Had) -> str | None:
    """The id of the last event this subscriber got for the cluster, when it can be told from the marker."""
    if had.version > 1:
        return alert_id(sub.name, story_id, had.version)
    first = alert_id(sub.name, story_id)
    return first if marker_owner(first) == had.owner else None


def story_fields(event: MatchEvent) -> dict[str, Any]:
    """What every event says of its story (an alert adds its excerpt and language probability)."""
    story = event.story
    return {
        "id": story.id,
        "title": story.title,
        "url": story.link,
        "feed": story.feed,
        "language": event.language,
        "published": story.published,
    }


def build_event(
    sub: Subscriber, event: MatchEvent, change: Change, cluster: str, had: Had
) -> tuple[str, dict[str, Any]]:
    """The webhook-id and payload (docs/story.updated.schema.json, docs/story.withdrawn.schema.json)."""
    story = event.story
    aid = alert_id(sub.name, story.id, story.version)
    payload = {
        "schema": EVENT_SCHEMA_VERSION,
        "type": WITHDRAWN if change.withdrawn else UPDATED,
        "alert_id": aid,
        "previous_alert_id": previous_alert_id(sub, story.id, had),
        "subscriber": sub.name,
        "version": story.version,
        "story": story_fields(event),
        "changes": change.to_dict(),
        "cluster": {"id": cluster},
        "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    return aid, payload


def runs(wanted: list[tuple[Subscriber, MatchEvent]]) -> list[list[tuple[Subscriber, MatchEvent]]]:
    """The batch in runs that hold one version per story id: run k holds the k-th version of each story the
    batch carries, in batch order, so a version finds the one before it recorded and marked before it is
    compared (two versions of a story can share a batch after a lag), in as few runs as that needs."""
    layer: dict[tuple[str, int], int] = {}
    used: dict[str, int] = {}
    out: list[list[tuple[Subscriber, MatchEvent]]] = []
    for sub, ev in wanted:
        key = (ev.story.id, ev.story.version)
        if key not in layer:
            layer[key] = used.get(ev.story.id, 0)
            used[ev.story.id] = layer[key] + 1
        while len(out) <= layer[key]:
            out.append([])
        out[layer[key]].append((sub, ev))
    return out
