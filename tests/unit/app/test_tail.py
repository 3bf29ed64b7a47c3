"""`wirewatch tail`'s lines: a later version that only carries an earlier version's topics still names them."""

from __future__ import annotations

import dataclasses
import json

from tests.alerter_support import match
from workers.app.commands.tail import as_json, format_match


def test_a_matched_story_lists_its_topics() -> None:
    line = format_match(match(1))
    assert line.startswith("dprk  [en]  North Korea dispatch 1  http://127.0.0.1/wire/1")
    assert json.loads(as_json(match(1)))["carried"] == []


def test_a_version_that_only_carries_topics_shows_them_in_parentheses() -> None:
    kill = dataclasses.replace(match(2, title="STORY WITHDRAWN"), topics={}, carried=["russia", "dprk"])
    assert format_match(kill).startswith("(dprk),(russia)  [en]  STORY WITHDRAWN")
    doc = json.loads(as_json(kill))
    assert doc["topics"] == {} and doc["carried"] == ["dprk", "russia"]


def test_matched_and_carried_topics_side_by_side() -> None:
    both = dataclasses.replace(match(3), carried=["russia"])
    assert format_match(both).startswith("dprk,(russia)  [en]")
