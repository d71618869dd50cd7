"""Review dates: cadences in calendar months from adoption or the last review, month ends and
leap years kept within their month, brought forward only ever sooner, and the status each
date gives (on track, due soon, overdue, lapsed) at the partnership's own thresholds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scope

from protocols.models import Protocol
from reviews import schedule, services
from reviews.models import Cause, ReviewCycle, ReviewSettings
from tenancy.roles import Role

from .factories import make_member
from .review_factories import agreement_in_force, protocol_in_force, refreshed_cycle, review_rules

pytestmark = pytest.mark.django_db


def cycle_with(**facts) -> ReviewCycle:
    values = {
        "cadence_months": 12,
        "feedback_months": 1,
        "adopted_on": date(2024, 1, 31),
        "first_review_on": date(2024, 7, 31),
        **facts,
    }
    return ReviewCycle(**values)


@pytest.mark.parametrize(
    ("last_review", "cadence", "expected"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),  # a leap day, a year on
        (date(2024, 2, 29), 48, date(2028, 2, 29)),  # four years on: a leap day again
        (date(2025, 1, 31), 1, date(2025, 2, 28)),  # a month end into a short month
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # ...in a leap year
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2025, 3, 31), 120, date(2035, 3, 31)),  # the longest cadence
        (date(2025, 12, 15), 1, date(2026, 1, 15)),  # across the year end
    ],
)
def test_the_next_review_is_a_cadence_of_calendar_months_after_the_last(
    last_review, cadence, expected
):
    cycle = cycle_with(last_reviewed_on=last_review, cadence_months=cadence)
    assert schedule.next_review_on(cycle) == expected


def test_before_any_review_the_first_review_date_decides():
    assert schedule.next_review_on(cycle_with()) == date(2024, 7, 31)


def test_a_date_brought_forward_wins_only_while_it_is_sooner():
    sooner = cycle_with(brought_forward_to=date(2024, 5, 1))
    assert schedule.next_review_on(sooner) == date(2024, 5, 1)
    later = cycle_with(brought_forward_to=date(2025, 5, 1))
    assert schedule.next_review_on(later) == date(2024, 7, 31)


def test_feedback_opens_the_cycles_months_before_the_review_month_ends_kept():
    cycle = cycle_with(next_review_on=date(2025, 3, 31), feedback_months=1)
    assert schedule.feedback_opens_on(cycle) == date(2025, 2, 28)
    cycle.feedback_months = 3
    assert schedule.feedback_opens_on(cycle) == date(2024, 12, 31)


def test_status_at_the_partnerships_thresholds():
    rules = ReviewSettings(due_soon_months=3, lapsed_months=3)
    today = date(2026, 12, 2)
    assert schedule.status(date(2027, 3, 3), today, rules) == schedule.ON_TRACK
    assert schedule.status(date(2027, 3, 2), today, rules) == schedule.DUE_SOON
    assert schedule.status(today, today, rules) == schedule.DUE_SOON
    assert schedule.status(date(2026, 12, 1), today, rules) == schedule.OVERDUE
    assert schedule.status(date(2026, 9, 2), today, rules) == schedule.OVERDUE
    assert schedule.status(date(2026, 9, 1), today, rules) == schedule.LAPSED
    rules.lapsed_months = 6
    assert schedule.status(date(2026, 9, 1), today, rules) == schedule.OVERDUE


def test_a_protocol_coming_into_force_starts_its_cycle_at_the_first_review_setting(alpha):
    review_rules(alpha, first_review_months=6)
    protocol, cycle = protocol_in_force(alpha, adopted_on=date(2026, 8, 31))
    assert cycle.first_review_on == date(2027, 2, 28)
    assert cycle.next_review_on == date(2027, 2, 28)
    assert cycle.cadence_months == 12
    with scope(partnership=alpha):
        # The protocol's own pages show the date the cycle keeps.
        assert Protocol.objects.get(pk=protocol.pk).next_review_on == date(2027, 2, 28)


def test_an_agreement_keeps_the_first_review_date_its_drafter_set(alpha):
    adopted = timezone.localdate()
    agreement, cycle = agreement_in_force(
        alpha, adopted_on=adopted, review_date=adopted + timedelta(days=200)
    )
    assert cycle.first_review_on == adopted + timedelta(days=200)
    assert cycle.next_review_on == adopted + timedelta(days=200)


@pytest.fixture
def steering(alpha):
    return make_member(alpha, Role.STEERING_GROUP).user


@pytest.mark.parametrize("months", [0, 600, -1, "twelve", ""])
def test_a_cadence_out_of_range_is_refused_and_nothing_changes(alpha, steering, months):
    _, cycle = protocol_in_force(alpha)
    with scope(partnership=alpha), pytest.raises(ValidationError) as refused:
        services.update_schedule(cycle, cadence_months=months, feedback_months=1, by=steering)
    assert "cadence_months" in refused.value.message_dict
    assert refreshed_cycle(cycle).cadence_months == 12


def test_a_first_review_in_the_past_is_refused(alpha, steering):
    _, cycle = protocol_in_force(alpha)
    yesterday = timezone.localdate() - timedelta(days=1)
    with scope(partnership=alpha), pytest.raises(ValidationError) as refused:
        services.update_schedule(
            cycle, cadence_months=12, feedback_months=1, first_review_on=yesterday, by=steering
        )
    assert refused.value.message_dict["first_review_on"] == [
        "The first review date must be today or in the future."
    ]
    assert refreshed_cycle(cycle).first_review_on == cycle.first_review_on


def test_changing_the_cadence_after_a_review_moves_the_next_date(alpha, steering):
    _, cycle = protocol_in_force(alpha)
    with scope(partnership=alpha):
        ReviewCycle.objects.filter(pk=cycle.pk).update(last_reviewed_on=date(2026, 1, 31))
        services.update_schedule(
            refreshed_cycle(cycle), cadence_months=36, feedback_months=3, by=steering
        )
    cycle = refreshed_cycle(cycle)
    assert cycle.next_review_on == date(2029, 1, 31)
    assert cycle.feedback_months == 3


def test_bringing_forward_needs_a_sooner_date_and_a_reason(alpha, steering):
    _, cycle = protocol_in_force(alpha)
    later = cycle.next_review_on + timedelta(days=10)
    with scope(partnership=alpha):
        with pytest.raises(ValidationError) as refused:
            services.bring_forward(cycle, to=later, cause=Cause.LAW, reason="", by=steering)
        assert set(refused.value.message_dict) == {"to", "reason"}
        soon = timezone.localdate() + timedelta(days=14)
        services.bring_forward(
            cycle, to=soon, cause=Cause.LAW, reason="The Data (Use and Access) Act", by=steering
        )
    cycle = refreshed_cycle(cycle)
    assert cycle.next_review_on == soon
    assert cycle.brought_forward_cause == Cause.LAW
