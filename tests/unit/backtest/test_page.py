"""The --html page: self-contained (nothing to fetch), every story text escaped, one chart per topic."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.unit.backtest.test_summary import context, record
from workers.backtest.engine import match_records
from workers.backtest.page import render
from workers.backtest.report import document
from workers.backtest.summary import HOUR_MS
from workers.backtest.window import Window


class Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def page(*titles: str) -> str:
    records = [record(f"s{i}", t, i * HOUR_MS) for i, t in enumerate(titles)]
    doc = document(
        match_records(context(), records),
        stories_topic="w.stories",
        window=Window(),
        candidate_file="cand.yaml",
        running_file="config/topics.yaml",
        candidate=("kp", "ru"),
        running=("kp", "ru"),
        changed=frozenset({"kp", "ru"}),
        reported=("kp", "ru"),
        records=len(records),
        outside=0,
        seconds=1.0,
        workers=1,
    )
    return render(doc)


def test_nothing_to_fetch_and_one_chart_per_topic() -> None:
    html = page("Pyongyang says", "North Korea fires", "Russia football")
    parser = Collect()
    parser.feed(html)
    tags = [t for t, _a in parser.tags]
    assert "script" not in tags and "link" not in tags and "img" not in tags and "iframe" not in tags
    assert tags.count("svg") == 2
    for _tag, attrs in parser.tags:
        for name in ("src", "href"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (name, value)
    assert not re.search(r"url\(|@import", html)


def test_story_text_is_escaped() -> None:
    html = page('Pyongyang <script>alert(1)</script> "quoted" & more')
    assert "<script>" not in html
    assert "Pyongyang &lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot; &amp; more" in html
