"""Near-duplicate fingerprints: a MinHash of a story body's word 3-shingles, and the eight bands it is filed under.

A wire story republished elsewhere keeps its body but gets another headline, a credit line ("(ANI)",
"— Reuters", "Copyright 2026 AP"), other whitespace, an edited number or loses its last paragraph. So the
fingerprint ignores the title, case, punctuation and credit tokens (``stories.normalise_for_fingerprint``) and
takes the set of the body's word 3-shingles. Its MinHash has ``SLOTS`` = 32 one-byte slots; two bodies agree on
a slot with probability J + (1 - J) / 256, J being the Jaccard similarity of their shingle sets, so the
distance (differing slots) is about 32 (1 - J). Two bodies are one story when at most ``MAX_DISTANCE`` = 13
slots differ (J about 0.6 and up).

Index: bands are the first 16 slots taken two by two (eight fields of index byte + 2 bytes), looked up by
equality; candidates are verified on all 32 slots. Any pair within 7 differing slots of the first 16 shares a
band (pigeonhole); beyond that recall is measured: a pair of similarity J shares a band with probability
1 - (1 - J^2)^8, 99.9 % at J = 0.75, 97 % at J = 0.6.

Why this one (``python -m workers.evaluation.neardup_eval``, real corpus bodies cut to 60-560 words; docs/
decisions/0008-near-duplicates-minhash.md): the 64-bit word SimHash within 3 bits missed 17 of 60 120-word copies
with one number edited and a credit line added (26 of 60 at 80 words), and most copies with another headline or
without their last paragraph under 300 words; a SimHash of 3-grams missed more. This MinHash misses none of the
number, credit and number + credit copies from 60 words up; at 120 words 1 of 60 headline and 3 of 60
dropped-paragraph copies (at 80 words 3 and 19: there the last paragraph is a third of the story), and it merged
no same-template strangers, follow-ups repeating one paragraph of the story, or unrelated pairs (0 of 9,627 pairs).
32 slots rather than 16: the same mean, half the variance, which is what kept templated strangers apart at 60
words. Pure Python rather than datasketch: the values are stored in Redis and compared across releases, so they
must not depend on a library's hashing, and it needs no numpy; it is also faster than the old SimHash.

A body of under ``MIN_TOKENS`` = 60 words is left to the exact fingerprints: at 40 words, two stories sharing a
32-word dateline and disclaimer were merged 30 times in 58.
"""

from __future__ import annotations

import hashlib
import struct

from workers.core.stories import normalise_for_fingerprint

SHINGLE = 3  # words per shingle
SLOTS = 32  # MinHash slots, one byte each: the fingerprint is a SLOTS-byte integer
BAND_SLOTS = 2  # slots per band: a band field is its index byte and these 2 bytes
BANDS = 8  # bands over the first BANDS * BAND_SLOTS slots; the distance is taken over all SLOTS
FINGERPRINT_BYTES = SLOTS
BITS = SLOTS * 8
MAX_DISTANCE = 13  # differing slots of 32 two bodies may have and be one story (neardup_eval)
MIN_TOKENS = 60  # words; below, boilerplate can be most of a body (see above)
# Band fields' first byte is BAND_INDEX_BASE + band index: the SimHash before issue 13 used 0-3, so a band of
# either fingerprint never lands in the other's hash field (their records differ in width).
BAND_INDEX_BASE = 0x10


def shingles(words: list[str], n: int = SHINGLE) -> set[str]:
    """The word n-grams of a text; a text shorter than n words is one shingle."""
    if len(words) <= n:
        return {" ".join(words)}
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


def minhash(grams: set[str], slots: int = SLOTS) -> int:
    """One byte per slot: the low byte of the smallest of the shingles' slot hashes.

    Each shingle gets ``slots`` independent 32-bit hashes from one keyed BLAKE2b digest per 16 slots, so two
    texts agree on a slot with probability J + (1 - J) / 256, J being the Jaccard similarity of their shingle
    sets. Pure Python on purpose: the values are stored in Redis and compared across versions, so they must not
    depend on a library's hashing choices (``tests/bench/bench_neardup.py`` measures its cost).
    """
    mins: list[int] = []
    for block in range(0, slots, 16):
        width = min(16, slots - block)
        key = block.to_bytes(2, "big")
        fmt = f">{width}I"
        rows = [struct.unpack(fmt, hashlib.blake2b(g.encode(), digest_size=4 * width, key=key).digest()) for g in grams]
        mins += map(min, zip(*rows, strict=True))
    return int.from_bytes(bytes(m & 0xFF for m in mins), "big")


def slot_distance(a: int, b: int, slots: int) -> int:
    """The number of slots (bytes) in which two MinHash fingerprints differ."""
    return sum(x != y for x, y in zip(a.to_bytes(slots, "big"), b.to_bytes(slots, "big"), strict=True))


def distance(a: int, b: int) -> int:
    """Differing MinHash slots: about SLOTS * (1 - J) for shingle sets of Jaccard similarity J."""
    return slot_distance(a, b, SLOTS)


def to_bytes(h: int) -> bytes:
    """The fingerprint as stored in Redis records: FINGERPRINT_BYTES bytes, big-endian."""
    return h.to_bytes(FINGERPRINT_BYTES, "big")


def band_bytes(h: int, slots: int = SLOTS, bands: int = BANDS, band_slots: int = BAND_SLOTS) -> list[bytes]:
    """The first ``bands * band_slots`` slots of the fingerprint, cut into ``bands`` runs of ``band_slots``."""
    raw = h.to_bytes(slots, "big")
    return [raw[i * band_slots : (i + 1) * band_slots] for i in range(bands)]


def bands(h: int) -> list[str]:
    """The bands as text, band index and its bytes in hex (``2:9f3a``), as the first dedup layout named its keys."""
    return [f"{i}:{b.hex()}" for i, b in enumerate(band_bytes(h))]


def band_fields(h: int) -> list[bytes]:
    """The bands as hash fields: band index byte (from BAND_INDEX_BASE), then the band's BAND_SLOTS bytes."""
    return [bytes([BAND_INDEX_BASE + i]) + b for i, b in enumerate(band_bytes(h))]


def body_simhash(text: str, min_tokens: int = MIN_TOKENS) -> int | None:
    """The near-duplicate fingerprint of a story body, or None when the body is too short to compare safely.

    The name is the alerter's since the first layout (a SimHash then); the value is now a MinHash."""
    return normalised_simhash(normalise_for_fingerprint(text), min_tokens)


def normalised_simhash(body: str, min_tokens: int = MIN_TOKENS) -> int | None:
    """``body_simhash`` of a body already passed through ``normalise_for_fingerprint``."""
    words = body.split()
    if len(words) < min_tokens:
        return None
    return minhash(shingles(words))


def simhash64(words: list[str]) -> int:
    """The fingerprint before issue 13: SimHash over single words, 64 bits, compared by Hamming distance.

    Kept for the measurement (``workers.evaluation.neardup_eval``) and the bench; Redis records written before
    the upgrade hold these values."""
    votes = [0] * 64
    for word in words:
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        for i in range(64):
            votes[i] += 1 if (h >> i) & 1 else -1
    return sum(1 << i for i in range(64) if votes[i] > 0)
