"""Helpers that prepare a frozen document for the PDF template: contents, dates, CSS text."""

from __future__ import annotations

import datetime
import html
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")

_H2 = re.compile(r"<h2(?P<attrs>\s[^>]*)?>(?P<inner>.*?)</h2\s*>", re.IGNORECASE | re.DOTALL)
_ID = re.compile(r"""\bid\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s>]+))""", re.I)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Heading:
    id: str
    text: str


def _id_of(attrs: str) -> str:
    match = _ID.search(attrs)
    return (match["dq"] or match["sq"] or match["bare"] or "") if match else ""


def number_headings(body: str) -> tuple[str, list[Heading]]:
    """The body with an id on every h2 that lacks one, and the h2s in order for the contents."""
    taken = {_id_of(m[0]) for m in re.finditer(r"<[^>]+>", body)} - {""}
    headings: list[Heading] = []

    def visit(match: re.Match[str]) -> str:
        attrs = match["attrs"] or ""
        heading_id = _id_of(attrs)
        if not heading_id:
            number = len(headings) + 1
            heading_id = f"section-{number}"
            while heading_id in taken:
                number += 1
                heading_id = f"section-{number}"
            taken.add(heading_id)
            attrs = f' id="{heading_id}"{attrs}'
        text = " ".join(html.unescape(_TAG.sub("", match["inner"])).split())
        headings.append(Heading(id=heading_id, text=text))
        return f"<h2{attrs}>{match['inner']}</h2>"

    return _H2.sub(visit, body), headings


def css_string(value: str) -> str:
    """`value` escaped to sit between double quotes in CSS (and inside a <style> element).

    Each escape ends with the one space CSS swallows after a hex escape.
    """
    return "".join(
        ch if ch.isalnum() or ch in " .,-" else f"\\{ord(ch):06x} " for ch in value.strip()
    )


def uk_date(value: datetime.date | None) -> str:
    return f"{value.day} {value:%B %Y}" if value else ""


def _aware(value: datetime.datetime) -> datetime.datetime:
    return value if value.tzinfo else value.replace(tzinfo=datetime.UTC)


def uk_day(value: datetime.datetime) -> datetime.date:
    """The day the moment falls on in the UK."""
    return _aware(value).astimezone(UK).date()


def uk_time(value: datetime.datetime) -> str:
    """'1 April 2026, 10:15 BST': the moment in UK time."""
    local = _aware(value).astimezone(UK)
    return f"{local.day} {local:%B %Y, %H:%M:%S %Z}"


def utc_iso(value: datetime.datetime) -> str:
    """'2026-04-01T09:15:00Z': the moment in UTC, ISO 8601."""
    return _aware(value).astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
