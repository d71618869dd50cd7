"""What falls due in reviews, on Accord's one clock engine (accord.kernel.clocks):

- a cycle's feedback round opening, `feedback_months` before its next review date;
- a cycle's notices to its lead organisation: `due_soon_months` ahead, on the day the review
  falls due, then weekly while it is overdue (the count sent for which date is stored on the
  cycle, so each notice goes once whatever the sweeps do);
- a feedback request's reminders, weekly while unanswered, at most MAX_REMINDERS.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from accord.kernel import clocks
from accord.kernel.mail import send_templated_email_each
from protocols.services import add_months
from tenancy.sweeps import in_partnership

from . import schedule, services
from .kinds import FEEDBACK_OPENS, FEEDBACK_REMINDER, LEAD_NOTICE
from .models import MAX_REMINDERS, REMIND_EVERY_DAYS, FeedbackRequest, FeedbackRound, ReviewCycle


def _live_cycles():
    return ReviewCycle.objects.filter(ended_at__isnull=True)


# --- The feedback round opening ---------------------------------------------------------------


def feedback_opens_due(cycle: ReviewCycle) -> datetime | None:
    if cycle.ended_at is not None:
        return None
    if FeedbackRound.objects.filter(cycle_id=cycle.pk, review_on=cycle.next_review_on).exists():
        return None
    return clocks.start_of_day(schedule.feedback_opens_on(cycle))


@clocks.kind(FEEDBACK_OPENS, model=ReviewCycle, due_for=feedback_opens_due, candidates=_live_cycles)
def _open_feedback(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        cycle = _cycle(clock)
        if cycle is None:
            return None
        due = feedback_opens_due(cycle)
        if due is None or due > timezone.now():
            clocks.recompute(FEEDBACK_OPENS, cycle)
            return None
        opened = services.open_round(cycle)
        return f"feedback round {opened.pk} opened" if opened else None


# --- The lead organisation's notices ---------------------------------------------------------


def notices_sent(cycle: ReviewCycle) -> int:
    """Notices already sent about the current review date (a new date starts again)."""
    return cycle.notices_sent if cycle.notices_for == cycle.next_review_on else 0


def notice_due(cycle: ReviewCycle, sent: int | None = None, rules=None) -> datetime | None:
    """When the next notice is due: the first ahead, the second on the day, then weekly."""
    if cycle.ended_at is not None:
        return None
    sent = notices_sent(cycle) if sent is None else sent
    rules = rules or schedule.settings_for(cycle.partnership_id)
    if sent == 0:
        day = add_months(cycle.next_review_on, -rules.due_soon_months)
    else:
        try:
            day = cycle.next_review_on + timedelta(weeks=sent - 1)
        except OverflowError:
            return None
    return clocks.start_of_day(day)


TEMPLATES = {0: "review_due_soon", 1: "review_due"}


@clocks.kind(LEAD_NOTICE, model=ReviewCycle, due_for=notice_due, candidates=_live_cycles)
def _notify_lead(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        cycle = _cycle(clock)
        if cycle is None:
            return None
        due = notice_due(cycle)
        if due is None or due > timezone.now():
            clocks.recompute(LEAD_NOTICE, cycle)
            return None
        sent = notices_sent(cycle)
        # Catching up (a date brought forward, a sweep that did not run): only the latest
        # notice due goes, not every one missed.
        stage, now = sent, timezone.now()
        rules = schedule.settings_for(cycle.partnership_id)
        while (later := notice_due(cycle, stage + 1, rules)) and later <= now:
            stage += 1
        claimed = ReviewCycle.objects.filter(
            pk=cycle.pk, notices_for=cycle.notices_for, notices_sent=cycle.notices_sent
        ).update(notices_for=cycle.next_review_on, notices_sent=stage + 1)
        if not claimed:
            return None
        cycle.notices_for, cycle.notices_sent = cycle.next_review_on, stage + 1
        send_templated_email_each(
            TEMPLATES.get(stage, "review_overdue"),
            services.lead_emails(cycle),
            services._context(cycle, weeks_overdue=max(stage - 1, 0)),
        )
        clocks.recompute(LEAD_NOTICE, cycle)
        return f"notice {stage + 1} sent"


# --- Reminders to parties that have not answered ----------------------------------------------


def reminder_due(request: FeedbackRequest) -> datetime | None:
    if request.answered_at is not None or request.reminders_sent >= MAX_REMINDERS:
        return None
    feedback_round = request.round
    if feedback_round.closed_at is not None:
        return None
    due = (request.last_reminded_at or request.sent_at) + timedelta(days=REMIND_EVERY_DAYS)
    return due if due.date() <= feedback_round.closes_on else None


def _open_requests():
    return FeedbackRequest.objects.filter(
        answered_at__isnull=True, round__closed_at__isnull=True
    ).select_related("round")


@clocks.kind(
    FEEDBACK_REMINDER, model=FeedbackRequest, due_for=reminder_due, candidates=_open_requests
)
def _remind(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        request = (
            FeedbackRequest.objects.select_related(
                "round__cycle__partnership", "partner__organisation"
            )
            .filter(pk=clocks.subject_pk(clock))
            .first()
        )
        if request is None:
            return None
        due = reminder_due(request)
        if due is None or due > timezone.now():
            clocks.recompute(FEEDBACK_REMINDER, request)
            return None
        if not services.remind_when_due(request):
            return None
        clocks.recompute(FEEDBACK_REMINDER, request)
        return f"reminder {request.reminders_sent} sent"


def _cycle(clock) -> ReviewCycle | None:
    return (
        ReviewCycle.objects.select_related(
            "partnership", "protocol__lead__organisation", "agreement__lead__organisation"
        )
        .filter(pk=clocks.subject_pk(clock))
        .first()
    )


def run_feedback_opens() -> int:
    return clocks.run_due(FEEDBACK_OPENS)


def run_lead_notices() -> int:
    return clocks.run_due(LEAD_NOTICE)


def run_reminders() -> int:
    return clocks.run_due(FEEDBACK_REMINDER)
