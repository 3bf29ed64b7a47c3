"""Reading a match event from Kafka: anything that is not one is a StoryFormatError (a dead letter), never
another exception, which would rewind the alerter's batch forever."""

from __future__ import annotations

import json

import pytest

from workers.core.events import MatchEvent, TopicHit
from workers.core.stories import Story, StoryFormatError

EVENT = MatchEvent(
    story=Story(id="0", feed="", feed_url="", title="", link="", text=""),
    language="en",
    probability=0.5,
    topics={"dprk": TopicHit(terms=[], hits=[], snippet="", hit_count=0)},
)


def with_probability(raw: str) -> bytes:
    data = json.loads(EVENT.to_json())
    data["probability"] = "PROBABILITY"
    return json.dumps(data).replace('"PROBABILITY"', raw).encode()


def test_a_match_event_round_trips() -> None:
    assert MatchEvent.from_json(EVENT.to_json()) == EVENT


# Found by tests/unit/alerter/test_fuzz_records.py: a probability of a few hundred digits made float() raise
# OverflowError, which the alerter did not catch, so its batch rewound forever. NaN or Infinity would have made
# the alert's body invalid JSON.
@pytest.mark.parametrize("probability", ["2" + "0" * 320, "NaN", "Infinity", "-0.5", "1.5", '"high"', "null"])
def test_a_probability_that_is_not_one_is_a_malformed_event(probability: str) -> None:
    with pytest.raises(StoryFormatError, match="bad match event"):
        MatchEvent.from_json(with_probability(probability))
