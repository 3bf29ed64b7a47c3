"""HTML to clean text: entities decoded, scripts and styles dropped, whitespace folded."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCK = {"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote", "section", "article"}
_SKIP = {"script", "style", "noscript", "template"}
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_NEWLINES = re.compile(r"\s*\n\s*")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and self._skip_depth:
            self._skip_depth -= 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Reduce HTML (or plain text with entities) to clean text; never raises on malformed markup."""
    if not markup:
        return ""
    if "<" not in markup:
        text = html.unescape(markup)
    else:
        parser = _TextExtractor()
        try:
            parser.feed(markup)
            parser.close()
        except Exception:  # HTMLParser is lenient, but a pathological input must not stop a feed
            return fold_whitespace(html.unescape(re.sub(r"<[^>]*>", " ", markup)))
        text = "".join(parser.parts)
    return fold_whitespace(text)


def fold_whitespace(text: str) -> str:
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()
