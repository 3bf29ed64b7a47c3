"""settle_heap: what start-up left alive is out of the collector's sight; garbage made later is still collected."""

from __future__ import annotations

import gc
import weakref

from workers.infra.lifecycle import settle_heap


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_start_up_objects_are_frozen_and_later_cycles_still_collected() -> None:
    start_up_garbage = weakref.ref(Node())  # unreachable cycle from start-up: collected first, not frozen
    try:
        settle_heap()
        assert start_up_garbage() is None
        frozen = gc.get_freeze_count()
        assert frozen > 0
        kept = Node()  # made after: in the collector's sight, not frozen
        assert gc.get_freeze_count() == frozen and kept.me is kept
        later = weakref.ref(Node())
        gc.collect()
        assert later() is None, "a cycle made after start-up is collected as before"
    finally:
        gc.unfreeze()  # the rest of the test session's objects are collected normally again
