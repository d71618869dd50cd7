"""The steering group's annual review pack (seeds 001 and 003): for one calendar year, the
reviews held and what they decided, the sections other apps add (breaches in the period with
their timings, through `reviews.pack_sections`), the partners' confirmations received and
missing, complaints about disclosure per partner, and the protocols and agreements whose
review lapsed or that expired. A page and a tagged PDF (the signed PDFs' machinery, not
sealed: a working copy). `build` reads a fixed number of queries whatever the rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Min, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from agreements.models import Agreement, AgreementStatus
from documents.layout import css_string
from documents.pdf import html_to_pdf
from protocols.models import Protocol
from signatories.models import Partner
from tenancy.models import Membership, Partnership

from . import monitoring, pack_sections, schedule, subjects
from .models import Review, ReviewCycle

PDF_TEMPLATE = "reviews/pack_pdf.html"
EARLIEST_YEAR = 2000


@dataclass(frozen=True)
class HeldReview:
    kind: str
    title: str
    held_on: date
    outcome: str
    decision: str


@dataclass(frozen=True)
class LapsedReview:
    kind: str
    title: str
    lead: str
    due_on: date


@dataclass(frozen=True)
class ExpiredAgreement:
    title: str
    lead: str
    ended_on: date | None


@dataclass(frozen=True)
class ComplaintCount:
    partner: str
    count: int


@dataclass(frozen=True)
class Pack:
    partnership: Partnership
    year: int
    start: date
    end: date
    # The day the lapsed reviews are read at: the period's end, or today while it runs.
    as_at: date
    lapsed_months: int
    prepared_at: datetime
    reviews: tuple[HeldReview, ...]
    sections: tuple[pack_sections.PackSection, ...]
    confirmations: monitoring.ConfirmationDetail
    complaints: tuple[ComplaintCount, ...]
    lapsed: tuple[LapsedReview, ...]
    expired: tuple[ExpiredAgreement, ...]

    @property
    def period(self) -> str:
        return f"1 January {self.year} to 31 December {self.year}"

    @property
    def complaints_total(self) -> int:
        return sum(c.count for c in self.complaints)


def available_years(today: date | None = None) -> list[int]:
    """The years a pack can be made for, newest first: from the first protocol's or
    agreement's coming into force to this year (one query each)."""
    this_year = (today or timezone.localdate()).year
    firsts = [
        Protocol.objects.aggregate(first=Min("date_in_force"))["first"],
        Agreement.objects.aggregate(first=Min("start_date"))["first"],
    ]
    first = min((d.year for d in firsts if d is not None), default=this_year)
    first = min(max(first, EARLIEST_YEAR), this_year)
    return list(range(this_year, first - 1, -1))


def _reviews(start: date, end: date) -> tuple[HeldReview, ...]:
    reviews = (
        Review.objects.filter(held_on__range=(start, end))
        .select_related("cycle__protocol", "cycle__agreement")
        .order_by("held_on", "pk")
    )
    return tuple(
        HeldReview(
            kind=subjects.kind_label(r.cycle),
            title=subjects.title_of(r.cycle),
            held_on=r.held_on,
            outcome=r.get_outcome_display(),
            decision=r.decision,
        )
        for r in reviews
    )


def _lapsed(as_at: date, rules) -> tuple[LapsedReview, ...]:
    """Documents whose review was overdue by more than the partnership's lapsed months on
    `as_at`. A review held since then tells the date it met, so a past year reads as it
    stood then; a cycle still waiting reads its next review date."""
    cycles = list(
        ReviewCycle.objects.filter(
            Q(ended_at__isnull=True) | Q(ended_at__date__gt=as_at), created_at__date__lte=as_at
        ).select_related("protocol__lead__organisation", "agreement__lead__organisation")
    )
    met_later: dict[int, date] = {}
    for cycle_id, due_on in (
        Review.objects.filter(cycle__in=cycles, held_on__gt=as_at)
        .order_by("cycle_id", "held_on", "pk")
        .values_list("cycle_id", "due_on")
    ):
        met_later.setdefault(cycle_id, due_on)
    found = []
    for cycle in cycles:
        due_on = met_later.get(cycle.pk, cycle.next_review_on)
        if schedule.status(due_on, as_at, rules) == schedule.LAPSED:
            found.append(
                LapsedReview(
                    kind=subjects.kind_label(cycle),
                    title=subjects.title_of(cycle),
                    lead=str(cycle.document.lead.organisation),
                    due_on=due_on,
                )
            )
    return tuple(sorted(found, key=lambda r: (r.due_on, r.title.casefold())))


def _expired(start: date, end: date) -> tuple[ExpiredAgreement, ...]:
    agreements = (
        Agreement.objects.filter(status=AgreementStatus.EXPIRED)
        .filter(
            Q(ended_at__date__range=(start, end))
            | Q(ended_at__isnull=True, end_date__range=(start, end))
        )
        .select_related("lead__organisation")
        .order_by("end_date", "reference", "pk")
    )
    return tuple(
        ExpiredAgreement(
            title=f"{a.reference} {a.title}",
            lead=str(a.lead.organisation),
            ended_on=timezone.localdate(a.ended_at) if a.ended_at else a.end_date,
        )
        for a in agreements
    )


def _complaints(year: int) -> tuple[ComplaintCount, ...]:
    counts = monitoring.complaint_counts(year)
    partners = Partner.objects.filter(pk__in=list(counts)).select_related("organisation")
    return tuple(
        sorted(
            (ComplaintCount(p.organisation.name, counts[p.pk]) for p in partners),
            key=lambda c: c.partner.casefold(),
        )
    )


def build(
    partnership: Partnership,
    year: int,
    membership: Membership | None,
    now: datetime | None = None,
) -> Pack:
    """The pack of `year` as `membership` may see it (call it inside the partnership's
    scope)."""
    now = now or timezone.now()
    start, end = monitoring.year_bounds(year)
    as_at = min(end, timezone.localdate(now))
    rules = schedule.settings_for(partnership.pk)
    return Pack(
        partnership=partnership,
        year=year,
        start=start,
        end=end,
        as_at=as_at,
        lapsed_months=rules.lapsed_months,
        prepared_at=now,
        reviews=_reviews(start, end),
        sections=tuple(pack_sections.sections(partnership, start, end, membership)),
        confirmations=monitoring.confirmation_detail(year),
        complaints=_complaints(year),
        lapsed=_lapsed(as_at, rules),
        expired=_expired(start, end),
    )


def render_pdf(pack: Pack) -> bytes:
    """The pack as a tagged PDF, fonts and layout as the documents' PDFs."""
    markup = render_to_string(
        PDF_TEMPLATE,
        {
            "pack": pack,
            "partnership": pack.partnership,
            "footer": mark_safe(  # noqa: S308 (every character but letters and digits escaped)
                css_string(f"{pack.partnership.name} · Annual review pack {pack.year}")
            ),
        },
    )
    return html_to_pdf(markup)


def file_name(pack: Pack) -> str:
    return f"annual-review-pack-{pack.partnership.slug}-{pack.year}.pdf"
