"""Which partnerships an organisation belongs to: their audit logs record its record's changes."""

from __future__ import annotations

from django_scopes import scopes_disabled

from tenancy.models import Partnership

from .models import Organisation, Partner


def partnerships_of(organisation: Organisation) -> list[Partnership]:
    """Every partnership the organisation is a partner of, whatever its status there."""
    with scopes_disabled():
        return list(
            Partnership.objects.filter(
                pk__in=Partner.objects.filter(organisation=organisation).values("partnership")
            )
        )
