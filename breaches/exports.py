"""The breach register's downloads: the breaches the member may see, filtered as the register
is, one row each, as CSV (streamed) or Excel (written row by row to a temporary file). One
query whatever the number of breaches: the partners' counts and the ICO's filing come as
annotations. Both formats go through accord.kernel.spreadsheets, which keeps text that looks
like a formula inert.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import FileResponse, StreamingHttpResponse
from django_scopes import scope
from openpyxl import Workbook

from accord.kernel import spreadsheets

from .models import (
    Assessment,
    BreachReport,
    BreachStatus,
    Obligation,
    ObligationState,
    Recipient,
    View,
)
from .times import local

CHUNK = 2000
HEADER = [
    "Reference",
    "Title",
    "Status",
    "Reporting organisation",
    "Detected (UK time)",
    "Aware (UK time)",
    "Assessment",
    "ICO decision",
    "ICO told at (UK time)",
    "ICO case reference",
    "Partners told on time",
    "Partners told late",
    "Closed at (UK time)",
]
WIDTHS = [10, 50, 9, 40, 18, 18, 40, 22, 18, 20, 12, 12, 18]
STATUS_LABELS = dict(BreachStatus.choices)
ASSESSMENT_LABELS = dict(Assessment.choices)
DECISION_LABELS = {"": "Not yet decided", **dict(View.choices)}


def _uk(moment: datetime | None) -> datetime | None:
    """UK wall-clock time, naive (as spreadsheets show it), to the minute."""
    if moment is None:
        return None
    return local(moment).replace(tzinfo=None, second=0, microsecond=0)


FIELDS = (
    "number",
    "title",
    "status",
    "reporting_partner__organisation__name",
    "detected_at",
    "aware_at",
    "assessment",
    "ico_decision",
    "ico_told_at",
    "ico_case_reference",
    "partners_on_time",
    "partners_late",
    "closed_at",
)


def annotated(breaches: QuerySet[BreachReport]) -> QuerySet:
    """The breaches as the value rows of the download, in one query."""
    partner = Q(obligations__recipient=Recipient.PARTNER)
    ico = Obligation.objects.filter(breach=OuterRef("pk"), recipient=Recipient.ICO)
    return (
        breaches.annotate(
            partners_on_time=Count(
                "obligations", filter=partner & Q(obligations__state=ObligationState.ON_TIME)
            ),
            partners_late=Count(
                "obligations", filter=partner & Q(obligations__state=ObligationState.LATE)
            ),
            ico_told_at=Subquery(ico.order_by().values("done_at")[:1]),
        )
        .order_by("-detected_at", "-number")
        .values_list(*FIELDS)
    )


def rows(breaches: QuerySet[BreachReport]) -> Iterator[list]:
    """The download's rows as plain values (times in UK time, naive), read in chunks."""
    for (
        number,
        title,
        status,
        organisation,
        detected,
        aware,
        assessment,
        decision,
        ico_told,
        case_reference,
        on_time,
        late,
        closed,
    ) in annotated(breaches).iterator(chunk_size=CHUNK):
        yield [
            f"BR-{number:04d}",
            title,
            STATUS_LABELS.get(status, status),
            organisation,
            _uk(detected),
            _uk(aware),
            ASSESSMENT_LABELS.get(assessment, assessment),
            DECISION_LABELS.get(decision, decision),
            _uk(ico_told),
            case_reference,
            on_time,
            late,
            _uk(closed),
        ]


def csv_response(
    breaches: QuerySet[BreachReport], partnership, filename: str
) -> StreamingHttpResponse:
    """Streamed as it is read: the rows are read after the view has returned, outside the
    middleware's tenant scope, so the scope is entered again around them."""

    def scoped_rows() -> Iterator[list]:
        with scope(partnership=partnership):
            yield from rows(breaches)

    return spreadsheets.csv_response(HEADER, scoped_rows(), filename, bom=True)


def xlsx_response(breaches: QuerySet[BreachReport], filename: str) -> FileResponse:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Breaches")
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.append(spreadsheets.header_row(sheet, HEADER))
    spreadsheets.write_rows(sheet, rows(breaches))
    return spreadsheets.workbook_response(workbook, filename)
