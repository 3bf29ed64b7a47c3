"""The filter with a countries-only topic for every ISO 3166 country (about 250), in a process of its own.

Figures:
- ``compile_s``: wall time of ``load_topics``-equivalent ``build_topics`` plus ``Matcher()`` (what a filter
  does at start before its first story); ``compile_cpu_s`` the same in CPU time of this process, which a loaded
  machine (2 cores shared by many jobs) distorts much less;
- ``warm_s``: building the per-language automata of the languages detection returns (the filter does it at
  start, ``worker.warmed_matcher``; so a filter is ready after ``compile_s + warm_s``); ``warm_cpu_s`` in CPU time;
- ``match_ms_per_story``: ``Matcher.match`` over the corpus stories in their detected language, median of
  ``WIREWATCH_BENCH_ROUNDS`` rounds (detection is done once, before, and not counted); ``match_cpu_ms_per_story``
  the same in CPU time;
- ``filter_rss_mb``: peak RSS of this process after all of that (langdetect's profiles loaded too);
- ``patterns``: how many forms the matcher holds.
"""

from __future__ import annotations

import logging
import os
import resource
import statistics
import time
from pathlib import Path

from tests.bench import emit
from tests.support import corpus_dir
from workers.evaluation.corpus import corpus_stories
from workers.filter import language
from workers.filter.countries import known_codes
from workers.filter.matcher import Matcher
from workers.filter.topics import TopicsFile, build_topics

BENCH = "countries"
# What detection returns: langdetect's 55 languages and those decided by letters or the second opinion.
DETECTED = (
    "af ar bg bn ca cs cy da de el en es et fa fi fr gu he hi hr hu id it ja kn ko lt lv mk ml mr ne nl no pa pl "
    "pt ro ru sk sl so sq sv sw ta te th tl tr uk ur vi zh be sr kk hy ka mn az eo eu ga is la"
).split()


def main() -> None:
    logging.disable(logging.INFO)
    root = corpus_dir()
    if not (root / "MANIFEST.tsv").is_file():
        print(f"bench countries: corpus not found at {root} (set WIREWATCH_CORPUS)")
        return
    codes = sorted(known_codes())
    config = TopicsFile.model_validate({"topics": {c.lower(): {"countries": [c]} for c in codes}})
    started, cpu = time.perf_counter(), time.process_time()
    matcher = Matcher(build_topics(config, Path("topics.yaml")))
    compile_s, compile_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    matcher.warm(DETECTED)
    warm_s, warm_cpu_s = time.perf_counter() - started, time.process_time() - cpu
    texts = corpus_stories(root)
    language.warm_up()
    stories = [(t.text, language.detect(t.text, hint=t.hint).language) for t in texts]
    rounds, cpu_rounds = [], []
    for _ in range(int(os.environ.get("WIREWATCH_BENCH_ROUNDS", "3"))):
        started, cpu = time.perf_counter(), time.process_time()
        for text, lang in stories:
            matcher.match(text, lang)
        rounds.append((time.perf_counter() - started) / len(stories) * 1000)
        cpu_rounds.append((time.process_time() - cpu) / len(stories) * 1000)
    emit(BENCH, "topics", len(codes), "topics")
    emit(BENCH, "compile_s", compile_s, "s")
    emit(BENCH, "compile_cpu_s", compile_cpu_s, "s")
    emit(BENCH, "warm_s", warm_s, "s")
    emit(BENCH, "warm_cpu_s", warm_cpu_s, "s")
    emit(BENCH, "match_ms_per_story", statistics.median(rounds), "ms")
    emit(BENCH, "match_cpu_ms_per_story", statistics.median(cpu_rounds), "ms")
    emit(BENCH, "filter_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MB")
    emit(BENCH, "patterns", matcher.pattern_count, "patterns")


if __name__ == "__main__":
    main()
