"""Dedup claims on a real Redis: exact copies, syndicated near-copies of the seed, a different story."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from redis import Redis

from tests.support import seed_text
from workers import neardup
from workers.dedup import ClaimRequest, Dedup, alert_id
from workers.names import Names
from workers.stories import Story

SUB = "desk"


def story(sid: str, title: str, text: str, link: str = "") -> Story:
    return Story(id=sid, feed="ani", feed_url="http://x/feed", title=title, link=link or f"http://x/{sid}", text=text)


def seed_story() -> Story:
    text = seed_text()
    return story("seed", text.split("।")[0][:120], text, "http://ani.example/kim-visit")


def edit_words(text: str, k: int, rnd: random.Random) -> str:
    words = text.split()
    for _ in range(k):
        words[rnd.randrange(len(words))] = f"संपादित{rnd.randrange(1000)}"
    return " ".join(words)


def claim(dedup: Dedup, s: Story) -> tuple[str, str, int]:
    c = dedup.claim(SUB, s, alert_id(SUB, s.id))
    return c.owner, c.how, c.duplicates


@pytest.fixture
def dedup(redis: Redis, names: Names) -> Dedup:
    return Dedup(redis, names, 3600)


def test_same_id_url_or_body_is_one_story(dedup: Dedup) -> None:
    base = story(
        "a1", "Pyongyang fires missile", "Officials said a missile was fired. " * 3, "http://x/a?utm_source=rss"
    )
    owner = alert_id(SUB, "a1")
    assert claim(dedup, base) == (owner, "new", 0)
    assert claim(dedup, base)[0] == owner, "a re-poll of the same id"
    same_url = replace(base, id="a2", text="Other words entirely.", link="http://X/a")
    assert claim(dedup, same_url)[:2] == (owner, "exact")
    text = "  OFFICIALS said, a missile" + base.text[len("Officials said a missile") :]
    same_body = replace(base, id="a3", title="Missile launch", link="http://y/z", text=text)
    assert claim(dedup, same_body)[:2] == (owner, "exact")
    assert dedup.copies(owner) == {alert_id(SUB, "a2"): "http://X/a", alert_id(SUB, "a3"): "http://y/z"}
    other_sub = dedup.claim("other-desk", base, alert_id("other-desk", "a1"))
    assert other_sub.owner == alert_id("other-desk", "a1") and not other_sub.delivered


def test_syndicated_copies_of_the_seed_are_near_duplicates(dedup: Dedup) -> None:
    seed = seed_story()
    owner = alert_id(SUB, "seed")
    assert claim(dedup, seed) == (owner, "new", 0)
    rnd = random.Random(7)
    body = seed.text.removesuffix("(एएनआई)").strip()
    copies = [
        story("c1", "किम जोंग उन की रूस यात्रा समाप्त", body + "\n— Reuters", "http://partner.example/kim"),
        story("c2", "Kim ends Russia trip", "  ".join(seed.text.split()), "http://b.example/1"),
        story("c3", "रूस से लौटे किम", edit_words(seed.text, 3, rnd) + " (ANI)", "http://c.example/2"),
        story("c4", "किम को ड्रोन उपहार", edit_words(body, 5, rnd), "http://d.example/3"),
    ]
    for i, c in enumerate(copies, 1):
        got_owner, how, dups = claim(dedup, c)
        assert got_owner == owner, f"copy {c.id} ({c.title}) was not recognised"
        assert how in ("exact", "near") and dups == i
    assert claim(dedup, copies[2])[2] == 4, "a copy re-read is counted once"


def test_a_different_story_on_the_same_topic_still_alerts(dedup: Dedup) -> None:
    seed = seed_story()
    claim(dedup, seed)
    sentences = seed.text.split("।")
    # The same event told from its second half only: shares names and topic, not the story.
    other = story("other", "किम जोंग उन और पुतिन", "।".join(sentences[len(sentences) // 2 :]), "http://e.example/4")
    assert claim(dedup, other) == (alert_id(SUB, "other"), "new", 0)


def test_threshold_separates_edits_from_other_text() -> None:
    seed = seed_text()
    base = neardup.body_simhash(seed)
    assert base is not None
    rnd = random.Random(3)
    for _ in range(10):
        edited = neardup.body_simhash(edit_words(seed, 3, rnd))
        assert edited is not None and neardup.distance(base, edited) <= neardup.MAX_DISTANCE
    half = neardup.body_simhash(seed[: len(seed) // 2])
    assert half is not None and neardup.distance(base, half) > 2 * neardup.MAX_DISTANCE
    assert neardup.body_simhash("too short to compare " * 3) is None


def test_batch_claims_see_each_other_and_every_key_expires(dedup: Dedup, redis: Redis, names: Names) -> None:
    seed = seed_story()
    copy = story("c1", "Another headline", seed.text + " (ANI)", "http://partner.example/kim")
    reqs = [ClaimRequest(SUB, s, alert_id(SUB, s.id)) for s in (seed, copy, seed)]
    claims = dedup.claim_many(reqs)
    assert [c.owner for c in claims] == [alert_id(SUB, "seed")] * 3
    assert [c.how for c in claims] == ["new", "exact", "exact"]
    dedup.mark_delivered([alert_id(SUB, "seed")])
    assert dedup.claim(SUB, seed, alert_id(SUB, "seed")).delivered
    keys = list(redis.scan_iter(f"{names.key_prefix}*"))
    assert keys and all(0 < redis.ttl(k) <= 3600 for k in keys)


def test_expired_band_entries_are_pruned(redis: Redis, names: Names) -> None:
    short = Dedup(redis, names, 1)
    seed = seed_story()
    short.claim(SUB, seed, alert_id(SUB, "seed"))
    band_keys = list(redis.scan_iter(f"{names.key_prefix}dedup:{SUB}:nd:*"))
    assert len(band_keys) == neardup.BANDS
    for k in band_keys:  # stale entries in a band that stays busy
        redis.persist(k)
        field, value = next(iter(redis.hgetall(k).items()))
        redis.hset(k, field, value.split(b":")[0] + b":1")
    copy = story("c1", "x", seed.text + " (ANI)", "http://other/1")
    redis.delete(*redis.scan_iter(f"{names.key_prefix}dedup:{SUB}:content:*"))
    assert short.claim(SUB, copy, alert_id(SUB, "c1")).how == "new"
