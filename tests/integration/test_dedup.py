"""Story clusters on a real Redis: exact copies, syndicated near-copies of the seed, a different story, and the
resolve script's distance agreeing with ``neardup.distance``."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from redis import Redis

from tests.neardup_support import FLOOD, PORT, edit_number, with_credit, with_template
from tests.support import corpus_dir, corpus_file, seed_text
from workers.alerter import dedup as dedup_module
from workers.alerter import neardup
from workers.alerter.dedup import Clusters, cluster_name, founding_cluster
from workers.core import stories
from workers.core.names import Names
from workers.core.stories import Story
from workers.evaluation.corpus import corpus_stories

SUB = "desk"
# every test with a Redis runs on a standalone Redis and on a 3-primary Redis Cluster
pytestmark = pytest.mark.redis_cluster


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


def cid(story_id: str) -> str:
    """The cluster a story founds when it is the first of its kind."""
    return cluster_name(founding_cluster(story_id))


def claim(dedup: Clusters, s: Story) -> tuple[str, str, int]:
    """Resolve one story: its cluster, how it was found, and the copies the cluster had besides the first."""
    r = dedup.resolve(s)
    return r.cluster, r.how, r.count - 1


@pytest.fixture
def dedup(redis: Redis, names: Names) -> Clusters:
    return Clusters(redis, names, 3600)


def test_same_id_url_or_body_is_one_story(dedup: Clusters) -> None:
    base = story(
        "a1", "Pyongyang fires missile", "Officials said a missile was fired. " * 3, "http://x/a?utm_source=rss"
    )
    owner = cid("a1")
    assert claim(dedup, base) == (owner, "new", 0)
    assert claim(dedup, base)[0] == owner, "a re-poll of the same id"
    same_url = replace(base, id="a2", text="Other words entirely.", link="http://X/a")
    assert claim(dedup, same_url)[:2] == (owner, "exact")
    text = "  OFFICIALS said, a missile" + base.text[len("Officials said a missile") :]
    same_body = replace(base, id="a3", title="Missile launch", link="http://y/z", text=text)
    assert claim(dedup, same_body)[:2] == (owner, "exact")
    members = {m["story"]: m["url"] for m in dedup.show(owner).members}
    assert members == {"a1": base.link, "a2": "http://X/a", "a3": "http://y/z"}, "the record keeps its members"
    assert dedup.show(owner).count == 3 and dedup.of_story("a2") == owner
    assert claim(dedup, base) == (owner, "exact", 2), "a re-poll is no new copy"


def test_syndicated_copies_of_the_seed_are_near_duplicates(dedup: Clusters) -> None:
    seed = seed_story()
    owner = cid("seed")
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


def test_a_different_story_on_the_same_topic_still_alerts(dedup: Clusters) -> None:
    seed = seed_story()
    claim(dedup, seed)
    sentences = seed.text.split("।")
    # The same event told from its last quarter only: shares names and topic, not the story. (Its second half
    # verbatim is half the seed's shingles: at the MinHash threshold, an excerpt; neardup_eval measures it.)
    other = story("other", "किम जोंग उन और पुतिन", "।".join(sentences[3 * len(sentences) // 4 :]), "http://e.example/4")
    assert claim(dedup, other) == (cid("other"), "new", 0)


def test_threshold_separates_edits_from_other_text() -> None:
    seed = seed_text()
    base = neardup.body_simhash(seed)
    assert base is not None
    rnd = random.Random(3)
    for _ in range(10):
        edited = neardup.body_simhash(edit_words(seed, 3, rnd))
        assert edited is not None and neardup.distance(base, edited) <= neardup.MAX_DISTANCE
    quarter = neardup.body_simhash(seed[: len(seed) // 4])
    assert quarter is not None and neardup.distance(base, quarter) > neardup.MAX_DISTANCE + 4
    assert neardup.body_simhash("too short to compare " * 3) is None


def test_batch_claims_see_each_other_and_every_key_expires(dedup: Clusters, redis: Redis, names: Names) -> None:
    seed = seed_story()
    copy = story("c1", "Another headline", seed.text + " (ANI)", "http://partner.example/kim")
    claims = dedup.resolve_many([seed, copy, seed])
    assert [c.cluster for c in claims] == [cid("seed")] * 3
    assert [c.how for c in claims] == ["new", "exact", "exact"]
    assert [c.new_story for c in claims] == [True, True, False]
    assert [c.count for c in claims] == [1, 2, 2], "the story read twice is one member"
    keys = list(redis.scan_iter(f"{names.key_prefix}*"))
    # a slice hash outlives its newest entry's retention by at most one slice
    assert keys and all(0 < redis.ttl(k) <= 3600 + dedup.slice_s for k in keys)


# Fingerprints computed by the code before the body was normalised once per story (commit 415e7c8): Redis data
# of a running install holds these values, so they must never change. Title: the first line, 100 characters.
# The near-duplicate values are the MinHash of issue 13 (the SimHash before it is no longer compared; README,
# Upgrading the dedup layout); the content hashes are unchanged.
PINNED = {
    "seed/ani-kim-russia-visit.hi.txt": (
        "044695d8f05e683a0460278bd37c4a18",
        0x84BC8406F62EF78519A25B192780E39DF187E786F21CFB37916967D7DF54CC9C,
    ),
    "articles/fundus/ru_Kommersant.json#V1": (
        "d6d968306d7f1663ffb0a19dabed7fbb",
        0x19C0B644A4AE22AC907C013B224512C89A04C2622A5F03CA222AB2F8158606F6,
    ),
    "articles/fundus/ua_Pravda.json#V1": (
        "7eca4bd8729a9f363bb9c474054b807b",
        0xA0B88494B79E1A241B82E6D91252F3C327AF9441E0394B22F1BFB0E0E51BEDF3,
    ),
    "articles/newspaper4k/txt_hindi_article.txt": (
        "3f3762957a2531410c0b43e6c629a959",
        0x567AEFC1621099707AB81DD9D742872A3DCACFA3E38F9675244C514332072FA1,
    ),
}
PINNED_SHORT = ("seed/ani-kim-russia-visit.hi.txt", "766a4189cefb7b0964a64da4cda941e7")  # body < 40: title decides


def test_fingerprints_are_those_redis_already_holds(dedup: Clusters) -> None:
    corpus_file("MANIFEST.tsv")
    files = {sid.split("#")[0] for sid in PINNED}
    texts = {c.id: c.text for c in corpus_stories(corpus_dir(), lambda rel: rel in files)}
    assert set(PINNED) <= set(texts), "every pinned corpus story was read"
    for sid, (content, simhash) in PINNED.items():
        text = texts[sid]
        prints = dedup.story_prints(story(sid, text.split("\n")[0][:100], text))
        assert ("content", content) in prints.exact, sid
        assert prints.simhash == simhash, sid
    sid, content = PINNED_SHORT
    text = texts[sid]
    prints = dedup.story_prints(story(sid, text.split("\n")[0][:100], text[:30]))
    assert ("content", content) in prints.exact and prints.simhash is None


def test_a_story_body_is_normalised_once(dedup: Clusters, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = seed_story()
    seen: list[str] = []
    real = stories.normalise_for_fingerprint

    def counting(text: str) -> str:
        seen.append(text)
        return real(text)

    for module in (stories, neardup, dedup_module):  # wherever the claim path looks the function up
        monkeypatch.setattr(module, "normalise_for_fingerprint", counting, raising=False)
    prints = dedup.story_prints(seed)
    assert prints.simhash is not None and len(prints.exact) == 3
    assert seen.count(seed.text) == 1, f"the body was normalised {seen.count(seed.text)} times"


def test_unrelated_stories_sharing_a_teaser_are_two_stories(dedup: Clusters) -> None:
    teaser = "Read the full story on our website for more details and video."  # the feed's body for every entry
    first = story("t1", "North Korea fires a missile", teaser, "http://x.example/missile")
    second = story("t2", "Russia and China hold drills", teaser, "http://x.example/drills")
    assert claim(dedup, first) == (cid("t1"), "new", 0)
    assert claim(dedup, second) == (cid("t2"), "new", 0), "a shared teaser is not a shared story"
    same = story("t3", "North Korea fires a missile", teaser + " ", "http://y.example/copy")
    assert claim(dedup, same)[:2] == (cid("t1"), "exact"), "same headline, same teaser: one story"


def test_the_resolve_script_measures_the_distance_neardup_does(redis: Redis, names: Names) -> None:
    """The script compares fingerprints byte by byte in Lua: it must agree with ``neardup.distance`` exactly,
    at the threshold and one bit past it, whatever the fingerprint's width."""
    seed = seed_story()
    base = neardup.body_simhash(seed.text)
    assert base is not None
    rnd = random.Random(5)
    width = dedup_module.FP_BYTES
    maxd = neardup.MAX_DISTANCE
    for trial in range(12):
        clusters = Clusters(redis, replace(names, key_prefix=f"{names.key_prefix}t{trial}:"), 3600)
        d = maxd + trial % 2  # within the threshold, then one past it
        raw = bytearray(base.to_bytes(width, "big"))
        # keep the first band's slots, so the two always meet in the index and only the distance decides
        for i in rnd.sample(range(neardup.BAND_SLOTS, width), d):
            raw[i] ^= 0x5A
        other = int.from_bytes(raw, "big")
        assert neardup.distance(base, other) == d
        first = dedup_module.StoryPrints(exact=[("id", "a")], simhash=base)
        second = dedup_module.StoryPrints(exact=[("id", "b")], simhash=other)
        now = int(clusters.clock())
        keys = clusters.slice_keys(now)
        a = clusters._resolve(keys=keys, args=clusters._resolve_args(story("a", "t", "x"), first, now))
        b = clusters._resolve(keys=keys, args=clusters._resolve_args(story("b", "t", "y"), second, now))
        assert bytes(a[0]) == founding_cluster("a")
        assert (bytes(b[0]) == founding_cluster("a")) == (d <= maxd), f"distance {d}"


def test_a_short_syndicated_copy_is_suppressed_and_same_template_strangers_alert(dedup: Clusters) -> None:
    """Issue 13: a 120-word story, then its copy with one number edited and a credit line, under another URL and
    headline: one cluster. Two unrelated stories in the same desk boilerplate: two clusters."""
    original = story("f1", "Floods force thousands from their homes", FLOOD, "http://wire.example/floods")
    copy_text = with_credit(edit_number(FLOOD, "4,200", "4,500"), "Reporting by Anna Virtanen; Editing by Ravi Menon")
    copy = story("f2", "Rescue boats reach cut-off villages", copy_text, "http://partner.example/rain")
    owner = cid("f1")
    assert claim(dedup, original) == (owner, "new", 0)
    assert claim(dedup, copy) == (owner, "near", 1), "the short copy alerted again"
    first = story("t1", "Floods in the north", with_template(FLOOD), "http://desk.example/1")
    second = story("t2", "Dock strike halts port", with_template(PORT), "http://desk.example/2")
    assert claim(dedup, first)[1] == "near", "the templated flood story is still a copy of the flood story"
    assert claim(dedup, second) == (cid("t2"), "new", 0), "same boilerplate, other news: its own cluster"
