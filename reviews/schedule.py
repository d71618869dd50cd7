"""Review dates from the stored facts: cadences in calendar months (a month end stays within
its month: 31 January plus one month is 28 or 29 February), and the status each date gives."""

from __future__ import annotations

from datetime import date

from protocols.services import add_months

from .models import ReviewCycle, ReviewSettings

ON_TRACK, DUE_SOON, OVERDUE, LAPSED = "on_track", "due_soon", "overdue", "lapsed"
STATUS_LABELS = {
    ON_TRACK: ("On track", "govuk-tag--green"),
    DUE_SOON: ("Due soon", "govuk-tag--yellow"),
    OVERDUE: ("Overdue", "govuk-tag--red"),
    LAPSED: ("Lapsed", "govuk-tag--purple"),
}


def scheduled_on(cycle: ReviewCycle) -> date:
    """The date the cycle itself gives: the first review after adoption, then one cadence after
    the last review held."""
    if cycle.last_reviewed_on is not None:
        return add_months(cycle.last_reviewed_on, cycle.cadence_months)
    return cycle.first_review_on


def next_review_on(cycle: ReviewCycle) -> date:
    """The scheduled date, or the date it was brought forward to when that is sooner."""
    scheduled = scheduled_on(cycle)
    forward = cycle.brought_forward_to
    return min(scheduled, forward) if forward is not None else scheduled


def feedback_opens_on(cycle: ReviewCycle) -> date:
    return add_months(cycle.next_review_on, -cycle.feedback_months)


def status(next_on: date, today: date, rules: ReviewSettings) -> str:
    """On track; due within `due_soon_months`; overdue; lapsed when overdue by more than
    `lapsed_months`. `bounds` gives the same boundaries as query filters."""
    soon, lapsed = bounds(today, rules)
    if next_on < lapsed:
        return LAPSED
    if next_on < today:
        return OVERDUE
    if next_on <= soon:
        return DUE_SOON
    return ON_TRACK


def bounds(today: date, rules: ReviewSettings) -> tuple[date, date]:
    """(the last date that is "due soon", the first date that is not yet lapsed)."""
    return add_months(today, rules.due_soon_months), add_months(today, -rules.lapsed_months)


def settings_for(partnership_id: int) -> ReviewSettings:
    """The partnership's review rules: its stored row, or the defaults (not saved)."""
    found = ReviewSettings.objects.filter(partnership_id=partnership_id).first()
    return found or ReviewSettings(partnership_id=partnership_id)
