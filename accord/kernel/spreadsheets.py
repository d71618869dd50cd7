"""Every CSV and Excel download goes through here, so that no cell reaches a spreadsheet
program as a formula (CSV or formula injection).

A name typed on a public signing link or read from an imported file can be
`=HYPERLINK("http://evil.example","Click")` or `@SUM(1+1)|cmd`: opened in Excel, such a cell
runs. `neutralise` turns text that a spreadsheet would read as a formula into inert text by
putting a single quote in front, as OWASP recommends; numbers, dates and times are written as
themselves (a negative number stays a number in Excel). Use `csv_response` for a streamed CSV
and `sheet_cell` with `workbook_response` for an Excel workbook.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.http import FileResponse, StreamingHttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

if TYPE_CHECKING:
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# A cell whose text starts with one of these is read as a formula (or a DDE command) by Excel,
# LibreOffice or Google Sheets; the full-width forms count too in East Asian locales.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet program could read the text as a formula, leading spaces and
    other whitespace (which they skip) included."""
    return text.startswith(FORMULA_STARTS) or text.lstrip().startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """The value made safe for a spreadsheet cell: text that could be read as a formula gets
    a leading single quote, so it stays text; every other value is returned unchanged."""
    if isinstance(value, str) and is_formula_like(value):
        return "'" + value
    return value


def csv_text(value: Any) -> str:
    """One CSV cell: empty for None, ISO dates, times to the minute, numbers as they are and
    text neutralised."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)  # a number, negative or not, is not a formula
    return neutralise(str(value))


class _Echo:
    """A file-like object that hands back what is written, for csv.writer in a generator."""

    def write(self, value: str) -> str:
        return value


def csv_lines(
    header: Iterable[Any], rows: Iterable[Iterable[Any]], *, bom: bool = False
) -> Iterator[str]:
    """The CSV's lines one at a time, every cell through `csv_text`."""
    writer = csv.writer(_Echo())
    first = writer.writerow([csv_text(v) for v in header])
    yield ("\ufeff" + first) if bom else first
    for row in rows:
        yield writer.writerow([csv_text(v) for v in row])


def csv_response(
    header: Iterable[Any],
    rows: Iterable[Iterable[Any]],
    filename: str,
    *,
    bom: bool = False,
) -> StreamingHttpResponse:
    """A CSV download streamed as `rows` is read (it may be a generator that enters the
    tenant's scope itself: it runs after the view has returned). `bom` puts a byte order mark
    first, which makes Excel read the file as UTF-8."""
    response = StreamingHttpResponse(
        csv_lines(header, rows, bom=bom), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def sheet_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    """One cell of a write-only sheet: dates and times as Excel dates in UK format, numbers as
    numbers, text cleaned of the control characters Excel refuses, neutralised and always
    stored as text (never as a formula)."""
    if isinstance(value, datetime | date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "dd/mm/yyyy hh:mm" if isinstance(value, datetime) else "dd/mm/yyyy"
        return cell
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=neutralise(ILLEGAL_CHARACTERS_RE.sub("", value)))
        cell.data_type = "s"
        return cell
    return value


def header_row(sheet: WriteOnlyWorksheet, titles: Iterable[str]) -> list[WriteOnlyCell]:
    """A bold header row for `sheet.append`."""
    bold = Font(bold=True)
    cells = []
    for title in titles:
        cell = sheet_cell(sheet, title)
        cell.font = bold
        cells.append(cell)
    return cells


def write_rows(sheet: WriteOnlyWorksheet, rows: Iterable[Iterable[Any]]) -> None:
    """Append each row to the sheet, every value through `sheet_cell`."""
    for row in rows:
        sheet.append([sheet_cell(sheet, v) for v in row])


def workbook_response(workbook: Workbook, filename: str) -> FileResponse:
    """The workbook saved to an anonymous temporary file (gone once closed) and sent from it,
    so a large write-only workbook never sits in memory."""
    output = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 (FileResponse closes it)
    workbook.save(output)
    output.seek(0)
    return FileResponse(
        output, as_attachment=True, filename=filename, content_type=XLSX_CONTENT_TYPE
    )
