"""The asset as a fediverse post: the AS2 properties servers render as a status.

Servers differ on what they show (docs/renderers.md): Mastodon turns a `Page` into the name,
`content` (or `summary`) and the link; Misskey, Pleroma/Akkoma, GoToSocial and others show
`content` as the body and `summary` as a content warning. So the post carries its text in
`content` (and `contentMap`, with the language): the name as a link to the asset's page, the
summary, the place, the kind and the hashtags as links; and no `summary`, which would hide it.
The record's own summary and description live under their own terms (dct:abstract,
dct:description); `content` is built from them and never read back as data.
"""

from __future__ import annotations

import html
from typing import Any

from vocab.compound import hashtag_name, tag_segment
from vocab.concepts import label
from vocab.languages import languages_of, localised, plain_language
from vocab.record import AssetRecord


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def place_name(record: AssetRecord) -> str | None:
    """ "Barcelona, ES": the locality and country, for the post and the `Place`'s name."""
    where = record.location
    if where is None:
        return None
    parts = [p for p in (where.locality, where.region, where.country) if p]
    return ", ".join(parts) or None


def post_html(record: AssetRecord, url: str, tag_base: str, language: str) -> str:
    """The body of the post: escaped text, links only to the page and the node's tag pages."""
    link = html.escape(url, quote=True)
    paragraphs = [f'<p><a href="{link}">{_escape(record.name)}</a></p>']
    if record.summary:
        paragraphs.append(f"<p>{_escape(record.summary)}</p>")
    facts = [label("kinds", record.kind, language) or record.kind]
    where = place_name(record)
    if where:
        facts.append(where)
    paragraphs.append(f"<p>{_escape(' · '.join(facts))}</p>")
    tags = []
    for tag in record.tags:
        name = hashtag_name(tag)
        if name:
            href = html.escape(f"{tag_base.rstrip('/')}/{tag_segment(tag)}", quote=True)
            text = f"#<span>{_escape(name)}</span>"
            tags.append(f'<a href="{href}" class="mention hashtag" rel="tag">{text}</a>')
    if tags:
        paragraphs.append(f"<p>{' '.join(tags)}</p>")
    return "".join(paragraphs)


def post_properties(record: AssetRecord, url: str, tag_base: str, language: str) -> dict[str, Any]:
    """`content`, `contentMap` and `mediaType` of the post: one body per language the asset
    has texts in (vocab.languages), or the one body in the node's `language`. `content` is the
    body in the language of the untagged texts, so that servers taking the language from the
    first `contentMap` key and the text from `content` never mislabel it. The language-tagged
    copy is also what tells a reader that this `content` is a post, not a description
    (vocab.compound)."""
    main = plain_language(record, language)
    bodies = {
        tag: post_html(localised(record, tag, language, borrow=False).record, url, tag_base, tag)
        for tag in dict.fromkeys([main, *languages_of(record)])
    }
    return {"content": bodies[main], "contentMap": bodies, "mediaType": "text/html"}
