"""Threats to the breach reports (the ICO report pack and its PDF, the figures, the register's
downloads): a breach seen by someone it does not concern, markup or a formula typed into it."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tenancy.roles import Role

from ..breach_factories import dpo_at, log_breach, member_of, partner, uk
from ..factories import make_member

pytestmark = pytest.mark.django_db

DETECTED = uk(2026, 11, 2, 9, 15)
SECRET_TITLE = "Safeguarding referrals for Northfield School"


@pytest.fixture
def county(alpha):
    return partner(alpha, "Essex County Council")


@pytest.fixture
def cares(alpha):
    return partner(alpha, "Essex Cares Ltd")


@pytest.fixture
def police(alpha):
    """A partner the breach does not involve."""
    return partner(alpha, "Essex Police")


@pytest.fixture
def dpo(alpha, county):
    return dpo_at(alpha, county.organisation)


@pytest.fixture
def breach(alpha, county, cares, police, dpo):
    return log_breach(alpha, dpo, detected=DETECTED, involved=[cares], title=SECRET_TITLE)


def breach_url(name: str, breach, slug: str | None = None, breach_id: int | None = None) -> str:
    return reverse(
        f"breaches:{name}",
        kwargs={
            "partnership_slug": slug or breach.partnership.slug,
            "breach_id": breach_id or breach.pk,
        },
    )


def url(name: str, partnership) -> str:
    return reverse(f"breaches:{name}", kwargs={"partnership_slug": partnership.slug})


def downloads(client, partnership) -> str:
    """Everything the CSV and the Excel download hold, as text."""
    text = b"".join(client.get(url("register_csv", partnership)).streaming_content).decode()
    sheet = load_workbook(
        io.BytesIO(b"".join(client.get(url("register_xlsx", partnership)).streaming_content))
    ).active
    cells = [str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None]
    return text + "\n".join(cells)


def test_a_dpo_of_an_uninvolved_organisation_cannot_open_the_pack_or_its_pdf(
    client, alpha, police, breach
):
    """A DPO whose organisation the breach does not involve: 404, as if it did not exist."""
    client.force_login(dpo_at(alpha, police.organisation))
    for name in ("pack", "pack_pdf"):
        response = client.get(breach_url(name, breach))
        assert response.status_code == 404
        assert SECRET_TITLE not in response.content.decode(errors="replace")


def test_a_viewer_learns_nothing_from_the_pack_address(client, alpha, county, breach):
    """A viewer is refused the pack alike whether the breach exists or not (403 either way)."""
    client.force_login(member_of(alpha, county.organisation, Role.VIEWER))
    for name in ("pack", "pack_pdf"):
        existing = client.get(breach_url(name, breach))
        missing = client.get(breach_url(name, breach, breach_id=breach.pk + 1000))
        assert existing.status_code == missing.status_code == 403
        assert SECRET_TITLE not in existing.content.decode()


def test_another_partnerships_member_cannot_open_the_pack_or_its_pdf(client, beta, breach):
    """A member of another partnership only: 404 from the pack and its PDF."""
    client.force_login(member_of(beta, partner(beta, "Kent County Council").organisation, *Role))
    for name in ("pack", "pack_pdf"):
        assert client.get(breach_url(name, breach)).status_code == 404


def test_another_partnerships_breach_is_not_found_through_this_partnerships_pack(
    client, alpha, beta, county, breach
):
    """Someone in both partnerships asks for Alpha's breach under Beta's address: 404."""
    person = dpo_at(alpha, county.organisation)
    make_member(beta, *Role, user=person, organisation=partner(beta, "Kent Police").organisation)
    client.force_login(person)
    for name in ("pack", "pack_pdf"):
        assert client.get(breach_url(name, breach, slug=beta.slug)).status_code == 404


def test_a_member_who_may_not_see_a_breach_finds_nothing_of_it_in_figures_or_downloads(
    client, alpha, police, breach
):
    """The figures and the downloads count and list only the breaches the member may see."""
    client.force_login(dpo_at(alpha, police.organisation))
    figures = client.get(url("figures", alpha)).content.decode()
    assert "No breaches to count yet." in figures
    assert "Essex County Council" not in figures
    everything = downloads(client, alpha)
    assert SECRET_TITLE not in everything and "BR-0001" not in everything


def test_markup_in_a_breach_is_shown_as_text_in_the_pack_and_its_pdf(client, alpha, dpo):
    """A title or an answer holding <script>: escaped on the page, plain text in the PDF."""
    breach = log_breach(
        alpha,
        dpo,
        detected=DETECTED,
        title='<script>alert("pack")</script>',
        what_happened='<img src=x onerror=alert(1)> sent to "the wrong" provider',
    )
    client.force_login(dpo)
    html = client.get(breach_url("pack", breach)).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;pack&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    pdf = client.get(breach_url("pack_pdf", breach)).content
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=60
    ).stdout.decode()
    assert '<script>alert("pack")</script>' in text
    assert "<img src=x onerror=alert(1)>" in " ".join(text.split())


def test_a_formula_typed_as_a_breach_title_is_not_run_by_a_spreadsheet(client, alpha, dpo):
    """A title such as =HYPERLINK(...) reaches the CSV and the workbook as inert text."""
    formula = '=HYPERLINK("http://evil.example","Click")'
    log_breach(alpha, dpo, detected=DETECTED, title=formula)
    client.force_login(dpo)
    content = b"".join(client.get(url("register_csv", alpha)).streaming_content)
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[1][1] == "'" + formula
    workbook = load_workbook(
        io.BytesIO(b"".join(client.get(url("register_xlsx", alpha)).streaming_content))
    )
    cell = workbook.active.cell(row=2, column=2)
    assert cell.value == "'" + formula and cell.data_type == "s"
