"""The register's downloads: the filtered view as CSV (streamed) or Excel (written row by row
to a temporary file, then sent from it), in constant memory whatever the number of rows. Both
go through accord.kernel.spreadsheets, which keeps text that looks like a formula inert."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django_scopes import scope
from openpyxl import Workbook

from accord.kernel import spreadsheets

from .filters import DUE, OVERDUE, basis_labels, review_state
from .models import Agreement, AgreementParty, AgreementStatus

CHUNK = 2000
HEADER = [
    "Reference",
    "Version",
    "Title",
    "Parties",
    "Status",
    "Legal basis (Article 6)",
    "Special category data",
    "Review date",
    "Review",
    "Last signed (UK time)",
]
WIDTHS = [18, 9, 50, 60, 14, 40, 12, 13, 10, 20]
REVIEW_WORDS = {DUE: "Due", OVERDUE: "Overdue", "": ""}
STATUS_LABELS = dict(AgreementStatus.choices)


FIELDS = (
    "pk",
    "reference",
    "version",
    "title",
    "status",
    "article6",
    "special",
    "review_date",
    "last_signed",
)


def rows(agreements: QuerySet[Agreement]) -> Iterator[list]:
    """The register's rows as plain values (dates as dates, the signing time in UK time,
    naive), read in chunks of CHUNK: per chunk, one query for the agreements (a server-side
    cursor on PostgreSQL) and one for their parties' names. Tuples rather than model
    instances: 10,000 agreements bring some 30,000 parties, which as objects cost seconds.
    """
    today = timezone.localdate()
    records = agreements.prefetch_related(None).values_list(*FIELDS).iterator(chunk_size=CHUNK)
    while chunk := list(islice(records, CHUNK)):
        names: dict[int, list[str]] = {}
        parties = (
            AgreementParty.objects.filter(agreement_id__in=[r[0] for r in chunk])
            .order_by("partner__organisation__name", "pk")
            .values_list("agreement_id", "partner__organisation__name")
        )
        for agreement_id, name in parties:
            names.setdefault(agreement_id, []).append(name)
        for pk, reference, version, title, status, article6, special, review, last in chunk:
            yield [
                reference,
                version,
                title,
                "; ".join(names.get(pk, ())),
                STATUS_LABELS.get(status, status),
                "; ".join(basis_labels(article6)),
                "Yes" if special else "No",
                review,
                REVIEW_WORDS[review_state(status, review, today)],
                timezone.localtime(last).replace(tzinfo=None, microsecond=0) if last else None,
            ]


def csv_response(
    agreements: QuerySet[Agreement], partnership, filename: str
) -> StreamingHttpResponse:
    """Streamed as it is read. The rows are read after the view has returned, outside the
    middleware's tenant scope, so the scope is entered again around them."""

    def scoped_rows() -> Iterator[list]:
        with scope(partnership=partnership):
            yield from rows(agreements)

    return spreadsheets.csv_response(HEADER, scoped_rows(), filename, bom=True)


def xlsx_response(agreements: QuerySet[Agreement], filename: str) -> FileResponse:
    """openpyxl in write-only mode: each row goes to disk as it is written, so memory stays
    flat; the finished workbook is sent from an anonymous temporary file (gone once closed)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Agreements")
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    sheet.append(spreadsheets.header_row(sheet, HEADER))
    spreadsheets.write_rows(sheet, rows(agreements))
    return spreadsheets.workbook_response(workbook, filename)
