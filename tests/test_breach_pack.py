"""The ICO report pack: every answer the ICO's online breach form asks, in its order, filled
in from the log, on one printable page and as a PDF; and the meter of what Article 33(3)
still lacks."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from breaches import pack, services
from breaches.models import Assessment, Containment, Individuals
from breaches.times import shown

from .breach_factories import (
    assess,
    dpo_at,
    log_breach,
    partner,
    refreshed,
    told_ico,
    told_partner,
    uk,
)

pytestmark = pytest.mark.django_db

DETECTED = uk(2026, 11, 2, 9, 15)
AWARE = uk(2026, 11, 2, 11, 0)
OCCURRED = uk(2026, 11, 1, 16, 40)


@pytest.fixture
def county(alpha):
    return partner(
        alpha,
        "Essex County Council",
        address="County Hall, Market Road, Chelmsford CM1 1QH",
        ico_reference="Z6034810",
        dpo_name="Paul Turner",
    )


@pytest.fixture
def cares(alpha):
    return partner(alpha, "Essex Cares Ltd", data_protection_email="ig@essexcares.example")


@pytest.fixture
def dpo(alpha, county):
    return dpo_at(alpha, county.organisation)


FULL_REPORT = {
    "contact_phone": "01245 430 000",
    "occurred_at": OCCURRED,
    "how_found": "The provider rang to say it had received them.",
    "cyber_incident": False,
    "data_subject_categories": "Adults receiving reablement care",
    "subjects_count": 14,
    "data_categories": "Names, addresses and visit notes on their health",
    "records_count": 300,
    "records_estimated": True,
    "special_category": True,
    "consequences": "Distress; the notes describe health conditions.",
    "measures": "The provider deleted the e-mail and confirmed it in writing.",
    "containment": Containment.CONTAINED,
    "staff_involved": "A care coordinator",
    "staff_training": "Data protection training in March 2026",
    "others_told": "Nobody else",
}


def pack_url(breach, name="pack"):
    return reverse(
        f"breaches:{name}",
        kwargs={"partnership_slug": breach.partnership.slug, "breach_id": breach.pk},
    )


def in_order(text: str, answers: list[str]) -> list[str]:
    """The answers missing from `text`, or found out of order (empty when all are in order)."""
    wrong, position = [], 0
    for answer in answers:
        found = text.find(answer, position)
        if found < 0:
            wrong.append(answer)
        else:
            position = found + len(answer)
    return wrong


def page_text(response) -> str:
    html = response.content.decode()
    main = html[html.index('id="main-content"') :]
    return " ".join(re.sub(r"<[^>]+>", " ", main).replace("&#x27;", "'").split())


def pdf_text(data: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-", "-"], input=data, capture_output=True, check=True, timeout=60
    )
    return " ".join(result.stdout.decode().split())


@pytest.fixture
def reported(alpha, county, cares, dpo):
    """A breach logged in full, Essex Cares told 10 hours after detection and the breach
    assessed as notifiable; the ICO not yet told."""
    breach = log_breach(
        alpha, dpo, detected=DETECTED, aware=AWARE, involved=[county, cares], **FULL_REPORT
    )
    told_partner(breach, dpo, cares.organisation, hours=10)
    return assess(breach, dpo, Assessment.NOTIFIABLE)


# The answers the page and the PDF give, in the order of the ICO's form.
def expected_answers(breach) -> list[str]:
    return [
        "Initial report",
        "Notifiable to the ICO",
        "Essex County Council",
        "County Hall, Market Road, Chelmsford CM1 1QH",
        "Z6034810",
        "Local authority",
        "Paul Turner",
        "Ann Lee",
        "ann.lee@essex.gov.example",
        "01245 430 000",
        "Notes on 14 adults were e-mailed to the wrong provider.",
        "No",  # not a cyber incident
        shown(OCCURRED),
        shown(DETECTED),
        shown(AWARE),
        "The provider rang to say it had received them.",
        "Names, addresses and visit notes on their health",
        "300 (an estimate)",
        "Adults receiving reablement care",
        "14",
        "Distress; the notes describe health conditions.",
        "Likely",
        "Significant",
        "The provider deleted the e-mail and confirmed it in writing.",
        "Contained",
        "A care coordinator",
        "Data protection training in March 2026",
        f"Essex Cares Ltd: told at {shown(DETECTED + timedelta(hours=10))} (Telephone)",
        "Nobody else",
        shown(AWARE + timedelta(hours=72)),
    ]


def test_the_pack_gives_every_answer_in_the_order_of_the_icos_form(client, reported, dpo):
    client.force_login(dpo)
    response = client.get(pack_url(reported))
    assert response.status_code == 200
    text = page_text(response)
    assert in_order(text, expected_answers(reported)) == []
    headings = re.findall(
        r'<h2 class="govuk-heading-m"[^>]*>([^<]+)</h2>', response.content.decode()
    )
    assert headings == [
        "1. About your report",
        "2. About your organisation",
        "3. About the breach",
        "4. Personal data and people affected",
        "5. Likely consequences",
        "6. Measures taken or proposed",
        "7. Staff involved",
        "8. Who else has been told",
        "9. Telling the people affected (Article 34)",
        "10. Reporting within 72 hours",
    ]
    assert "4 of 4 parts of Article 33(3) answered" in text
    assert "Not yet recorded" in text  # the people affected: not yet decided


def test_the_pdf_holds_the_same_answers_in_the_same_order(client, reported, dpo):
    client.force_login(dpo)
    response = client.get(pack_url(reported, "pack_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="br-0001-ico-report.pdf"'
    text = pdf_text(response.content)
    assert "Personal data breach report for the ICO" in text
    assert in_order(text, expected_answers(reported)) == []
    assert "4 of 4 parts of Article 33(3) answered" in text


def test_after_the_first_report_the_pack_is_a_follow_up_with_the_case_reference(
    client, reported, dpo
):
    told_ico(reported, dpo, hours=30, case_reference="IC-445566-Z9Y8")
    client.force_login(dpo)
    text = page_text(client.get(pack_url(reported)))
    assert (
        in_order(
            text,
            [
                "Report type Follow-up report",
                "ICO case reference IC-445566-Z9Y8",
                f"Reported to the ICO {shown(AWARE + timedelta(hours=30))}",
                "Reported within 72 hours Yes",
            ],
        )
        == []
    )
    assert "Initial report" not in text


def test_a_report_later_than_72_hours_gives_the_reasons(client, reported, dpo):
    told_ico(reported, dpo, hours=80, late_reason="The provider's audit took four days.")
    client.force_login(dpo)
    text = page_text(client.get(pack_url(reported)))
    assert "Reasons the report is later than 72 hours The provider's audit took four days." in text


def test_a_report_still_to_make_after_72_hours_asks_for_the_reasons(client, alpha, county, dpo):
    now = timezone.now()
    breach = log_breach(alpha, dpo, detected=now - timedelta(hours=80))
    client.force_login(dpo)
    text = page_text(client.get(pack_url(breach)))
    assert "Reasons the report is later than 72 hours Not yet recorded" in text


def test_answers_not_yet_given_read_not_yet_recorded_and_the_meter_names_them(
    client, alpha, county, dpo
):
    breach = log_breach(alpha, dpo, detected=DETECTED)
    client.force_login(dpo)
    text = page_text(client.get(pack_url(breach)))
    assert "1 of 4 parts of Article 33(3) answered" in text
    assert (
        in_order(
            text,
            [
                "(a) the nature of the breach: the categories of people, the approximate number of "
                "people, the categories of personal data, the approximate number of records",
                "(c) the likely consequences: the likely consequences",
                "(d) the measures taken or proposed: the measures taken or proposed",
            ],
        )
        == []
    )
    assert "Was the breach caused by a cyber incident? Not yet recorded" in text
    assert "Categories of personal data Not yet recorded" in text
    assert "Partners in the sharing arrangement None: no other partner is involved" in text


def test_the_meter_counts_the_parts_of_article_33_3_answered(alpha, county, dpo):
    values = {k: v for k, v in FULL_REPORT.items() if k != "records_count"}
    breach = log_breach(alpha, dpo, detected=DETECTED, **values)
    meter = pack.meter(breach)
    assert meter.summary == "3 of 4 parts of Article 33(3) answered"
    assert meter.missing == ["(a) the nature of the breach: the approximate number of records"]
    with scope(partnership=alpha):
        services.update_report(breach, by=dpo, values={"records_count": 290})
    assert pack.meter(refreshed(breach)).summary == "4 of 4 parts of Article 33(3) answered"


def test_the_people_affected_told_and_an_estimate_read_as_such(client, alpha, county, dpo):
    breach = log_breach(alpha, dpo, detected=DETECTED, subjects_count=1200, subjects_estimated=True)
    assess(breach, dpo, Assessment.HIGH_RISK)
    with scope(partnership=alpha):
        services.decide_individuals(
            breach,
            by=dpo,
            decision=Individuals.TELL,
            plan="Each adult is visited by their care coordinator this week.",
        )
    client.force_login(dpo)
    text = page_text(client.get(pack_url(breach)))
    assert "Approximate number of people affected 1,200 (an estimate)" in text
    assert (
        in_order(
            text,
            [
                "Have the people affected been told, or will they be? Yes: they are being told",
                "Each adult is visited by their care coordinator this week.",
            ],
        )
        == []
    )


def test_an_involved_partners_dpo_and_an_administrator_may_read_the_pack(
    client, reported, cares, alpha, alice
):
    client.force_login(dpo_at(alpha, cares.organisation))
    assert client.get(pack_url(reported)).status_code == 200
    client.force_login(alice)
    assert client.get(pack_url(reported)).status_code == 200


def test_the_breach_page_leads_to_the_pack_and_the_register_to_figures_and_downloads(
    client, alpha, county, cares, dpo
):
    breach = log_breach(alpha, dpo, detected=DETECTED, involved=[cares])
    client.force_login(dpo)
    detail = reverse(
        "breaches:detail", kwargs={"partnership_slug": alpha.slug, "breach_id": breach.pk}
    )
    assert f'href="{pack_url(breach)}"' in client.get(detail).content.decode()
    register = reverse("breaches:register", kwargs={"partnership_slug": alpha.slug})
    page = client.get(register + "?status=open").content.decode()
    figures = reverse("breaches:figures", kwargs={"partnership_slug": alpha.slug})
    csv = reverse("breaches:register_csv", kwargs={"partnership_slug": alpha.slug})
    assert f'href="{figures}"' in page
    assert f'href="{csv}?status=open"' in page
