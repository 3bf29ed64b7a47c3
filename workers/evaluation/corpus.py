"""Stories and sentences of the shared real-world corpus, read in place (the corpus is never copied here).

Every item gets a corpus-relative id that labels can name without holding any of its text:

- ``seed/ani-kim-russia-visit.hi.txt`` - the seed story;
- ``articles/fundus/de_DW.json#V2`` - one fundus article (title + summary + section headlines and paragraphs);
- ``articles/newspaper4k/txt_hindi_article.txt`` - one newspaper4k text (title from its metadata file if any);
- ``feeds/Feeder/rss_lemonde.xml#7`` - the 8th entry of a feed, parsed by the poller's own ``feeds.parse``;
- ``langid/lingua-go/sentences_hi.txt#12`` - the 13th line of a lingua-go sentence file.

The language of a story is the one ``MANIFEST.tsv`` gives its file, when it gives a single language; a feed
entry inherits its feed's language and the feed's declared language becomes the story's hint, as in the poller.
"""

from __future__ import annotations

import csv
import gzip
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.core.errors import WirewatchError
from workers.poller.fetch import Fetched
from workers.poller.parse import parse
from workers.settings.config import Feed

logger = logging.getLogger(__name__)

SEED = "seed/ani-kim-russia-visit.hi.txt"
_SINGLE_LANGUAGE = re.compile(r"[a-z]{2,3}(?:-[A-Za-z]{2})?")


@dataclass(frozen=True)
class CorpusText:
    id: str  # corpus-relative, see the module docstring
    text: str  # title and body, as the filter sees a story
    language: str | None  # from MANIFEST.tsv (None when mixed or unknown)
    hint: str | None = None  # the feed's declared language, as the poller passes it on


def manifest_languages(root: Path) -> dict[str, str]:
    """Corpus path -> ISO 639-1 code, for the files MANIFEST.tsv gives a single language."""
    out: dict[str, str] = {}
    with (root / "MANIFEST.tsv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            code = (row.get("language(s)") or "").strip()
            if _SINGLE_LANGUAGE.fullmatch(code):
                out[row["path"]] = code.split("-")[0].lower()
    return out


def _join(*parts: str) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


def _fundus_text(article: dict[str, Any]) -> str:
    body = article.get("body") or {}
    parts = [str(article.get("title") or ""), *[str(s) for s in body.get("summary") or []]]
    for section in body.get("sections") or []:
        parts += [str(s) for s in section.get("headline") or []]
        parts += [str(s) for s in section.get("paragraphs") or []]
    return _join(*parts)


Wanted = Callable[[str], bool]  # which corpus files (relative paths) to read


def _articles(root: Path, languages: dict[str, str], wanted: Wanted) -> Iterator[CorpusText]:
    for path in sorted((root / "articles" / "fundus").glob("*.json")):
        rel = str(path.relative_to(root))
        if not wanted(rel):
            continue
        for key, article in json.loads(path.read_text(encoding="utf-8")).items():
            yield CorpusText(f"{rel}#{key}", _fundus_text(article), languages.get(rel))
    for path in sorted((root / "articles" / "newspaper4k").glob("txt_*.txt")):
        rel = str(path.relative_to(root))
        if not wanted(rel):
            continue
        meta = path.with_name(path.name.replace("txt_", "metadata_", 1).replace(".txt", ".json"))
        title = str(json.loads(meta.read_text(encoding="utf-8")).get("title") or "") if meta.is_file() else ""
        yield CorpusText(rel, _join(title, path.read_text(encoding="utf-8")), languages.get(rel))


def _feed_entries(root: Path, languages: dict[str, str], wanted: Wanted) -> Iterator[CorpusText]:
    for path in sorted(p for p in (root / "feeds").rglob("*") if p.is_file()):
        rel = str(path.relative_to(root))
        if not wanted(rel):
            continue
        body = path.read_bytes()
        if body[:2] == b"\x1f\x8b":  # two node-feedparser files are raw gzip, as a server would send them
            body = gzip.decompress(body)
        url = path.as_uri()
        try:
            stories = parse(Feed(name="corpus", url=url), Fetched(200, body, {}, url))
        except WirewatchError as exc:  # JSON Feed and a deliberately broken feed: the poller skips them too
            logger.debug("corpus feed skipped path=%s reason=%s", rel, exc)
            continue
        for index, story in enumerate(stories):
            text = _join(story.title, story.text)
            yield CorpusText(f"{rel}#{index}", text, languages.get(rel), story.language_hint)


def corpus_stories(root: Path, files: Wanted | None = None) -> list[CorpusText]:
    """The seed, every article and every entry of every parseable feed of the corpus at ``root``; only those of
    the files ``files`` accepts (corpus-relative paths) when given, since parsing every feed takes seconds."""
    if not (root / "MANIFEST.tsv").is_file():
        raise WirewatchError(f"no corpus at {root} (MANIFEST.tsv missing; set WIREWATCH_CORPUS or --corpus)")
    wanted: Wanted = files or (lambda _rel: True)
    languages = manifest_languages(root)
    seed = [CorpusText(SEED, (root / SEED).read_text(encoding="utf-8"), "hi")] if wanted(SEED) else []
    return [*seed, *_articles(root, languages, wanted), *_feed_entries(root, languages, wanted)]


def file_of(story_id: str) -> str:
    """The corpus file a story id names: ``feeds/x.xml#3`` -> ``feeds/x.xml``."""
    return story_id.split("#", 1)[0]


def langid_sentences(root: Path, per_language: int) -> list[CorpusText]:
    """The first ``per_language`` sentences of each lingua-go sentence file, labelled with its language."""
    out: list[CorpusText] = []
    for path in sorted((root / "langid" / "lingua-go").glob("sentences_*.txt")):
        rel = str(path.relative_to(root))
        code = path.stem.removeprefix("sentences_")
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
        kept = [(i, line) for i, line in enumerate(lines) if line][:per_language]
        out += [CorpusText(f"{rel}#{i}", line, code) for i, line in kept]
    return out
