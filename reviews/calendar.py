"""A person's calendar feed (.ics) behind a secret address of their own.

The feed holds what the kernel's calendar providers give for every partnership the person may
open: here, the review dates and feedback deadlines of the partnerships' protocols and
agreements; breaches adds the deadlines of the breaches a DPO may see (breaches.calendar).

The address is the secret (256 bits, only its SHA-256 kept, as for e-mailed links): anyone
who has it reads the feed without signing in, so a person can reset it, which retires the old
address for good (it then says so, and serves nothing).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled
from icalendar import Alarm, Calendar, vDuration
from icalendar import Event as CalendarEvent

from accord.kernel import calendar
from accord.kernel.calendar import Event
from accounts.models import User
from signatories.tokens import TOKEN_MAX_LENGTH, hash_token, new_token
from tenancy.models import Membership

from . import subjects
from .models import CalendarAddress, FeedbackRound, ReviewCycle

PRODUCT = "-//Accord//Reviews and deadlines//EN"
CALENDAR_NAME = "Accord"
# How often calendar apps are asked to fetch the feed again (those that listen).
REFRESH = timedelta(hours=1)
ONE_DAY = timedelta(days=1)


# --- The review dates and feedback deadlines ---------------------------------------------


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"  # 1 June 2027


# What an event says of its cycle (title_of, kind_label, cycle_link): only these columns are
# read, not the documents' whole text.
_WHAT = (
    "partnership",
    "protocol",
    "agreement",
    "partnership__name",
    "partnership__slug",
    "protocol__title",
    "agreement__reference",
    "agreement__title",
)


def review_dates(user, memberships: Sequence[Membership]) -> list[Event]:
    """Each live review cycle's next review date and each open feedback round's closing date,
    all-day events, in the person's partnerships (two queries whatever their number)."""
    partnership_ids = [m.partnership_id for m in memberships]
    # Across partnerships on purpose: no partnership's page is being served, so no scope is
    # entered; every query names the person's own partnerships (partnership_id__in).
    with scopes_disabled():
        cycles = list(
            ReviewCycle.objects.filter(partnership_id__in=partnership_ids, ended_at__isnull=True)
            .select_related("partnership", "protocol", "agreement")
            .only("next_review_on", *_WHAT)
            .order_by("next_review_on", "pk")
        )
        rounds = list(
            FeedbackRound.objects.filter(
                partnership_id__in=partnership_ids,
                closed_at__isnull=True,
                cycle__ended_at__isnull=True,
            )
            .select_related("cycle__partnership", "cycle__protocol", "cycle__agreement")
            .only("review_on", "closes_on", "cycle", *(f"cycle__{f}" for f in _WHAT))
            .order_by("closes_on", "pk")
        )
    events = [_review_event(cycle) for cycle in cycles]
    events += [_feedback_event(feedback_round) for feedback_round in rounds]
    return events


def _day_after(day: date) -> date:
    """The end of an all-day event (the calendar's last day ends where it begins)."""
    return day + ONE_DAY if day < date.max else day


def _review_event(cycle: ReviewCycle) -> Event:
    title = subjects.title_of(cycle)
    kind = subjects.kind_label(cycle)
    return Event(
        uid=calendar.uid("review", cycle.pk),
        summary=f"Review due: {title}",
        start=cycle.next_review_on,
        end=_day_after(cycle.next_review_on),
        description=(
            f"{kind} of {cycle.partnership.name}: its review is due on "
            f"{_day(cycle.next_review_on)}."
        ),
        url=subjects.cycle_link(cycle),
    )


def _feedback_event(feedback_round: FeedbackRound) -> Event:
    cycle = feedback_round.cycle
    title = subjects.title_of(cycle)
    kind = subjects.kind_label(cycle).lower()
    return Event(
        uid=calendar.uid("feedback", feedback_round.pk),
        summary=f"Feedback closes: {title}",
        start=feedback_round.closes_on,
        end=_day_after(feedback_round.closes_on),
        description=(
            f"The partners' feedback on the {kind} {title} ({cycle.partnership.name}) is due "
            f"by {_day(feedback_round.closes_on)}, for its review on "
            f"{_day(feedback_round.review_on)}."
        ),
        url=subjects.cycle_link(cycle),
    )


# Registered when the feed is first built (this module is where it is built).
calendar.register(review_dates)


# --- The feed ------------------------------------------------------------------------------


def memberships_for(user: User) -> list[Membership]:
    """The partnerships the person may open: every membership, less those of a partnership
    that requires two-factor authentication when the person has not set it up."""
    with scopes_disabled():  # the person's own memberships, in every partnership
        memberships = list(
            Membership.objects.filter(user=user)
            .select_related("partnership", "organisation")
            .order_by("pk")
        )
    if any(m.partnership.mfa_required for m in memberships) and not user.has_totp:
        memberships = [m for m in memberships if not m.partnership.mfa_required]
    return memberships


def feed_for(user: User) -> bytes:
    """The person's calendar, as an iCalendar file."""
    feed = Calendar()
    feed.add("version", "2.0")
    feed.add("prodid", PRODUCT)
    feed.add("calscale", "GREGORIAN")
    feed.add("method", "PUBLISH")
    feed.add("x-wr-calname", CALENDAR_NAME)
    feed.add(
        "x-wr-caldesc",
        "Review dates, feedback deadlines and breach deadlines from Accord.",
    )
    feed.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    feed.add("x-published-ttl", vDuration(REFRESH))  # Outlook's name for it
    stamp = timezone.now()
    for event in calendar.events_for(user, memberships_for(user)):
        feed.add_component(_component(event, stamp))
    return feed.to_ical()


def _component(event: Event, stamp: datetime) -> CalendarEvent:
    component = CalendarEvent()
    component.add("uid", event.uid)
    component.add("dtstamp", stamp)
    component.add("summary", event.summary)
    start = event.start
    if isinstance(start, datetime):
        start = start.astimezone(UTC)  # UTC, written with a Z: no zone to define
    component.add("dtstart", start)
    if event.end is not None:
        end = event.end
        component.add("dtend", end.astimezone(UTC) if isinstance(end, datetime) else end)
    elif event.duration is not None:
        component.add("duration", event.duration)
    if event.description:
        component.add("description", event.description)
    if event.url:
        component.add("url", event.url)
    if event.all_day:
        component.add("transp", "TRANSPARENT")  # a date to know, not time taken
    for before in event.alarms:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.summary)
        alarm.add("trigger", -before)
        component.add_component(alarm)
    return component


# --- The secret address ------------------------------------------------------------------


def live_address(user: User) -> CalendarAddress | None:
    return CalendarAddress.objects.filter(user=user, retired_at__isnull=True).first()


def address_for(token: str) -> CalendarAddress | None:
    """The address a secret opens, live or retired (None: no such address)."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return (
        CalendarAddress.objects.select_related("user").filter(token_hash=hash_token(token)).first()
    )


def issue_address(user: User) -> str:
    """A new secret address for the person, retiring the one they had: returns the secret,
    which is not kept and cannot be shown again."""
    token, token_hash = new_token()
    with transaction.atomic():
        # One at a time for a person: two resets at once retire in turn, never leave two live.
        User.objects.select_for_update().filter(pk=user.pk).first()
        CalendarAddress.objects.filter(user=user, retired_at__isnull=True).update(
            retired_at=timezone.now()
        )
        CalendarAddress.objects.create(user=user, token_hash=token_hash)
    return token


def feed_url(token: str) -> str:
    return settings.SITE_URL + reverse("calendar_feed", kwargs={"token": token})
