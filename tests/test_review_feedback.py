"""A feedback round: opened by the clock a set time before the review, every party's contacts
e-mailed a link; a party answers section by section through it without an account; those who
have not answered are reminded, each reminder once even with two sweeps at once; the lead sees
who has answered and the feedback beside each section."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel import clocks
from accord.kernel.models import Clock, OutboxMessage
from reviews import schedule, services
from reviews.kinds import FEEDBACK_OPENS, FEEDBACK_REMINDER
from reviews.models import FeedbackRequest, FeedbackRound, SectionFeedback
from signatories.models import PartnerStatus
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .factories import OrganisationFactory, make_member, make_partner
from .faults.test_two_sweeps_at_once import at_once
from .pages import field_error, page_text
from .review_factories import protocol_in_force, refreshed_cycle

pytestmark = pytest.mark.django_db


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
def steering(alpha, county):
    return make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user


@pytest.fixture
def protocol_cycle(alpha, county, police, steering):
    """A protocol in force whose review is 20 days away: feedback (a month ahead) is due."""
    protocol, cycle = protocol_in_force(alpha, lead=county, title="Essex ISP")
    with scope(partnership=alpha):
        services.update_schedule(
            cycle,
            cadence_months=12,
            feedback_months=1,
            first_review_on=timezone.localdate() + timedelta(days=20),
            by=steering,
        )
    return protocol, refreshed_cycle(cycle)


def feedback_links(address: str) -> list[str]:
    found = []
    for message in OutboxMessage.objects.filter(to__contains=[address]).order_by("pk"):
        found += re.findall(r"https?://[^\s]+?(/feedback/[^/\s]+/)", message.text)
    return found


def open_by_clock() -> int:
    return clocks.run_due(FEEDBACK_OPENS)


def test_the_clock_opens_the_round_and_every_party_is_asked_once(alpha, protocol_cycle):
    _, cycle = protocol_cycle
    assert open_by_clock() == 1
    assert open_by_clock() == 0
    with scope(partnership=alpha):
        feedback_round = FeedbackRound.objects.get(cycle=cycle)
        assert feedback_round.review_on == cycle.next_review_on
        asked = {r.partner.organisation.name for r in feedback_round.requests.all()}
    assert asked == {"Essex County Council", "Essex Police"}
    assert len(feedback_links("ig@police.example")) == 1
    subject = OutboxMessage.objects.get(to__contains=["ig@police.example"]).subject
    assert subject == f"Feedback wanted by {cycle.next_review_on:%-d %B %Y}: Essex ISP"


def test_a_round_not_yet_due_waits_for_its_date(alpha, county, steering):
    _, cycle = protocol_in_force(alpha, lead=county)
    with scope(partnership=alpha):
        opening = Clock.objects.get(kind=FEEDBACK_OPENS, done_at__isnull=True)
    assert opening.due_at == clocks.start_of_day(schedule.feedback_opens_on(cycle))
    assert open_by_clock() == 0


def answer_everything(client, link: str, **extra):
    page = client.get(link)
    assert page.status_code == 200
    data = {"name": "Ian Grey", "email": "ian.grey@police.example"}
    sections = page.context["form"].sections
    for i, _ in enumerate(sections, 1):
        data[f"choice_{i}"] = "no_changes"
    data.update(extra)
    return client.post(link, data), sections


def test_a_party_answers_section_by_section_through_its_link(alpha, protocol_cycle, client):
    _, cycle = protocol_cycle
    open_by_clock()
    link = feedback_links("ig@police.example")[0]
    response, sections = answer_everything(
        client,
        link,
        choice_2="comments",
        comments_2="Name the police's single point of contact.",
        amendment_2="Essex Police: the Information Sharing Unit.",
    )
    assert response.status_code == 302
    with scope(partnership=alpha):
        request = FeedbackRequest.objects.get(partner__organisation__name="Essex Police")
        assert request.answered_by_name == "Ian Grey"
        answers = {a.title: a for a in SectionFeedback.objects.filter(request=request)}
        assert len(answers) == len(sections)
        second = answers[sections[1].title]
        assert not second.no_changes
        assert second.amendment == "Essex Police: the Information Sharing Unit."
        assert answers[sections[0].title].no_changes
        entry = AuditEntry.objects.get(action="review.feedback_given")
        assert entry.organisation_name == "Essex Police"
        assert "Ian Grey <ian.grey@police.example>" in entry.summary
    # The reminder clock is closed: it has answered.
    assert not Clock.objects.filter(
        kind=FEEDBACK_REMINDER,
        done_at__isnull=True,
        subject=(f"reviews.feedbackrequest:{request.pk}"),
    ).exists()


def test_the_lead_sees_who_answered_and_the_feedback_beside_each_section(
    alpha, protocol_cycle, client, steering
):
    _, cycle = protocol_cycle
    open_by_clock()
    answer_everything(
        client,
        feedback_links("ig@police.example")[0],
        choice_1="comments",
        comments_1="Add the Data (Use and Access) Act 2025.",
    )
    client.force_login(steering)
    page = client.get(
        reverse("reviews:cycle", kwargs={"partnership_slug": "alpha", "cycle_id": cycle.pk})
    )
    text = page_text(page)
    assert "1 of 2 parties have answered" in text
    assert "Essex County Council Not yet answered" in text
    assert "Essex Police: Add the Data (Use and Access) Act 2025." in text


def test_an_unfinished_answer_says_what_is_missing_and_records_nothing(
    alpha, protocol_cycle, client
):
    open_by_clock()
    link = feedback_links("ig@police.example")[0]
    page = client.get(link)
    title = page.context["form"].sections[0].title
    response = client.post(link, {"name": "", "email": "not-an-address", "choice_1": "comments"})
    assert response.status_code == 200
    assert field_error(response, "name") == "Error: Enter your name."
    assert field_error(response, "comments_1") == (
        f"Error: Enter your comments or proposed amendment for “{title}”, or choose “No changes”."
    )
    assert field_error(response, "choice_2").startswith("Error: Say whether")
    with scope(partnership=alpha):
        assert not SectionFeedback.objects.exists()
        assert not FeedbackRequest.objects.filter(answered_at__isnull=False).exists()


def test_feedback_from_a_partner_no_longer_a_party_is_refused(
    alpha, protocol_cycle, police, client
):
    open_by_clock()
    link = feedback_links("ig@police.example")[0]
    with scope(partnership=alpha):
        type(police).objects.filter(pk=police.pk).update(status=PartnerStatus.WITHDRAWN)
    page = client.get(link)
    assert "Essex Police is no longer a party to Essex ISP" in page_text(page)
    posted = client.post(link, {"name": "Ian Grey", "email": "ian@police.example"})
    assert posted.status_code == 410
    with scope(partnership=alpha):
        assert not FeedbackRequest.objects.filter(answered_at__isnull=False).exists()


def test_a_made_up_link_is_not_valid(client):
    response = client.get("/feedback/not-a-real-secret/")
    assert response.status_code == 404
    assert "This link is not valid" in page_text(response)


def due_reminders(alpha) -> None:
    """Every unanswered request's reminder falls due: as if a week had passed."""
    week_ago = timezone.now() - timedelta(days=8)
    with scope(partnership=alpha):
        for request in FeedbackRequest.objects.filter(answered_at__isnull=True):
            FeedbackRequest.objects.filter(pk=request.pk).update(sent_at=week_ago)
            services.recompute_request(FeedbackRequest.objects.get(pk=request.pk))


@pytest.mark.django_db(transaction=True)
def test_each_reminder_goes_once_with_two_sweeps_at_once(alpha, protocol_cycle):
    open_by_clock()
    due_reminders(alpha)
    counts = at_once(lambda: clocks.run_due(FEEDBACK_REMINDER))
    assert sum(counts) == 2
    reminders = OutboxMessage.objects.filter(template="review_feedback_reminder")
    assert sorted(m.to[0] for m in reminders) == ["dpo@essex.example", "ig@police.example"]
    with scope(partnership=alpha):
        assert {r.reminders_sent for r in FeedbackRequest.objects.all()} == {1}
    # Both links open the party's feedback while the round is open: a form half filled in
    # from the first e-mail is not lost.
    first, second = feedback_links("ig@police.example")
    assert first != second
    assert Client().get(first).status_code == 200
    assert Client().get(second).status_code == 200


def test_the_record_of_the_review_starts_from_the_feedback_gathered(
    alpha, protocol_cycle, client, steering
):
    _, cycle = protocol_cycle
    open_by_clock()
    answer_everything(
        client,
        feedback_links("ig@police.example")[0],
        choice_1="comments",
        comments_1="Add the Data (Use and Access) Act 2025.",
        amendment_1="Cite it in section 1.",
    )
    client.force_login(steering)
    page = client.get(
        reverse("reviews:record", kwargs={"partnership_slug": "alpha", "cycle_id": cycle.pk})
    )
    considered = page.context["form"]["feedback_considered"].value()
    assert considered.startswith("1 of 2 parties answered.\n")
    assert (
        "Essex Police: Add the Data (Use and Access) Act 2025. Proposed: Cite it in section 1."
        in (considered)
    )
