"""Dashboard cards: each app registers the counts it owns (in its AppConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse

from .models import Membership, Partnership
from .roles import Perm


@dataclass(frozen=True)
class Card:
    label: str
    count: Callable[[Partnership, Membership], int]
    url_name: str
    perm: Perm
    order: int


_cards: list[Card] = []


def register(
    label: str,
    count: Callable[[Partnership, Membership], int],
    url_name: str,
    perm: Perm,
    order: int,
) -> None:
    _cards.append(Card(label, count, url_name, perm, order))


def cards_for(partnership: Partnership, membership: Membership) -> list[dict]:
    return [
        {
            "label": card.label,
            "count": card.count(partnership, membership),
            "url": reverse(card.url_name, kwargs={"partnership_slug": partnership.slug}),
        }
        for card in sorted(_cards, key=lambda c: c.order)
        if membership.can(card.perm)
    ]


register("People", lambda p, m: Membership.objects.count(), "tenancy:people", Perm.VIEW, 90)
