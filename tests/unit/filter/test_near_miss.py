"""``Matcher.match_explained``: the same matches as ``match``, plus the topics a veto or a none kept from a match."""

from __future__ import annotations

import pytest

from workers.filter.matcher import Matcher
from workers.filter.topics import Topic

TOPICS = [
    Topic("russia", terms=("Russia*", "Kremlin"), none_of=("Russian salad",), veto_of=("football",)),
    Topic("summit", all_of=(("Kim Jong Un",), ("Russia*",)), veto_of=("cartoon",)),
    Topic("kp", terms=("North Korea",), min_hits=2, none_of=("North Korea Street",)),
]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(TOPICS)


@pytest.mark.parametrize(
    ("text", "matches", "near"),
    [
        ("Russia and the Kremlin", {"russia"}, {}),
        ("Russia wins the football final", set(), {"russia": ("veto", ("football",), ())}),
        ("A Russian salad recipe", set(), {"russia": ("none", (), ("Russian salad",))}),
        # the none removes one hit but another remains: a match, no near miss
        ("A Russian salad, made in Russia", {"russia"}, {}),
        # a veto with a none as well: both are named
        ("Russian salad at the football", set(), {"russia": ("veto", ("football",), ("Russian salad",))}),
        # without the veto it would still fail its all-groups: not a near miss
        ("A cartoon of Kim Jong Un", set(), {}),
        ("A cartoon of Kim Jong Un in Russia", {"russia"}, {"summit": ("veto", ("cartoon",), ())}),
        # min_hits: the none took a hit that the topic needed
        ("North Korea Street, North Korea", set(), {"kp": ("none", (), ("North Korea Street",))}),
        ("nothing here", set(), {}),
    ],
)
def test_near_misses(
    matcher: Matcher, text: str, matches: set[str], near: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]]
) -> None:
    found, misses = matcher.match_explained(text, "en")
    assert set(found) == matches
    assert set(found) == set(matcher.match(text, "en"))  # match_explained decides as match does
    assert {n: (m.reason, m.veto, m.none) for n, m in misses.items()} == near
    for miss in misses.values():
        assert miss.match.hits and miss.match.snippet  # the match it would have made, to show


def test_near_miss_carries_the_match_without_the_exclusions(matcher: Matcher) -> None:
    _found, misses = matcher.match_explained("Russia wins the football final", "en")
    assert misses["russia"].match.terms == ["Russia*"]
    assert "Russia wins" in misses["russia"].match.snippet


def test_languages_outside_the_topic_are_no_near_miss() -> None:
    m = Matcher([Topic("ru", terms=("Russia",), veto_of=("football",), languages=frozenset({"de"}))])
    assert m.match_explained("Russia football", "en") == ({}, {})
