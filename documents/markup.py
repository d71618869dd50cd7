"""Markdown written in the browser, turned into HTML that is safe to show and to freeze."""

from __future__ import annotations

import re

import markdown
import nh3

# Callers refuse a body longer than this before rendering it.
MAX_BODY_CHARS = 200_000

ALLOWED_TAGS = {
    "h2",
    "h3",
    "h4",
    "p",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "strong",
    "em",
    "a",
    "blockquote",
    "code",
    "pre",
    "br",
    "hr",
}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

# The document's title is its only h1, and h5/h6 read as h4: shift Markdown's levels to fit.
_HEADING_LEVELS = re.compile(r"<(/?)h([1-6])\b")
_LEVEL_MAP = {"1": "2", "2": "2", "3": "3", "4": "4", "5": "4", "6": "4"}


def _fit_heading(match: re.Match[str]) -> str:
    return f"<{match[1]}h{_LEVEL_MAP[match[2]]}"


def sanitise_html(html: str) -> str:
    """`html` with only what documents may hold: the tags in ALLOWED_TAGS, links with an http,
    https or mailto address (given rel="noopener"), no comments. Scripts, styles, event
    handlers and embedded frames are removed. Cleaning its own output changes nothing."""
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener",
        strip_comments=True,
    )


def render_markdown(text: str) -> str:
    """Markdown (with tables and sane lists) as sanitised HTML (see sanitise_html)."""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    return sanitise_html(_HEADING_LEVELS.sub(_fit_heading, html))
