"""Filter throughput and language accuracy over the corpus stories, side by side in one run.

Variants, each over the same stories (every story of the labelled corpus set, title + text, feed hints):

- ``stories_per_s``: the filter's per-story decision (``workers.filter.evaluate``: language with the feed's
  hint, then the shipped topics in one automaton pass, match event built);
- ``stories_per_s_1000_topics``: the same with 1,000 generated topics of 10 terms each on top of the shipped ones;
- ``langdetect_only_per_s``: our language step alone (``language.detect``: cleaned, capped langdetect);
- ``naive_per_s``: langdetect on the full text plus one compiled regex per term of the shipped topics
  (``\\b`` boundaries, case-insensitive), what one writes first.

Rounds alternate the variants (the machine is shared, so noise hits all of them alike); each figure is the
median over ``WIREWATCH_BENCH_ROUNDS`` rounds (default 3), except the naive filter's, which runs in the first
round only (it takes minutes: 400 regexes over a 2.4 MB story). Accuracy is measured once, on the labelled stories
plus 100 lingua-go sentences per language: ours (``language.detect``) against langdetect on the full text.
"""

from __future__ import annotations

import logging
import os
import random
import re
import statistics
import time
import warnings
from collections.abc import Callable, Sequence

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from tests.bench import emit
from tests.support import ROOT, corpus_dir
from workers import filter as filter_stage
from workers import language
from workers.corpus import CorpusText, corpus_stories, langid_sentences
from workers.matching import Matcher
from workers.stories import Story
from workers.topics import Topic, load_topics

BENCH = "filter"
GENERATED_TOPICS = 1000
TERMS_PER_TOPIC = 10
SENTENCES_PER_LANGUAGE = 100


def _stories(texts: Sequence[CorpusText]) -> list[Story]:
    # The corpus text is title + body already; the filter joins title and text, so the body goes in text.
    return [
        Story(id=t.id, feed="corpus", feed_url="", title="", link="", text=t.text, language_hint=t.hint) for t in texts
    ]


def generated_topics(texts: Sequence[CorpusText], count: int, per_topic: int) -> list[Topic]:
    """``count`` topics of ``per_topic`` real words from the corpus, in many scripts; some prefix and two-word."""
    rng = random.Random(42)
    words = sorted({w for t in texts for w in re.findall(r"\w{4,}", t.text[:2000]) if not w.isdigit()})
    topics = []
    for i in range(count):
        terms: list[str] = []
        for _ in range(per_topic):
            roll = rng.random()
            if roll < 0.2:
                terms.append(f"{rng.choice(words)} {rng.choice(words)}")
            elif roll < 0.3:
                terms.append(rng.choice(words)[:5] + "*")
            else:
                terms.append(rng.choice(words))
        topics.append(Topic(f"gen-{i}", terms=tuple(dict.fromkeys(terms))))
    return topics


class NaiveFilter:
    """langdetect on the full text and one regex per term: the baseline."""

    def __init__(self, topics: Sequence[Topic]) -> None:
        self.factory = _full_text_factory()
        self.rules = [(topic.name, [_regex(t) for t in topic.terms]) for topic in topics]

    def detect(self, text: str) -> str:
        try:
            detector = self.factory.create()
            detector.append(text)
            return str(detector.detect()).split("-")[0]
        except LangDetectException:
            return "und"

    def __call__(self, text: str) -> tuple[str, list[str]]:
        lang = self.detect(text)
        return lang, [name for name, regexes in self.rules if any(r.search(text) for r in regexes)]


def _regex(term: str) -> re.Pattern[str]:
    prefix = term.endswith("*")
    return re.compile(r"\b" + re.escape(term.rstrip("*")) + ("" if prefix else r"\b"), re.IGNORECASE)


def _full_text_factory() -> DetectorFactory:
    DetectorFactory.seed = 0
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0
    return factory


def _rate(run: Callable[[], object], n: int) -> float:
    started = time.perf_counter()
    run()
    return n / (time.perf_counter() - started)


def main() -> None:
    logging.disable(logging.INFO)
    warnings.simplefilter("ignore", DeprecationWarning)
    root = corpus_dir()
    if not (root / "MANIFEST.tsv").is_file():
        print(f"bench filter: corpus not found at {root} (set WIREWATCH_CORPUS)")
        return
    texts = corpus_stories(root)
    stories = _stories(texts)
    shipped = load_topics(ROOT / "config" / "topics.yaml")
    matcher = Matcher(shipped)
    big = Matcher([*shipped, *generated_topics(texts, GENERATED_TOPICS, TERMS_PER_TOPIC)])
    naive = NaiveFilter(shipped)
    language.warm_up()
    n = len(stories)
    variants: dict[str, Callable[[], object]] = {
        "stories_per_s": lambda: [filter_stage.evaluate(s, matcher) for s in stories],
        "stories_per_s_1000_topics": lambda: [filter_stage.evaluate(s, big) for s in stories],
        "langdetect_only_per_s": lambda: [language.detect(s.text, hint=s.language_hint) for s in stories],
        "naive_per_s": lambda: [naive(s.text) for s in stories],
    }
    rounds = int(os.environ.get("WIREWATCH_BENCH_ROUNDS", "3"))
    rates: dict[str, list[float]] = {k: [] for k in variants}
    for round_no in range(rounds):
        for name, run in variants.items():
            if name == "naive_per_s" and round_no > 0:
                continue
            rates[name].append(_rate(run, n))
    median = {k: statistics.median(v) for k, v in rates.items()}
    for name, value in median.items():
        emit(BENCH, name, value, "stories/s")
    emit(BENCH, "overhead_vs_langdetect", median["langdetect_only_per_s"] / median["stories_per_s"] - 1, "ratio")
    emit(BENCH, "speedup_vs_naive", median["stories_per_s"] / median["naive_per_s"], "x")

    labelled = [t for t in texts if t.language] + langid_sentences(root, SENTENCES_PER_LANGUAGE)
    ours = sum(language.detect(t.text, hint=t.hint).language == t.language for t in labelled)
    full = sum(naive.detect(t.text) == t.language for t in labelled)
    emit(BENCH, "language_accuracy", ours / len(labelled), "ratio")
    emit(BENCH, "langdetect_full_text_accuracy", full / len(labelled), "ratio")
    emit(BENCH, "labelled_texts", len(labelled), "texts")


if __name__ == "__main__":
    main()
