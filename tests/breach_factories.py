"""Breaches for the suite, logged as a DPO logs them: through services.log_breach, by a DPO
of the reporting organisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django_scopes import scope

from breaches import services
from breaches.models import BreachReport, Obligation, Recipient
from signatories.models import Partner
from tenancy.models import Partnership
from tenancy.roles import Role

from .factories import make_member, make_partner


def dpo_of(partner: Partner):
    """A DPO of the partner's organisation in its partnership (a new person)."""
    return make_member(partner.partnership, Role.DPO, organisation=partner.organisation).user


def make_breach(
    partnership: Partnership,
    *,
    by=None,
    reporting: Partner | None = None,
    detected: datetime | None = None,
    aware: datetime | None = None,
    involved: list[Partner] | None = None,
    agreements=(),
    protocol=None,
    **values,
) -> BreachReport:
    """A breach logged by `by` (a DPO of `reporting`, made when not given), detected two
    hours ago unless told otherwise, involving `involved` (and always the reporting partner)."""
    if by is None:
        reporting = reporting or make_partner(partnership)
        by = dpo_of(reporting)
    # Stored as the pages give them: in UTC (adding hours to a time in a UK zone would count
    # the hours on the wall clock).
    detected = (detected or timezone.now() - timedelta(hours=2)).astimezone(UTC)
    aware = aware.astimezone(UTC) if aware else None
    with scope(partnership=partnership):
        return services.log_breach(
            partnership,
            by=by,
            values={
                "title": "Visit notes e-mailed to the wrong care provider",
                "contact_name": "Ann Lee",
                "contact_email": "ann.lee@county.example",
                "detected_at": detected,
                "aware_at": aware or detected,
                "what_happened": "Notes for 14 adults were sent to the wrong provider.",
                **values,
            },
            agreements=agreements,
            protocol=protocol,
            involved=involved,
        )


def breach_records(partnership: Partnership) -> tuple[BreachReport, Obligation]:
    """The partnership's first breach and its ICO obligation: made on first use, reported by
    the partnership's first partner."""
    with scope(partnership=partnership):
        breach = BreachReport.objects.order_by("pk").first()
        if breach is None:
            reporting = Partner.objects.order_by("pk").first() or make_partner(partnership)
            breach = make_breach(partnership, reporting=reporting)
        ico = breach.obligations.get(recipient=Recipient.ICO)
    return breach, ico
