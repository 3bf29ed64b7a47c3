"""The near-duplicate harness makes the copies and strangers it says it makes (on texts written for the tests)."""

from __future__ import annotations

from tests.neardup_support import FLOOD, PORT, paragraphs
from workers.core.stories import normalise_for_fingerprint
from workers.evaluation import neardup_eval as ev


def body(text: str, length: int, title: str = "A headline") -> ev.Body:
    paras = ev.cut(ev._paragraphs(text), length)
    assert paras is not None
    return ev.Body(f"fixture@{length}", title, paras)


def words(text: str) -> list[str]:
    return text.split()


def test_cut_takes_exactly_the_words_at_paragraph_breaks() -> None:
    paras = ev.cut(paragraphs(FLOOD), 80)
    assert paras is not None and len(words(" ".join(paras))) == 80
    assert paras[:2] == paragraphs(FLOOD)[:2], "whole paragraphs before the cut"
    # 27 + 24 + 21 words, then 8 of the fourth: a tail under PARAGRAPH_MIN joins the paragraph before it
    assert len(paras) == 3 and paras[2].startswith(paragraphs(FLOOD)[2] + " The weather service")
    assert all(len(words(p)) >= ev.PARAGRAPH_MIN for p in paras)
    assert ev.cut(paragraphs(FLOOD), 500) is None


def test_each_copy_kind_changes_what_it_says() -> None:
    b = body(FLOOD, 120)
    got = ev.copies(b, "Another headline entirely", 0)
    assert set(got) == set(ev.KINDS)
    orig, number = got["number"]
    diff = [(x, y) for x, y in zip(words(orig), words(number), strict=True) if x != y]
    assert len(diff) == 1 and any(ch.isdigit() for ch in diff[0][1]), diff
    orig, credit = got["credit"]
    assert credit.startswith(orig) and credit.endswith("(ANI)")
    orig, head = got["headline"]
    assert orig.split("\n\n")[1:] == head.split("\n\n")[1:] and head.startswith("Another headline entirely")
    orig, drop = got["drop"]
    assert paragraphs(orig)[:-1] == paragraphs(drop)
    _, both = got["number+credit"]
    assert both.startswith(number) and both != number


def test_strangers_share_the_template_and_have_the_length() -> None:
    a, b = body(FLOOD, 120), body(PORT, 120)
    for template in ev.TEMPLATES:
        x, y = ev.templated(a, template, 120), ev.templated(b, template, 120)
        assert len(words(x)) == len(words(y)) == 120
        assert paragraphs(x)[0] == paragraphs(y)[0] == template[0]
        assert paragraphs(x)[-1] == paragraphs(y)[-1] == template[1]
    follow = ev.follow_up(a, b, 120)
    assert len(words(follow)) == 120 and paragraphs(follow)[-1] == a.paragraphs[-1]


def test_the_old_simhash_and_the_chosen_scheme_are_measured() -> None:
    before, chosen = ev.schemes()[:2]
    assert before.name == "simhash-w1-64-d3" and chosen.name == "chosen"
    a = normalise_for_fingerprint(FLOOD).split()
    assert chosen.same(chosen.fingerprint(a), chosen.fingerprint(a[:-3]))
    p = normalise_for_fingerprint(PORT).split()
    assert not chosen.same(chosen.fingerprint(a), chosen.fingerprint(p))
