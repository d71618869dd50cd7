"""Threats to reviews and their answers: a guessed feedback link opens nothing, and a replaced
one nothing once the round has closed;
a feedback form cannot be posted from another site; a party that has left cannot answer; a
viewer cannot record a review, change the schedule or ask for feedback; another partnership's
members see no review at all; a breach's details never reach the review's reason."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel.models import OutboxMessage
from reviews import services
from reviews.models import FeedbackRequest, FeedbackRound, Review
from tenancy.roles import Role

from ..factories import OrganisationFactory, make_member, make_partner
from ..review_factories import protocol_in_force, refreshed_cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(name="Essex County Council", data_protection_email="dpo@c.example"),
    )


@pytest.fixture
def round_open(alpha, county):
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user
    _, cycle = protocol_in_force(alpha, lead=county)
    with scope(partnership=alpha):
        services.open_feedback_now(cycle, by=steering)
    return refreshed_cycle(cycle)


def link() -> str:
    message = OutboxMessage.objects.get(template="review_feedback_request", to=["dpo@c.example"])
    return re.search(r"https?://[^\s]+?(/feedback/[^/\s]+/)", message.text).group(1)


def test_a_guessed_feedback_link_opens_nothing(client, round_open):
    assert client.get("/feedback/" + "A" * 43 + "/").status_code == 404
    assert client.get("/feedback/" + "A" * 500 + "/").status_code == 404


def test_a_feedback_form_cannot_be_posted_from_another_site(round_open):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(link(), {"name": "Mallory", "email": "m@evil.example"})
    assert response.status_code == 403
    with scope(partnership=round_open.partnership):
        assert not FeedbackRequest.objects.filter(answered_at__isnull=False).exists()


def test_a_replaced_link_takes_no_feedback_once_the_round_has_closed(client, alpha, round_open):
    first = link()
    with scope(partnership=alpha):
        request = FeedbackRequest.objects.get(partner__organisation__name="Essex County Council")
        services.remind_when_due(request)
        assert client.get(first).status_code == 200  # still the party's, while it is open
        FeedbackRound.objects.filter(cycle=round_open).update(closed_at=timezone.now())
    response = client.post(first, {"name": "Mallory", "email": "m@evil.example"})
    assert response.status_code == 410
    assert "This feedback round has closed" in response.content.decode()
    with scope(partnership=alpha):
        assert not FeedbackRequest.objects.filter(answered_at__isnull=False).exists()


@pytest.mark.parametrize("name", ["record", "schedule", "bring_forward", "open_feedback"])
def test_a_viewer_cannot_change_a_review(client, alpha, round_open, name):
    client.force_login(make_member(alpha, Role.VIEWER).user)
    url = reverse(
        f"reviews:{name}", kwargs={"partnership_slug": "alpha", "cycle_id": round_open.pk}
    )
    response = client.post(
        url, {"held_on": "01/12/2026", "attendees": "x", "outcome": "retire", "decision": "x"}
    )
    assert response.status_code == 403
    with scope(partnership=alpha):
        assert not Review.objects.exists()


def test_another_partnerships_member_sees_no_review(client, beta, round_open):
    client.force_login(make_member(beta, Role.ADMINISTRATOR).user)
    url = reverse("reviews:cycle", kwargs={"partnership_slug": "alpha", "cycle_id": round_open.pk})
    assert client.get(url).status_code == 404
    own = reverse("reviews:cycle", kwargs={"partnership_slug": "beta", "cycle_id": round_open.pk})
    assert client.get(own).status_code == 404


def test_a_get_never_opens_a_round_or_records_anything(client, alpha, county):
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user
    _, cycle = protocol_in_force(alpha, lead=county)
    client.force_login(steering)
    url = reverse(
        "reviews:open_feedback", kwargs={"partnership_slug": "alpha", "cycle_id": cycle.pk}
    )
    assert client.get(url).status_code == 405
    assert not OutboxMessage.objects.filter(template="review_feedback_request").exists()


def test_a_first_review_date_in_the_past_is_refused_on_the_form(client, alpha, county):
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user
    _, cycle = protocol_in_force(alpha, lead=county)
    client.force_login(steering)
    url = reverse("reviews:schedule", kwargs={"partnership_slug": "alpha", "cycle_id": cycle.pk})
    past = (timezone.localdate() - timedelta(days=1)).strftime("%d/%m/%Y")
    response = client.post(
        url, {"cadence_months": "12", "feedback_months": "1", "first_review_on": past}
    )
    assert response.status_code == 200
    assert "The first review date must be today or in the future." in response.content.decode()
    assert refreshed_cycle(cycle).first_review_on == cycle.first_review_on
