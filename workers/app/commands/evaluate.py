"""`wirewatch evaluate`: precision and recall of the topics and language accuracy on a labelled corpus set.

Reads the shared corpus in place (``--corpus``, default ``$WIREWATCH_CORPUS`` or ``../shared/corpus``), the labels
(``--labels``, default ``tests/fixtures/labels/corpus_stories.tsv``) and the topics of ``--config``; prints the
tables, or one JSON object with ``--json``. Needs no Kafka or Redis.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from workers.app.commands import add_config_option, config_dir
from workers.core.errors import ConfigError
from workers.settings import env

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_LABELS = ROOT / "tests" / "fixtures" / "labels" / "corpus_stories.tsv"
DEFAULT_SENTENCES = 100


def default_corpus() -> Path:
    return env.corpus_dir(ROOT.parent / "shared" / "corpus")


def run(args: argparse.Namespace) -> int:
    from workers.evaluation.corpus import corpus_stories, file_of, langid_sentences
    from workers.evaluation.scoring import evaluate, format_report, load_labels
    from workers.filter import language
    from workers.filter.matcher import Matcher
    from workers.filter.topics import load_topics

    # The corpus feeds are saved files without HTTP headers: feedparser's per-feed notes about that are noise here.
    logging.getLogger("workers.poller.parse").setLevel(logging.WARNING)
    corpus = Path(args.corpus) if args.corpus else default_corpus()
    label_set = load_labels(Path(args.labels))
    matcher = Matcher(load_topics(config_dir(args) / "topics.yaml"))
    language.warm_up()
    sentences = langid_sentences(corpus, args.sentences) if args.sentences > 0 else []
    # Only the files the labels name are read: a small label file evaluates in seconds.
    files = {file_of(story_id) for story_id in label_set.labels}
    stories = corpus_stories(corpus, files.__contains__)
    report = evaluate(stories, label_set, matcher, language.detect, sentences)
    multilingual = _multilingual(args, corpus, matcher) if args.multilingual else None
    if args.json:
        out = report.to_dict()
        if multilingual is not None:
            out["multilingual"] = multilingual[0]
        print(json.dumps(out, ensure_ascii=False))
    else:
        print(format_report(report))
        if multilingual is not None:
            print()
            print(multilingual[1])
    return 0


def _multilingual(args: argparse.Namespace, corpus: Path, matcher: Any) -> tuple[dict[str, Any], str]:
    """Precision and recall per topic and per language on the multilingual development set (the lingua-go
    sentences labelled by id, and the sentences written for it), for the topics it labels. The story language
    is the detected one, as in the filter."""
    from workers.evaluation import devset
    from workers.filter import language

    loaded, written = devset.load_all(corpus)
    names = [t.name for t in matcher.topics if t.name in loaded.topics]
    if not names:
        raise ConfigError(f"no topic of topics.yaml is labelled in the development set ({', '.join(loaded.topics)})")
    found = devset.score([*loaded.examples, *written], devset.matcher_function(matcher), names)
    detected = devset.score(
        [*loaded.examples, *written],
        lambda text, _language: set(matcher.match(text, language.detect(text).language)),
        names,
    ).labelled
    columns = [(t, [t]) for t in names]
    text = "\n".join(
        [
            f"== multilingual development set: {found.examples} examples, story language as detected",
            devset.format_table(detected, columns),
            "",
            "== the same with the labelled language",
            devset.format_table(found.labelled, columns),
        ]
    )
    return {"detected": detected.to_dict(), "labelled": found.labelled.to_dict()}, text


def register(sub: Any) -> None:
    p = sub.add_parser(
        "evaluate",
        help="precision/recall of the topics and language accuracy on the labelled corpus",
        description="Run the filter over the labelled corpus stories; print precision and recall per topic and "
        "per language, and language-detection accuracy per language.",
    )
    add_config_option(p)
    p.add_argument("--corpus", metavar="DIR", help="the shared corpus (default: $WIREWATCH_CORPUS or ../shared/corpus)")
    p.add_argument("--labels", metavar="TSV", default=str(DEFAULT_LABELS), help="label file (id, language, topics)")
    p.add_argument(
        "--sentences",
        type=int,
        default=DEFAULT_SENTENCES,
        metavar="N",
        help=f"lingua-go sentences per language for language accuracy (default {DEFAULT_SENTENCES}; 0: none)",
    )
    p.add_argument(
        "--multilingual",
        action="store_true",
        help="also precision and recall per topic and language on the multilingual development set",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)
