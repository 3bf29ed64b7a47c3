"""Near-duplicate fingerprints of short wire copies: one story per copy, two stories per same-template pair."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.neardup_support import (
    CREDITS,
    FLOOD,
    LAUTTA,
    PAIVAKODIT,
    PORT,
    TEMPLATE_FI,
    drop_last_paragraph,
    edit_number,
    join,
    paragraphs,
    with_credit,
    with_template,
)
from workers.alerter import neardup
from workers.core.stories import normalise_for_fingerprint


def fp(text: str) -> int:
    h = neardup.body_simhash(text)
    assert h is not None, "the fixture is long enough to compare"
    return h


def same(a: str, b: str) -> bool:
    return neardup.distance(fp(a), fp(b)) <= neardup.MAX_DISTANCE


def old_bits(a: str, b: str) -> int:
    def old(text: str) -> int:
        return neardup.simhash64(normalise_for_fingerprint(text).split())

    return (old(a) ^ old(b)).bit_count()


@pytest.mark.parametrize("credit", CREDITS)
def test_the_120_word_copy_with_an_edited_number_and_a_credit_line_is_one_story(credit: str) -> None:
    copy = with_credit(edit_number(FLOOD, "4,200", "4,500"), credit)
    assert same(FLOOD, copy), neardup.distance(fp(FLOOD), fp(copy))


def test_the_old_simhash_missed_that_copy() -> None:
    """Issue 13's case on our own fixture: the 64-bit word SimHash put it over its threshold of 3 bits."""
    copy = with_credit(edit_number(FLOOD, "4,200", "4,500"), CREDITS[3])
    assert old_bits(FLOOD, copy) > 3


def test_two_same_template_stories_are_two_stories() -> None:
    assert not same(with_template(FLOOD), with_template(PORT))
    assert not same(with_template(PAIVAKODIT, TEMPLATE_FI), with_template(LAUTTA, TEMPLATE_FI))
    # and a copy of a templated story is still one story with it
    templated = with_template(FLOOD)
    assert same(templated, with_credit(edit_number(templated, "17 roads", "19 roads"), "— Reuters"))


@pytest.mark.parametrize(
    ("kind", "original", "copy"),
    [
        ("number", FLOOD, edit_number(FLOOD, "17 roads", "18 roads")),
        ("credit", FLOOD, with_credit(FLOOD, "Copyright 2026 AP. All rights reserved.")),
        ("dateline credit", FLOOD, "WASHINGTON (AP) — " + FLOOD),
        (
            "headline",
            join(["Floods force thousands from their homes in the north", *paragraphs(FLOOD)]),
            join(["Rain swells river, rescue boats reach cut-off villages", *paragraphs(FLOOD)]),
        ),
        ("dropped last paragraph", FLOOD, drop_last_paragraph(FLOOD)),
        ("whitespace and case", FLOOD, "  ".join(FLOOD.upper().split())),
        ("fi number", PAIVAKODIT, edit_number(PAIVAKODIT, "45 miljoonaa", "48 miljoonaa")),
        ("fi credit", PAIVAKODIT, with_credit(PAIVAKODIT, "(STT)")),
        ("fi number+credit", PAIVAKODIT, with_credit(edit_number(PAIVAKODIT, "600", "650"), "Lähde: STT-Info")),
        ("fi dropped last paragraph", PAIVAKODIT, drop_last_paragraph(PAIVAKODIT)),
    ],
)
def test_each_kind_of_copy_is_one_story(kind: str, original: str, copy: str) -> None:
    assert same(original, copy), f"{kind}: {neardup.distance(fp(original), fp(copy))} slots apart"


def test_unrelated_stories_are_far_apart() -> None:
    for a, b in [(FLOOD, PORT), (PAIVAKODIT, LAUTTA), (FLOOD, PAIVAKODIT)]:
        assert neardup.distance(fp(a), fp(b)) > 2 * neardup.MAX_DISTANCE


def test_a_short_body_has_no_fingerprint() -> None:
    words = normalise_for_fingerprint(FLOOD).split()  # "4,200" is two words: "4 200"
    assert neardup.body_simhash(" ".join(words[: neardup.MIN_TOKENS - 1])) is None
    assert neardup.body_simhash(" ".join(words[: neardup.MIN_TOKENS])) is not None


def test_the_fingerprint_is_stable_and_fits_its_bytes() -> None:
    """Values stored in Redis are compared with those computed after an upgrade: the hashing must not drift."""
    h = fp(FLOOD)
    assert h == 0xE249D076DDA341C0B96987E866E4A7F94DF84D5B50896314B7102C5785AF0A74
    assert len(neardup.to_bytes(h)) == neardup.FINGERPRINT_BYTES == neardup.SLOTS


def test_band_fields_are_index_byte_then_band_bytes() -> None:
    h = fp(PORT)
    fields = neardup.band_fields(h)
    assert len(fields) == neardup.BANDS
    assert [f[0] for f in fields] == [neardup.BAND_INDEX_BASE + i for i in range(neardup.BANDS)]
    assert b"".join(f[1:] for f in fields) == neardup.to_bytes(h)[: neardup.BANDS * neardup.BAND_SLOTS]
    assert len(set(neardup.bands(h))) == neardup.BANDS


BANDED = neardup.BANDS * neardup.BAND_SLOTS  # the slots the bands cover; the distance counts all SLOTS


@given(
    st.binary(min_size=neardup.SLOTS, max_size=neardup.SLOTS),
    st.lists(st.integers(0, BANDED - 1), max_size=neardup.BANDS - 1, unique=True),
    st.lists(st.integers(BANDED, neardup.SLOTS - 1), unique=True),
    st.integers(1, 255),
)
def test_fingerprints_within_bands_minus_one_banded_slots_share_a_band(
    raw: bytes, banded: list[int], rest: list[int], delta: int
) -> None:
    """The pigeonhole guarantee the exact-lookup index gives: fewer differing banded slots than bands."""
    other = bytearray(raw)
    for i in banded + rest:
        other[i] = (other[i] + delta) % 256
    a, b = int.from_bytes(raw, "big"), int.from_bytes(bytes(other), "big")
    assert neardup.distance(a, b) == len(banded) + len(rest)
    assert set(neardup.band_fields(a)) & set(neardup.band_fields(b))
