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
# Sent, with membership=, whenever a membership is made or given another organisation: the
# person is then to be verified for it (organisations decide who works for them, not forms).
member_acts_for = Signal()

_providers: dict[str, Callable[..., Any]] = {}


def provide(**functions: Callable[..., Any]) -> None:
    _providers.update(functions)


def partner_organisations(partnership) -> Any:
    """The organisations a member of this partnership may act for (a queryset)."""
    return _providers["partner_organisations"](partnership)


def all_organisations() -> Any:
    return _providers["all_organisations"]()


def create_organisation(name: str, created_by: Any) -> Any:
    """A brand-new organisation's record; its creator is the first person verified for it."""
    return _providers["create_organisation"](name=name, created_by=created_by)
