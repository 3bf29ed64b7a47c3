"""Near-duplicate fingerprint cost per story, before (64-bit SimHash over words) and after (MinHash of 3-shingles).

Both run side by side in one process on the same bodies: corpus bodies cut to 80, 120, 300 and 560 words
(``workers.evaluation.neardup_eval.bodies``), already normalised, so the figure is the fingerprint's own cost.
Each is timed as the best of five rounds over all bodies of a length, in microseconds per story.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.bench import emit
from tests.support import corpus_dir
from workers.alerter import neardup
from workers.core.stories import normalise_for_fingerprint
from workers.evaluation.neardup_eval import LENGTHS, bodies

BENCH = "neardup"
ROUNDS = 5


def per_story_us(fingerprint: Callable[[str], object], texts: list[str]) -> float:
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for text in texts:
            fingerprint(text)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main() -> None:
    root = corpus_dir()
    if not (root / "MANIFEST.tsv").is_file():
        print(f"bench neardup: corpus not found at {root} (set WIREWATCH_CORPUS)")
        return
    for length in LENGTHS:
        texts = [normalise_for_fingerprint(b.text) for b in bodies(root, length, 40)]

        def before(body: str) -> int:
            return neardup.simhash64(body.split())

        def after(body: str) -> int | None:
            return neardup.normalised_simhash(body, 1)

        b, a = per_story_us(before, texts), per_story_us(after, texts)
        emit(BENCH, f"simhash64_words_{length}w_us_per_story", b, "us/story")
        emit(BENCH, f"minhash{neardup.SLOTS}_3shingles_{length}w_us_per_story", a, "us/story")
        emit(BENCH, f"speedup_{length}w", b / a, "x")


if __name__ == "__main__":
    main()
