"""A breach's journey for the tests: a real DPO logs it through services.log_breach, then
tells the partners, assesses it and records who was told when, each through its service
function, so a test reads as the DPO's day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.test import TestCase
from django_scopes import scope

from accounts.models import User
from breaches import services
from breaches.models import Assessment, BreachReport, Obligation, Recipient
from breaches.times import uk_moment
from signatories.models import Organisation, Partner
from tenancy.models import Partnership
from tenancy.roles import Role

from .factories import OrganisationFactory, make_member, make_partner


def uk(year: int, month: int, day: int, hour: int, minute: int = 0, offset: str = "") -> datetime:
    """The UTC instant of a UK date and time, such as uk(2026, 7, 1, 0, 30) (BST)."""
    return uk_moment(date(year, month, day), time(hour, minute), offset)


def partner(partnership: Partnership, name: str, **fields) -> Partner:
    """An active partner whose organisation is called `name`."""
    return make_partner(partnership, OrganisationFactory(name=name, **fields))


def dpo_of(partnership: Partnership, organisation: Organisation) -> User:
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
    with scope(partnership=partnership):
        breach = services.log_breach(
            partnership,
            by=dpo,
            values={
                "title": "Visit notes e-mailed to the wrong care provider",
                "contact_name": "Ann Lee",
                "contact_email": "ann.lee@essex.gov.example",
                "detected_at": detected,
                "aware_at": aware or detected,
                "what_happened": "Notes on 14 adults were e-mailed to the wrong provider.",
                **values,
            },
            involved=involved,
        )
        return BreachReport.objects.select_related(
            "partnership", "reporting_partner__organisation", "lead_partner__organisation"
        ).get(pk=breach.pk)


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
