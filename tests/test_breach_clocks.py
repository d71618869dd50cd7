"""A breach's clocks: the partners' 48 hours from detection and the ICO's 72 hours from
awareness, in exact elapsed hours (weekends and clock changes included) and shown in UK time;
the warnings before each deadline and the escalation after it, each sent once; the lead
organisation asked to decide when the partners have not agreed in time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel import clocks as engine
from accord.kernel.models import Clock
from breaches import clocks, services
from breaches.models import (
    Assessment,
    BreachReport,
    InvolvedPartner,
    Obligation,
    ObligationState,
    Recipient,
    View,
)
from breaches.times import AmbiguousTime, remaining, shown, uk_moment
from tenancy.models import AuditEntry, Partnership
from tenancy.roles import Role

from .factories import OrganisationFactory, make_member, make_partner
from .pages import field_error

pytestmark = pytest.mark.django_db
UK = ZoneInfo("Europe/London")
DECEMBER = datetime(2026, 12, 2, 12, 0, tzinfo=UK)  # "now" for the wording: GMT


@pytest.fixture
def county(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(
            name="Essex County Council",
            data_protection_email="dpo@essex.gov.example",
            data_protection_email_confirmed_at=timezone.now(),
            deputy_dpo_email="deputy@essex.gov.example",
        ),
    )


@pytest.fixture
def cares(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(
            name="Essex Cares Ltd",
            data_protection_email="ig@essexcares.example",
            data_protection_email_confirmed_at=timezone.now(),
        ),
    )


@pytest.fixture
def dpo(alpha, county):
    return make_member(alpha, Role.DPO, organisation=county.organisation).user


@pytest.fixture
def cares_dpo(alpha, cares):
    return make_member(alpha, Role.DPO, organisation=cares.organisation).user


def log(partnership, by, detected: datetime, aware: datetime | None = None, **values):
    involved = values.pop("involved", None)
    with scope(partnership=partnership):
        return services.log_breach(
            partnership,
            by=by,
            values={
                "title": "Visit notes e-mailed to the wrong care provider",
                "contact_name": "Ann Lee",
                "contact_email": "ann.lee@essex.gov.example",
                "detected_at": detected,
                "aware_at": aware or detected,
                "what_happened": "Notes for 14 adults were sent to the wrong provider.",
                **values,
            },
            involved=involved,
        )


def obligation(breach: BreachReport, recipient: str) -> Obligation:
    with scope(partnership=breach.partnership):
        return breach.obligations.get(recipient=recipient)


def uk(year, month, day, hour, minute=0, offset=""):
    return uk_moment(date(year, month, day), time(hour, minute), offset)


# --- The deadlines -------------------------------------------------------------------------

DEADLINES = [
    pytest.param(
        uk(2026, 11, 10, 10),
        None,
        "10:00 on Thursday 12 November 2026",
        "10:00 on Friday 13 November 2026",
        id="ordinary",
    ),
    pytest.param(
        uk(2026, 11, 11, 23, 30),
        None,
        "23:30 on Friday 13 November 2026",
        "23:30 on Saturday 14 November 2026",
        id="across_midnight",
    ),
    pytest.param(
        uk(2026, 11, 13, 17),
        None,
        "17:00 on Sunday 15 November 2026",
        "17:00 on Monday 16 November 2026",
        id="across_a_weekend",
    ),
    pytest.param(
        uk(2026, 11, 2, 9),
        uk(2026, 11, 3, 14),
        "09:00 on Wednesday 4 November 2026",
        "14:00 on Friday 6 November 2026",
        id="the_ico_runs_from_awareness",
    ),
    pytest.param(
        uk(2026, 3, 27, 2, 30),
        None,
        "03:30 BST on Sunday 29 March 2026",
        "03:30 BST on Monday 30 March 2026",
        id="clocks_go_forward_in_the_window",
    ),
    pytest.param(
        uk(2026, 10, 23, 9),
        None,
        "08:00 on Sunday 25 October 2026",
        "08:00 on Monday 26 October 2026",
        id="clocks_go_back_in_the_window",
    ),
    pytest.param(
        uk(2026, 10, 25, 1, 30, "bst"),
        None,
        "00:30 on Tuesday 27 October 2026",
        "00:30 on Wednesday 28 October 2026",
        id="detected_in_the_repeated_hour_bst",
    ),
    pytest.param(
        uk(2026, 10, 25, 1, 30, "gmt"),
        None,
        "01:30 on Tuesday 27 October 2026",
        "01:30 on Wednesday 28 October 2026",
        id="detected_in_the_repeated_hour_gmt",
    ),
    pytest.param(
        uk(2024, 2, 28, 12),
        None,
        "12:00 on Friday 1 March 2024",
        "12:00 on Saturday 2 March 2024",
        id="across_a_leap_day",
    ),
]


@pytest.mark.parametrize(("detected", "aware", "partners_by", "ico_by"), DEADLINES)
def test_deadlines_are_exact_elapsed_hours_shown_in_uk_time(
    alpha, county, cares, dpo, detected, aware, partners_by, ico_by
):
    breach = log(alpha, dpo, detected, aware, involved=[county, cares])
    partner, ico = obligation(breach, Recipient.PARTNER), obligation(breach, Recipient.ICO)
    assert partner.due_at - breach.detected_at == timedelta(hours=48)
    assert ico.due_at - breach.aware_at == timedelta(hours=72)
    assert shown(partner.due_at, DECEMBER) == partners_by
    assert shown(ico.due_at, DECEMBER) == ico_by


def test_a_time_the_clocks_skipped_is_refused_and_a_repeated_one_asks_which():
    with pytest.raises(ValidationError, match="did not happen in the UK"):
        uk(2026, 3, 29, 1, 30)
    with pytest.raises(AmbiguousTime, match="happened twice"):
        uk(2026, 10, 25, 1, 30)
    assert uk(2026, 10, 25, 1, 30, "gmt") - uk(2026, 10, 25, 1, 30, "bst") == timedelta(hours=1)


def test_an_agreement_with_a_shorter_partner_window_sets_the_deadline():
    class Agreement:
        partner_breach_hours, ico_breach_hours = 24, None

    assert services.windows([Agreement()]) == (24, 72)
    assert services.windows([]) == (48, 72)


def test_remaining_time_reads_as_hours_and_minutes():
    now = timezone.now()
    assert remaining(now + timedelta(hours=47, minutes=12), now) == "47 hours 12 minutes left"
    assert remaining(now - timedelta(hours=3, minutes=5), now) == "overdue by 3 hours 5 minutes"
    assert remaining(now + timedelta(minutes=59, seconds=30), now) == "59 minutes left"
    assert remaining(now - timedelta(hours=1), now) == "overdue by 1 hour"


# --- Logging: facts that cannot be --------------------------------------------------------


@pytest.mark.parametrize(
    ("detected", "aware", "occurred", "field", "message"),
    [
        (timedelta(hours=-2), None, None, "detected", "cannot be in the future"),
        (timedelta(hours=3), timedelta(hours=-1), None, "aware", "cannot be in the future"),
        (timedelta(hours=3), timedelta(hours=4), None, "aware", "before the breach was detected"),
        (timedelta(hours=3), None, timedelta(hours=2), "detected", "before it happened"),
    ],
)
def test_impossible_times_are_refused_and_nothing_is_logged(
    alpha, county, dpo, detected, aware, occurred, field, message
):
    now = timezone.now()
    with pytest.raises(ValidationError) as refused:
        log(
            alpha,
            dpo,
            now - detected,
            now - aware if aware else None,
            occurred_at=now - occurred if occurred else None,
        )
    assert message in " ".join(refused.value.message_dict[field])
    with scope(partnership=alpha):
        assert not BreachReport.objects.exists()


def test_the_reporting_organisation_is_the_one_the_dpo_acts_for(alpha, county, cares, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=1), reporting_partner=cares)
    assert breach.reporting_partner == county  # never a field in the form
    assert breach.reference == "BR-0001"


def test_only_dpos_and_administrators_log_a_breach(alpha, county):
    officer = make_member(alpha, Role.IG_OFFICER, organisation=county.organisation).user
    with pytest.raises(PermissionDenied):
        log(alpha, officer, timezone.now() - timedelta(hours=1))


# --- Telling the partners ------------------------------------------------------------------


def test_partners_are_told_at_their_confirmed_address_and_their_dpos_only(
    alpha, county, cares, dpo, cares_dpo
):
    unconfirmed = make_partner(
        alpha, OrganisationFactory(name="Unconfirmed Trust", data_protection_email="x@u.example")
    )
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=2), involved=[county, cares])
    with scope(partnership=alpha), TestCase.captureOnCommitCallbacks(execute=True):
        assert services.tell_partners(breach, by=dpo) == 1
    sent = [m for m in mail.outbox if "Personal data breach BR-0001" in m.subject]
    assert sorted(m.to[0] for m in sent) == sorted(["ig@essexcares.example", cares_dpo.email])
    assert "/breach-notice/" in sent[0].body
    assert "Essex County Council has logged a personal data breach" in sent[0].body
    partner = obligation(breach, Recipient.PARTNER)
    assert partner.state == ObligationState.ON_TIME and partner.method == "E-mail from Accord"
    assert unconfirmed.organisation.data_protection_email not in {m.to[0] for m in mail.outbox}


def test_a_partner_told_after_its_deadline_needs_the_reason(alpha, county, cares, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=50), involved=[county, cares])
    with scope(partnership=alpha):
        with pytest.raises(ValidationError) as refused:
            services.tell_partners(breach, by=dpo)
        assert "give the reason it is late" in " ".join(refused.value.message_dict["late_reason"])
        assert obligation(breach, Recipient.PARTNER).state == ObligationState.DUE
        services.tell_partners(breach, by=dpo, late_reason="Found only on Monday's audit.")
    partner = obligation(breach, Recipient.PARTNER)
    assert partner.state == ObligationState.LATE
    assert partner.reason == "Found only on Monday's audit."


def test_lateness_is_fixed_at_the_first_filing(alpha, county, cares, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=2), involved=[county, cares])
    with scope(partnership=alpha):
        services.tell_partners(breach, by=dpo)
        with pytest.raises(ValidationError, match="already"):
            services.record_told(
                obligation(breach, Recipient.PARTNER),
                by=dpo,
                at=timezone.now(),
                method="Telephone",
            )
    assert obligation(breach, Recipient.PARTNER).state == ObligationState.ON_TIME


# --- The decision on the ICO ----------------------------------------------------------------


def test_when_every_partner_agrees_the_decision_stands(alpha, county, cares, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=2), involved=[county, cares])
    with scope(partnership=alpha):
        services.assess(
            breach,
            by=dpo,
            likelihood="remote",
            severity="minimal",
            assessment=Assessment.NOT_NOTIFIABLE,
            reason="The provider deleted the e-mail unread and confirmed it in writing.",
        )
        assert not BreachReport.objects.get(pk=breach.pk).ico_decision  # Essex Cares to say
        involved = InvolvedPartner.objects.get(breach=breach, partner=cares)
        services.give_view(
            involved, view=View.DO_NOT_NOTIFY, reason="Agreed: no risk.", who="Bo Khan, DPO"
        )
        breach.refresh_from_db()
    assert breach.ico_decision == View.DO_NOT_NOTIFY and not breach.ico_decided_by_lead
    assert obligation(breach, Recipient.ICO).state == ObligationState.NOT_NEEDED


def test_not_notifiable_needs_the_reasons(alpha, county, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=2))
    with scope(partnership=alpha), pytest.raises(ValidationError) as refused:
        services.assess(
            breach,
            by=dpo,
            likelihood="remote",
            severity="minimal",
            assessment=Assessment.NOT_NOTIFIABLE,
            reason=" ",
        )
    assert "kept with the breach" in " ".join(refused.value.message_dict["reason"])


def test_the_ico_told_needs_its_case_reference_and_a_late_filing_its_reason(alpha, county, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=80))
    with scope(partnership=alpha):
        services.assess(
            breach,
            by=dpo,
            likelihood="likely",
            severity="significant",
            assessment=Assessment.NOTIFIABLE,
            reason="",
        )
        ico = obligation(breach, Recipient.ICO)
        with pytest.raises(ValidationError) as no_reference:
            services.record_told(ico, by=dpo, at=timezone.now(), method="ICO online form")
        assert "case reference" in " ".join(no_reference.value.message_dict["case_reference"])
        with pytest.raises(ValidationError) as no_reason:
            services.record_told(
                ico, by=dpo, at=timezone.now(), method="ICO online form", case_reference="IC-1"
            )
        assert "late" in " ".join(no_reason.value.message_dict["late_reason"])
        services.record_told(
            ico,
            by=dpo,
            at=timezone.now(),
            method="ICO online form",
            case_reference="IC-123456-A1B2",
            late_reason="The scale was known only after the provider's audit.",
        )
        breach.refresh_from_db()
    assert breach.ico_case_reference == "IC-123456-A1B2"
    assert obligation(breach, Recipient.ICO).state == ObligationState.LATE


def test_closing_waits_for_every_obligation(alpha, county, cares, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=2), involved=[county, cares])
    with scope(partnership=alpha):
        with pytest.raises(ValidationError, match="still to be told: Essex Cares Ltd, The ICO"):
            services.close(breach, by=dpo)
        assert BreachReport.objects.get(pk=breach.pk).is_open


# --- Warnings, escalation and the lead deciding: once each -----------------------------------


def run(kind: str) -> int:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return engine.run_due(kind)


def subjects(prefix: str) -> list[str]:
    return sorted(m.subject for m in mail.outbox if m.subject.startswith(prefix))


def test_the_latest_warning_due_is_sent_once_to_the_dpo_the_contact_and_the_deputy(
    alpha, county, cares, dpo
):
    # 43 hours after detection: 5 hours to tell Essex Cares, so the 6-hour warning (only).
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=43), involved=[county, cares])
    assert run(clocks.WARNING) == 1
    sent = [m for m in mail.outbox if "to tell Essex Cares Ltd of breach BR-0001" in m.subject]
    assert sorted(m.to[0] for m in sent) == sorted(
        [dpo.email, "ann.lee@essex.gov.example", "deputy@essex.gov.example"]
    )
    assert sent[0].subject == "4 hours 59 minutes left to tell Essex Cares Ltd of breach BR-0001"
    assert run(clocks.WARNING) == 0  # the 1-hour warning is not due yet
    assert obligation(breach, Recipient.PARTNER).warnings_sent == 2
    with scope(partnership=alpha):
        (row,) = Clock.objects.filter(
            kind=clocks.WARNING,
            subject=engine.subject_of(obligation(breach, Recipient.PARTNER)),
            done_at=None,
        )
    assert row.due_at == obligation(breach, Recipient.PARTNER).due_at - timedelta(hours=1)


def test_a_passed_deadline_tells_the_lead_and_the_administrators_once(
    alpha, county, cares, dpo, cares_dpo, alice
):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=49), involved=[county, cares])
    assert run(clocks.OVERDUE) == 1
    assert run(clocks.OVERDUE) == 0
    sent = [m for m in mail.outbox if m.subject.startswith("Overdue: Essex Cares Ltd")]
    # Essex County Council leads (no protocol or agreement names another); its DPO, the
    # administrators and the reporter's contacts.
    assert sorted(m.to[0] for m in sent) == sorted(
        [alice.email, dpo.email, "ann.lee@essex.gov.example", "deputy@essex.gov.example"]
    )
    assert obligation(breach, Recipient.PARTNER).escalated_at is not None
    with scope(partnership=alpha):
        assert AuditEntry.objects.filter(action="breach.overdue").count() == 1
    # Done late afterwards: nothing more is sent.
    with scope(partnership=alpha):
        services.tell_partners(breach, by=dpo, late_reason="Missed over the weekend.")
    assert run(clocks.OVERDUE) == 0


def test_warnings_stop_once_the_obligation_is_met(alpha, county, cares, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=30), involved=[county, cares])
    with scope(partnership=alpha):
        services.tell_partners(breach, by=dpo)
    assert run(clocks.WARNING) == 0
    assert not [m for m in mail.outbox if "to tell Essex Cares" in m.subject]


def test_twelve_hours_before_the_ico_deadline_the_lead_is_asked_to_decide(
    alpha, county, cares, dpo
):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=61), involved=[county, cares])
    with scope(partnership=alpha):
        assert services.lead_may_decide(breach)  # 11 hours left: the time to agree is up
    assert run(clocks.LEAD_DECIDES) == 1
    assert run(clocks.LEAD_DECIDES) == 0
    assert subjects("Decide whether to notify the ICO of breach BR-0001") == [
        "Decide whether to notify the ICO of breach BR-0001"
    ]
    with scope(partnership=alpha):
        breach.refresh_from_db()
        assert breach.lead_asked_at is not None and services.lead_may_decide(breach)
        services.lead_decides(
            breach, by=dpo, decision=View.NOTIFY, reason="Health data of 14 adults."
        )
        breach.refresh_from_db()
    assert breach.ico_decision == View.NOTIFY and breach.ico_decided_by_lead


def test_only_the_lead_organisations_dpo_decides(alpha, county, cares, dpo, cares_dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=61), involved=[county, cares])
    with scope(partnership=alpha), pytest.raises(PermissionDenied):
        services.lead_decides(breach, by=cares_dpo, decision=View.NOTIFY, reason="We lead?")


# --- The partnership's own hours -------------------------------------------------------------


def test_the_partnership_sets_its_warnings_and_when_the_lead_decides(alpha, county, cares, dpo):
    breach = log(alpha, dpo, timezone.now() - timedelta(hours=35), involved=[county, cares])
    partner = obligation(breach, Recipient.PARTNER)
    with scope(partnership=alpha):
        (row,) = Clock.objects.filter(
            kind=clocks.WARNING, subject=engine.subject_of(partner), done_at=None
        )
    assert row.due_at == partner.due_at - timedelta(hours=24)  # 24, 6, 1 by default

    Partnership.objects.get(pk=alpha.pk).save()  # nothing changed: nothing moves
    alpha.breach_warning_hours = "12, 2"
    alpha.breach_lead_decides_hours = 30
    alpha.save()

    with scope(partnership=alpha):
        (row,) = Clock.objects.filter(
            kind=clocks.WARNING, subject=engine.subject_of(partner), done_at=None
        )
        assert row.due_at == partner.due_at - timedelta(hours=12)
        breach.refresh_from_db()
        # 37 hours to the ICO deadline, within the partnership's 30? No: 72 - 35 = 37 > 30.
        assert not services.lead_may_decide(breach)
    alpha.breach_lead_decides_hours = 40
    alpha.save()
    with scope(partnership=alpha):
        breach = BreachReport.objects.get(pk=breach.pk)
        assert services.lead_may_decide(breach)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("", "Enter the hours, such as 24, 6, 1."),
        ("24, six", "Enter whole numbers of hours"),
        ("80, 6", "each from 1 to 71 hours"),
        ("0", "each from 1 to 71 hours"),
    ],
)
def test_warning_hours_that_cannot_be_are_refused_by_the_field(
    client, alpha, alice, hours, message
):
    client.force_login(alice)
    url = reverse("breaches:settings", kwargs={"partnership_slug": "alpha"})
    response = client.post(url, {"breach_warning_hours": hours, "breach_lead_decides_hours": "12"})
    assert response.status_code == 200
    assert message in field_error(response, "breach_warning_hours")
    alpha.refresh_from_db()
    assert alpha.breach_warning_hours == "24, 6, 1"


def test_an_administrator_sets_the_hours_and_the_change_is_audited(client, alpha, alice):
    client.force_login(alice)
    url = reverse("breaches:settings", kwargs={"partnership_slug": "alpha"})
    assert (
        "When DPOs are warned"
        in client.get(
            reverse("breaches:register", kwargs={"partnership_slug": "alpha"})
        ).content.decode()
    )
    response = client.post(url, {"breach_warning_hours": "12, 2", "breach_lead_decides_hours": 10})
    assert response.status_code == 302
    alpha.refresh_from_db()
    assert (alpha.breach_warning_hours, alpha.breach_lead_decides_hours) == ("12, 2", 10)
    with scope(partnership=alpha):
        entry = AuditEntry.objects.get(action="partnership.changed")
    assert entry.changes["breach_warning_hours"] == ["24, 6, 1", "12, 2"]
