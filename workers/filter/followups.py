"""Stories the filter matched, so that every later version of one reaches the alerter.

A kill notice ("STORY WITHDRAWN") or a heavy rewrite may no longer name the topic its first version matched;
matched as a new story it would be dropped here, and the subscriber who got the story would never learn of
its withdrawal. So the filter remembers, per story it matched, the topics any of its versions matched, and a
later version (``version`` > 1) of a remembered story is produced even when it matches nothing, with the
topics it no longer matches in ``MatchEvent.carried``. The alerter sends it only to subscribers who received
the story (their marker says so), never as a new ``story.matched``.

Layout: hashes of one time slice each (``Names.filter_marks``, all under the ``{fm}`` tag so a batch is one
pipeline on one Redis Cluster slot): field = a 16-byte digest of the story id, value = its topics joined by
newlines. A mark is written to the open slice at each match (so a story updated for days stays marked) and
read from the slices still within retention; each slice expires as a whole, ``retention + width`` after it
opened. The retention is the alerter's ``dedup_retention_hours``: after it the alerter's cluster record is
gone and could not relate the version anyway.

Cost, per batch: one pipeline of HGETs when it carries later versions (a few per cent of stories), and one of
HSETs when it has matches; no round trip for a batch of first versions that match nothing. Redis unreachable
raises, and the worker redoes the batch (the failure policy): a version is never let through unmarked.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

from workers.core.names import Names

SLICES = 3  # a slice is half the retention wide: the open one and the two before it cover it


def digest(story_id: str) -> bytes:
    return hashlib.blake2b(story_id.encode(), digest_size=16).digest()


def decode(raw: bytes | str | None) -> set[str]:
    if not raw:
        return set()
    text = raw.decode() if isinstance(raw, bytes) else raw
    return {t for t in text.split("\n") if t}


class FilterMarks:
    def __init__(self, redis: Any, names: Names, retention_s: int, clock: Callable[[], float] = time.time) -> None:
        self.redis = redis
        self.names = names
        self.retention_s = retention_s
        self.width_s = max(60, retention_s // (SLICES - 1))
        self.clock = clock

    def _keys(self) -> list[str]:
        """The live slices, newest first."""
        index = int(self.clock()) // self.width_s
        return [self.names.filter_marks(self.width_s, index - i) for i in range(SLICES)]

    def topics_of(self, story_ids: Collection[str]) -> dict[str, set[str]]:
        """The topics earlier versions of these stories matched (the stories never matched are left out)."""
        if not story_ids:
            return {}
        ids = list(story_ids)
        keys = self._keys()
        with self.redis.pipeline(transaction=False) as pipe:
            for sid in ids:
                for key in keys:
                    pipe.hget(key, digest(sid))
            replies = pipe.execute()
        out: dict[str, set[str]] = {}
        for i, sid in enumerate(ids):
            topics = set().union(*(decode(r) for r in replies[i * len(keys) : (i + 1) * len(keys)]))
            if topics:
                out[sid] = topics
        return out

    def record(self, matched: Mapping[str, Collection[str]]) -> None:
        """Mark these stories with the topics they matched (with what their earlier versions did: the caller
        passes the union) in the open slice."""
        if not matched:
            return
        key = self._keys()[0]
        with self.redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={digest(sid): "\n".join(sorted(t)) for sid, t in matched.items()})
            pipe.expire(key, self.retention_s + self.width_s)
            pipe.execute()
