"""The filter builds every language's automaton at start, so no story waits for a compile."""

from __future__ import annotations

from pathlib import Path

from workers.filter.language import detectable_languages
from workers.filter.lexicon import story_language
from workers.filter.matcher import Matcher
from workers.filter.topics import load_topics
from workers.filter.worker import warmed_matcher

ROOT = Path(__file__).resolve().parents[3]


def test_warmed_matcher_has_every_detectable_language_built() -> None:
    topics = load_topics(ROOT / "config" / "topics.yaml")
    matcher = warmed_matcher(topics)
    assert matcher.warmed == {story_language(code) for code in detectable_languages()}
    assert {"fi", "he", "no", "zh", "be"} <= matcher.warmed
    cold = Matcher(topics)
    assert cold.warmed == frozenset()
    # Warm or built on first use, the answers are the same.
    for text, language in (("Venäjällä on vaalit.", "fi"), ("הוא טס לרוסיה אתמול.", "he"), ("Rio de Janeiro", "pt")):
        assert set(matcher.match(text, language)) == set(cold.match(text, language))
    assert "russia" in matcher.match("Venäjällä on vaalit.", "fi")


def test_warm_maps_codes_as_match_looks_them_up() -> None:
    matcher = Matcher(load_topics(ROOT / "config" / "topics.yaml"))
    assert matcher.warm(["nb", "und", "fi"]) == {"no", "fi"}
    assert matcher.warmed == {"no", "fi"}
