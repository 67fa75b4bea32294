"""Content negotiation: one URL serves JSON-LD to machines and HTML to people.

The Accept header is parsed with its q-values (RFC 9110 §12.5.1); among the media types a
resource offers, the one the client prefers most wins, ties going to the resource's own order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from registry.core.errors import NotAcceptable

ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
AS_PROFILE = "https://www.w3.org/ns/activitystreams"
LD_JSON_AS = f'{LD_JSON}; profile="{AS_PROFILE}"'
HTML = "text/html"
JSON = "application/json"

#: What JSON-LD resources offer, in order of preference when the client does not mind.
JSONLD_TYPES = (ACTIVITY_JSON, LD_JSON, JSON)
PAGE_FIRST = (HTML, *JSONLD_TYPES)
DATA_FIRST = (*JSONLD_TYPES, HTML)


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float
    params: dict[str, str]

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact, 2 type/*, 1 */*), or 0 for none."""
        main, _, sub = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type != main:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str | None) -> list[MediaRange]:
    if not header or not header.strip():
        return [MediaRange("*", "*", 1.0, {})]
    ranges = []
    for part in header.split(",")[:50]:  # a bounded number of entries
        pieces = [p.strip() for p in part.split(";")]
        main, _, sub = pieces[0].lower().partition("/")
        if not main or not sub:
            continue
        q, params = 1.0, {}
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
            elif name:
                params[name] = value
        ranges.append(MediaRange(main, sub, q, params))
    return ranges


def choose(header: str | None, offered: tuple[str, ...]) -> str:
    """The offered media type the client accepts most, or NotAcceptable (406)."""
    chosen = _choose(header, offered)
    if chosen is None:
        raise NotAcceptable(
            f"this resource is available as {', '.join(offered)}; the Accept header "
            f"({header}) allows none of them"
        )
    return chosen


@functools.lru_cache(maxsize=512)  # clients send a few Accept headers, again and again
def _choose(header: str | None, offered: tuple[str, ...]) -> str | None:
    ranges = parse_accept(header)
    best: tuple[float, int, int] | None = None
    chosen = None
    for order, media_type in enumerate(offered):
        # The most specific range that matches decides this type's q (RFC 9110).
        matching = [(r.matches(media_type), r.q) for r in ranges if r.matches(media_type)]
        if not matching:
            continue
        _, q = max(matching)
        if q <= 0:
            continue
        score = (q, -order, 0)
        if best is None or score > best:
            best, chosen = score, media_type
    return chosen


def jsonld_content_type(header: str | None, chosen: str) -> str:
    """The Content-Type to answer with for a JSON-LD choice (ld+json keeps the AS profile)."""
    if chosen == LD_JSON:
        return LD_JSON_AS
    return chosen


def wants_html(header: str | None, offered: tuple[str, ...] = PAGE_FIRST) -> bool:
    return choose(header, offered) == HTML
