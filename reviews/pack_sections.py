"""Sections other apps add to the steering group's annual review pack (`reviews.pack`),
without reviews importing them: an app above reviews (breaches) registers a provider here.

A provider is called as `provider(partnership, start, end, membership)` inside the
partnership's scope, for the period from `start` to `end` (UK dates, both included), and
returns a `PackSection` of plain-text rows (the page and the PDF escape them), or None when
the member may not see it. It decides itself what the member may see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from tenancy.models import Membership, Partnership


@dataclass(frozen=True)
class PackSection:
    title: str
    summary: str
    headings: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str = "None in the period."
    note: str = ""


Provider = Callable[[Partnership, date, date, Membership | None], PackSection | None]

_providers: list[tuple[int, str, Provider]] = []


def register(provider: Provider, *, position: int = 50) -> Provider:
    """Add a section (once, however often its module is imported); lower positions first."""
    name = f"{provider.__module__}.{provider.__qualname__}"
    _providers[:] = [p for p in _providers if p[1] != name]
    _providers.append((position, name, provider))
    _providers.sort(key=lambda p: (p[0], p[1]))
    return provider


def sections(
    partnership: Partnership, start: date, end: date, membership: Membership | None
) -> list[PackSection]:
    found = []
    for _position, _name, provider in _providers:
        section = provider(partnership, start, end, membership)
        if section is not None:
            found.append(section)
    return found
