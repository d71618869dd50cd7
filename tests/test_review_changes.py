"""Reviews follow their facts as they change: a round open when the review moves keeps its
answers and asks nobody twice; reminders go to a party's contacts as they are now and not to a
partner that has left; a draft with a planned date in force has no review yet; a protocol's
stored review date stands when its cycle starts; dates at the calendar's far end are refused
on the form and never break a save, a sweep or anybody's calendar."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel import clocks
from accord.kernel.models import OutboxMessage
from organisations.models import Organisation
from protocols.models import Protocol
from reviews import services
from reviews.calendar import feed_for
from reviews.kinds import FEEDBACK_OPENS, LEAD_NOTICE
from reviews.models import Cause, FeedbackRequest, FeedbackRound, ReviewCycle
from reviews.registrations import start_missing_cycles
from signatories.models import Partner, PartnerStatus
from tenancy.roles import Role

from .factories import OrganisationFactory, make_member, make_partner, make_protocol
from .pages import field_error
from .review_factories import protocol_in_force, refreshed_cycle

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(alpha):
    return make_partner(
        alpha, OrganisationFactory(name="Essex County Council", data_protection_email="c@c.example")
    )


@pytest.fixture
def police(alpha):
    return make_partner(
        alpha, OrganisationFactory(name="Essex Police", data_protection_email="ig@police.example")
    )


@pytest.fixture
def steering(alpha, county):
    return make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user


@pytest.fixture
def open_round(alpha, county, police, steering):
    _, cycle = protocol_in_force(alpha, lead=county, title="Essex ISP")
    with scope(partnership=alpha):
        services.open_feedback_now(cycle, by=steering)
    return refreshed_cycle(cycle)


def test_a_review_brought_forward_keeps_its_open_round_and_asks_nobody_twice(
    alpha, open_round, steering
):
    asked = OutboxMessage.objects.filter(template="review_feedback_request").count()
    sooner = timezone.localdate() + timedelta(days=10)
    with scope(partnership=alpha):
        services.bring_forward(
            open_round, to=sooner, cause=Cause.LAW, reason="New regulations", by=steering
        )
        (feedback_round,) = FeedbackRound.objects.filter(cycle=open_round)
    assert (feedback_round.review_on, feedback_round.closes_on) == (sooner, sooner)
    assert feedback_round.closed_at is None
    assert OutboxMessage.objects.filter(template="review_feedback_request").count() == asked


def test_a_reminder_goes_to_the_contacts_as_they_are_now(alpha, open_round, police):
    Organisation.objects.filter(pk=police.organisation_id).update(
        data_protection_email="dpo@police.example"
    )
    with scope(partnership=alpha):
        request = FeedbackRequest.objects.get(partner=police)
        assert services.remind_when_due(request)
    reminder = OutboxMessage.objects.get(template="review_feedback_reminder")
    assert reminder.to == ["dpo@police.example"]


def test_a_partner_that_has_left_is_not_reminded(alpha, open_round, police):
    with scope(partnership=alpha):
        Partner.objects.filter(pk=police.pk).update(status=PartnerStatus.WITHDRAWN)
        request = FeedbackRequest.objects.get(partner=police)
        assert not services.remind_when_due(request)
    assert not OutboxMessage.objects.filter(template="review_feedback_reminder").exists()


def test_a_partner_still_serving_its_notice_is_still_asked(alpha, open_round, police, client):
    with scope(partnership=alpha):
        Partner.objects.filter(pk=police.pk).update(status=PartnerStatus.WITHDRAWING)
        request = FeedbackRequest.objects.get(partner=police)
        assert services.remind_when_due(request)


def test_a_draft_with_a_planned_date_in_force_has_no_review_yet(alpha, county):
    protocol = make_protocol(alpha, lead=county)
    with scope(partnership=alpha):
        protocol.date_in_force = timezone.localdate()
        protocol.save()
        assert not ReviewCycle.objects.exists()


def test_a_review_date_stored_before_cycles_existed_stands(alpha, county):
    kept = timezone.localdate() + timedelta(days=300)
    _, cycle = protocol_in_force(alpha, lead=county)  # another protocol: the factory's way
    with scope(partnership=alpha):
        Protocol.objects.filter(pk=cycle.protocol_id).update(next_review_on=kept)
        ReviewCycle.objects.filter(pk=cycle.pk).delete()
    assert start_missing_cycles() == 1
    with scope(partnership=alpha):
        assert ReviewCycle.objects.get(protocol_id=cycle.protocol_id).next_review_on == kept


def test_a_first_review_at_the_calendars_end_is_refused_on_the_form(
    client, alpha, county, steering
):
    _, cycle = protocol_in_force(alpha, lead=county)
    client.force_login(steering)
    url = reverse("reviews:schedule", kwargs={"partnership_slug": "alpha", "cycle_id": cycle.pk})
    response = client.post(
        url, {"cadence_months": "12", "feedback_months": "1", "first_review_on": "31/12/9999"}
    )
    assert response.status_code == 200
    assert field_error(response, "first_review_on") == (
        "Error: The first review date must be within 10 years from today."
    )
    assert refreshed_cycle(cycle).first_review_on == cycle.first_review_on


def test_a_date_at_the_calendars_end_breaks_no_save_sweep_or_calendar(alpha, county, steering):
    protocol, cycle = protocol_in_force(alpha, lead=county)
    with scope(partnership=alpha):
        ReviewCycle.objects.filter(pk=cycle.pk).update(first_review_on=date.max)
        services.reschedule(refreshed_cycle(cycle))
        protocol.date_in_force = date(9999, 12, 31)
        protocol.save()  # the cycle cannot follow it so far: the save stands all the same
        assert Protocol.objects.get(pk=protocol.pk).date_in_force == date(9999, 12, 31)
    assert clocks.run_due(LEAD_NOTICE) == 0  # nothing due before the end of time
    assert clocks.run_due(FEEDBACK_OPENS) == 0
    assert b"BEGIN:VCALENDAR" in feed_for(steering)
