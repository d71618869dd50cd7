"""Organisations as this app needs them.

Organisation records and partner lists belong to `signatories`, which builds on this app and
plugs its functions in here at start-up (see signatories/registrations.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.dispatch import Signal

# Sent inside create_partnership's transaction, with partnership= and organisation=.
partnership_created = Signal()

_providers: dict[str, Callable[..., Any]] = {}


def provide(**functions: Callable[..., Any]) -> None:
    _providers.update(functions)


def partner_organisations(partnership) -> Any:
    """The organisations a member of this partnership may act for (a queryset)."""
    return _providers["partner_organisations"](partnership)


def all_organisations() -> Any:
    return _providers["all_organisations"]()


def create_organisation(name: str) -> Any:
    return _providers["create_organisation"](name=name)
