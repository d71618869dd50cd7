"""The steering group's figures: how many breaches, and how quickly the partners and the ICO
were told, per reporting organisation and per UK calendar quarter (of detection).

Hours to tell a partner run from detection to the filing of its obligation; hours to tell the
ICO from awareness (the clocks the partnership's rule and Article 33(1) set). A share "within
48 hours" counts the partners told within 48 hours of detection among those whose answer is
known: told, or not told while 48 hours have passed. The ICO's share within 72 hours is
counted the same way from awareness; an ICO recorded as not needing to be told counts in
neither.

Two queries whatever the number of breaches (the breaches, and their obligations); the rest
is computed here in Python. The chart is an inline SVG with every label escaped, carrying the
same data as the quarter table beside it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from .models import BreachReport, Obligation, ObligationState, Recipient
from .services import ICO_HOURS, PARTNER_HOURS
from .times import hours_between, local

# Drawing constants (SVG user units; the SVG scales to the width of its column).
CHART_HEIGHT = 240
PLOT_TOP, PLOT_BOTTOM, PLOT_LEFT = 20, 200, 48
GROUP_WIDTH = 72
MIN_WIDTH = 560  # so that a quarter or two are not drawn giant
BAR_WIDTH = 22
FONT_SIZE = 12
PARTNER_COLOUR = "#1d70b8"  # GOV.UK blue
ICO_COLOUR = "#4c2c92"  # GOV.UK purple
LIMIT_COLOUR = "#d4351c"  # GOV.UK red
TEXT_COLOUR = "#0b0c0c"
GRID_COLOUR = "#b1b4b6"


def hours_text(hours: float | None) -> str:
    """“30”, “30.5”, or “–” when there is nothing to measure."""
    if hours is None:
        return "–"
    rounded = round(hours, 1)
    return f"{rounded:,.0f}" if rounded == int(rounded) else f"{rounded:,.1f}"


@dataclass(frozen=True)
class Share:
    """How many of those whose answer is known were told within the hours."""

    within: int
    of: int

    @property
    def text(self) -> str:
        if not self.of:
            return "–"
        return f"{self.within} of {self.of} ({round(100 * self.within / self.of)}%)"


@dataclass
class Group:
    """The figures of one quarter, one reporting organisation, or all of them."""

    label: str
    breaches: int = 0
    partner_hours: list[float] = field(default_factory=list)
    partners_unknown_past: int = 0  # not told, 48 hours gone
    ico_hours: list[float] = field(default_factory=list)
    ico_unknown_past: int = 0  # not told, 72 hours gone

    @property
    def median_partner_hours(self) -> float | None:
        return statistics.median(self.partner_hours) if self.partner_hours else None

    @property
    def longest_partner_hours(self) -> float | None:
        return max(self.partner_hours) if self.partner_hours else None

    @property
    def median_ico_hours(self) -> float | None:
        return statistics.median(self.ico_hours) if self.ico_hours else None

    @property
    def partners_within_48(self) -> Share:
        within = sum(1 for h in self.partner_hours if h <= PARTNER_HOURS)
        return Share(within, len(self.partner_hours) + self.partners_unknown_past)

    @property
    def ico_within_72(self) -> Share:
        within = sum(1 for h in self.ico_hours if h <= ICO_HOURS)
        return Share(within, len(self.ico_hours) + self.ico_unknown_past)

    @property
    def cells(self) -> dict[str, str]:
        """The table's cells, in words."""
        return {
            "breaches": str(self.breaches),
            "median_partner": hours_text(self.median_partner_hours),
            "longest_partner": hours_text(self.longest_partner_hours),
            "partners_48": self.partners_within_48.text,
            "median_ico": hours_text(self.median_ico_hours),
            "ico_72": self.ico_within_72.text,
        }


@dataclass
class Figures:
    quarters: list[Group]
    partners: list[Group]
    total: Group
    chart: SafeString = field(default_factory=lambda: mark_safe(""))  # noqa: S308


def quarter_of(moment: datetime) -> tuple[int, int]:
    """The UK calendar quarter a moment falls in: (2026, 3) for 00:30 BST on 1 July 2026."""
    day = local(moment)
    return day.year, (day.month - 1) // 3 + 1


def quarter_label(quarter: tuple[int, int]) -> str:
    return f"{quarter[0]} Q{quarter[1]}"


def _quarters_between(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    found, (year, q) = [], first
    while (year, q) <= last:
        found.append((year, q))
        year, q = (year + 1, 1) if q == 4 else (year, q + 1)
    return found


# --- From the database -----------------------------------------------------------------------


def build(breaches: QuerySet[BreachReport], now: datetime | None = None) -> Figures:
    """The figures of these breaches (already limited to those the member may see). Two
    queries: the breaches, and their obligations."""
    chosen = breaches.order_by().values("pk")
    rows = list(
        breaches.order_by().values_list(
            "pk",
            "detected_at",
            "aware_at",
            "reporting_partner__organisation_id",
            "reporting_partner__organisation__name",
        )
    )
    obligations = (
        Obligation.objects.filter(breach__in=chosen)
        .exclude(recipient=Recipient.INDIVIDUALS)
        .order_by()
        .values_list("breach_id", "recipient", "state", "done_at")
    )
    return collect(rows, obligations, now)


def collect(
    breaches: Iterable[tuple], obligations: Iterable[tuple], now: datetime | None = None
) -> Figures:
    """The figures from breach rows (id, detected, aware, organisation id and name) and
    obligation rows (breach id, recipient, state, done at)."""
    now = now or timezone.now()
    facts = {pk: (detected, aware) for pk, detected, aware, _org, _name in breaches}
    by_quarter: dict[tuple[int, int], Group] = {}
    by_partner: dict[int, Group] = {}
    total = Group("All reporting organisations")
    groups_of: dict[int, tuple[Group, Group]] = {}
    for pk, detected, _aware, org_id, org_name in breaches:
        quarter = quarter_of(detected)
        q = by_quarter.setdefault(quarter, Group(quarter_label(quarter)))
        p = by_partner.setdefault(org_id, Group(org_name))
        for group in (q, p, total):
            group.breaches += 1
        groups_of[pk] = (q, p)

    for breach_id, recipient, state, done_at in obligations:
        if breach_id not in facts or state == ObligationState.NOT_NEEDED:
            continue
        detected, aware = facts[breach_id]
        partner = recipient == Recipient.PARTNER
        start, hours = (detected, PARTNER_HOURS) if partner else (aware, ICO_HOURS)
        for group in (*groups_of[breach_id], total):
            if done_at is not None:
                (group.partner_hours if partner else group.ico_hours).append(
                    hours_between(start, done_at)
                )
            elif now - start > timedelta(hours=hours):
                if partner:
                    group.partners_unknown_past += 1
                else:
                    group.ico_unknown_past += 1

    quarters = []
    if by_quarter:
        for quarter in _quarters_between(min(by_quarter), max(by_quarter)):
            quarters.append(by_quarter.get(quarter) or Group(quarter_label(quarter)))
    partners = sorted(by_partner.values(), key=lambda g: g.label.casefold())
    figures = Figures(quarters, partners, total)
    figures.chart = chart(quarters) if quarters else mark_safe("")  # noqa: S308
    return figures


# --- The chart -------------------------------------------------------------------------------


def _f(value: float) -> str:
    return f"{value:.1f}"


def _scale_top(groups: list[Group]) -> int:
    """The hours at the top of the chart: past the 72-hour line, in whole days."""
    values = [ICO_HOURS + 8.0]
    for group in groups:
        values += [v for v in (group.median_partner_hours, group.median_ico_hours) if v]
    return int(math.ceil(max(values) / 24) * 24)


def description(groups: list[Group]) -> str:
    parts = []
    for group in groups:
        parts.append(
            f"{group.label}: {group.breaches} breach{'es' if group.breaches != 1 else ''}, "
            f"median {hours_text(group.median_partner_hours)} hours to tell the partners, "
            f"median {hours_text(group.median_ico_hours)} hours to tell the ICO"
        )
    return "; ".join(parts) + "."


def chart(groups: list[Group]) -> SafeString:
    """Two bars a quarter: the median hours to tell the partners and to tell the ICO, with
    the 48-hour and 72-hour lines across."""
    top = _scale_top(groups)
    height = PLOT_BOTTOM - PLOT_TOP
    # A few quarters spread across the chart; many keep GROUP_WIDTH each.
    group_width = max(GROUP_WIDTH, (MIN_WIDTH - PLOT_LEFT - 16) / len(groups))
    width = PLOT_LEFT + group_width * len(groups) + 16

    def y(hours: float) -> float:
        return PLOT_BOTTOM - height * min(hours, top) / top

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_f(width)} {CHART_HEIGHT}"'
        ' width="100%" role="img" aria-labelledby="figures-chart-title"'
        ' aria-describedby="figures-chart-desc"'
        ' class="accord-figures-chart" focusable="false">',
        '<title id="figures-chart-title">Median hours to tell the partners and the ICO, '
        "quarter by quarter (the table gives the same data)</title>",
        f'<desc id="figures-chart-desc">{escape(description(groups))}</desc>',
        f'<g font-family="arial, sans-serif" font-size="{FONT_SIZE}" fill="{TEXT_COLOUR}">',
    ]
    for hours in range(0, top + 1, 24):
        parts.append(
            f'<line x1="{PLOT_LEFT}" x2="{_f(width - 8)}" y1="{_f(y(hours))}" y2="{_f(y(hours))}"'
            f' stroke="{GRID_COLOUR}" stroke-width="0.5"/>'
            f'<text x="{PLOT_LEFT - 6}" y="{_f(y(hours) + 4)}" text-anchor="end">{hours}</text>'
        )
    for i, group in enumerate(groups):
        left = PLOT_LEFT + group_width * i + (group_width - 2 * BAR_WIDTH) / 2
        for j, (value, colour, who) in enumerate(
            (
                (group.median_partner_hours, PARTNER_COLOUR, "the partners"),
                (group.median_ico_hours, ICO_COLOUR, "the ICO"),
            )
        ):
            x = left + j * BAR_WIDTH
            label = f"{group.label}: median {hours_text(value)} hours to tell {who}"
            if value is None:
                parts.append(
                    f'<text x="{_f(x + BAR_WIDTH / 2)}" y="{PLOT_BOTTOM - 4}"'
                    f' text-anchor="middle" class="bar bar--none">–<title>{escape(label)}'
                    "</title></text>"
                )
                continue
            parts.append(
                f'<rect x="{_f(x)}" y="{_f(y(value))}" width="{BAR_WIDTH - 2}"'
                f' height="{_f(PLOT_BOTTOM - y(value))}" fill="{colour}" class="bar"'
                f' data-hours="{hours_text(value)}"><title>{escape(label)}</title></rect>'
                f'<text x="{_f(x + (BAR_WIDTH - 2) / 2)}" y="{_f(y(value) - 3)}"'
                f' text-anchor="middle" font-size="10">{escape(hours_text(value))}</text>'
            )
        parts.append(
            f'<text x="{_f(PLOT_LEFT + group_width * (i + 0.5))}" y="{PLOT_BOTTOM + 18}"'
            f' text-anchor="middle">{escape(group.label)}</text>'
        )
    for hours, colour, dash in (
        (PARTNER_HOURS, PARTNER_COLOUR, "6 3"),
        (ICO_HOURS, LIMIT_COLOUR, "2 2"),
    ):
        parts.append(
            f'<line x1="{PLOT_LEFT}" x2="{_f(width - 8)}" y1="{_f(y(hours))}" y2="{_f(y(hours))}"'
            f' stroke="{colour}" stroke-width="1.5" stroke-dasharray="{dash}"'
            f' class="limit" data-hours="{hours}"/>'
        )
    parts.append(
        f'<text x="{PLOT_LEFT}" y="{CHART_HEIGHT - 6}">Hours (from detection for the partners,'
        " from awareness for the ICO)</text>"
    )
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)
