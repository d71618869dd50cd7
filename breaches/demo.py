"""Demo breaches for `manage.py seed_demo`: runs after agreements.demo.

In the Wider Eastern Information Stakeholder Forum ("weisf"), under its reablement review
agreement (Essex County Council and Essex Cares Ltd), three breaches logged by Essex Cares'
DPO, so that the breach log shows its clocks live:

- detected six hours ago: the county council still to be told (42 hours left), the ICO's 72
  hours running;
- detected 50 hours ago and the county council never told: overdue (the sweep tells the lead
  organisation and the administrators once);
- detected three weeks ago: the council told by telephone after 5 hours, both agreed it was
  notifiable, the ICO told after 40 hours with its case reference; closed.

Times are relative to when the demo is seeded. Everything goes through breaches.services, as
the pages do; a breach whose title exists already is left alone. The facts are invented.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_scopes import scope

from accord.kernel.context import acting
from agreements.models import Agreement
from tenancy.models import Membership, Partnership

from . import services
from .models import Assessment, BreachReport, InvolvedPartner, Obligation, Recipient, View

AGREEMENT = "WEISF-ISA-001"
RUNNING = "Visit schedule e-mailed to the wrong care provider"
OVERDUE = "Reablement referral list left on a shared drive open to all staff"
CLOSED = "Laptop with unencrypted assessment notes stolen from a car"


def seed() -> str:
    partnership = Partnership.objects.filter(slug="weisf").first()
    if partnership is None:
        return ""
    with scope(partnership=partnership):
        agreement = Agreement.objects.filter(reference=AGREEMENT).order_by("-version").first()
        dpo = (
            Membership.objects.filter(is_dpo=True, organisation__name="Essex Cares Ltd")
            .select_related("user", "organisation")
            .first()
        )
        if agreement is None or dpo is None:
            return ""
        added = 0
        with acting(user=dpo.user, organisation=dpo.organisation):
            for title, plan in ((RUNNING, _running), (OVERDUE, _overdue), (CLOSED, _closed)):
                if not BreachReport.objects.filter(title=title).exists():
                    plan(partnership, agreement, dpo.user)
                    added += 1
    return f"Added {added} breach{'es' if added != 1 else ''}." if added else ""


def progress() -> str:
    partnership = Partnership.objects.filter(slug="weisf").first()
    if partnership is None:
        return ""
    with scope(partnership=partnership):
        open_count = BreachReport.objects.filter(status="open").count()
        closed = BreachReport.objects.filter(status="closed").count()
    return f"Breaches: Essex forum {open_count} open, {closed} closed"


def _log(partnership, agreement, by, *, title: str, hours_ago: float, **values):
    detected = timezone.now() - timedelta(hours=hours_ago)
    return services.log_breach(
        partnership,
        by=by,
        values={
            "title": title,
            "contact_name": by.full_name,
            "contact_email": by.email,
            "detected_at": detected,
            "aware_at": detected,
            **values,
        },
        agreements=[agreement],
    )


def _running(partnership, agreement, by) -> None:
    _log(
        partnership,
        agreement,
        by,
        title=RUNNING,
        hours_ago=6,
        what_happened="A week's visit schedule for 9 adults was e-mailed to a care provider "
        "outside the review instead of the county council's Connect team.",
        how_found="The provider replied to say it had received it in error.",
        cyber_incident=False,
        data_subject_categories="Adults receiving reablement",
        subjects_count=9,
        data_categories="Names, addresses, visit times, care needs",
        special_category=True,
        consequences="Low: the provider has confirmed it deleted the e-mail unread.",
        measures="Recall requested; written confirmation of deletion asked for.",
        containment="contained",
    )


def _overdue(partnership, agreement, by) -> None:
    _log(
        partnership,
        agreement,
        by,
        title=OVERDUE,
        hours_ago=50,
        what_happened="A spreadsheet of reablement referrals was saved to a drive that every "
        "member of staff can open.",
        how_found="Noticed by a team leader during a file clean-up.",
        subjects_count=140,
        subjects_estimated=True,
        special_category=True,
    )


def _closed(partnership, agreement, by) -> None:
    breach = _log(
        partnership,
        agreement,
        by,
        title=CLOSED,
        hours_ago=21 * 24,
        what_happened="A laptop holding unencrypted therapy assessment notes was stolen from a "
        "member of staff's car.",
        how_found="Reported by the member of staff the next morning.",
        cyber_incident=False,
        data_subject_categories="Adults assessed by the therapy team",
        subjects_count=32,
        data_categories="Names, dates of birth, health and mobility assessments",
        records_count=32,
        special_category=True,
        consequences="Distress and a risk of identity fraud for the adults concerned.",
        measures="Police informed; remote wipe requested; the adults told by letter; all "
        "laptops' encryption checked.",
        containment="contained",
        staff_involved="One occupational therapist",
        staff_training="Completed the annual data protection course four months earlier.",
    )
    told_partner = breach.detected_at + timedelta(hours=5)
    partner = Obligation.objects.get(breach=breach, recipient=Recipient.PARTNER)
    services.record_told(partner, by=by, at=told_partner, method="Telephone, then e-mail")
    services.assess(
        breach,
        by=by,
        likelihood="likely",
        severity="significant",
        assessment=Assessment.NOTIFIABLE,
        reason="Health data of 32 adults on a device without encryption.",
    )
    county = InvolvedPartner.objects.exclude(partner=breach.reporting_partner).get(breach=breach)
    services.give_view(
        county,
        view=View.NOTIFY,
        reason="Agreed: the data is unencrypted health data.",
        who="Essex County Council's data protection team",
    )
    ico = Obligation.objects.get(breach=breach, recipient=Recipient.ICO)
    services.record_told(
        ico,
        by=by,
        at=breach.aware_at + timedelta(hours=40),
        method="The ICO's online breach report form",
        case_reference="IC-204519-K3P8",
    )
    services.close(breach, by=by)
