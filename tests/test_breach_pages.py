"""The breach log's pages, as a DPO uses them: the register, logging a breach with its UK
times, the breach page with its two clocks, each action on it, and the link e-mailed to an
involved partner."""

from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from agreements.models import Agreement, AgreementStatus
from breaches import services
from breaches.models import (
    MAX_COUNT,
    Assessment,
    BreachReport,
    BreachStatus,
    InvolvedPartner,
    Obligation,
    ObligationState,
    Recipient,
    View,
)
from signatories.tokens import TOKEN_MAX_LENGTH
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .breach_factories import make_breach
from .factories import OrganisationFactory, make_agreement, make_member, make_partner
from .pages import field_error, messages_of, page_html, page_text

pytestmark = pytest.mark.django_db
UK = ZoneInfo("Europe/London")
# A Friday in British Summer Time, two days before the clocks go back.
FRIDAY_MORNING = datetime(2026, 10, 23, 10, 0, tzinfo=UK)
DECEMBER_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UK)


@contextmanager
def now_is(moment: datetime):
    """Accord's clock reads `moment` (UTC stored, UK shown)."""
    with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(UTC)):
        yield


@pytest.fixture
def county(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(
            name="Essex County Council",
            dpo_name="Ann Lee",
            phone="0333 013 2000",
            data_protection_email="dpo@essex.gov.example",
        ),
    )


@pytest.fixture
def cares(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(name="Essex Cares Ltd", data_protection_email="ig@essexcares.example"),
    )


@pytest.fixture
def dpo(alpha, county):
    return make_member(alpha, Role.DPO, organisation=county.organisation).user


@pytest.fixture
def cares_dpo(alpha, cares):
    return make_member(alpha, Role.DPO, organisation=cares.organisation).user


def page_url(name: str, breach: BreachReport | None = None, **kwargs) -> str:
    slug = breach.partnership.slug if breach else kwargs.pop("slug", "alpha")
    if breach is not None:
        kwargs["breach_id"] = breach.pk
    return reverse(f"breaches:{name}", kwargs={"partnership_slug": slug, **kwargs})


def log_data(*involved, **changes) -> dict:
    return {
        "title": "Visit notes e-mailed to the wrong care provider",
        "detected_date": "23/10/2026",
        "detected_time": "09:00",
        "what_happened": "Notes for 14 adults were sent to the wrong provider.",
        "contact_name": "Ann Lee",
        "contact_email": "ann.lee@essex.gov.example",
        "involved": [p.pk for p in involved],
        **changes,
    }


def breaches_of(partnership) -> list[BreachReport]:
    with scope(partnership=partnership):
        return list(BreachReport.objects.order_by("pk"))


def fresh(breach: BreachReport) -> BreachReport:
    with scope(partnership=breach.partnership):
        return BreachReport.objects.get(pk=breach.pk)


def obligation(breach: BreachReport, recipient: str) -> Obligation:
    with scope(partnership=breach.partnership):
        return Obligation.objects.filter(breach=breach, recipient=recipient).order_by("pk").first()


def audit_count(partnership) -> int:
    with scope(partnership=partnership):
        return AuditEntry.objects.count()


def uk(year, month, day, hour, minute=0) -> datetime:
    """A UK time as the pages store it: in UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=UK).astimezone(UTC)


def rows(response, table_id: str) -> list[str]:
    """The text of each row in the body of the table with this id."""
    html = response.content.decode()
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody", 1)[1]
    return [_text(row) for row in body.split("<tr")[1:]]


def _text(markup: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", "<" + markup).split()).replace("&#x27;", "'")


# --- The register --------------------------------------------------------------------------


def test_the_register_lists_the_breaches_the_dpo_may_see_newest_first(
    client, alpha, county, cares, dpo
):
    older = make_breach(alpha, by=dpo, title="Older", detected=timezone.now() - timedelta(days=4))
    newer = make_breach(alpha, by=dpo, title="Newer", involved=[cares])
    make_breach(alpha, reporting=make_partner(alpha), title="Someone else's")
    client.force_login(dpo)

    response = client.get(page_url("register"))

    text = page_text(response)
    assert response.status_code == 200
    assert "Someone else's" not in text
    assert "2 breaches" in text
    assert "Log a breach" in text
    first, second = rows(response, "breaches")
    assert first.startswith(f"{newer.reference} Newer Essex County Council ")
    assert re.search(r" Open .* (46 hours|45 hours 59 minutes) left", first)
    # The older one's ICO deadline (72 hours from awareness) has passed.
    assert second.startswith(f"{older.reference} Older Essex County Council ")
    assert re.search(r" Overdue .* overdue by 24 hours", second)


def test_the_register_shows_each_breachs_detection_and_next_deadline_in_uk_time(
    client, alpha, county, cares, dpo
):
    make_breach(alpha, by=dpo, involved=[cares], detected=uk(2026, 10, 23, 9))
    client.force_login(dpo)

    with now_is(FRIDAY_MORNING):
        text = page_text(client.get(page_url("register")))

    assert "09:00 on Friday 23 October 2026" in text
    assert "08:00 GMT on Sunday 25 October 2026 47 hours left" in text


def test_the_register_filters_by_status_and_reporting_organisation(
    client, alpha, county, cares, dpo, cares_dpo
):
    overdue = make_breach(alpha, by=dpo, title="Late", detected=timezone.now() - timedelta(days=4))
    recent = make_breach(alpha, by=dpo, title="Recent", involved=[cares])
    theirs = make_breach(alpha, by=cares_dpo, title="Theirs", involved=[county])
    client.force_login(dpo)

    text = page_text(client.get(page_url("register"), {"status": "overdue"}))
    assert overdue.reference in text and recent.reference not in text

    text = page_text(client.get(page_url("register"), {"reporting": cares.pk}))
    assert theirs.reference in text
    assert overdue.reference not in text and recent.reference not in text


def test_a_filter_the_register_does_not_know_is_refused_by_its_field(client, alpha, dpo):
    make_breach(alpha, by=dpo)
    client.force_login(dpo)

    response = client.get(page_url("register"), {"status": "lost", "reporting": "99999"})

    assert response.status_code == 200
    assert field_error(response, "status") == "Error: Choose a status from the list."
    assert field_error(response, "reporting") == "Error: Choose one of the options."
    assert "Correct the filters above to see breaches." in page_text(response)


def test_the_register_runs_the_same_queries_for_one_breach_or_many(
    client, alpha, county, cares, dpo
):
    make_breach(alpha, by=dpo, involved=[cares])
    client.force_login(dpo)
    with CaptureQueriesContext(connection) as one:
        assert client.get(page_url("register")).status_code == 200
    for _ in range(5):
        make_breach(alpha, by=dpo, involved=[cares])

    with CaptureQueriesContext(connection) as six:
        response = client.get(page_url("register"))

    assert "6 breaches" in page_text(response)
    assert len(six) == len(one)


# --- Logging a breach ----------------------------------------------------------------------


def test_the_log_form_is_prefilled_with_the_contact_point_and_offers_live_agreements(
    client, alpha, county, cares, dpo
):
    live = make_agreement(alpha, lead=county, others=[cares], title="Reablement review")
    draft = make_agreement(alpha, lead=county, others=[cares], title="Still a draft")
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=live.pk).update(status=AgreementStatus.ACTIVE)
    client.force_login(dpo)

    response = client.get(page_url("log"))

    html, text = page_html(response), page_text(response)
    assert response.status_code == 200
    assert 'name="contact_name" value="Ann Lee"' in html
    assert 'name="contact_email" value="dpo@essex.gov.example"' in html
    assert 'name="contact_phone" value="0333 013 2000"' in html
    assert f"{live.reference}: Reablement review" in text
    assert draft.title not in text
    assert "If you tick none, every party of the agreements chosen above" in text
    assert 'name="reporting' not in html  # the organisation is no choice
    assert 'name="detected_zone"' not in html  # asked only when the time happened twice


def test_a_dpo_logs_a_breach_and_sees_both_clocks_in_uk_time(client, alpha, county, cares, dpo):
    other = make_partner(alpha)
    client.force_login(dpo)

    with now_is(FRIDAY_MORNING):
        response = client.post(
            page_url("log"), log_data(cares, reporting_partner=other.pk), follow=True
        )

    (breach,) = breaches_of(alpha)
    text = page_text(response)
    assert response.redirect_chain[-1][0] == page_url("detail", breach)
    assert messages_of(response) == [
        f"Breach {breach.reference} is logged. Both clocks have started: the deadlines are below."
    ]
    assert breach.reporting_partner == county  # the organisation the DPO acts for
    assert breach.detected_at == datetime(2026, 10, 23, 8, 0, tzinfo=UTC)
    assert breach.aware_at == breach.detected_at
    # 48 and 72 elapsed hours, across the clocks going back on Sunday 25 October.
    assert "Tell the partners by 08:00 GMT on Sunday 25 October 2026" in text
    assert "Tell the ICO by 08:00 GMT on Monday 26 October 2026" in text
    assert "47 hours left" in text
    assert "71 hours left" in text
    assert "(updated every 30 seconds)" in text
    html = page_html(response)
    assert '<time datetime="2026-10-25T08:00:00+00:00" data-countdown aria-live="off">' in html
    assert f"{breach.reference}: Visit notes e-mailed to the wrong care provider" in text


def test_read_after_the_clocks_went_back_a_summer_time_says_bst(client, alpha, county, cares, dpo):
    breach = make_breach(alpha, by=dpo, involved=[cares], detected=uk(2026, 10, 23, 9))
    client.force_login(dpo)

    with now_is(DECEMBER_NOON):
        text = page_text(client.get(page_url("detail", breach)))

    assert "Detected 09:00 BST on Friday 23 October 2026" in text
    assert "Tell the partners by 08:00 on Sunday 25 October 2026 overdue by 916 hours" in (text)
    assert "Tell the ICO by 08:00 on Monday 26 October 2026 overdue by 892 hours" in text


def test_the_ico_clock_runs_72_hours_from_awareness(client, alpha, county, cares, dpo):
    client.force_login(dpo)

    with now_is(uk(2026, 11, 12, 12)):
        response = client.post(
            page_url("log"),
            log_data(
                cares,
                detected_date="10/11/2026",
                detected_time="10:00",
                aware_date="11/11/2026",
                aware_time="16:30",
            ),
            follow=True,
        )

    text = page_text(response)
    assert "Tell the partners by 10:00 on Thursday 12 November 2026" in text
    assert "Tell the ICO by 16:30 on Saturday 14 November 2026" in text


@pytest.mark.parametrize(
    "zone, stored",
    [
        ("bst", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("gmt", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ],
)
def test_a_time_that_happened_twice_asks_bst_or_gmt_then_stores_the_right_moment(
    client, alpha, county, cares, dpo, zone, stored
):
    client.force_login(dpo)
    data = log_data(cares, detected_date="25/10/2026", detected_time="01:30")

    asked = client.post(page_url("log"), data)

    assert asked.status_code == 200
    assert field_error(asked, "detected") == (
        "Error: 01:30 on 25 October 2026 happened twice in the UK, as the clocks went back: "
        "choose BST (the first time) or GMT (the second)."
    )
    assert 'name="detected_zone" type="radio" value="bst"' in page_html(asked)
    assert "BST (UTC+1): the first time, before the clocks went back" in page_text(asked)
    assert '<a href="#id_detected_zone_0">' in page_html(asked)
    assert breaches_of(alpha) == []

    answered = client.post(page_url("log"), {**data, "detected_zone": zone})

    (breach,) = breaches_of(alpha)
    assert answered.status_code == 302
    assert breach.detected_at == stored


def test_a_time_the_clocks_skipped_is_refused_by_its_field(client, alpha, county, dpo):
    client.force_login(dpo)

    response = client.post(
        page_url("log"), log_data(detected_date="29/03/2026", detected_time="01:30")
    )

    assert response.status_code == 200
    assert field_error(response, "detected") == (
        "Error: 01:30 on 29 March 2026 did not happen in the UK: the clocks went forward an "
        "hour at 01:00. Check the time: a clock left unchanged would have shown 02:30."
    )
    assert breaches_of(alpha) == []


@pytest.mark.parametrize(
    "changes, field, message",
    [
        (
            {"detected_date": "03/12/2026"},
            "detected",
            "When it was detected cannot be in the future.",
        ),
        (
            {"aware_date": "22/10/2026", "aware_time": "09:00"},
            "aware",
            "The organisation cannot have become aware before the breach was detected.",
        ),
        (
            {"occurred_date": "24/10/2026", "occurred_time": "08:00"},
            "detected",
            "It cannot have been detected before it happened.",
        ),
        ({"detected_date": "31/02/2026"}, "detected", "Enter a real date, such as 27/03/2026."),
        ({"detected_time": "25:00"}, "detected", "Enter a real time, from 00:00 to 23:59."),
        ({"detected_time": ""}, "detected", "Enter the time as well as the date."),
        (
            {"detected_date": "", "detected_time": ""},
            "detected",
            "Enter when the breach was detected.",
        ),
        ({"title": ""}, "title", "Enter a short description of the breach."),
        ({"what_happened": ""}, "what_happened", "Say what happened."),
    ],
)
def test_a_wrong_answer_on_the_log_form_is_refused_by_its_field_and_nothing_is_logged(
    client, alpha, county, cares, dpo, changes, field, message
):
    client.force_login(dpo)

    with now_is(DECEMBER_NOON):
        response = client.post(page_url("log"), log_data(cares, **changes))

    assert response.status_code == 200
    assert field_error(response, field) == f"Error: {message}"
    assert message in page_text(response).split("There is a problem", 1)[1]
    assert breaches_of(alpha) == []


def test_with_no_partner_ticked_the_agreements_parties_are_involved(
    client, alpha, county, cares, dpo
):
    agreement = make_agreement(alpha, lead=county, others=[cares])
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.FOR_SIGNATURE)
    client.force_login(dpo)

    client.post(page_url("log"), log_data(agreements=[agreement.pk]))

    (breach,) = breaches_of(alpha)
    with scope(partnership=alpha):
        involved = set(
            InvolvedPartner.objects.filter(breach=breach).values_list("partner", flat=True)
        )
    assert involved == {county.pk, cares.pk}


# --- The breach page -----------------------------------------------------------------------


def test_the_breach_page_shows_what_is_owed_who_is_involved_and_the_timeline(
    client, alpha, county, cares, dpo
):
    breach = make_breach(alpha, by=dpo, involved=[cares])
    client.force_login(dpo)

    response = client.get(page_url("detail", breach))

    text = page_text(response)
    assert response.status_code == 200
    assert re.search(r"Who Due State Done at How Reason Hours taken Essex Cares Ltd", text)
    assert "Essex Cares Ltd Not yet Not yet given" in text
    assert "Essex County Council reporting organisation Not needed Not yet given" in text
    assert "What to do next Tell the partners by" in text
    assert "Essex Cares Ltd. Send the notice by e-mail, or record how each was told." in text
    assert f"Breach {breach.reference} logged by Essex County Council" in text
    for button in ("Tell the partners by e-mail", "Complete or correct the report", "Assess"):
        assert button in text


def test_an_involved_partners_dpo_sees_the_breach_without_the_managers_buttons(
    client, alpha, county, cares, dpo, cares_dpo
):
    breach = make_breach(alpha, by=dpo, involved=[cares])
    client.force_login(cares_dpo)

    text = page_text(client.get(page_url("detail", breach)))

    assert "Give your organisation's view" in text
    for button in ("Tell the partners by e-mail", "Complete or correct the report", "Close"):
        assert button not in text


# --- Completing the report -----------------------------------------------------------------


@pytest.mark.parametrize("count", ["-1", str(MAX_COUNT + 1), "99999999999999999999", "12.5"])
def test_a_negative_or_absurd_count_is_refused_by_its_field(client, alpha, dpo, count):
    breach = make_breach(alpha, by=dpo)
    client.force_login(dpo)
    data = client.get(page_url("edit", breach)).context["form"].initial
    data = {k: ("" if v is None else v) for k, v in data.items()}
    data.update(subjects_count=count, records_count=count)

    response = client.post(page_url("edit", breach), data)

    assert response.status_code == 200
    assert field_error(response, "subjects_count") == (
        "Error: Enter the number of people as a whole number from 0 to 100,000,000."
    )
    assert field_error(response, "records_count") == (
        "Error: Enter the number of records as a whole number from 0 to 100,000,000."
    )
    assert fresh(breach).subjects_count is None


def test_completing_the_report_saves_it_and_moves_the_deadlines_with_detection(
    client, alpha, county, cares, dpo
):
    breach = make_breach(alpha, by=dpo, involved=[cares], detected=uk(2026, 11, 10, 10))
    client.force_login(dpo)
    form = client.get(page_url("edit", breach)).context["form"]
    assert form.initial["detected_date"] == "10/11/2026"
    assert form.initial["detected_time"] == "10:00"
    data = {k: ("" if v is None else v) for k, v in form.initial.items()}
    data.update(
        detected_date="11/11/2026",
        aware_date="11/11/2026",
        subjects_count="14",
        subjects_estimated="on",
        containment="contained",
        cyber_incident="no",
    )

    response = client.post(page_url("edit", breach), data, follow=True)

    assert messages_of(response) == ["The report is updated."]
    breach = fresh(breach)
    assert (breach.subjects_count, breach.subjects_estimated) == (14, True)
    assert breach.cyber_incident is False
    assert obligation(breach, Recipient.PARTNER).due_at == uk(2026, 11, 13, 10)
    assert obligation(breach, Recipient.ICO).due_at == uk(2026, 11, 14, 10)
    assert "About 14" in page_text(response)


# --- Telling the partners ------------------------------------------------------------------


@pytest.fixture
def colchester(alpha):
    """A partner whose data protection address is not confirmed, with a DPO and a viewer."""
    partner = make_partner(
        alpha,
        OrganisationFactory(
            name="Colchester City Council",
            data_protection_email="dpo@colchester.example",
            data_protection_email_confirmed_at=None,
        ),
    )
    partner.dpo = make_member(alpha, Role.DPO, organisation=partner.organisation).user
    partner.viewer = make_member(alpha, Role.VIEWER, organisation=partner.organisation).user
    return partner


def test_the_partner_notice_goes_to_confirmed_addresses_and_dpos_only(
    committing_client, alpha, county, cares, colchester, dpo, cares_dpo
):
    breach = make_breach(alpha, by=dpo, involved=[cares, colchester])
    committing_client.force_login(dpo)
    page = committing_client.get(page_url("tell", breach))
    assert "ig@essexcares.example" in page_text(page)
    mail.outbox.clear()

    response = committing_client.post(page_url("tell", breach), {}, follow=True)

    assert messages_of(response) == ["The notice is on its way to 2 partners."]
    sent = sorted(address for message in mail.outbox for address in message.to)
    assert sent == sorted(["ig@essexcares.example", cares_dpo.email, colchester.dpo.email])
    assert "dpo@colchester.example" not in sent
    assert colchester.viewer.email not in sent
    (notice,) = [m for m in mail.outbox if m.to == ["ig@essexcares.example"]]
    assert breach.reference in notice.subject or breach.reference in notice.body
    assert re.search(r"/breach-notice/[\w-]+/", notice.body)
    assert obligation(breach, Recipient.PARTNER).state == ObligationState.ON_TIME
    assert "E-mail from Accord" in page_text(response)


def test_telling_the_partners_late_without_a_reason_is_refused_by_the_field(
    committing_client, alpha, county, cares, dpo
):
    breach = make_breach(
        alpha, by=dpo, involved=[cares], detected=timezone.now() - timedelta(hours=50)
    )
    committing_client.force_login(dpo)
    before = audit_count(alpha)
    mail.outbox.clear()

    response = committing_client.post(page_url("tell", breach), {"late_reason": " "})

    assert response.status_code == 200
    assert field_error(response, "late_reason").startswith("Error: This is after the deadline (")
    assert field_error(response, "late_reason").endswith("): give the reason it is late.")
    assert obligation(breach, Recipient.PARTNER).state == ObligationState.DUE
    assert mail.outbox == []
    assert audit_count(alpha) == before

    committing_client.post(
        page_url("tell", breach), {"late_reason": "The DPO was on leave; the deputy was not told."}
    )

    told = obligation(breach, Recipient.PARTNER)
    assert told.state == ObligationState.LATE
    assert told.reason == "The DPO was on leave; the deputy was not told."


def test_a_partner_told_by_telephone_is_recorded_with_the_hours_it_took(
    client, alpha, county, cares, dpo
):
    breach = make_breach(alpha, by=dpo, involved=[cares], detected=uk(2026, 11, 10, 10))
    partner = obligation(breach, Recipient.PARTNER)
    client.force_login(dpo)

    response = client.post(
        page_url("told", breach, obligation_id=partner.pk),
        {"told_date": "11/11/2026", "told_time": "16:30", "method": "Telephone to the DPO"},
        follow=True,
    )

    assert messages_of(response) == ["Essex Cares Ltd is recorded as told."]
    text = page_text(response)
    assert re.search(
        r"Essex Cares Ltd 10:00 on Thursday 12 November 2026 Done on time "
        r"16:30 on Wednesday 11 November 2026 Telephone to the DPO 30\.5",
        text,
    )


# --- The ICO -------------------------------------------------------------------------------


def test_recording_the_ico_told_without_its_case_reference_is_refused(client, alpha, dpo):
    breach = make_breach(alpha, by=dpo)
    with scope(partnership=alpha):
        services.assess(
            breach,
            by=dpo,
            likelihood="likely",
            severity="significant",
            assessment=Assessment.NOTIFIABLE,
            reason="Health details of 14 adults.",
        )
    ico = obligation(breach, Recipient.ICO)
    client.force_login(dpo)
    now = timezone.localtime()
    data = {
        "told_date": f"{now:%d/%m/%Y}",
        "told_time": f"{now:%H:%M}",
        "method": "The ICO's online form",
    }

    response = client.post(page_url("told", breach, obligation_id=ico.pk), data)

    assert response.status_code == 200
    assert field_error(response, "case_reference") == (
        "Error: Enter the ICO's case reference, from its acknowledgement."
    )
    assert obligation(breach, Recipient.ICO).state == ObligationState.DUE

    response = client.post(
        page_url("told", breach, obligation_id=ico.pk),
        {**data, "case_reference": "IC-123456-A1B2"},
        follow=True,
    )

    assert obligation(breach, Recipient.ICO).state == ObligationState.ON_TIME
    assert "ICO case reference IC-123456-A1B2" in page_text(response)


def test_a_time_told_in_the_future_is_refused_by_its_field(client, alpha, county, cares, dpo):
    breach = make_breach(alpha, by=dpo, involved=[cares])
    partner = obligation(breach, Recipient.PARTNER)
    client.force_login(dpo)
    later = timezone.localtime() + timedelta(days=1)

    response = client.post(
        page_url("told", breach, obligation_id=partner.pk),
        {"told_date": f"{later:%d/%m/%Y}", "told_time": "10:00", "method": "Telephone"},
    )

    assert field_error(response, "told") == "Error: The time told cannot be in the future."
    assert obligation(breach, Recipient.PARTNER).state == ObligationState.DUE


def test_an_assessment_of_not_notifiable_needs_its_reasons(client, alpha, dpo):
    breach = make_breach(alpha, by=dpo)
    client.force_login(dpo)
    data = {"likelihood": "remote", "severity": "minimal", "assessment": "not_notifiable"}

    response = client.post(page_url("assess", breach), data)

    assert field_error(response, "reason") == (
        "Error: Give the reasons it is not notifiable: they are kept with the breach."
    )
    assert fresh(breach).assessment == ""

    response = client.post(
        page_url("assess", breach),
        {**data, "reason": "Sent encrypted; the key was not shared."},
        follow=True,
    )

    breach = fresh(breach)
    assert breach.assessment == Assessment.NOT_NOTIFIABLE
    # The reporting organisation alone is involved: its view is the decision.
    assert breach.ico_decision == View.DO_NOT_NOTIFY
    assert obligation(breach, Recipient.ICO).state == ObligationState.NOT_NEEDED
    assert "Agreed by every involved partner" in page_text(response)


# --- Views and decisions -------------------------------------------------------------------


def test_an_involved_partners_dpo_gives_its_view_in_the_app(
    client, alpha, county, cares, dpo, cares_dpo
):
    breach = make_breach(alpha, by=dpo, involved=[cares])
    client.force_login(cares_dpo)

    refused = client.post(page_url("view", breach), {"view": "notify"})
    assert field_error(refused, "reason") == "Error: Give the reasons for your view."

    response = client.post(
        page_url("view", breach),
        {"view": "notify", "reason": "Health details were in the notes."},
        follow=True,
    )

    assert messages_of(response) == ["Essex Cares Ltd's view is recorded."]
    with scope(partnership=alpha):
        given = InvolvedPartner.objects.get(breach=breach, partner=cares)
    assert given.view == View.NOTIFY
    assert given.view_by == f"{cares_dpo.full_name} <{cares_dpo.email}>"
    assert given.acknowledged_at is not None


def test_when_the_partners_disagree_the_lead_organisations_dpo_decides(
    client, alpha, county, cares, dpo, cares_dpo
):
    breach = make_breach(alpha, by=dpo, involved=[cares])
    with scope(partnership=alpha):
        services.assess(
            breach,
            by=dpo,
            likelihood="possible",
            severity="significant",
            assessment=Assessment.NOTIFIABLE,
            reason="Names and health details.",
        )
        involved = InvolvedPartner.objects.get(breach=breach, partner=cares)
        services.give_view(involved, view=View.DO_NOT_NOTIFY, reason="Recalled at once.", who="x")
    client.force_login(dpo)  # the reporting organisation leads: no protocol or agreement named
    page = client.get(page_url("detail", breach))
    assert "The partners disagree" in page_text(page)
    assert "Decide as the lead organisation" in page_text(page)

    refused = client.post(page_url("lead", breach), {"decision": "notify"})
    assert field_error(refused, "reason") == "Error: Give the reasons for the decision."

    response = client.post(
        page_url("lead", breach),
        {"decision": "notify", "reason": "Health data of 14 adults: a risk to them."},
        follow=True,
    )

    breach = fresh(breach)
    assert (breach.ico_decision, breach.ico_decided_by_lead) == (View.NOTIFY, True)
    assert "The lead organisation, Essex County Council" in page_text(response)


def test_deciding_not_to_tell_the_individuals_needs_the_reason(client, alpha, dpo):
    breach = make_breach(alpha, by=dpo)
    client.force_login(dpo)

    response = client.post(page_url("individuals", breach), {"decision": "do_not_tell"})

    assert field_error(response, "reason") == (
        "Error: Give the reason, or the exemption of Article 34(3) that applies."
    )
    assert fresh(breach).individuals == ""


def test_a_follow_up_report_is_recorded_after_the_first_report_to_the_ico(client, alpha, dpo):
    breach = make_breach(alpha, by=dpo)
    client.force_login(dpo)
    nothing_yet = client.get(page_url("follow_up", breach), follow=True)
    assert messages_of(nothing_yet) == ["Record the first report to the ICO before a follow-up."]
    with scope(partnership=alpha):
        services.assess(
            breach,
            by=dpo,
            likelihood="likely",
            severity="severe",
            assessment=Assessment.NOTIFIABLE,
            reason="Bank details.",
        )
        services.record_told(
            obligation(breach, Recipient.ICO),
            by=dpo,
            at=timezone.now(),
            method="The ICO's online form",
            case_reference="IC-1",
        )
    now = timezone.localtime()

    response = client.post(
        page_url("follow_up", breach),
        {
            "sent_date": f"{now:%d/%m/%Y}",
            "sent_time": f"{now:%H:%M}",
            "what_changed": "All 14 letters recovered unopened.",
        },
        follow=True,
    )

    assert messages_of(response) == ["The follow-up report is recorded."]
    assert "All 14 letters recovered unopened." in page_text(response)


# --- Closing -------------------------------------------------------------------------------


def test_a_breach_with_someone_still_to_tell_cannot_be_closed(client, alpha, county, cares, dpo):
    breach = make_breach(alpha, by=dpo, involved=[cares])
    client.force_login(dpo)
    page = client.get(page_url("close", breach))
    assert "Everything recorded stays in the log for ever" in page_text(page)
    before = audit_count(alpha)

    response = client.post(page_url("close", breach))

    assert response.status_code == 200
    assert (
        "It cannot be closed while these are still to be told: Essex Cares Ltd, The ICO."
        in (page_text(response).split("There is a problem", 1)[1])
    )
    assert fresh(breach).status == BreachStatus.OPEN
    assert audit_count(alpha) == before


def test_a_closed_breach_stays_in_the_log_and_can_no_longer_change(client, alpha, dpo):
    breach = make_breach(alpha, by=dpo)
    with scope(partnership=alpha):
        services.assess(
            breach,
            by=dpo,
            likelihood="remote",
            severity="minimal",
            assessment=Assessment.NOT_NOTIFIABLE,
            reason="Encrypted.",
        )
    client.force_login(dpo)

    response = client.post(page_url("close", breach), follow=True)

    assert messages_of(response) == [f"Breach {breach.reference} is closed. It stays in the log."]
    assert fresh(breach).status == BreachStatus.CLOSED
    text = page_text(response)
    assert "Status: Closed" in text
    assert "Nothing: the breach is closed." in text
    assert "Complete or correct the report" not in text
    edit = client.get(page_url("edit", breach), follow=True)
    assert messages_of(edit) == ["This breach is closed: it can no longer change."]
    assert breach.reference in page_text(client.get(page_url("register"), {"status": "closed"}))


# --- The e-mailed link ---------------------------------------------------------------------


def notice_link(breach: BreachReport, by, late_reason: str = "") -> str:
    """Tell the partners by e-mail and return the path of the link sent to Essex Cares."""
    mail.outbox.clear()
    with scope(partnership=breach.partnership), TestCase.captureOnCommitCallbacks(execute=True):
        services.tell_partners(breach, by=by, late_reason=late_reason)
    (notice,) = [m for m in mail.outbox if m.to == ["ig@essexcares.example"]]
    return re.search(r"/breach-notice/[\w-]+/", notice.body).group(0)


def test_the_link_shows_the_notice_and_acknowledges_and_takes_the_view(
    client, alpha, county, cares, dpo
):
    breach = make_breach(
        alpha,
        by=dpo,
        involved=[cares],
        detected=uk(2026, 11, 10, 10),
        consequences="Distress to the adults named.",
    )
    link = notice_link(breach, dpo, late_reason="The notice was drafted on paper first.")

    page = client.get(link)

    text = page_text(page)
    assert page.status_code == 200
    assert "no-cache" in page["Cache-Control"] or "max-age=0" in page["Cache-Control"]
    assert f"{breach.reference}: Visit notes e-mailed to the wrong care provider" in text
    assert "Reported by Essex County Council" in text
    assert "Detected 10:00 on Tuesday 10 November 2026" in text
    assert "Contact point Ann Lee ann.lee@county.example" in text
    assert "Partners to be told by 10:00 on Thursday 12 November 2026" in text
    assert "The ICO to be told by 10:00 on Friday 13 November 2026" in text
    assert "Notes for 14 adults" not in text  # nothing else of the report
    assert "Distress" not in text

    response = client.post(link, {"action": "acknowledge"}, follow=True)

    assert "Essex Cares Ltd has acknowledged the breach." in page_text(response)
    with scope(partnership=alpha):
        involved = InvolvedPartner.objects.get(breach=breach, partner=cares)
    assert involved.acknowledged_at is not None

    refused = client.post(link, {"action": "view", "view": "notify", "reason": "Health data."})
    assert field_error(refused, "name") == "Error: Enter your name."
    assert field_error(refused, "position") == "Error: Enter your position."

    client.post(
        link,
        {
            "action": "view",
            "name": "Sam Patel",
            "position": "Data protection officer",
            "view": "notify",
            "reason": "Health data.",
        },
    )

    with scope(partnership=alpha):
        involved = InvolvedPartner.objects.get(breach=breach, partner=cares)
    assert involved.view == View.NOTIFY
    assert involved.view_by == (
        "Sam Patel, Data protection officer, Essex Cares Ltd (the e-mailed link)"
    )


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * (TOKEN_MAX_LENGTH + 1)])
def test_a_link_that_opens_nothing_says_it_is_not_valid(client, alpha, dpo, token):
    response = client.get(reverse("breach_link", kwargs={"token": token}))

    assert response.status_code == 404
    assert "This link is not valid" in page_text(response)
    assert client.post(reverse("breach_link", kwargs={"token": token})).status_code == 404


def test_once_closed_the_link_says_so_and_changes_nothing(client, alpha, county, cares, dpo):
    breach = make_breach(alpha, by=dpo, involved=[cares])
    link = notice_link(breach, dpo)
    with scope(partnership=alpha):
        services.assess(
            breach,
            by=dpo,
            likelihood="remote",
            severity="minimal",
            assessment=Assessment.NOT_NOTIFIABLE,
            reason="Encrypted.",
        )
        involved = InvolvedPartner.objects.get(breach=breach, partner=cares)
        services.give_view(involved, view=View.DO_NOT_NOTIFY, reason="Agreed.", who="x")
        services.close(breach, by=dpo)
        InvolvedPartner.objects.filter(pk=involved.pk).update(acknowledged_at=None)
    before = audit_count(alpha)

    page = client.get(link)
    client.post(link, {"action": "acknowledge"})

    assert "This breach was closed at" in page_text(page)
    assert 'value="acknowledge"' not in page_html(page)
    assert 'value="view"' not in page_html(page)
    with scope(partnership=alpha):
        assert InvolvedPartner.objects.get(pk=involved.pk).acknowledged_at is None
    assert audit_count(alpha) == before
