"""The partnership's navigation bar: each app adds its own items (in its AppConfig.ready)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.urls import reverse

from .roles import Perm


@dataclass(frozen=True)
class NavItem:
    label: str
    url_name: str
    perm: Perm
    order: int
    prefixes: tuple[str, ...]


_items: list[NavItem] = []


def register(
    label: str, url_name: str, perm: Perm, order: int, prefixes: tuple[str, ...] = ()
) -> None:
    """Add an item. It shows as the current page for its own URL and any URL that starts
    with one of `prefixes` (paths below /p/<slug>/, such as "partners/")."""
    _items.append(NavItem(label, url_name, perm, order, prefixes))


def items_for(request, membership) -> list[dict]:
    slug = request.partnership.slug
    base = f"/p/{slug}/"
    rest = request.path[len(base) :] if request.path.startswith(base) else None
    result = []
    for item in sorted(_items, key=lambda i: i.order):
        if not membership.can(item.perm):
            continue
        own = _path_below_partnership(item.url_name)
        url = base + own
        active = rest is not None and (
            rest == own
            or (own != "" and rest.startswith(own))
            or any(rest.startswith(p) for p in item.prefixes)
        )
        result.append({"label": item.label, "url": url, "active": active, "own": own})
    # Below two items' paths (breaches/ and breaches/figures/), the more specific is current.
    current = [entry for entry in result if entry["active"]]
    if len(current) > 1:
        keep = max(current, key=lambda entry: len(entry["own"]))
        for entry in current:
            entry["active"] = entry is keep
    return [{k: v for k, v in entry.items() if k != "own"} for entry in result]


_PLACEHOLDER = "partnership-slug-placeholder"


@cache
def _path_below_partnership(url_name: str) -> str:
    """The item's path after /p/<slug>/, reversed once per process."""
    return reverse(url_name, kwargs={"partnership_slug": _PLACEHOLDER}).split(
        f"/p/{_PLACEHOLDER}/", 1
    )[1]
