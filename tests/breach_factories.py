"""Breaches for the suite, logged as a DPO logs them (through services.log_breach, by a DPO
of the reporting organisation), and moved along through their service functions (partners
told, assessed, the ICO told), so a test reads as the DPO's day."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from django.test import TestCase
from django.utils import timezone
from django_scopes import scope

from accounts.models import User
from breaches import services
from breaches.models import Assessment, BreachReport, Obligation, Recipient
from breaches.times import uk_moment
from signatories.models import Organisation, Partner
from tenancy.models import Partnership
from tenancy.roles import Role

from .factories import OrganisationFactory, make_member, make_partner


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


# --- A breach's journey ----------------------------------------------------------------


def uk(year: int, month: int, day: int, hour: int, minute: int = 0, offset: str = "") -> datetime:
    """The UTC instant of a UK date and time, such as uk(2026, 7, 1, 0, 30) (BST)."""
    return uk_moment(date(year, month, day), time(hour, minute), offset)


def partner(partnership: Partnership, name: str, **fields) -> Partner:
    """An active partner whose organisation is called `name`."""
    return make_partner(partnership, OrganisationFactory(name=name, **fields))


def dpo_at(partnership: Partnership, organisation: Organisation) -> User:
    """A data protection officer acting for the organisation, verified for it."""
    return make_member(partnership, Role.DPO, organisation=organisation).user


def member_of(partnership: Partnership, organisation: Organisation, *roles: Role) -> User:
    return make_member(partnership, *roles, organisation=organisation).user


def log_breach(
    partnership: Partnership,
    dpo: User,
    *,
    detected: datetime,
    aware: datetime | None = None,
    involved: list[Partner] | None = None,
    **values,
) -> BreachReport:
    """The DPO logs a breach for their own organisation, involving these partners."""
    values.setdefault("contact_email", "ann.lee@essex.gov.example")
    values.setdefault("what_happened", "Notes on 14 adults were e-mailed to the wrong provider.")
    made = make_breach(
        partnership, by=dpo, detected=detected, aware=aware, involved=involved, **values
    )
    return refreshed(made)


def obligation(breach: BreachReport, recipient: str, organisation: Organisation | None = None):
    with scope(partnership=breach.partnership):
        found = Obligation.objects.filter(breach=breach, recipient=recipient)
        if organisation is not None:
            found = found.filter(involved__partner__organisation=organisation)
        return found.get()


def tell_partners(breach: BreachReport, dpo: User, late_reason: str = "") -> int:
    """Every involved partner not yet told is e-mailed now, from Accord."""
    with scope(partnership=breach.partnership), TestCase.captureOnCommitCallbacks(execute=True):
        return services.tell_partners(breach, by=dpo, late_reason=late_reason)


def told_partner(
    breach: BreachReport,
    dpo: User,
    organisation: Organisation,
    *,
    hours: float,
    method: str = "Telephone",
) -> Obligation:
    """The partner was told `hours` after detection, another way (a late one with a reason)."""
    due = obligation(breach, Recipient.PARTNER, organisation)
    with scope(partnership=breach.partnership):
        return services.record_told(
            due,
            by=dpo,
            at=breach.detected_at + timedelta(hours=hours),
            method=method,
            late_reason="The partner's duty line was closed." if hours > 48 else "",
        )


def assess(
    breach: BreachReport,
    dpo: User,
    assessment: str = Assessment.NOTIFIABLE,
    *,
    likelihood: str = "likely",
    severity: str = "significant",
    reason: str = "Health details of vulnerable adults reached a provider not caring for them.",
) -> BreachReport:
    with scope(partnership=breach.partnership):
        services.assess(
            breach,
            by=dpo,
            likelihood=likelihood,
            severity=severity,
            assessment=assessment,
            reason=reason,
        )
    return refreshed(breach)


def told_ico(
    breach: BreachReport,
    dpo: User,
    *,
    hours: float,
    case_reference: str = "IC-123456-A1B2",
    late_reason: str = "The scale was known only after the provider's audit.",
) -> Obligation:
    """The ICO was told through its online form `hours` after awareness."""
    due = obligation(breach, Recipient.ICO)
    with scope(partnership=breach.partnership):
        return services.record_told(
            due,
            by=dpo,
            at=breach.aware_at + timedelta(hours=hours),
            method="ICO online form",
            case_reference=case_reference,
            late_reason=late_reason if hours > 72 else "",
        )


def refreshed(breach: BreachReport) -> BreachReport:
    with scope(partnership=breach.partnership):
        return BreachReport.objects.select_related(
            "partnership", "reporting_partner__organisation", "lead_partner__organisation"
        ).get(pk=breach.pk)
