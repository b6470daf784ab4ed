"""Markdown to safe HTML for lessons, questions and lab instructions.

markdown-it-py renders CommonMark with tables and never passes raw HTML through (html=False); nh3
(the Ammonia sanitiser) then allows only the tags and attributes lessons need, as a second wall.
Internal links (lesson:, module:, lab:, track:, console:) are turned into site URLs by a resolver
the caller passes in, so this module knows nothing of routes.
"""
from __future__ import annotations

from typing import Callable

import nh3
from markdown_it import MarkdownIt

from academy.content.schema import INTERNAL_LINK

Resolver = Callable[[str, str], str | None]  # (kind, target) -> URL, or None when it does not resolve

ALLOWED_TAGS = {
    "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "img", "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
}
# No style attributes: the Content-Security-Policy blocks inline styles anyway.
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "code": {"class"}, "ol": {"start"}}
INTERNAL_SCHEMES = tuple(f"{kind}:" for kind in ("lesson", "module", "lab", "track", "console"))

# No typographer: it turns "(c)" into a copyright sign and "--" into a dash, which corrupts citations
# like "21 CFR 900.12(c)" and command-line options.
_parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_default_validate = _parser.validateLink
_parser.validateLink = lambda url: url.startswith(INTERNAL_SCHEMES) or _default_validate(url)


def render(text: str, resolve: Resolver | None = None, asset_url: Callable[[str], str] | None = None) -> str:
    """Render trusted-or-not Markdown to HTML that is safe to put in a page."""
    tokens = _parser.parse(text or "")
    for token in tokens:
        for child in token.children or ():
            if child.type == "link_open":
                href = child.attrGet("href") or ""
                if href.startswith(INTERNAL_SCHEMES):
                    kind, _, target = href.partition(":")
                    child.attrSet("href", (resolve(kind, target) if resolve else None) or "#missing-link")
            elif child.type == "image" and asset_url is not None:
                src = child.attrGet("src") or ""
                if "/" not in src and ":" not in src:
                    child.attrSet("src", asset_url(src))
    html = _parser.renderer.render(tokens, _parser.options, {})
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


def internal_links(text: str) -> list[tuple[str, str]]:
    return INTERNAL_LINK.findall(text or "")
