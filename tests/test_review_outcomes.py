"""The review's record and what it decides: no change adds "Reviewed, no change" to the
revision table and rolls the next date on; a minor amendment starts a minor version; a major
one a major version that goes for signature again; retirement ends the cycle. An outcome
without a decision is refused. A breach brings the review forward by itself, and the lead
organisation hears three months ahead, on the day and weekly while overdue, each once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel import clocks
from accord.kernel.models import Clock, OutboxMessage
from agreements.models import Agreement, AgreementStatus
from documents.models import RevisionNote
from protocols import services as protocol_services
from protocols.models import ProtocolVersion, VersionStatus
from protocols.pdf import revisions
from reviews import services
from reviews.kinds import LEAD_NOTICE
from reviews.models import Cause, Outcome, Review, ReviewCycle
from signatories.models import SignatureRequest
from tenancy.roles import Role

from .breach_factories import make_breach
from .factories import OrganisationFactory, make_member, make_partner, make_signatory
from .faults.test_two_sweeps_at_once import at_once
from .pages import field_error, page_text
from .review_factories import agreement_in_force, protocol_in_force, refreshed_cycle

pytestmark = pytest.mark.django_db

MEETING = "County Hall, committee room 2"


@pytest.fixture
def county(alpha):
    partner = make_partner(alpha, OrganisationFactory(name="Essex County Council"))
    make_signatory(partner, name="Ann Lee", position="Chief Executive")
    return partner


@pytest.fixture
def police(alpha):
    partner = make_partner(alpha, OrganisationFactory(name="Essex Police"))
    make_signatory(partner, name="Ben Carter", position="Senior Information Risk Owner")
    return partner


@pytest.fixture
def steering(alpha, county):
    return make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user


@pytest.fixture
def protocol_cycle(alpha, county, police):
    return protocol_in_force(alpha, lead=county, adopted_on=date(2025, 6, 30), title="Essex ISP")


def record(cycle, by, **values):
    values = {
        "held_on": timezone.localdate(),
        "attendees": "Ann Lee, Essex County Council\nBen Carter, Essex Police",
        "feedback_considered": "Police asked for a named contact.",
        "decision": "The protocol still serves the partnership.",
        "outcome": Outcome.NO_CHANGE,
        **values,
    }
    with scope(partnership=cycle.partnership):
        return services.record_review(cycle, **values, by=by)


def signatory_of(partner) -> str:
    with scope(partnership=partner.partnership):
        return partner.signatories.get().email.lower()


def test_no_change_adds_a_revision_row_and_rolls_the_next_date_on(
    alpha, protocol_cycle, steering, client, county, police
):
    protocol, cycle = protocol_cycle
    held = timezone.localdate() - timedelta(days=3)
    review = record(cycle, steering, held_on=held)
    cycle = refreshed_cycle(cycle)
    assert cycle.last_reviewed_on == held
    assert cycle.next_review_on == protocol_services.add_months(held, 12)
    with scope(partnership=alpha):
        version = protocol.versions.get()
        assert version.status == VersionStatus.SIGNED  # the version stays in force
        note = RevisionNote.objects.get(document=version.document)
        assert (note.on, note.summary) == (held, "Reviewed, no change.")
        rows = revisions(version)
    assert [(r.version, r.summary) for r in rows][-1] == ("1.0", "Reviewed, no change.")
    assert review.due_on == date(2025, 12, 30)
    client.force_login(steering)
    page = client.get(
        reverse(
            "protocols:versions", kwargs={"partnership_slug": "alpha", "protocol_id": protocol.pk}
        )
    )
    assert f"1.0 {held:%-d %B %Y} Reviewed, no change." in page_text(page)
    told = OutboxMessage.objects.filter(template="review_outcome").first()
    assert {m.to[0] for m in OutboxMessage.objects.filter(template="review_outcome")} == {
        steering.email,
        signatory_of(county),
        signatory_of(police),
    }
    assert told.subject == "Review held: Essex ISP: No change"
    assert "The next review is due on" in told.text


def test_an_outcome_without_a_decision_is_refused_and_nothing_changes(
    alpha, protocol_cycle, steering, client
):
    _, cycle = protocol_cycle
    with pytest.raises(ValidationError) as refused:
        record(cycle, steering, decision="  ")
    assert refused.value.message_dict["decision"] == [
        "Enter the decision the review made: an outcome needs one."
    ]
    client.force_login(steering)
    url = reverse("reviews:record", kwargs={"partnership_slug": "alpha", "cycle_id": cycle.pk})
    response = client.post(
        url, {"held_on": "01/12/2026", "attendees": "Ann Lee", "outcome": "major", "decision": ""}
    )
    assert response.status_code == 200
    assert field_error(response, "decision") == (
        "Error: Enter the decision the review made: an outcome needs one."
    )
    response = client.post(url, {"held_on": "31/02/2026", "attendees": "", "decision": "Fine"})
    assert field_error(response, "held_on") == "Error: Enter a real date like 31/03/2027."
    assert field_error(response, "outcome") == "Error: Choose the review's outcome."
    with scope(partnership=alpha):
        assert not Review.objects.exists()
        assert ProtocolVersion.objects.count() == 1
    assert refreshed_cycle(cycle).last_reviewed_on is None


def test_a_minor_amendment_starts_a_minor_version(alpha, protocol_cycle, steering):
    protocol, cycle = protocol_cycle
    review = record(cycle, steering, outcome=Outcome.MINOR, decision="Update the contacts.")
    with scope(partnership=alpha):
        draft = ProtocolVersion.objects.get(pk=review.protocol_version_id)
    assert (draft.number, draft.status, draft.author) == ("1.1", VersionStatus.DRAFT, steering)
    assert "Update the contacts." in draft.change_summary


def test_a_major_amendment_makes_a_version_that_goes_for_signature_again(
    alpha, protocol_cycle, steering, county, police
):
    protocol, cycle = protocol_cycle
    review = record(cycle, steering, outcome=Outcome.MAJOR, decision="Add Part 3 processing.")
    drafter = make_member(alpha, Role.ADMINISTRATOR, organisation=county.organisation).user
    approver = make_member(alpha, Role.STEERING_GROUP, organisation=police.organisation).user
    with scope(partnership=alpha):
        draft = ProtocolVersion.objects.get(pk=review.protocol_version_id)
        assert draft.number == "2.0"
        protocol_services.submit_for_approval(draft, by=drafter)
        protocol_services.approve(draft, by=approver)
        protocol_services.send_for_signature(draft, [county, police], by=drafter)
        draft.refresh_from_db()
        assert draft.status == VersionStatus.FOR_SIGNATURE
        awaiting = SignatureRequest.objects.filter(document_id=draft.document_id)
        assert {r.partner_id for r in awaiting} == {county.pk, police.pk}
        # Version 1.0 stays in force until 2.0 is signed.
        assert protocol_services.in_force_version(protocol).number == "1.0"


def test_an_agreement_amendment_starts_its_next_version(alpha, steering, county, police):
    agreement, cycle = agreement_in_force(alpha, lead=county, others=[police])
    with scope(partnership=alpha):
        assert services.allowed_outcomes(cycle) == ["no_change", "major", "retire"]
    review = record(cycle, steering, outcome=Outcome.MAJOR, decision="Add the health visitors.")
    with scope(partnership=alpha):
        copy = Agreement.objects.get(pk=review.agreement_id)
    assert (copy.version, copy.status, copy.previous_id) == (2, AgreementStatus.DRAFT, agreement.pk)


def test_retiring_ends_the_cycle(alpha, protocol_cycle, steering):
    protocol, cycle = protocol_cycle
    record(cycle, steering, outcome=Outcome.RETIRE, decision="Replaced by the county ISP.")
    cycle = refreshed_cycle(cycle)
    assert cycle.ended_at is not None
    protocol.refresh_from_db()
    assert protocol.retired_at is not None
    with pytest.raises(ValidationError):
        record(cycle, steering)


def test_only_the_steering_group_and_administrators_record_reviews(alpha, protocol_cycle):
    _, cycle = protocol_cycle
    officer = make_member(alpha, Role.IG_OFFICER).user
    with pytest.raises(PermissionDenied):
        record(cycle, officer)


def test_a_breach_brings_the_review_forward_by_itself(alpha, county, police, steering):
    protocol, cycle = protocol_in_force(alpha, lead=county)
    assert cycle.next_review_on == protocol_services.add_months(timezone.localdate(), 6)
    make_breach(alpha, reporting=police, protocol=protocol)
    cycle = refreshed_cycle(cycle)
    assert cycle.next_review_on == protocol_services.add_months(timezone.localdate(), 1)
    assert cycle.brought_forward_cause == Cause.BREACH
    # Only that there was a breach: not its title.
    assert "wrong care provider" not in cycle.brought_forward_reason
    assert OutboxMessage.objects.filter(template="review_brought_forward").exists()
    # A second breach leaves a date already sooner alone.
    make_breach(alpha, reporting=police, protocol=protocol)
    assert refreshed_cycle(cycle).next_review_on == cycle.next_review_on


def set_review(cycle: ReviewCycle, on: date) -> ReviewCycle:
    with scope(partnership=cycle.partnership):
        ReviewCycle.objects.filter(pk=cycle.pk).update(first_review_on=on)
        cycle = refreshed_cycle(cycle)
        services.reschedule(cycle)
    return cycle


NOTICES = ["review_due_soon", "review_due", "review_overdue"]


def notices() -> list[str]:
    return list(
        OutboxMessage.objects.filter(
            template__in=["review_due_soon", "review_due", "review_overdue"]
        )
        .order_by("pk")
        .values_list("template", flat=True)
    )


def test_the_lead_hears_ahead_on_the_day_and_weekly_while_overdue_each_once(
    alpha, county, steering
):
    _, cycle = protocol_in_force(alpha, lead=county)
    today = timezone.localdate()
    cycle = set_review(cycle, today + timedelta(days=60))  # within three months
    assert clocks.run_due(LEAD_NOTICE) == 1
    assert clocks.run_due(LEAD_NOTICE) == 0
    assert notices() == ["review_due_soon"]
    assert OutboxMessage.objects.get(template="review_due_soon").to == [steering.email]
    cycle = set_review(refreshed_cycle(cycle), today - timedelta(days=15))  # two weeks overdue
    # The date moved, so its notices start again; catching up sends only the latest due.
    assert clocks.run_due(LEAD_NOTICE) == 1
    assert clocks.run_due(LEAD_NOTICE) == 0
    assert notices() == ["review_due_soon", "review_overdue"]
    overdue = OutboxMessage.objects.get(template="review_overdue")
    assert "was due on" in overdue.text and "is 2 weeks overdue" in overdue.text
    # The next weekly notice waits for its day: a week after the last.
    with scope(partnership=alpha):
        upcoming = Clock.objects.get(kind=LEAD_NOTICE, done_at__isnull=True)
    assert upcoming.due_at == clocks.start_of_day(today - timedelta(days=15) + timedelta(weeks=3))


@pytest.mark.django_db(transaction=True)
def test_two_people_recording_the_same_review_at_once_record_it_once(alpha, county, police):
    _, cycle = protocol_in_force(alpha, lead=county, adopted_on=date(2025, 6, 30))
    first = make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user
    second = make_member(alpha, Role.STEERING_GROUP, organisation=police.organisation).user
    people = iter([first, second])
    lock = threading.Lock()

    def attempt() -> int:
        with lock:
            by = next(people)
        try:
            record(cycle, by)
        except ValidationError as refused:
            assert refused.message_dict["held_on"][0].startswith("A review held on")
            return 0
        return 1

    assert sorted(at_once(attempt)) == [0, 1]
    with scope(partnership=alpha):
        assert Review.objects.count() == 1
        assert RevisionNote.objects.count() == 1
