"""Threats to the calendar feed and its secret address: guessing an address, using one that
was reset, reading another person's partnerships through one, resetting someone's address
from another site, and a GET that makes an address."""

from __future__ import annotations

import secrets

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from icalendar import Calendar

from reviews.calendar import issue_address
from reviews.models import CalendarAddress
from signatories.tokens import TOKEN_MAX_LENGTH
from tenancy.models import Membership
from tenancy.roles import Role

from ..breach_factories import dpo_at, log_breach, partner
from ..factories import make_member
from ..review_factories import protocol_in_force

pytestmark = pytest.mark.django_db


def feed(client, token: str):
    return client.get(reverse("calendar_feed", kwargs={"token": token}))


def uids(response) -> set[str]:
    assert response.status_code == 200
    return {str(e["UID"]) for e in Calendar.from_ical(response.content).walk("VEVENT")}


def live(user) -> CalendarAddress:
    return CalendarAddress.objects.get(user=user, retired_at__isnull=True)


def test_guessing_an_address_finds_no_calendar(client, alpha, alice):
    protocol_in_force(alpha)
    token = issue_address(alice)
    near = token[:-1] + ("A" if token[-1] != "A" else "B")

    for guess in (secrets.token_urlsafe(32), near, token.upper(), "1", "x" * 500):
        response = feed(client, guess)
        assert response.status_code == 404, guess
        assert response.content.decode().startswith("There is no calendar at this address.")
        assert b"BEGIN:VCALENDAR" not in response.content


def test_a_copy_of_the_database_opens_no_calendar(client, alice):
    """Only the address's SHA-256 is stored: the stored value is no address."""
    token = issue_address(alice)
    stored = live(alice).token_hash

    assert token not in stored
    assert feed(client, stored).status_code == 404
    assert len(token) >= 43 and len(token) <= TOKEN_MAX_LENGTH


def test_an_address_that_was_reset_serves_nothing_and_says_so(client, alpha, alice):
    _, cycle = protocol_in_force(alpha)
    old = issue_address(alice)
    new = issue_address(alice)

    response = feed(client, old)

    assert response.status_code == 410
    assert "This calendar address was reset" in response.content.decode()
    assert b"BEGIN:VCALENDAR" not in response.content
    assert str(cycle.pk) not in response.content.decode()
    assert uids(feed(client, new)) == {f"review-{cycle.pk}@accord"}


def test_an_address_shows_none_of_another_persons_partnerships(client, alpha, beta, alice):
    _, ours = protocol_in_force(alpha)
    _, theirs = protocol_in_force(beta)
    bedford = partner(beta, "Bedford Borough Council")
    in_beta = log_breach(beta, dpo_at(beta, bedford.organisation), detected=timezone.now())
    charlie = make_member(beta, Role.ADMINISTRATOR, Role.DPO).user

    alices = feed(client, issue_address(alice))
    charlies = feed(client, issue_address(charlie))

    assert uids(alices) == {f"review-{ours.pk}@accord"}
    assert in_beta.reference not in alices.content.decode()
    assert f"review-{theirs.pk}@accord" in uids(charlies)
    assert f"review-{ours.pk}@accord" not in uids(charlies)


def test_a_person_who_leaves_a_partnership_stops_seeing_its_dates(client, alpha, beta, alice):
    _, ours = protocol_in_force(alpha)
    _, theirs = protocol_in_force(beta)
    make_member(beta, Role.VIEWER, user=alice)
    token = issue_address(alice)
    assert uids(feed(client, token)) == {f"review-{ours.pk}@accord", f"review-{theirs.pk}@accord"}

    with scope(partnership=beta):
        Membership.objects.filter(user=alice).delete()

    assert uids(feed(client, token)) == {f"review-{ours.pk}@accord"}


def test_a_dpo_reads_no_breach_they_may_not_see_through_the_feed(client, alpha):
    county = partner(alpha, "Essex County Council")
    cares = partner(alpha, "Essex Cares Ltd")
    bystander = dpo_at(alpha, partner(alpha, "Luton Borough Council").organisation)
    reporter = dpo_at(alpha, county.organisation)
    breach = log_breach(alpha, reporter, detected=timezone.now(), involved=[cares])

    response = feed(client, issue_address(bystander))

    assert uids(response) == set()
    assert breach.reference not in response.content.decode()


def test_a_closed_account_serves_no_calendar(client, alpha, alice):
    protocol_in_force(alpha)
    token = issue_address(alice)
    alice.is_active = False
    alice.save()

    response = feed(client, token)

    assert response.status_code == 404
    assert b"BEGIN:VCALENDAR" not in response.content


def test_resetting_from_another_site_is_refused_without_the_csrf_token(alice):
    issue_address(alice)
    before = live(alice)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    response = browser.post(reverse("calendar"), {"action": "reset"})

    assert response.status_code == 403
    assert live(alice) == before
    assert CalendarAddress.objects.filter(user=alice).count() == 1


def test_creating_from_another_site_is_refused_without_the_csrf_token(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    assert browser.post(reverse("calendar"), {"action": "create"}).status_code == 403
    assert not CalendarAddress.objects.filter(user=alice).exists()


def test_opening_the_calendar_page_never_makes_or_changes_an_address(client, alice, bob):
    client.force_login(alice)
    for _ in range(2):
        assert client.get(reverse("calendar")).status_code == 200
        assert client.head(reverse("calendar")).status_code == 200
    assert not CalendarAddress.objects.exists()

    issue_address(bob)
    before = live(bob)
    client.force_login(bob)
    client.get(reverse("calendar"))
    assert live(bob) == before and live(bob).retired_at is None


def test_the_feed_changes_nothing_when_posted_to(client, alice):
    token = issue_address(alice)
    before = live(alice)

    response = client.post(reverse("calendar_feed", kwargs={"token": token}))

    assert response.status_code == 405
    assert live(alice) == before and live(alice).retired_at is None


def test_a_person_resets_only_their_own_address(client, alice, bob):
    alices = issue_address(alice)
    client.force_login(bob)

    client.post(reverse("calendar"), {"action": "reset"})

    assert feed(client, alices).status_code == 200
    assert CalendarAddress.objects.filter(user=alice).count() == 1
    assert CalendarAddress.objects.filter(user=bob, retired_at__isnull=True).count() == 1


def test_a_new_address_is_shown_once_and_only_to_its_person(client, alice, bob):
    client.force_login(alice)
    shown = client.post(reverse("calendar"), {"action": "create"}, follow=True)
    token = shown.context["address"].rsplit("/", 1)[1].removesuffix(".ics")
    assert token in shown.content.decode()

    assert token not in client.get(reverse("calendar")).content.decode()
    client.force_login(bob)
    assert token not in client.get(reverse("calendar")).content.decode()


def test_the_page_that_shows_the_address_is_never_cached(client, alice):
    client.force_login(alice)
    shown = client.post(reverse("calendar"), {"action": "create"}, follow=True)

    assert "no-store" in shown["Cache-Control"]
    assert "no-store" in feed(client, "unknown")["Cache-Control"]
