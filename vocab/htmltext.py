"""Plain text <-> the small HTML that ActivityStreams `summary` and `content` carry.

Records hold plain text only. Going out, text is escaped (AS2 `summary` and `content` are
HTML, so an unescaped `<` would be markup); coming in, HTML from any server is reduced back to
text the way a browser would show it, without ever keeping a tag.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCKS = frozenset(
    {
        "p",
        "div",
        "li",
        "ul",
        "ol",
        "blockquote",
        "pre",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "tr",
        "section",
        "article",
        "header",
        "footer",
    }
)
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def escape_text(text: str) -> str:
    """Plain text as HTML text (for AS2 `summary`)."""
    return html.escape(text, quote=False)


def paragraphs_html(text: str) -> str:
    """Plain text as escaped HTML paragraphs: blank lines split paragraphs, newlines are <br>."""
    paragraphs = [p.strip("\n") for p in _PARAGRAPH_BREAK.split(text)]
    return "".join(
        "<p>" + "<br>".join(escape_text(line) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p.strip()
    )


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0  # inside <script> or <style>, whose text is never shown

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(_SPACES.sub(" ", data))


def html_to_text(markup: str) -> str:
    """The text a reader would see in `markup`: tags dropped, entities decoded, blocks as
    paragraphs separated by a blank line and <br> as a newline."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    text = "".join(collector.parts)
    lines = [line.strip(" ") for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
