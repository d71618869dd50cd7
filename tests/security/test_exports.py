"""Formula (CSV) injection: text that people type or import, written into a CSV or Excel
download, must never run as a formula when a steering group member opens the file."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope
from openpyxl import Workbook, load_workbook

from accord.kernel.spreadsheets import csv_text, neutralise, sheet_cell, workbook_response
from signatories.models import Partner
from tenancy.models import AuditEntry
from tenancy.roles import Role

from ..factories import (
    OrganisationFactory,
    make_agreement,
    make_member,
    make_partner,
    make_signature_request,
)

pytestmark = pytest.mark.django_db

EVIL_NAME = '=HYPERLINK("http://evil.example","x")'
EVIL_SIGNER = "@SUM(1+1)"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cells(response) -> list[str]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return [cell for row in csv.reader(io.StringIO(body)) for cell in row]


def xlsx_cells(response) -> list:
    data = b"".join(response.streaming_content)
    response.close()
    sheet = load_workbook(io.BytesIO(data)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def live_text(cells) -> list[str]:
    """The cells a spreadsheet program would read as a formula."""
    return [c for c in cells if isinstance(c, str) and c.lstrip().startswith(FORMULA_STARTS)]


def import_partner(client, name: str) -> Partner:
    """Import one partner from a CSV file through the two-step import pages."""
    content = f'name,ICO reference,DPO,e-mail,sector\n"{name.replace(chr(34), chr(34) * 2)}",,,,\n'
    upload = SimpleUploadedFile("partners.csv", content.encode(), content_type="text/csv")
    preview = client.post(
        reverse("signatories:import", kwargs={"partnership_slug": "alpha"}), {"file": upload}
    )
    digest = preview.content.decode().split('name="digest" value="', 1)[1].split('"', 1)[0]
    confirmed = client.post(
        reverse("signatories:confirm_import", kwargs={"partnership_slug": "alpha"}),
        {"digest": digest},
    )
    assert confirmed.status_code == 302
    with scope(partnership=client.partnership):
        return Partner.objects.get(organisation__name=name)


def test_formula_in_an_imported_name_or_a_signers_name_is_not_run_by_excel(client, alpha, alice):
    """A partner imported as =HYPERLINK(...) and a signer called @SUM(...) reach the audit
    CSV as inert text, each behind a single quote, so Excel shows them and runs nothing."""
    client.force_login(alice)
    client.partnership = alpha
    partner = import_partner(client, EVIL_NAME)
    _request, token = make_signature_request(partner)
    client.logout()
    signed = client.post(
        reverse("signing:sign", kwargs={"token": token}),
        {"name": EVIL_SIGNER, "position": "Chief Executive", "confirmed": "on", "action": "sign"},
    )
    assert signed.status_code == 302
    with scope(partnership=alpha):
        assert AuditEntry.objects.filter(summary__startswith=EVIL_SIGNER).exists()

    client.force_login(make_member(alpha, Role.STEERING_GROUP).user)
    cells = csv_cells(client.get("/p/alpha/audit/export.csv"))

    assert live_text(cells) == []
    assert "'" + EVIL_NAME in cells  # the record, still readable
    assert any(cell.startswith("'" + EVIL_SIGNER) for cell in cells)


@pytest.fixture
def evil_agreement(alpha):
    """An agreement whose reference, title and parties' names are formulas (one behind
    spaces, which spreadsheet programs skip)."""
    evil = make_partner(alpha, OrganisationFactory(name=EVIL_NAME))
    other = make_partner(alpha, OrganisationFactory(name="  -1+1 Trust"))
    return make_agreement(alpha, lead=evil, others=[other], reference="+ISA-1", title="=1+2")


def register(name: str) -> str:
    return reverse(f"agreements:{name}", kwargs={"partnership_slug": "alpha"})


def test_formula_in_the_register_csv_is_not_run_by_excel(client, bob, evil_agreement):
    """Reference, title and party names that start like formulas, even behind spaces, come
    out of the register's CSV as quoted text."""
    client.force_login(bob)
    cells = csv_cells(client.get(register("register_csv")))

    assert live_text(cells) == []
    assert {"'+ISA-1", "'=1+2"} <= set(cells)
    assert f"'  -1+1 Trust; {EVIL_NAME}" in cells or f"'{EVIL_NAME};   -1+1 Trust" in cells


def test_formula_in_the_register_workbook_is_not_run_by_excel(client, bob, evil_agreement):
    """Every cell of the register's Excel download is text or a plain value, none a formula
    nor text that Excel would read as one; the version stays a number."""
    client.force_login(bob)
    cells = xlsx_cells(client.get(register("register_xlsx")))

    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert live_text([c.value for c in cells]) == []
    row = {c.column_letter: c for c in cells if c.row == 2}
    assert row["A"].value == "'+ISA-1"
    assert row["B"].value == 1 and row["B"].data_type == "n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+2", "'=1+2"),
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+44 1234", "'+44 1234"),
        ("-1+2", "'-1+2"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\t=1+2", "'\t=1+2"),
        ("\rcmd", "'\rcmd"),
        ("  =1+2", "'  =1+2"),
        ("\n@SUM(1)", "'\n@SUM(1)"),
        ("\uff1d1+2", "'\uff1d1+2"),  # a full-width equals sign
        ("Luton Borough Council", "Luton Borough Council"),
        ("a=b", "a=b"),
        ("O'Neil", "O'Neil"),
        ("", ""),
        (-5, -5),
        (-2.5, -2.5),
        (None, None),
        (date(2026, 1, 2), date(2026, 1, 2)),
    ],
)
def test_the_shared_writer_quotes_only_what_a_spreadsheet_would_run(value, expected):
    """Text a spreadsheet would read as a formula gets a leading quote; other text and
    values that are not text are left as they are."""
    assert neutralise(value) == expected


def test_negative_numbers_stay_numbers_and_formula_text_stays_text():
    """A number is written as a number (CSV and Excel); the same characters as text are
    quoted, so the user's data is kept but nothing is computed."""
    assert csv_text(-5) == "-5"
    assert csv_text(-2.5) == "-2.5"
    assert csv_text("-5") == "'-5"
    assert csv_text(datetime(2026, 1, 2, 3, 4)) == "2026-01-02 03:04"
    assert csv_text(None) == ""

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Test")
    sheet.append([sheet_cell(sheet, v) for v in (-5, -2.5, "=1+2", "-5", date(2026, 1, 2))])
    response = workbook_response(workbook, "test.xlsx")
    number, decimal, formula, text, day = xlsx_cells(response)
    assert (number.value, number.data_type) == (-5, "n")
    assert (decimal.value, decimal.data_type) == (-2.5, "n")
    assert (formula.value, formula.data_type) == ("'=1+2", "s")
    assert (text.value, text.data_type) == ("'-5", "s")
    assert day.is_date
