"""The pure decisions on story versions: wire slugs, what changed, and what a subscriber hears of."""

from __future__ import annotations

import pytest

from workers.core.revisions import describe, is_withdrawal, parse_slug, worth_sending

BODY = (
    "SEOUL, Dec 1 - North Korea fired two ballistic missiles into the sea off its east coast on Tuesday, "
    "the South Korean military said.\n\n"
    "The launches came hours after the United States and South Korea ended a joint drill near the border.\n\n"
    "Japan's coast guard told ships to watch for falling debris."
)


@pytest.mark.parametrize(
    ("title", "kind", "n", "rest"),
    [
        ("UPDATE 2-North Korea fires missiles", "update", 2, "North Korea fires missiles"),
        ("update 1 - North Korea fires missiles", "update", 1, "North Korea fires missiles"),
        ("REFILE-North Korea fires missiles", "refile", None, "North Korea fires missiles"),
        ("CORRECTED-North Korea fires two missiles", "corrected", None, "North Korea fires two missiles"),
        ("WRAPUP 3-Asia reacts to launches", "wrapup", 3, "Asia reacts to launches"),
        ("KILL - North Korea fires missiles", "kill", None, "North Korea fires missiles"),
        ("North Korea fires missiles", None, None, "North Korea fires missiles"),
        # a headline that only starts with a slug word is no slug
        ("Updated forecasts show rain", None, None, "Updated forecasts show rain"),
        ("Kill switch found in malware", None, None, "Kill switch found in malware"),
    ],
)
def test_slugs(title: str, kind: str | None, n: int | None, rest: str) -> None:
    slug = parse_slug(title)
    assert (slug.kind, slug.n, slug.title) == (kind, n, rest)


def test_withdrawal_by_slug_or_wording() -> None:
    assert is_withdrawal("KILL-North Korea fires missiles", "")
    assert is_withdrawal("STORY WITHDRAWN", "")
    assert is_withdrawal("North Korea fires missiles", "MANDATORY KILL: the story was withdrawn.")
    assert not is_withdrawal("Kill switch found in malware", "A researcher found a kill switch.")


def test_a_typo_fix_is_not_material_but_counts_for_all() -> None:
    change = describe("North Korea fires missiles", BODY, "North Korea fires missiles", BODY.replace("fired", "fried"))
    assert change.body_changed and not change.title_changed and not change.numbers_changed
    assert not worth_sending(change, "material")
    assert worth_sending(change, "all")
    assert not worth_sending(change, "none")


def test_whitespace_and_case_are_no_change_at_all() -> None:
    change = describe("North Korea fires missiles", BODY, "NORTH KOREA  fires missiles", BODY.replace(" ", "  "))
    assert not change.title_changed and not change.body_changed
    assert not worth_sending(change, "all")


def test_a_refile_with_the_same_text_is_not_material() -> None:
    change = describe("North Korea fires missiles", BODY, "REFILE-North Korea fires missiles", BODY)
    assert change.slug.kind == "refile" and not change.title_changed
    assert not worth_sending(change, "material")


def test_a_new_headline_is_material_and_reported() -> None:
    change = describe("North Korea fires missiles", BODY, "UPDATE 1-North Korea fires missiles toward Japan", BODY)
    assert change.title_changed
    assert worth_sending(change, "material")
    assert change.to_dict()["title"] == {
        "old": "North Korea fires missiles",
        "new": "UPDATE 1-North Korea fires missiles toward Japan",
    }
    assert change.to_dict()["slug"] == {"kind": "update", "n": 1}


def test_a_changed_number_is_material() -> None:
    change = describe("Quake kills 12", BODY, "Quake kills 12", BODY.replace("two ballistic", "3 ballistic"))
    assert change.numbers_changed and worth_sending(change, "material")


def test_added_paragraphs_are_listed_in_order() -> None:
    extra = "Officials in Tokyo said the missiles landed outside Japan's exclusive economic zone, far from ships."
    change = describe("T", BODY, "T", BODY + "\n\n" + extra)
    assert change.added == [extra] and change.removed == []
    assert worth_sending(change, "material")


def test_a_short_added_line_is_not_material() -> None:
    change = describe("T", BODY, "T", BODY + "\n\n(Reporting by staff)")
    assert change.added == ["(Reporting by staff)"]
    assert not worth_sending(change, "material")


def test_a_removed_paragraph_is_listed() -> None:
    first_two = BODY.rsplit("\n\n", 1)[0]
    change = describe("T", BODY, "T", first_two)
    assert change.removed == ["Japan's coast guard told ships to watch for falling debris."]


def test_a_withdrawal_is_sent_under_every_policy_but_none() -> None:
    change = describe("North Korea fires missiles", BODY, "KILL-North Korea fires missiles", "")
    assert change.withdrawn
    assert worth_sending(change, "material") and worth_sending(change, "all")
    assert not worth_sending(change, "none")


def test_hindi_paragraphs_and_digits() -> None:
    old = "उत्तर कोरिया ने दो मिसाइलें दागीं।\n\nदक्षिण कोरिया की सेना ने यह जानकारी दी।"
    new = old.replace("दो", "तीन")
    change = describe("मिसाइल परीक्षण", old, "मिसाइल परीक्षण", new)
    assert change.body_changed and not change.numbers_changed  # a number word is text, not a digit
    assert describe("t", "मृतकों की संख्या 12", "t", "मृतकों की संख्या 15").numbers_changed


def test_a_reworded_paragraph_is_an_edit_not_an_addition() -> None:
    new = BODY.replace("the South Korean military said", "South Korea's joint chiefs of staff told reporters in Seoul")
    change = describe("T", BODY, "T", new)
    assert change.added == [] and change.removed == [] and len(change.edited) == 1
    assert change.changed_words >= 8 and worth_sending(change, "material")


def test_a_typo_fixed_under_the_same_slug_is_not_material() -> None:
    old = "UPDATE 1-North Korea fires missiles"
    change = describe(old, BODY.replace("military", "militray"), old, BODY)
    assert len(change.edited) == 1 and not change.slug_changed
    assert not worth_sending(change, "material") and worth_sending(change, "all")
    assert worth_sending(describe(old, BODY, "UPDATE 2-North Korea fires missiles", BODY), "material")


def test_the_slug_number_is_no_changed_figure() -> None:
    change = describe("UPDATE 1-Quake kills 12", BODY, "UPDATE 2-Quake kills 12", BODY)
    assert not change.numbers_changed and worth_sending(change, "material"), "a new slug is material by itself"
    assert describe("UPDATE 1-Quake kills 12", BODY, "UPDATE 2-Quake kills 15", BODY).numbers_changed
