"""Reading reviews: the dashboard's rows (a fixed number of queries whatever their number)
and the counts on the partnership's dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from . import schedule
from .models import (
    FeedbackRequest,
    FeedbackRound,
    Outcome,
    Review,
    ReviewCycle,
    ReviewSettings,
)

KIND_CHOICES = [
    ("", "Protocols and agreements"),
    ("protocol", "Protocols"),
    ("agreement", "Agreements"),
]
STATUS_CHOICES = [("", "Any status")] + [(k, v[0]) for k, v in schedule.STATUS_LABELS.items()]


def live_cycles() -> QuerySet[ReviewCycle]:
    return ReviewCycle.objects.filter(ended_at__isnull=True)


def status_filter(status: str, today: date, rules: ReviewSettings) -> Q:
    soon, lapsed = schedule.bounds(today, rules)
    return {
        schedule.LAPSED: Q(next_review_on__lt=lapsed),
        schedule.OVERDUE: Q(next_review_on__lt=today, next_review_on__gte=lapsed),
        schedule.DUE_SOON: Q(next_review_on__gte=today, next_review_on__lte=soon),
        schedule.ON_TRACK: Q(next_review_on__gt=soon),
    }.get(status, Q())


def due_count(partnership) -> int:
    """Reviews overdue or due within the partnership's notice period."""
    rules = schedule.settings_for(partnership.pk)
    soon, _ = schedule.bounds(timezone.localdate(), rules)
    return live_cycles().filter(next_review_on__lte=soon).count()


@dataclass
class Row:
    cycle: ReviewCycle
    kind: str
    title: str
    lead: str
    status: str
    status_label: tuple[str, str]
    answered: int | None
    asked: int | None
    last_outcome: str


def dashboard_cycles(
    *, kind: str = "", status: str = "", lead: int | None = None, today: date, rules
) -> QuerySet[ReviewCycle]:
    """The cycles the filters choose, due and overdue first, each with its current round's
    progress and its last outcome annotated (one query)."""
    current_round = FeedbackRound.objects.filter(
        cycle=OuterRef("pk"), review_on=OuterRef("next_review_on")
    ).values("pk")[:1]
    last_outcome = Review.objects.filter(cycle=OuterRef("pk")).order_by("-held_on", "-pk")
    asked = (
        FeedbackRequest.objects.filter(round_id=OuterRef("round_id"))
        .values("round_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    answered = (
        FeedbackRequest.objects.filter(round_id=OuterRef("round_id"), answered_at__isnull=False)
        .values("round_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    cycles = (
        live_cycles()
        .select_related(
            "partnership",
            "protocol__lead__organisation",
            "agreement__lead__organisation",
        )
        .annotate(
            round_id=Subquery(current_round),
            last_outcome=Subquery(last_outcome.values("outcome")[:1]),
        )
        .annotate(asked=Subquery(asked), answered=Subquery(answered))
        .filter(status_filter(status, today, rules))
        .order_by("next_review_on", "pk")
    )
    if kind == "protocol":
        cycles = cycles.filter(protocol__isnull=False)
    elif kind == "agreement":
        cycles = cycles.filter(agreement__isnull=False)
    if lead:
        cycles = cycles.filter(Q(protocol__lead_id=lead) | Q(agreement__lead_id=lead))
    return cycles


def rows(cycles, today: date, rules) -> list[Row]:
    outcomes = dict(Outcome.choices)
    found = []
    for cycle in cycles:
        document = cycle.protocol if cycle.protocol_id else cycle.agreement
        state = schedule.status(cycle.next_review_on, today, rules)
        found.append(
            Row(
                cycle=cycle,
                kind="Protocol" if cycle.protocol_id else "Agreement",
                title=document.title
                if cycle.protocol_id
                else f"{document.reference} {document.title}",
                lead=str(document.lead.organisation),
                status=state,
                status_label=schedule.STATUS_LABELS[state],
                answered=cycle.answered or 0 if cycle.round_id else None,
                asked=cycle.asked or 0 if cycle.round_id else None,
                last_outcome=outcomes.get(cycle.last_outcome, ""),
            )
        )
    return found
