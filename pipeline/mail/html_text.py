"""Readable text from an HTML body, for mail that has no plain-text part.

inscriptis lays out tables, lists and block quotes as text and never runs scripts or
fetches anything. When lxml cannot build a tree at all (empty or binary "HTML"), the
standard library's tolerant ``HTMLParser`` keeps at least the words.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

CONFIG = ParserConfig(css=CSS_PROFILES["strict"], display_links=False)
SKIPPED_TAGS = frozenset({"script", "style", "head", "title"})
BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        self.skipping += tag in SKIPPED_TAGS
        if tag in {"br", "p", "div", "tr", "li"}:
            self.chunks.append("\n")

    def handle_endtag(self, tag):
        self.skipping -= tag in SKIPPED_TAGS and self.skipping > 0

    def handle_data(self, data):
        if not self.skipping:
            self.chunks.append(data)


def _fallback_text(html: str) -> str:
    parser = _Words()
    parser.feed(html)
    parser.close()
    return "".join(parser.chunks)


def html_to_text(html: str) -> str:
    """The text of ``html``, laid out for reading; empty for empty input."""
    if not html.strip():
        return ""
    # lxml refuses str input that carries an XML encoding declaration.
    html = re.sub(r"^\s*<\?xml[^>]*\?>", "", html)
    try:
        text = get_text(html, CONFIG)
    except Exception:  # lxml raises several unrelated types on hopeless input
        text = _fallback_text(html)
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
