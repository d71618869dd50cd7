"""A person's calendar feed: subscribing from their calendar page, the review dates and
feedback deadlines of their partnerships, a DPO's breach deadlines with alarms, events that
keep their ids, and an address that can be reset."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from icalendar import Calendar

from breaches import services as breach_services
from breaches.models import Recipient
from protocols.models import Protocol
from reviews import services as review_services
from reviews.calendar import issue_address
from reviews.models import CalendarAddress, FeedbackRound, ReviewCycle
from reviews.subjects import cycle_link
from tenancy.roles import Role

from .breach_factories import dpo_at, log_breach, obligation, partner, told_partner
from .factories import PartnershipFactory, activate_totp, make_member
from .pages import page_html, page_text
from .review_factories import agreement_in_force, protocol_in_force, refreshed_cycle

pytestmark = pytest.mark.django_db

BREACH_TITLE = "Visit notes e-mailed to the wrong care provider"


def feed(client, token: str):
    return client.get(reverse("calendar_feed", kwargs={"token": token}))


def events(response) -> dict:
    """The feed's events by their UID."""
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    parsed = Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in parsed.walk("VEVENT")}


def events_of(client, user) -> dict:
    return events(feed(client, issue_address(user)))


def start(event):
    return event.decoded("DTSTART")


def alarms(event) -> list[timedelta]:
    return [alarm.decoded("TRIGGER") for alarm in event.walk("VALARM")]


def shown_address(response) -> str:
    match = re.search(r'id="calendar-address"[^>]*value="([^"]+)"', page_html(response))
    return match.group(1) if match else ""


def press(client, action: str):
    """The person presses a button of their calendar page (and follows to the page after)."""
    return client.post(reverse("calendar"), {"action": action}, follow=True)


def token_of(address: str) -> str:
    return address.rsplit("/", 1)[1].removesuffix(".ics")


@pytest.fixture
def county(alpha):
    return partner(alpha, "Essex County Council")


@pytest.fixture
def cares(alpha):
    return partner(alpha, "Essex Cares Ltd")


@pytest.fixture
def dpo(alpha, county):
    return dpo_at(alpha, county.organisation)


# --- Subscribing ---------------------------------------------------------------------------


def test_a_person_makes_their_address_on_their_calendar_page_and_sees_it_once(client, alice):
    client.force_login(alice)
    profile = client.get(reverse("accounts:profile"))
    assert reverse("calendar") in page_html(profile)

    page = client.get(reverse("calendar"))
    assert "You do not have a calendar address yet." in page_text(page)
    assert "Outlook" in page_text(page) and "Google Calendar" in page_text(page)

    made = press(client, "create")
    assert "Your calendar address is ready" in page_text(made)
    assert "it is shown only once" in page_text(made)
    address = shown_address(made)
    assert address.startswith("http") and address.endswith(".ics")
    assert f'href="webcal://{address.split("://", 1)[1]}"' in page_html(made)
    assert feed(client, token_of(address)).status_code == 200

    again = client.get(reverse("calendar"))
    assert shown_address(again) == ""
    assert token_of(address) not in page_html(again)
    assert "You have a calendar address, made on" in page_text(again)
    assert "Reset the address" in page_text(again)


def test_the_feed_opens_without_signing_in(client, alice, alpha):
    protocol, cycle = protocol_in_force(alpha)
    token = issue_address(alice)
    assert f"review-{cycle.pk}@accord" in events(feed(client, token))


def test_the_feed_is_a_calendar_that_is_never_cached(client, alice):
    response = feed(client, issue_address(alice))
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    parsed = Calendar.from_ical(response.content)
    assert str(parsed["VERSION"]) == "2.0"
    assert str(parsed["X-WR-CALNAME"]) == "Accord"
    # Calendar apps are asked to fetch it again every hour (those that listen).
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.content.decode()
    assert "X-PUBLISHED-TTL:PT1H" in response.content.decode()


# --- Reviews ------------------------------------------------------------------------------


def test_review_dates_and_open_feedback_deadlines_are_all_day_events(client, alpha, alice):
    protocol, protocol_cycle = protocol_in_force(alpha, title="Bedfordshire protocol")
    agreement, agreement_cycle = agreement_in_force(alpha, title="Reablement review")
    with scope(partnership=alpha):
        feedback_round = review_services.open_feedback_now(protocol_cycle, by=alice)

    found = events_of(client, alice)

    review = found[f"review-{protocol_cycle.pk}@accord"]
    assert str(review["SUMMARY"]) == "Review due: Bedfordshire protocol"
    assert start(review) == protocol_cycle.next_review_on
    assert review.decoded("DTEND") == protocol_cycle.next_review_on + timedelta(days=1)
    assert str(review["URL"]) == cycle_link(protocol_cycle)
    assert "Alpha Partnership" in str(review["DESCRIPTION"])
    assert not alarms(review)

    other = found[f"review-{agreement_cycle.pk}@accord"]
    assert str(other["SUMMARY"]) == f"Review due: {agreement.reference} Reablement review"
    assert start(other) == agreement_cycle.next_review_on

    closes = found[f"feedback-{feedback_round.pk}@accord"]
    assert str(closes["SUMMARY"]) == "Feedback closes: Bedfordshire protocol"
    assert start(closes) == feedback_round.closes_on
    assert not isinstance(start(closes), datetime)  # all day
    assert len(found) == 3


def test_an_ended_cycle_and_a_closed_feedback_round_leave_the_calendar(client, alpha, alice):
    protocol, ended = protocol_in_force(alpha, title="Retired protocol")
    _, live = agreement_in_force(alpha)
    with scope(partnership=alpha):
        closed = review_services.open_feedback_now(live, by=alice)
        FeedbackRound.objects.filter(pk=closed.pk).update(closed_at=timezone.now())
        ReviewCycle.objects.filter(pk=ended.pk).update(ended_at=timezone.now())

    found = events_of(client, alice)

    assert set(found) == {f"review-{live.pk}@accord"}


def test_a_review_keeps_its_event_id_when_its_title_or_date_changes(client, alpha, alice):
    protocol, cycle = protocol_in_force(alpha, title="Bedfordshire protocol")
    token = issue_address(alice)
    before = events(feed(client, token))[f"review-{cycle.pk}@accord"]

    moved_to = cycle.next_review_on - timedelta(days=20)
    with scope(partnership=alpha):
        Protocol.objects.filter(pk=protocol.pk).update(title="Bedfordshire and Luton protocol")
        review_services.update_schedule(
            refreshed_cycle(cycle),
            cadence_months=12,
            feedback_months=1,
            first_review_on=moved_to,
            by=alice,
        )
    after = events(feed(client, token))

    assert set(after) == {f"review-{cycle.pk}@accord"}
    moved = after[f"review-{cycle.pk}@accord"]
    assert str(moved["SUMMARY"]) == "Review due: Bedfordshire and Luton protocol"
    assert start(moved) == moved_to != start(before)


# --- Breaches -----------------------------------------------------------------------------


def test_breach_deadlines_are_timed_events_in_utc_with_alarms(client, alpha, dpo, county, cares):
    detected = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    breach = log_breach(
        alpha, dpo, detected=detected, aware=detected + timedelta(hours=2), involved=[cares]
    )
    ico = obligation(breach, Recipient.ICO)
    tell_cares = obligation(breach, Recipient.PARTNER, cares.organisation)

    response = feed(client, issue_address(dpo))
    found = events(response)

    ico_event = found[f"breach-obligation-{ico.pk}@accord"]
    assert str(ico_event["SUMMARY"]) == f"Breach {breach.reference}: tell the ICO"
    assert start(ico_event) == detected + timedelta(hours=74)
    assert start(ico_event).utcoffset() == timedelta(0)
    assert f"DTSTART:{ico.due_at:%Y%m%dT%H%M%S}Z" in response.content.decode()
    assert "72 hours from awareness" in str(ico_event["DESCRIPTION"])
    assert alarms(ico_event) == [-timedelta(hours=24), -timedelta(hours=6), -timedelta(hours=1)]
    assert str(ico_event["URL"]).endswith(f"/p/alpha/breaches/{breach.pk}/")

    cares_event = found[f"breach-obligation-{tell_cares.pk}@accord"]
    assert str(cares_event["SUMMARY"]) == f"Breach {breach.reference}: tell Essex Cares Ltd"
    assert start(cares_event) == detected + timedelta(hours=48)
    assert "48 hours from detection" in str(cares_event["DESCRIPTION"])
    assert len(alarms(cares_event)) == 3
    # What happened stays behind sign-in: calendar services keep what the feed gives them.
    assert BREACH_TITLE not in response.content.decode()


def test_the_alarms_follow_the_partnerships_warning_hours(client, alpha, dpo, cares):
    alpha.breach_warning_hours = "12, 2"
    alpha.save()
    breach = log_breach(alpha, dpo, detected=timezone.now(), involved=[cares])

    found = events_of(client, dpo)

    ico = found[f"breach-obligation-{obligation(breach, Recipient.ICO).pk}@accord"]
    assert alarms(ico) == [-timedelta(hours=12), -timedelta(hours=2)]


def test_a_breach_deadline_keeps_its_event_id_when_its_title_or_time_changes(
    client, alpha, dpo, cares
):
    detected = timezone.now() - timedelta(hours=3)
    breach = log_breach(alpha, dpo, detected=detected, involved=[cares])
    token = issue_address(dpo)
    before = events(feed(client, token))

    corrected = detected - timedelta(hours=5)
    with scope(partnership=alpha):
        breach_services.update_report(
            breach,
            by=dpo,
            values={
                "title": "Care notes sent to the wrong provider",
                "detected_at": corrected,
                "aware_at": corrected,
            },
        )
    after = events(feed(client, token))

    assert set(after) == set(before) and len(after) == 2
    for uid, event in after.items():
        assert start(event) == start(before[uid]) - timedelta(hours=5)


def test_a_deadline_met_leaves_the_calendar(client, alpha, dpo, cares):
    breach = log_breach(alpha, dpo, detected=timezone.now() - timedelta(hours=1), involved=[cares])
    told = told_partner(breach, dpo, cares.organisation, hours=0.5)

    found = events_of(client, dpo)

    assert f"breach-obligation-{told.pk}@accord" not in found
    assert f"breach-obligation-{obligation(breach, Recipient.ICO).pk}@accord" in found


def test_a_dpo_gets_the_deadlines_only_of_the_breaches_they_may_see(client, alpha, county, cares):
    other = partner(alpha, "Luton Borough Council")
    cares_dpo = dpo_at(alpha, cares.organisation)
    involving = log_breach(
        alpha, dpo_at(alpha, county.organisation), detected=timezone.now(), involved=[cares]
    )
    not_involving = log_breach(
        alpha, dpo_at(alpha, county.organisation), detected=timezone.now(), involved=[other]
    )

    found = events_of(client, cares_dpo)

    assert f"breach-obligation-{obligation(involving, Recipient.ICO).pk}@accord" in found
    hidden = {o.pk for o in _obligations(not_involving)}
    assert not any(f"breach-obligation-{pk}@accord" in found for pk in hidden)
    assert not any(not_involving.reference in str(e["SUMMARY"]) for e in found.values())


def test_each_partnership_keeps_its_own_breach_rule_in_one_feed(client, alpha, beta, county):
    """An administrator of one partnership, who sees all its breaches, is a DPO in another:
    there they see only the breaches their organisation is party to."""
    person = dpo_at(alpha, county.organisation)
    make_member(beta, Role.ADMINISTRATOR, user=person)
    elsewhere = partner(alpha, "Luton Borough Council")
    not_theirs = log_breach(
        alpha, dpo_at(alpha, elsewhere.organisation), detected=timezone.now(), involved=[]
    )
    beta_reporter = partner(beta, "Bedford Borough Council")
    in_beta = log_breach(
        beta, dpo_at(beta, beta_reporter.organisation), detected=timezone.now(), involved=[]
    )

    found = events_of(client, person)

    assert f"breach-obligation-{obligation(in_beta, Recipient.ICO).pk}@accord" in found
    assert f"breach-obligation-{obligation(not_theirs, Recipient.ICO).pk}@accord" not in found


def test_a_member_who_may_not_manage_breaches_gets_no_breach_deadlines(
    client, alpha, dpo, county, cares
):
    log_breach(alpha, dpo, detected=timezone.now(), involved=[cares])
    _, cycle = protocol_in_force(alpha)
    viewer = make_member(alpha, Role.VIEWER, Role.STEERING_GROUP, organisation=county.organisation)

    found = events_of(client, viewer.user)

    assert set(found) == {f"review-{cycle.pk}@accord"}


def test_a_person_who_stops_being_a_dpo_loses_the_deadlines_at_once(client, alpha, dpo, cares):
    log_breach(alpha, dpo, detected=timezone.now(), involved=[cares])
    token = issue_address(dpo)
    assert len(events(feed(client, token))) == 2

    with scope(partnership=alpha):
        membership = dpo.memberships.get()
        membership.set_roles([Role.VIEWER])
        membership.save()

    assert events(feed(client, token)) == {}


# --- Only the person's partnerships --------------------------------------------------------


def test_no_event_of_another_partnership(client, alpha, beta, alice, charlie):
    _, ours = protocol_in_force(alpha, title="Alpha protocol")
    _, theirs = protocol_in_force(beta, title="Beta protocol")
    in_beta = log_breach(
        beta, dpo_at(beta, partner(beta, "Bedford").organisation), detected=timezone.now()
    )

    response = feed(client, issue_address(alice))

    assert set(events(response)) == {f"review-{ours.pk}@accord"}
    assert "Beta" not in response.content.decode()
    assert in_beta.reference not in response.content.decode()
    assert set(events_of(client, charlie)) >= {f"review-{theirs.pk}@accord"}


def test_a_partnership_that_requires_two_factor_authentication_waits_for_it(client, alpha, alice):
    _, cycle = protocol_in_force(alpha)
    alpha.mfa_required = True
    alpha.save()
    token = issue_address(alice)
    assert events(feed(client, token)) == {}

    activate_totp(alice)

    assert set(events(feed(client, token))) == {f"review-{cycle.pk}@accord"}


def test_the_feed_runs_the_same_queries_for_one_partnership_or_many(client, alpha, beta, alice):
    def queries(token: str) -> int:
        feed(client, token)  # warm
        with CaptureQueriesContext(connection) as ctx:
            events(feed(client, token))
        return len(ctx.captured_queries)

    def busy(partnership) -> None:
        reporting = partner(partnership, f"Council of {partnership.slug}")
        protocol_in_force(partnership)
        agreement_in_force(partnership)
        log_breach(
            partnership,
            dpo_at(partnership, reporting.organisation),
            detected=timezone.now(),
            involved=[partner(partnership, f"Trust of {partnership.slug}")],
        )

    busy(alpha)
    token = issue_address(alice)
    one = queries(token)
    more = [PartnershipFactory(slug=f"more-{n}") for n in range(3)]
    for partnership in (beta, *more):
        make_member(partnership, Role.ADMINISTRATOR, Role.DPO, user=alice)
        busy(partnership)

    found = events(feed(client, token))
    assert len([uid for uid in found if uid.startswith("review-")]) == 10
    assert len([uid for uid in found if uid.startswith("breach-")]) == 10
    assert queries(token) == one


# --- Resetting -----------------------------------------------------------------------------


def test_after_a_reset_the_old_address_says_so_and_the_new_one_works(client, alpha, alice):
    _, cycle = protocol_in_force(alpha)
    client.force_login(alice)
    first = token_of(shown_address(press(client, "create")))

    reset = press(client, "reset")
    assert "Your calendar address was reset" in page_text(reset)
    second = token_of(shown_address(reset))
    assert second and second != first

    client.logout()
    gone = feed(client, first)
    assert gone.status_code == 410
    assert gone["Content-Type"] == "text/plain; charset=utf-8"
    assert gone.content.decode().startswith("This calendar address was reset")
    assert b"BEGIN:VCALENDAR" not in gone.content
    assert set(events(feed(client, second))) == {f"review-{cycle.pk}@accord"}
    assert CalendarAddress.objects.filter(user=alice, retired_at__isnull=True).count() == 1


def test_creating_an_address_twice_keeps_the_first(client, alice):
    client.force_login(alice)
    first = token_of(shown_address(press(client, "create")))

    again = press(client, "create")

    assert "You already have a calendar address. It was not changed." in page_text(again)
    assert shown_address(again) == ""
    assert feed(client, first).status_code == 200
    assert CalendarAddress.objects.filter(user=alice).count() == 1


def test_a_post_without_a_choice_changes_nothing(client, alice):
    client.force_login(alice)
    response = client.post(reverse("calendar"), {"action": "nonsense\x00"}, follow=True)

    assert response.status_code == 200
    assert "Choose to create your calendar address or to reset it." in page_text(response)
    assert not CalendarAddress.objects.exists()


def test_the_calendar_page_asks_to_sign_in(client):
    response = client.get(reverse("calendar"))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    client.post(reverse("calendar"), {"action": "create"})
    assert not CalendarAddress.objects.exists()


# --- Helpers ------------------------------------------------------------------------------


def _obligations(breach):
    with scope(partnership=breach.partnership):
        return list(breach.obligations.all())
