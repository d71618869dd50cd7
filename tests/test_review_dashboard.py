"""The steering group's one page of reviews: every protocol and agreement in force with its next
review date and status, due and overdue first, feedback progress and the last outcome, with
filters; a fixed number of queries however many documents; and the partnership's dashboard
card counting the reviews due."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from protocols.services import add_months
from reviews import services
from reviews.models import Outcome, Review, ReviewCycle
from tenancy.roles import Role

from .factories import OrganisationFactory, make_member, make_partner
from .pages import page_text
from .review_factories import agreement_in_force, protocol_in_force, refreshed_cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(alpha):
    return make_partner(alpha, OrganisationFactory(name="Essex County Council"))


@pytest.fixture
def steering(alpha, county):
    return make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user


def due_on(cycle: ReviewCycle, day: date) -> ReviewCycle:
    with scope(partnership=cycle.partnership):
        ReviewCycle.objects.filter(pk=cycle.pk).update(first_review_on=day)
        services.reschedule(refreshed_cycle(cycle))
    return refreshed_cycle(cycle)


def dashboard(client, **query):
    return client.get(reverse("reviews:dashboard", kwargs={"partnership_slug": "alpha"}), query)


def table(response) -> str:
    """The text of the dashboard's table, from its caption on."""
    text = page_text(response)
    return text[text.index(" in force Document") :]


@pytest.fixture
def four(alpha, county):
    """One document in each state: lapsed, overdue, due soon, on track."""
    today = timezone.localdate()
    made = {}
    for title, day in [
        ("Lapsed ISP", add_months(today, -4)),
        ("Overdue ISP", today - timedelta(days=10)),
        ("Soon ISP", today + timedelta(days=30)),
        ("Later ISP", add_months(today, 5)),
    ]:
        _, cycle = protocol_in_force(alpha, lead=county, title=title, adopted_on=date(2024, 1, 1))
        made[title] = due_on(cycle, day)
    return made


def test_every_document_in_force_due_and_overdue_first_with_its_status(client, steering, four):
    client.force_login(steering)
    text = table(dashboard(client))
    order = [text.index(t) for t in ("Lapsed ISP", "Overdue ISP", "Soon ISP", "Later ISP")]
    assert order == sorted(order)
    assert "Lapsed ISP Essex County Council" in text
    for tag in ("Lapsed", "Overdue", "Due soon", "On track"):
        assert tag in text
    assert "4 documents in force" in page_text(dashboard(client))


def test_filters_choose_by_status_and_kind(client, steering, four, alpha, county):
    agreement_in_force(alpha, lead=county, title="Hospital discharge")
    client.force_login(steering)
    text = table(dashboard(client, status="overdue"))
    assert "Overdue ISP" in text and "Lapsed ISP" not in text and "Soon ISP" not in text
    text = table(dashboard(client, kind="agreement"))
    assert "Hospital discharge" in text and "Later ISP" not in text
    text = table(dashboard(client, lead="county"))
    assert "Hospital discharge" in text and "Later ISP" in text
    assert "No protocol or agreement in force matches." in table(dashboard(client, lead="Kent"))
    # A choice that is not offered says so, and shows everything else as it was.
    response = dashboard(client, status="everything")
    assert response.status_code == 200
    assert "Select a valid choice" in page_text(response)


def test_feedback_progress_and_last_outcome_are_shown(client, steering, four, alpha):
    soon = four["Soon ISP"]
    with scope(partnership=alpha):
        services.open_feedback_now(soon, by=steering)
        Review.objects.create(
            partnership=alpha,
            cycle=four["Later ISP"],
            due_on=date(2025, 1, 1),
            held_on=date(2025, 1, 1),
            attendees="Ann Lee",
            decision="Fine as it is",
            outcome=Outcome.NO_CHANGE,
        )
    client.force_login(steering)
    text = page_text(dashboard(client))
    assert "0 of 1 answered" in text  # the county, the one partner
    assert "No change" in text
    assert "Not yet asked" in text


def test_the_query_count_does_not_grow_with_the_documents(client, steering, alpha, county):
    for n in range(3):
        protocol_in_force(alpha, lead=county, title=f"ISP {n}")
    client.force_login(steering)
    dashboard(client)
    with CaptureQueriesContext(connection) as few:
        dashboard(client)
    for n in range(3, 15):
        protocol_in_force(alpha, lead=county, title=f"ISP {n}")
        agreement_in_force(alpha, lead=county, title=f"ISA {n}")
    with CaptureQueriesContext(connection) as many:
        dashboard(client)
    assert len(many) == len(few)


def test_the_partnership_dashboard_counts_reviews_due(client, steering, four):
    client.force_login(steering)
    page = client.get(reverse("tenancy:dashboard", kwargs={"partnership_slug": "alpha"}))
    assert "3 Reviews due" in page_text(page)


def test_monitoring_confirmations_received_and_missing_are_summed_up(client, steering, four):
    client.force_login(steering)
    text = page_text(dashboard(client))
    year = timezone.localdate().year
    assert (
        f"Monitoring confirmations for {year}: 0 received, 4 missing, over 4 protocols in force."
    ) in text
