"""Reading reviews: the dashboard's rows (a fixed number of queries whatever their number)
and the counts on the partnership's dashboard."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from signatories.models import Partner

from . import schedule
from .models import (
    Confirmation,
    FeedbackRound,
    Outcome,
    Review,
    ReviewCycle,
    ReviewSettings,
)
from .subjects import BOUND

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
    *, kind: str = "", status: str = "", lead: str = "", today: date, rules
) -> QuerySet[ReviewCycle]:
    """The cycles the filters choose, due and overdue first (one query a page; `rows` adds
    the page's feedback progress and last outcomes in two more)."""
    cycles = (
        live_cycles()
        .select_related(
            "partnership",
            "protocol__lead__organisation",
            "agreement__lead__organisation",
        )
        .filter(status_filter(status, today, rules))
        .order_by("next_review_on", "pk")
    )
    if kind == "protocol":
        cycles = cycles.filter(protocol__isnull=False)
    elif kind == "agreement":
        cycles = cycles.filter(agreement__isnull=False)
    if lead:
        cycles = cycles.filter(
            Q(protocol__lead__organisation__name__icontains=lead)
            | Q(agreement__lead__organisation__name__icontains=lead)
        )
    return cycles


def _progress(cycles: list[ReviewCycle]) -> dict[int, tuple[int, int]]:
    """{cycle id: (answered, asked)} of each cycle's round for its next review (one query)."""
    due = {cycle.pk: cycle.next_review_on for cycle in cycles}
    rounds = (
        FeedbackRound.objects.filter(cycle_id__in=list(due))
        .annotate(
            asked=Count("requests"),
            answered=Count("requests", filter=Q(requests__answered_at__isnull=False)),
        )
        .values_list("cycle_id", "review_on", "answered", "asked")
    )
    return {
        cycle_id: (answered, asked)
        for cycle_id, review_on, answered, asked in rounds
        if due[cycle_id] == review_on
    }


def _last_outcomes(cycles: list[ReviewCycle]) -> dict[int, str]:
    """{cycle id: the outcome of its latest review} (one query)."""
    latest = Review.objects.filter(cycle=OuterRef("pk")).order_by("-held_on", "-pk")
    return dict(
        ReviewCycle.objects.filter(pk__in=[c.pk for c in cycles])
        .annotate(outcome=Subquery(latest.values("outcome")[:1]))
        .values_list("pk", "outcome")
    )


def rows(cycles, today: date, rules) -> list[Row]:
    cycles = list(cycles)
    progress = _progress(cycles) if cycles else {}
    last = _last_outcomes(cycles) if cycles else {}
    outcomes = dict(Outcome.choices)
    found = []
    for cycle in cycles:
        document = cycle.protocol if cycle.protocol_id else cycle.agreement
        state = schedule.status(cycle.next_review_on, today, rules)
        answered, asked = progress.get(cycle.pk, (None, None))
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
                answered=answered,
                asked=asked,
                last_outcome=outcomes.get(last.get(cycle.pk), ""),
            )
        )
    return found


@dataclass(frozen=True)
class ConfirmationTotals:
    year: int
    protocols: int
    received: int
    missing: int


def confirmation_totals(today: date) -> ConfirmationTotals:
    """This year's monitoring confirmations over the protocols in force (those with a review
    cycle running), in three counts whatever their number: received from active partners,
    and missing (every active partner confirms every protocol)."""
    protocols = live_cycles().filter(protocol__isnull=False).values("protocol_id")
    active = Partner.objects.filter(status__in=BOUND[:1]).count()
    received = Confirmation.objects.filter(
        year=today.year,
        confirmed_at__isnull=False,
        partner__status__in=BOUND[:1],
        protocol_id__in=protocols,
    ).count()
    count = protocols.count()
    return ConfirmationTotals(today.year, count, received, max(count * active - received, 0))
