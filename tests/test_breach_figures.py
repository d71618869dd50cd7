"""The steering group's figures (breaches per quarter and per reporting organisation, and how
quickly the partners and the ICO were told) and the breach register's downloads."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope
from openpyxl import load_workbook

from breaches import figures
from breaches.models import Assessment, BreachReport
from breaches.times import local
from tenancy.roles import Role

from .breach_factories import assess, dpo_at, log_breach, partner, told_ico, told_partner, uk
from .factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def county(alpha):
    return partner(alpha, "Essex County Council")


@pytest.fixture
def cares(alpha):
    return partner(alpha, "Essex Cares Ltd")


@pytest.fixture
def police(alpha):
    return partner(alpha, "Essex Police")


@pytest.fixture
def dpo(alpha, county):
    return dpo_at(alpha, county.organisation)


def url(name: str, partnership) -> str:
    return reverse(f"breaches:{name}", kwargs={"partnership_slug": partnership.slug})


def rows_of(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table, each as its cells' text."""
    table = html[html.index(f'id="{table_id}"') :]
    body = table[table.index("<tbody") : table.index("</tbody>")]
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def a_breach(alpha, dpo, cares, *, detected, partner_hours=None, ico_hours=None, **values):
    """A breach involving Essex Cares, told `partner_hours` after detection and the ICO
    `ico_hours` after awareness (each if given)."""
    breach = log_breach(alpha, dpo, detected=detected, involved=[cares], **values)
    if partner_hours is not None:
        told_partner(breach, dpo, cares.organisation, hours=partner_hours)
    if ico_hours is not None:
        assess(breach, dpo, Assessment.NOTIFIABLE)
        told_ico(breach, dpo, hours=ico_hours)
    return breach


# --- The figures -------------------------------------------------------------------------------


def test_partners_told_after_10_and_50_hours_give_a_median_of_30_and_1_of_2_in_time(
    client, alpha, county, cares, dpo
):
    a_breach(alpha, dpo, cares, detected=uk(2026, 8, 3, 9), partner_hours=10, ico_hours=20)
    a_breach(alpha, dpo, cares, detected=uk(2026, 9, 7, 14), partner_hours=50, ico_hours=80)
    client.force_login(dpo)
    html = client.get(url("figures", alpha)).content.decode()
    assert rows_of(html, "figures-by-quarter") == [
        ["2026 Q3", "2", "30", "50", "1 of 2 (50%)", "50", "1 of 2 (50%)"],
    ]
    assert rows_of(html, "figures-by-organisation") == [
        ["Essex County Council", "2", "30", "50", "1 of 2 (50%)", "50", "1 of 2 (50%)"],
        ["All reporting organisations", "2", "30", "50", "1 of 2 (50%)", "50", "1 of 2 (50%)"],
    ]


def test_quarters_are_uk_calendar_quarters(alpha, county, cares, dpo):
    # 00:30 BST on 1 July 2026 is 23:30 UTC on 30 June: the third quarter in the UK.
    detected = uk(2026, 7, 1, 0, 30)
    assert detected.utctimetuple().tm_mon == 6
    assert figures.quarter_label(figures.quarter_of(detected)) == "2026 Q3"
    assert figures.quarter_of(uk(2026, 3, 31, 23, 59)) == (2026, 1)
    a_breach(alpha, dpo, cares, detected=detected)
    a_breach(alpha, dpo, cares, detected=uk(2026, 6, 30, 23, 0))
    with scope(partnership=alpha):
        found = figures.build(BreachReport.objects.all())
    assert [(g.label, g.breaches) for g in found.quarters] == [("2026 Q2", 1), ("2026 Q3", 1)]


def test_quarters_with_no_breach_between_show_as_none(client, alpha, county, cares, dpo):
    a_breach(alpha, dpo, cares, detected=uk(2026, 2, 10, 9), partner_hours=5)
    a_breach(alpha, dpo, cares, detected=uk(2026, 8, 10, 9), partner_hours=7)
    client.force_login(dpo)
    html = client.get(url("figures", alpha)).content.decode()
    assert [row[:3] for row in rows_of(html, "figures-by-quarter")] == [
        ["2026 Q1", "1", "5"],
        ["2026 Q2", "0", "–"],
        ["2026 Q3", "1", "7"],
    ]


def test_a_partner_not_told_once_48_hours_have_passed_counts_as_not_in_time(
    alpha, county, cares, police, dpo
):
    breach = log_breach(alpha, dpo, detected=uk(2026, 10, 5, 9), involved=[cares, police])
    told_partner(breach, dpo, cares.organisation, hours=12)
    with scope(partnership=alpha):
        found = figures.build(BreachReport.objects.all())
    assert found.total.partners_within_48.text == "1 of 2 (50%)"
    assert figures.hours_text(found.total.median_partner_hours) == "12"


def test_the_chart_is_an_svg_image_with_a_title_a_description_and_the_table_beside_it(
    client, alpha, county, cares, dpo
):
    a_breach(alpha, dpo, cares, detected=uk(2026, 8, 3, 9), partner_hours=10, ico_hours=20)
    a_breach(alpha, dpo, cares, detected=uk(2026, 9, 7, 14), partner_hours=50, ico_hours=80)
    client.force_login(dpo)
    html = client.get(url("figures", alpha)).content.decode()
    svg = html[html.index("<svg xmlns") : html.index("</svg>", html.index("<svg xmlns"))]
    assert 'role="img"' in svg
    assert '<title id="figures-chart-title">Median hours to tell the partners and the ICO' in svg
    assert (
        "2026 Q3: 2 breaches, median 30 hours to tell the partners, median 50 hours to tell the "
        "ICO." in svg
    )
    assert re.findall(r'class="bar" data-hours="([^"]+)"', svg) == ["30", "50"]
    assert re.findall(r'class="limit" data-hours="(\d+)"', svg) == ["48", "72"]
    assert "<script" not in html[html.index('id="main-content"') : html.index("</main>")]
    assert 'id="figures-by-quarter"' in html


def test_the_figures_take_the_same_queries_for_two_breaches_or_six(
    client, alpha, county, cares, dpo
):
    client.force_login(dpo)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("figures", alpha)).status_code == 200
        return len(captured)

    for day in (3, 4):
        a_breach(alpha, dpo, cares, detected=uk(2026, 8, day, 9), partner_hours=10)
    two = queries()
    for day in (5, 6, 7, 8):
        a_breach(alpha, dpo, cares, detected=uk(2026, 11, day, 9), partner_hours=20)
    assert queries() == two


def test_only_the_breaches_the_member_may_see_are_counted(
    client, alpha, county, cares, police, dpo
):
    a_breach(alpha, dpo, cares, detected=uk(2026, 8, 3, 9), partner_hours=10)
    police_dpo = dpo_at(alpha, police.organisation)
    log_breach(alpha, police_dpo, detected=uk(2026, 8, 4, 9), involved=[police])
    client.force_login(dpo_at(alpha, cares.organisation))  # involved in the first only
    html = client.get(url("figures", alpha)).content.decode()
    assert rows_of(html, "figures-by-organisation")[0][:2] == ["Essex County Council", "1"]
    assert "Essex Police" not in html


def test_the_steering_group_sees_the_figures_of_every_breach_but_no_breach_itself(
    client, alpha, county, cares, police, dpo
):
    a_breach(alpha, dpo, cares, detected=uk(2026, 8, 3, 9), partner_hours=10)
    police_dpo = dpo_at(alpha, police.organisation)
    log_breach(alpha, police_dpo, detected=uk(2026, 8, 4, 9), involved=[police])
    steering = make_member(alpha, Role.STEERING_GROUP).user
    client.force_login(steering)
    html = client.get(url("figures", alpha)).content.decode()
    assert [row[:2] for row in rows_of(html, "figures-by-organisation")] == [
        ["Essex County Council", "1"],
        ["Essex Police", "1"],
        ["All reporting organisations", "2"],
    ]
    # The breaches themselves stay with their DPOs and the administrators.
    assert client.get(url("register", alpha)).status_code == 403


# --- The register's downloads ------------------------------------------------------------------

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


def csv_rows(response) -> list[list[str]]:
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(content)))


@pytest.fixture
def two_breaches(alpha, county, cares, police, dpo):
    """BR-0001: partners told (one on time, one late), notifiable, the ICO told after 30
    hours. BR-0002: just logged, nobody told yet."""
    first = log_breach(
        alpha,
        dpo,
        detected=uk(2026, 8, 3, 9, 15),
        aware=uk(2026, 8, 3, 10),
        involved=[cares, police],
    )
    told_partner(first, dpo, cares.organisation, hours=10)
    told_partner(first, dpo, police.organisation, hours=50)
    assess(first, dpo, Assessment.NOTIFIABLE)
    told_ico(first, dpo, hours=30, case_reference="IC-445566-Z9Y8")
    second = log_breach(alpha, dpo, detected=uk(2026, 11, 20, 8), title="Laptop left on a train")
    return first, second


def test_the_csv_has_one_row_a_breach_with_uk_times_and_the_partners_counts(
    client, alpha, two_breaches, dpo
):
    client.force_login(dpo)
    response = client.get(url("register_csv", alpha))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert rows[0] == HEADER
    assert rows[1:] == [
        [
            "BR-0002",
            "Laptop left on a train",
            "Open",
            "Essex County Council",
            "2026-11-20 08:00",
            "2026-11-20 08:00",
            "Not yet assessed",
            "Not yet decided",
            "",
            "",
            "0",
            "0",
            "",
        ],
        [
            "BR-0001",
            "Visit notes e-mailed to the wrong care provider",
            "Open",
            "Essex County Council",
            "2026-08-03 09:15",  # BST, as the clocks in the UK showed
            "2026-08-03 10:00",
            "Notifiable to the ICO",
            "Not yet decided",
            "2026-08-04 16:00",
            "IC-445566-Z9Y8",
            "1",
            "1",
            "",
        ],
    ]


def test_the_downloads_follow_the_registers_filters(client, alpha, county, police, two_breaches):
    first, _second = two_breaches
    client.force_login(dpo_at(alpha, police.organisation))  # involved in BR-0001 only
    rows = csv_rows(client.get(url("register_csv", alpha)))
    assert [row[0] for row in rows[1:]] == ["BR-0001"]
    client.force_login(dpo_at(alpha, county.organisation))
    everything = csv_rows(client.get(url("register_csv", alpha) + "?status=closed"))
    assert everything[1:] == []
    mine = csv_rows(client.get(url("register_csv", alpha) + f"?partner={county.pk}"))
    assert [row[0] for row in mine[1:]] == ["BR-0002", "BR-0001"]


def test_a_wrong_filter_shows_the_register_with_the_message_by_the_field(
    client, alpha, two_breaches, dpo
):
    client.force_login(dpo)
    response = client.get(url("register_xlsx", alpha) + "?status=lost")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Choose a status from the list." in response.content.decode()


def test_the_excel_download_has_the_same_rows_with_times_as_dates(client, alpha, two_breaches, dpo):
    first, _second = two_breaches
    client.force_login(dpo)
    response = client.get(url("register_xlsx", alpha))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == HEADER
    assert [row[0] for row in rows[1:]] == ["BR-0002", "BR-0001"]
    br1 = rows[2]
    assert br1[4] == local(first.detected_at).replace(tzinfo=None)
    assert br1[8] == local(first.aware_at + timedelta(hours=30)).replace(tzinfo=None)
    assert (br1[9], br1[10], br1[11]) == ("IC-445566-Z9Y8", 1, 1)
