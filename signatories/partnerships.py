"""Which partnerships an organisation belongs to: their audit logs record its record's changes."""

from __future__ import annotations

from django_scopes import scope, scopes_disabled

from accord.kernel.context import acting
from tenancy.audit import log_action
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


def log_for_organisation(
    organisation: Organisation, action: str, summary: str, changes: dict, *, by=None
) -> None:
    """One audit entry in each partnership the organisation belongs to, made as `by` acting
    for it (someone outside a partnership is named there only as such: see tenancy.audit)."""
    with acting(user=by, organisation=organisation):
        for partnership in partnerships_of(organisation):
            with scope(partnership=partnership):
                log_action(partnership, action, summary, organisation, changes)
