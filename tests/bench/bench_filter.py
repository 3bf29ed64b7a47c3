"""Filter throughput and language accuracy over the corpus stories, side by side in one run.

Every story of the labelled corpus set (title + text, with its feed's language hint) goes through, in one loop,
each step timed on its own so that the machine's noise (it is shared) falls on all of them alike:

- ``language.detect`` (our language step: cleaned, capped langdetect, scripts decided without it);
- ``Matcher.match`` with the shipped topics (normalisation, one automaton pass, rules, snippets);
- ``Matcher.match`` with 1,000 generated topics of 10 terms each on top of the shipped ones; the terms are real
  corpus words and pairs found in at most 1% of the stories (topic terms are specific: names, places), and
  as a worst case (``..._common_words``) words of any frequency ("that", "with", "nach"...), where hundreds of
  topics match every story;
- in the first round only, the naive filter: langdetect on the full text plus one regex per term of the shipped
  topics (``\\b`` boundaries, case-insensitive), what one writes first; it takes minutes.

Figures: ``langdetect_only_per_s`` = stories / time of detect; ``stories_per_s`` = stories / (detect + match);
``overhead_vs_langdetect`` = match time / detect time; each the median over ``WIREWATCH_BENCH_ROUNDS`` rounds
(default 3). Accuracy, measured once on the labelled stories plus 100 lingua-go sentences per language: ours
(``language.detect`` with the hint) against langdetect on the full text.
"""

from __future__ import annotations

import logging
import os
import random
import re
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from tests.bench import emit
from tests.support import ROOT, corpus_dir
from workers.evaluation.corpus import CorpusText, corpus_stories, langid_sentences
from workers.filter import language
from workers.filter.matcher import Matcher
from workers.filter.topics import Topic, load_topics

BENCH = "filter"
GENERATED_TOPICS = 1000
TERMS_PER_TOPIC = 10
SENTENCES_PER_LANGUAGE = 100


def generated_topics(texts: Sequence[CorpusText], count: int, per_topic: int, max_df: float) -> list[Topic]:
    """``count`` topics of ``per_topic`` real corpus words found in at most ``max_df`` of the stories (many
    scripts); a fifth of the terms are two-word phrases and a tenth prefix terms."""
    rng = random.Random(42)
    df: Counter[str] = Counter()
    for t in texts:
        df.update({w for w in re.findall(r"\w{4,}", t.text[:5000]) if not w.isdigit()})
    words = sorted(w for w, n in df.items() if n <= max_df * len(texts))
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


def _timed_round(texts: Sequence[CorpusText], matchers: dict[str, Matcher], naive: NaiveFilter | None) -> Counter[str]:
    """Seconds spent per step over all texts, the steps of one story run back to back."""
    spent: Counter[str] = Counter()
    clock = time.perf_counter
    for t in texts:
        started = clock()
        det = language.detect(t.text, hint=t.hint)
        spent["detect"] += clock() - started
        for name, matcher in matchers.items():
            started = clock()
            matcher.match(t.text, det.language)
            spent[name] += clock() - started
        if naive is not None:
            started = clock()
            naive(t.text)
            spent["naive"] += clock() - started
    return spent


def main() -> None:
    logging.disable(logging.INFO)
    warnings.simplefilter("ignore", DeprecationWarning)
    root = corpus_dir()
    if not (root / "MANIFEST.tsv").is_file():
        print(f"bench filter: corpus not found at {root} (set WIREWATCH_CORPUS)")
        return
    texts = corpus_stories(root)
    shipped = load_topics(ROOT / "config" / "topics.yaml")
    matchers = {
        "shipped": Matcher(shipped),
        "1000": Matcher([*shipped, *generated_topics(texts, GENERATED_TOPICS, TERMS_PER_TOPIC, max_df=0.01)]),
        "1000_common": Matcher([*shipped, *generated_topics(texts, GENERATED_TOPICS, TERMS_PER_TOPIC, max_df=1.0)]),
    }
    naive = NaiveFilter(shipped)
    language.warm_up()
    n = len(texts)
    rounds = [
        _timed_round(texts, matchers, naive if i == 0 else None)
        for i in range(int(os.environ.get("WIREWATCH_BENCH_ROUNDS", "3")))
    ]

    def median(f: Callable[[Counter[str]], float]) -> float:
        return statistics.median(f(r) for r in rounds)

    emit(BENCH, "stories_per_s", median(lambda r: n / (r["detect"] + r["shipped"])), "stories/s")
    emit(BENCH, "stories_per_s_1000_topics", median(lambda r: n / (r["detect"] + r["1000"])), "stories/s")
    emit(
        BENCH,
        "stories_per_s_1000_topics_common_words",
        median(lambda r: n / (r["detect"] + r["1000_common"])),
        "stories/s",
    )
    emit(BENCH, "langdetect_only_per_s", median(lambda r: n / r["detect"]), "stories/s")
    naive_per_s = n / rounds[0]["naive"]
    emit(BENCH, "naive_per_s", naive_per_s, "stories/s")
    emit(BENCH, "overhead_vs_langdetect", median(lambda r: r["shipped"] / r["detect"]), "ratio")
    emit(BENCH, "overhead_vs_langdetect_1000_topics", median(lambda r: r["1000"] / r["detect"]), "ratio")
    emit(BENCH, "match_ms_per_story", median(lambda r: r["shipped"] / n * 1000), "ms")
    emit(BENCH, "speedup_vs_naive", n / (rounds[0]["detect"] + rounds[0]["shipped"]) / naive_per_s, "x")

    labelled = [t for t in texts if t.language] + langid_sentences(root, SENTENCES_PER_LANGUAGE)
    ours = sum(language.detect(t.text, hint=t.hint).language == t.language for t in labelled)
    full = sum(naive.detect(t.text) == t.language for t in labelled)
    emit(BENCH, "language_accuracy", ours / len(labelled), "ratio")
    emit(BENCH, "langdetect_full_text_accuracy", full / len(labelled), "ratio")
    emit(BENCH, "labelled_texts", len(labelled), "texts")


if __name__ == "__main__":
    main()
