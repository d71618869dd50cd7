"""Monitoring the protocol (seeds 001 and 003): every active partner is asked once a year, on
the protocol's adoption anniversary, to confirm through an e-mailed link (no account) that the
protocol's procedures are in place, once even with two sweeps at once; the steering group
sees who has confirmed and who has not, asks again, records complaints about disclosures
counted per partner per year, and prints the annual review pack."""

from __future__ import annotations

import re
import subprocess
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel import clocks
from accord.kernel.models import Clock, OutboxMessage
from agreements.models import Agreement, AgreementStatus
from breaches.models import Assessment
from protocols.services import add_months
from reviews import monitoring
from reviews.models import Complaint, Confirmation, Outcome, Review, ReviewCycle
from reviews.monitoring import CONFIRMATION_REQUEST
from signatories.models import PartnerStatus
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .breach_factories import assess, dpo_at, log_breach, told_ico, told_partner, uk
from .factories import OrganisationFactory, make_member, make_partner
from .faults.conftest import needs_postgresql
from .faults.test_two_sweeps_at_once import at_once
from .pages import field_error, messages_of, page_text
from .review_factories import agreement_in_force, protocol_in_force

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YEAR = TODAY.year


@pytest.fixture
def county(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(name="Essex County Council", data_protection_email="dpo@essex.example"),
    )


@pytest.fixture
def police(alpha):
    return make_partner(
        alpha, OrganisationFactory(name="Essex Police", data_protection_email="ig@police.example")
    )


@pytest.fixture
def fire(alpha):
    """A partner with no confirmed signatory and no data protection address."""
    return make_partner(alpha, OrganisationFactory(name="Essex Fire and Rescue"))


@pytest.fixture
def steering(alpha, county):
    return make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user


def adopted(alpha, lead, months_ago: int, title: str = "Essex ISP"):
    protocol, _cycle = protocol_in_force(
        alpha, lead=lead, title=title, adopted_on=add_months(TODAY, -months_ago)
    )
    return protocol


@pytest.fixture
def anniversary_today(alpha, county, police, fire):
    """A protocol adopted a year ago today: the yearly request is due now."""
    protocol = adopted(alpha, county, 12)
    with scope(partnership=alpha):
        clocks.recompute(CONFIRMATION_REQUEST, protocol)
    return protocol


def url(name: str, **query) -> str:
    address = reverse(f"reviews:{name}", kwargs={"partnership_slug": "alpha"})
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def links_to(address: str) -> list[str]:
    found = []
    for message in OutboxMessage.objects.filter(to__contains=[address]).order_by("pk"):
        found += re.findall(r"https?://[^\s]+?(/confirm/[^/\s]+/)", message.text)
    return found


def asked_yearly() -> int:
    return clocks.run_due(CONFIRMATION_REQUEST)


def confirmations(alpha) -> dict[str, Confirmation]:
    with scope(partnership=alpha):
        return {
            c.partner.organisation.name: c
            for c in Confirmation.objects.select_related("partner__organisation")
        }


CONFIRMED = {"in_place": "on", "name": "Pat Jones", "role": "SIRO", "note": ""}


# --- The yearly request ----------------------------------------------------------------------


def test_every_active_partner_is_asked_on_the_protocols_adoption_anniversary_once(
    alpha, anniversary_today
):
    make_partner(
        alpha,
        OrganisationFactory(name="Former Partner", data_protection_email="ig@former.example"),
        status=PartnerStatus.WITHDRAWN,
    )
    assert asked_yearly() == 1
    assert asked_yearly() == 0

    asked = confirmations(alpha)
    assert set(asked) == {"Essex County Council", "Essex Police", "Essex Fire and Rescue"}
    assert {c.year for c in asked.values()} == {YEAR}
    assert asked["Essex Police"].sent_to == ["ig@police.example"]
    assert asked["Essex Fire and Rescue"].sent_to == []
    assert len(links_to("ig@police.example")) == 1
    assert len(links_to("dpo@essex.example")) == 1
    assert links_to("ig@former.example") == []
    message = OutboxMessage.objects.get(to=["ig@police.example"])
    assert message.subject == f"Please confirm Essex ISP is in place at Essex Police ({YEAR})"
    # The next request falls on next year's anniversary.
    with scope(partnership=alpha):
        due = Clock.objects.get(kind=CONFIRMATION_REQUEST, done_at__isnull=True).due_at
    assert timezone.localtime(due).date() == add_months(anniversary_today.date_in_force, 24)


def test_before_the_anniversary_nobody_is_asked_and_the_clock_waits_for_it(alpha, county, police):
    protocol = adopted(alpha, county, 11)
    assert asked_yearly() == 0
    assert not OutboxMessage.objects.filter(template="review_confirmation_request").exists()
    due = Clock.objects.get(kind=CONFIRMATION_REQUEST, done_at__isnull=True).due_at
    assert due == clocks.start_of_day(add_months(protocol.date_in_force, 12))


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_ask_each_partner_once(alpha, anniversary_today):
    counts = at_once(asked_yearly)

    assert sum(counts) == 1
    sent = OutboxMessage.objects.filter(template="review_confirmation_request")
    assert sorted(m.to[0] for m in sent) == ["dpo@essex.example", "ig@police.example"]
    assert len(confirmations(alpha)) == 3
    assert asked_yearly() == 0


# --- Confirming through the link -------------------------------------------------------------


def test_a_partner_confirms_through_the_link_without_an_account_once(alpha, anniversary_today):
    asked_yearly()
    (link,) = links_to("ig@police.example")
    visitor = Client()

    page = visitor.get(link)
    assert page.status_code == 200
    text = page_text(page)
    assert "Confirm that Essex ISP is in place" in text
    assert f"Essex Police Year {YEAR}" in text

    done = visitor.post(link, CONFIRMED, follow=True)
    assert messages_of(done) == [f"Thank you: Essex Police's confirmation for {YEAR} is recorded."]
    confirmation = confirmations(alpha)["Essex Police"]
    assert confirmation.confirmed_at is not None
    assert (confirmation.confirmed_by_name, confirmation.confirmed_by_role) == ("Pat Jones", "SIRO")
    with scope(partnership=alpha):
        entry = AuditEntry.objects.get(action="review.confirmed")
    assert entry.organisation_name == "Essex Police"
    assert entry.actor is None
    assert "Pat Jones (SIRO) confirmed for Essex Police" in entry.summary

    # The second attempt is told it is done, and changes nothing.
    again = visitor.post(link, {**CONFIRMED, "name": "Someone Else"})
    assert again.status_code == 200
    assert "Essex Police has already confirmed this for" in page_text(again)
    assert "Pat Jones (SIRO)" in page_text(again)
    assert confirmations(alpha)["Essex Police"].confirmed_by_name == "Pat Jones"
    assert 'name="name"' not in again.content.decode()
    with scope(partnership=alpha):
        assert AuditEntry.objects.filter(action="review.confirmed").count() == 1


def test_the_confirmation_form_says_what_is_missing_and_records_nothing(alpha, anniversary_today):
    asked_yearly()
    (link,) = links_to("ig@police.example")
    page = Client().post(link, {"name": "  ", "role": "", "note": ""})
    assert page.status_code == 200
    assert field_error(page, "in_place") == (
        "Error: Tick the box to confirm that the protocol's procedures are in place."
    )
    assert field_error(page, "name") == "Error: Enter your name."
    assert field_error(page, "role").startswith("Error: Enter your role")
    assert "There is a problem" in page_text(page)
    assert confirmations(alpha)["Essex Police"].confirmed_at is None


def test_a_partner_that_has_withdrawn_cannot_confirm(alpha, anniversary_today, police):
    asked_yearly()
    (link,) = links_to("ig@police.example")
    with scope(partnership=alpha):
        type(police).objects.filter(pk=police.pk).update(status=PartnerStatus.WITHDRAWN)
    page = Client().post(link, CONFIRMED)
    assert "Essex Police is no longer an active partner" in page_text(page)
    assert confirmations(alpha)["Essex Police"].confirmed_at is None


# --- The monitoring page ---------------------------------------------------------------------


def test_the_steering_group_sees_confirmations_received_and_missing(
    client, alpha, anniversary_today, steering, django_assert_num_queries
):
    asked_yearly()
    Client().post(links_to("ig@police.example")[0], CONFIRMED)

    client.force_login(steering)
    text = page_text(client.get(url("monitoring")))
    assert f"Confirmations for {YEAR} 1 received, 2 missing." in text
    assert "Essex Police Confirmed" in text and "by Pat Jones (SIRO)" in text
    assert "Essex Fire and Rescue Missing Asked on" in text
    assert "nobody was e-mailed" in text
    assert "Essex County Council Missing Asked on" in text and "not yet confirmed" in text

    # The dashboard's figure: one query whatever the number of partners and protocols.
    with scope(partnership=alpha), django_assert_num_queries(1):
        status = monitoring.confirmation_status(YEAR)
        assert [(p.protocol.title, p.received, p.missing) for p in status.protocols] == [
            ("Essex ISP", 1, 2)
        ]
        assert (status.received, status.missing) == (1, 2)


def test_the_monitoring_page_runs_the_same_queries_whatever_the_number_of_partners(
    client, alpha, county, steering
):
    adopted(alpha, county, 3)
    client.force_login(steering)

    def queries() -> int:
        with CaptureQueriesContext(connection) as seen:
            assert client.get(url("monitoring")).status_code == 200
        return len(seen)

    few = queries()
    for n in range(6):
        partner = make_partner(alpha, OrganisationFactory(name=f"Partner {n}"))
        with scope(partnership=alpha):
            Complaint.objects.create(
                partnership=alpha, partner=partner, received_on=TODAY, summary="Disclosed."
            )
    assert queries() == few


def test_asking_partners_asks_those_not_yet_asked_and_not_twice_within_a_week(
    client, alpha, county, police, fire, steering
):
    protocol = adopted(alpha, county, 3)  # its first anniversary is months away
    client.force_login(steering)

    done = client.post(url("monitoring_ask"), {"protocol": protocol.pk}, follow=True)
    assert messages_of(done)[0] == f"Asked 3 partners to confirm Essex ISP for {YEAR}."
    assert "Essex Fire and Rescue has no confirmed authorised signatory" in messages_of(done)[1]
    (first,) = links_to("ig@police.example")

    twice = client.post(url("monitoring_ask"), {"protocol": protocol.pk}, follow=True)
    assert "nobody was asked again yet" in messages_of(twice)[0]
    assert len(links_to("ig@police.example")) == 1

    with scope(partnership=alpha):
        Confirmation.objects.update(sent_at=timezone.now() - timedelta(days=8))
    later = client.post(url("monitoring_ask"), {"protocol": protocol.pk}, follow=True)
    assert messages_of(later)[0] == (
        f"Asked 3 partners to confirm Essex ISP for {YEAR} (3 again, with a new link)."
    )
    _, second = links_to("ig@police.example")
    assert (
        "New link"
        in OutboxMessage.objects.filter(to=["ig@police.example"]).order_by("pk").last().subject
    )
    assert Client().get(first).status_code == 404  # the old link stops
    assert Client().get(second).status_code == 200
    with scope(partnership=alpha):
        assert AuditEntry.objects.filter(action="review.confirmations_requested").count() == 2


def test_a_partner_that_has_confirmed_is_not_asked_again(
    client, alpha, anniversary_today, steering
):
    asked_yearly()
    Client().post(links_to("ig@police.example")[0], CONFIRMED)
    with scope(partnership=alpha):
        Confirmation.objects.update(sent_at=timezone.now() - timedelta(days=8))
    client.force_login(steering)
    client.post(url("monitoring_ask"), {"protocol": anniversary_today.pk})
    assert len(links_to("ig@police.example")) == 1
    assert len(links_to("dpo@essex.example")) == 2


def test_a_protocol_not_in_force_cannot_be_confirmed(alpha, county, steering):
    protocol = adopted(alpha, county, 3)
    with scope(partnership=alpha):
        with pytest.raises(ValidationError, match="before it begins"):
            monitoring.request_confirmations(protocol, YEAR + 1, by=steering)
        type(protocol).objects.filter(pk=protocol.pk).update(retired_at=timezone.now())
        protocol.refresh_from_db()
        with pytest.raises(ValidationError, match="is not in force"):
            monitoring.request_confirmations(protocol, YEAR, by=steering)
        assert not Confirmation.objects.exists()
        assert monitoring.confirmation_status(YEAR).protocols == ()


# --- Complaints ------------------------------------------------------------------------------


def complaint(client, partner, received_on: date | str, summary="Sent to the wrong school."):
    day = received_on if isinstance(received_on, str) else f"{received_on:%d/%m/%Y}"
    return client.post(
        url("monitoring_complaint"),
        {"partner": partner.pk if partner else "", "received_on": day, "summary": summary},
    )


def test_complaints_are_counted_per_partner_per_year(client, alpha, police, fire, steering):
    client.force_login(steering)
    last_year = date(YEAR - 1, 6, 30)
    for partner, day in ((police, TODAY), (police, TODAY), (police, last_year), (fire, TODAY)):
        assert complaint(client, partner, day).status_code == 302

    with scope(partnership=alpha):
        assert monitoring.complaint_counts(YEAR) == {police.pk: 2, fire.pk: 1}
        assert monitoring.complaint_counts(YEAR - 1) == {police.pk: 1}
        entry = AuditEntry.objects.filter(action="review.complaint_recorded").order_by("pk")[0]
    assert "complaint about a disclosure by Essex Police" in entry.summary
    page = client.get(url("monitoring"))
    text = page_text(page)
    assert f"Partner {YEAR} {YEAR - 1} {YEAR - 2}" in text
    assert "Essex Police 2 1 0" in text
    assert "Essex Fire and Rescue 1 0 0" in text
    assert "All partners 3 1 0" in text


@pytest.mark.parametrize(
    "field, values, message",
    [
        (
            "received_on",
            {"received_on": TODAY + timedelta(days=1)},
            "The date the complaint was received cannot be in the future.",
        ),
        ("received_on", {"received_on": "31/02/2026"}, "Enter a real date, like 27/03/2026."),
        (
            "summary",
            {"summary": "   "},
            "Describe the complaint: what was disclosed, and the concern.",
        ),
        ("partner", {"partner": None}, "Choose the partner the complaint is about."),
    ],
)
def test_a_complaint_that_cannot_be_recorded_says_why_on_its_field(
    client, alpha, police, steering, field, values, message
):
    client.force_login(steering)
    given = {"partner": police, "received_on": TODAY, **values}
    page = complaint(client, given["partner"], given["received_on"], values.get("summary", "x"))
    assert page.status_code == 200
    assert field_error(page, field) == f"Error: {message}"
    with scope(partnership=alpha):
        assert not Complaint.objects.exists()


def test_a_complaint_about_another_partnerships_partner_is_refused(
    client, alpha, beta, police, steering
):
    stranger = make_partner(beta, OrganisationFactory(name="Kent Police"))
    client.force_login(steering)
    page = complaint(client, stranger, TODAY)
    assert field_error(page, "partner") == "Error: Choose one of the options."
    with scope(partnership=alpha), pytest.raises(ValidationError) as refused:
        monitoring.record_complaint(
            alpha, stranger, TODAY, "Sent to the wrong school.", by=steering
        )
    assert refused.value.message_dict == {"partner": ["Choose the partner the complaint is about."]}
    with scope(partnership=alpha):
        assert not Complaint.objects.exists()


# --- The annual review pack ------------------------------------------------------------------

PACK_YEAR = 2026


def pdf_text(content: bytes) -> str:
    done = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


@pytest.fixture
def year_of_facts(alpha, county, police, fire, steering):
    """2026: the protocol reviewed, a breach told in time and one told late, Essex Police's
    confirmation missing, and an agreement whose review lapsed."""
    protocol, cycle = protocol_in_force(
        alpha, lead=county, title="Essex ISP", adopted_on=date(PACK_YEAR - 1, 6, 1)
    )
    agreement, agreement_cycle = agreement_in_force(
        alpha,
        lead=county,
        others=[police],
        title="Reablement review",
        adopted_on=date(PACK_YEAR - 1, 1, 15),
        review_date=date(PACK_YEAR, 3, 1),
    )
    with scope(partnership=alpha):
        # Made in the year the facts describe (the test may run in a later year).
        ReviewCycle.objects.update(created_at=uk(PACK_YEAR - 1, 1, 15, 9))
        Review.objects.create(
            partnership=alpha,
            cycle=cycle,
            due_on=date(PACK_YEAR, 2, 1),
            held_on=date(PACK_YEAR, 2, 10),
            attendees="The steering group",
            decision="The protocol still meets the partners' needs.",
            outcome=Outcome.NO_CHANGE,
            recorded_by=steering,
        )
        ReviewCycle.objects.filter(pk=cycle.pk).update(next_review_on=date(PACK_YEAR + 1, 2, 10))
        monitoring.request_confirmations(protocol, PACK_YEAR, by=steering)
        county_confirmation = Confirmation.objects.get(partner=county)
    Client().post(links_to("dpo@essex.example")[0], CONFIRMED)
    dpo = dpo_at(alpha, county.organisation)
    breach = log_breach(
        alpha, dpo, detected=uk(PACK_YEAR, 9, 7, 14), involved=[police], title="Notes misdirected"
    )
    told_partner(breach, dpo, police.organisation, hours=30)
    assess(breach, dpo, Assessment.NOTIFIABLE)
    told_ico(breach, dpo, hours=70)
    late = log_breach(
        alpha, dpo, detected=uk(PACK_YEAR, 10, 5, 9), involved=[police], title="Laptop lost"
    )
    told_partner(late, dpo, police.organisation, hours=52)
    assess(late, dpo, Assessment.NOTIFIABLE)
    told_ico(late, dpo, hours=80)
    return protocol, agreement, county_confirmation


def test_the_annual_pack_pdf_lists_reviews_breaches_confirmations_and_lapsed_documents(
    client, alpha, year_of_facts, steering
):
    client.force_login(steering)
    response = client.get(url("monitoring_pack_pdf", year=PACK_YEAR))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f"annual-review-pack-alpha-{PACK_YEAR}.pdf" in response["Content-Disposition"]
    text = pdf_text(response.content)

    assert f"Annual review pack {PACK_YEAR}" in text
    # The review held, its outcome and decision.
    assert "Protocol: Essex ISP" in text and "10 February 2026" in text
    assert "No change" in text and "The protocol still meets the partners' needs." in text
    # The breach's timings, by its figures only: the steering group does not see the breach.
    assert "2 breaches detected in the period" in text
    assert "within 48 hours of detection: 1 of 2 (50%)" in text
    assert "14:00 BST on Monday 7 September 2026" in text
    assert (
        "1 told within 48 hours (after 30 hours) Notified after 70 hours, within 72 hours" in text
    )
    assert "1 told late (the longest after 52 hours) Notified after 80 hours, late" in text
    assert "Notes misdirected" not in text and "Laptop lost" not in text
    assert "A breach (its details are seen by its DPOs)" in text
    # Confirmations received and missing.
    assert "1 received, 2 missing" in text
    assert "Essex County Council Confirmed" in text
    assert "Essex Police Missing: asked" in text
    assert "Essex Fire and Rescue Missing" in text
    # The agreement whose review lapsed.
    assert "Agreement: ISA-001 Reablement review" in text
    assert "1 March 2026" in text


def test_an_administrator_sees_each_breach_of_the_pack_by_its_reference(
    client, alpha, year_of_facts, alice
):
    client.force_login(alice)
    text = page_text(client.get(url("monitoring_pack", year=PACK_YEAR)))
    assert "BR-0001: Notes misdirected" in text and "BR-0002: Laptop lost" in text
    assert "Notified after 70 hours, within 72 hours" in text
    assert "shown by their timings only" not in text


def test_the_pack_lists_agreements_expired_in_the_year(client, alpha, county, police, steering):
    agreement, _ = agreement_in_force(
        alpha, lead=county, others=[police], adopted_on=date(PACK_YEAR - 1, 1, 15)
    )
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=agreement.pk).update(
            status=AgreementStatus.EXPIRED,
            end_date=date(PACK_YEAR, 5, 31),
            ended_at=uk(PACK_YEAR, 6, 1, 0, 1),
        )
    client.force_login(steering)
    text = page_text(client.get(url("monitoring_pack", year=PACK_YEAR)))
    assert "ISA-001 Reablement review (Essex County Council), expired 1 June 2026" in text
    earlier = page_text(client.get(url("monitoring_pack", year=PACK_YEAR - 1)))
    assert f"Agreements that expired in {PACK_YEAR - 1}: None." in earlier


def test_the_pack_offers_the_years_since_adoption_and_refuses_another(
    client, alpha, county, steering
):
    adopted(alpha, county, 3)
    client.force_login(steering)
    page = client.get(url("monitoring_pack"))
    assert f"Annual review pack {YEAR}" in page_text(page)
    refused = client.get(url("monitoring_pack", year="1999"))
    assert refused.status_code == 200
    assert field_error(refused, "year") == "Error: Choose one of the years listed."
    pdf = client.get(url("monitoring_pack_pdf", year="x"))
    assert pdf["Content-Type"].startswith("text/html")
    assert field_error(pdf, "year") == "Error: Choose one of the years listed."
