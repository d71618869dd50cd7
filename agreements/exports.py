"""The register's downloads: the filtered view as CSV (streamed) or Excel (written row by row
to a temporary file, then sent from it), in constant memory whatever the number of rows."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from itertools import islice

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django_scopes import scope
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

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
# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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


def _csv_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # Neutralise formulas (CSV injection): a leading apostrophe keeps the text as text.
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


def csv_response(agreements: QuerySet[Agreement], partnership, filename: str):
    """Streamed as it is read. The rows are read after the view has returned, outside the
    middleware's tenant scope, so the scope is entered again around them."""

    def lines():
        writer = csv.writer(_Echo())
        yield "\ufeff" + writer.writerow(HEADER)  # the BOM makes Excel read UTF-8
        with scope(partnership=partnership):
            for values in rows(agreements):
                yield writer.writerow([_csv_text(v) for v in values])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _cell(sheet, value):
    """The value as it goes in the sheet: dates formatted, text kept as text."""
    if isinstance(value, datetime | date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "dd/mm/yyyy hh:mm" if isinstance(value, datetime) else "dd/mm/yyyy"
        return cell
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)  # control characters Excel refuses
        if value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"  # text that looks like a formula stays text
            return cell
    return value


def xlsx_response(agreements: QuerySet[Agreement], filename: str) -> FileResponse:
    """openpyxl in write-only mode: each row goes to disk as it is written, so memory stays
    flat; the finished workbook is sent from an anonymous temporary file (gone once closed)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Agreements")
    for i, width in enumerate(WIDTHS):
        sheet.column_dimensions[chr(ord("A") + i)].width = width
    bold = Font(bold=True)
    header = []
    for title in HEADER:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in rows(agreements):
        sheet.append([_cell(sheet, v) for v in values])
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
