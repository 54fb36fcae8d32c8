"""The information sheet: Markdown rendered by markdown-it-py (raw HTML off), then sanitised by nh3, so
no sheet can put a script, a style or an event handler on a participant's phone. Never by hand."""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

# What a sheet may use: text structure, emphasis, lists, links, quotes, code, tables, rules.
_TAGS = {
    "a", "blockquote", "br", "code", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "ol", "p",
    "pre", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul", "del", "s",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}, "ol": {"start"}}


@lru_cache(maxsize=1)
def _markdown() -> MarkdownIt:
    # "commonmark" with raw HTML off: <script> in a sheet is shown as text, then nh3 checks the rest.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(["table", "strikethrough"])


@lru_cache(maxsize=256)
def render(text: str | None) -> str:
    """The sheet as safe HTML ("" for none). Links keep only http, https and mailto, and open with
    rel="noopener noreferrer"."""
    if not text:
        return ""
    html = _markdown().render(text)
    return nh3.clean(
        html,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
