"""The register of agreements: its columns and tags, filters, search, pages, CSV and Excel
downloads of the filtered view, bad filter input, and a query count that does not grow."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope
from openpyxl import load_workbook

from agreements.models import (
    Agreement,
    AgreementParty,
    AgreementStatus,
    DataCategory,
    DataItem,
    PartyRole,
)
from signatories.models import Signature

from .factories import (
    OrganisationFactory,
    make_document,
    make_partner,
    make_signature_request,
)

pytestmark = pytest.mark.django_db


# --- Helpers (the map's tests use them too) ------------------------------------------------


def partner_named(partnership, name: str):
    return make_partner(partnership, OrganisationFactory(name=name))


def make_agreement(
    partnership,
    reference: str,
    parties,
    *,
    title: str | None = None,
    status: str = AgreementStatus.ACTIVE,
    article6: str = "e",
    article9: str = "",
    review_date=None,
    items=(),
    version: int = 1,
):
    """An agreement made directly, with its parties (Partner records, the first leads) and
    data items given as (from partner, to partner, category)."""
    with scope(partnership=partnership):
        agreement = Agreement.objects.create(
            partnership=partnership,
            title=title or f"Sharing under {reference}",
            reference=reference,
            version=version,
            lead=parties[0],
            status=status,
            article6=article6,
            article9=article9,
            review_date=review_date,
        )
        rows = {
            partner.pk: AgreementParty.objects.create(
                partnership=partnership,
                agreement=agreement,
                partner=partner,
                role=PartyRole.JOINT_CONTROLLER,
            )
            for partner in parties
        }
        for i, (source, target, category) in enumerate(items):
            DataItem.objects.create(
                partnership=partnership,
                agreement=agreement,
                position=i,
                item=f"Item {i}",
                category=category,
                data_subjects="Residents",
                from_party=rows[source.pk],
                to_party=rows[target.pk],
                purpose="Joint care planning",
            )
    return agreement


def sign(agreement, partner, at, outcome=Signature.Outcome.SIGNED):
    """A signature (or refusal) by `partner` of the agreement's frozen document, at `at`."""
    partnership = agreement.partnership
    if agreement.document_id is None:
        document = make_document(
            partnership, title=agreement.title, kind="agreement", version_label="1.0"
        )
        with scope(partnership=partnership):
            Agreement.objects.filter(pk=agreement.pk).update(document=document)
        agreement.document = document
    request, _token = make_signature_request(partner, agreement.document)
    with scope(partnership=partnership):
        return Signature.objects.create(
            partnership=partnership,
            document=agreement.document,
            partner=partner,
            request=request,
            outcome=outcome,
            name="Pat Signer",
            position="Chief Executive",
            email="pat@example.org",
            at=at,
            sha256=agreement.document.sha256,
        )


def register_url(name: str = "register", slug: str = "alpha", **query) -> str:
    url = reverse(f"agreements:{name}", kwargs={"partnership_slug": slug})
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


def references(response) -> list[str]:
    """The references in the register's table, in order."""
    return [a.reference for a in response.context["rows"]]


def csv_rows(response) -> list[list[str]]:
    assert response.streaming
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def xlsx_rows(response) -> list[tuple]:
    data = b"".join(response.streaming_content)
    sheet = load_workbook(io.BytesIO(data)).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


# --- Fixtures ------------------------------------------------------------------------------


@pytest.fixture
def orgs(alpha):
    return {
        name.split()[0].lower(): partner_named(alpha, name)
        for name in ("Luton Borough Council", "Bedford NHS Trust", "Beds Police")
    }


@pytest.fixture
def world(alpha, orgs):
    """Three agreements: one active with special category data and signatures, one draft
    due for review, one in review that is overdue."""
    luton, bedford, police = orgs["luton"], orgs["bedford"], orgs["beds"]
    today = timezone.localdate()
    care = make_agreement(
        alpha,
        "ISA-001",
        [luton, bedford],
        title="Hospital discharge",
        article6="ce",
        article9="h",
        review_date=today + timedelta(days=200),
        items=[(bedford, luton, DataCategory.SPECIAL), (luton, bedford, DataCategory.PERSONAL)],
    )
    safety = make_agreement(
        alpha,
        "ISA-002",
        [luton, police],
        title="Community safety",
        status=AgreementStatus.DRAFT,
        article6="f",
        review_date=today + timedelta(days=10),
        items=[(police, luton, DataCategory.CRIMINAL)],
    )
    schools = make_agreement(
        alpha,
        "ISA-003",
        [bedford, police],
        title="School nursing",
        status=AgreementStatus.IN_REVIEW,
        article6="e",
        review_date=today - timedelta(days=3),
    )
    return {"care": care, "safety": safety, "schools": schools}


# --- The table -----------------------------------------------------------------------------


def test_register_lists_every_agreement_with_its_columns(client, bob, world, orgs):
    first = timezone.now() - timedelta(days=20)
    latest = timezone.now() - timedelta(days=2)
    sign(world["care"], orgs["luton"], first)
    sign(world["care"], orgs["bedford"], latest)
    client.force_login(bob)  # a viewer: every member may browse the register

    response = client.get(register_url())

    assert response.status_code == 200
    assert references(response) == ["ISA-001", "ISA-002", "ISA-003"]
    html = response.content.decode()
    assert "3 agreements" in html
    row = next(a for a in response.context["rows"] if a.reference == "ISA-001")
    assert row.party_names == ["Bedford NHS Trust", "Luton Borough Council"]
    assert row.basis == ["6(1)(c) Legal obligation", "6(1)(e) Public task"]
    assert row.special is True
    assert row.last_signed == latest
    assert timezone.localtime(latest).strftime("%H:%M") in html
    for text in ("Hospital discharge", "Community safety", "School nursing"):
        assert text in html
    assert '<strong class="govuk-tag govuk-tag--green">Active</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--grey">Draft</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--yellow">In review</strong>' in html
    assert "6(1)(f) Legitimate interests" in html


def test_special_category_and_last_signed_are_per_agreement(client, bob, world, alpha, orgs):
    sign(world["safety"], orgs["beds"], timezone.now(), outcome=Signature.Outcome.DECLINED)
    # No data items yet: an Article 9 condition says special category data will flow.
    make_agreement(alpha, "ISA-004", [orgs["luton"], orgs["beds"]], article9="h")
    # Data items decide once there are some.
    make_agreement(
        alpha,
        "ISA-005",
        [orgs["luton"], orgs["beds"]],
        article9="h",
        items=[(orgs["luton"], orgs["beds"], DataCategory.PERSONAL)],
    )
    client.force_login(bob)
    rows = {a.reference: a for a in client.get(register_url()).context["rows"]}
    assert [rows[f"ISA-00{i}"].special for i in range(1, 6)] == [True, False, False, True, False]
    # A refusal is not a signature.
    assert rows["ISA-002"].last_signed is None
    assert "Not signed" in client.get(register_url()).content.decode()


def test_review_dates_are_tagged_due_or_overdue(client, bob, world, alpha, orgs):
    make_agreement(
        alpha,
        "ISA-004",
        [orgs["luton"], orgs["beds"]],
        status=AgreementStatus.TERMINATED,
        review_date=timezone.localdate() - timedelta(days=100),
    )
    client.force_login(bob)
    rows = {a.reference: a for a in client.get(register_url()).context["rows"]}
    assert rows["ISA-001"].review_tag is None  # 200 days away
    assert rows["ISA-002"].review_tag[0] == "Due"  # within 30 days
    assert rows["ISA-003"].review_tag[0] == "Overdue"
    assert rows["ISA-004"].review_tag is None  # an ended agreement is not reviewed
    html = client.get(register_url()).content.decode()
    assert '<strong class="govuk-tag govuk-tag--yellow">Due</strong>' in html
    assert '<strong class="govuk-tag govuk-tag--red">Overdue</strong>' in html


def test_another_partnerships_agreements_never_show(client, bob, world, beta):
    outsider = partner_named(beta, "Essex County Council")
    other = partner_named(beta, "Essex Police")
    make_agreement(beta, "ESSEX-1", [outsider, other], title="Essex only")
    client.force_login(bob)
    response = client.get(register_url())
    assert "ESSEX-1" not in references(response)
    html = response.content.decode()
    assert "Essex" not in html
    assert "Essex" not in "".join(
        ",".join(r) for r in csv_rows(client.get(register_url("register_csv")))
    )


def test_titles_are_escaped(client, bob, alpha, orgs):
    make_agreement(alpha, "ISA-X", [orgs["luton"], orgs["beds"]], title="<script>alert(1)</script>")
    client.force_login(bob)
    html = client.get(register_url()).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_titles_link_to_the_agreement_page_when_there_is_one(client, bob, world):
    client.force_login(bob)
    response = client.get(register_url())
    care = world["care"]
    try:
        url = reverse(
            "agreements:detail", kwargs={"partnership_slug": "alpha", "agreement_id": care.pk}
        )
    except Exception:  # noqa: BLE001 (no agreement page yet: the title is plain text)
        assert 'href="/p/alpha/agreements/' not in response.content.decode().split("<table")[1]
    else:
        assert f'<a class="govuk-link" href="{url}">Hospital discharge</a>' in (
            response.content.decode()
        )


# --- Filters and search --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "active"}, ["ISA-001"]),
        ({"status": "draft"}, ["ISA-002"]),
        ({"status": "superseded"}, []),
        ({"basis": "e"}, ["ISA-001", "ISA-003"]),
        ({"basis": "f"}, ["ISA-002"]),
        ({"basis": "a"}, []),
        ({"review": "due"}, ["ISA-002"]),
        ({"review": "overdue"}, ["ISA-003"]),
        ({"review": ""}, ["ISA-001", "ISA-002", "ISA-003"]),
        ({"q": "discharge"}, ["ISA-001"]),  # title
        ({"q": "isa-00"}, ["ISA-001", "ISA-002", "ISA-003"]),  # reference, any case
        ({"q": "003"}, ["ISA-003"]),
        ({"q": "police"}, ["ISA-002", "ISA-003"]),  # a party's name
        ({"q": "  "}, ["ISA-001", "ISA-002", "ISA-003"]),
        ({"q": "nothing like it"}, []),
        ({"status": "draft", "q": "police"}, ["ISA-002"]),
        ({"basis": "e", "review": "overdue"}, ["ISA-003"]),
    ],
)
def test_filters(client, bob, world, query, expected):
    client.force_login(bob)
    response = client.get(register_url(**query))
    assert response.status_code == 200
    assert not response.context["form"].errors
    assert references(response) == expected


def test_filter_by_party(client, bob, world, orgs):
    client.force_login(bob)
    assert references(client.get(register_url(party=orgs["beds"].pk))) == ["ISA-002", "ISA-003"]
    assert references(client.get(register_url(party=orgs["luton"].pk))) == ["ISA-001", "ISA-002"]
    html = client.get(register_url()).content.decode()
    # The choices are the partnership's organisations, by name.
    assert f'<option value="{orgs["bedford"].pk}">Bedford NHS Trust</option>' in html


def test_a_new_version_is_its_own_row(client, bob, world, alpha, orgs):
    make_agreement(
        alpha,
        "ISA-001",
        [orgs["luton"], orgs["bedford"]],
        version=2,
        status=AgreementStatus.DRAFT,
    )
    client.force_login(bob)
    response = client.get(register_url(q="ISA-001"))
    assert [(a.reference, a.version) for a in response.context["rows"]] == [
        ("ISA-001", 2),
        ("ISA-001", 1),
    ]
    assert "version 2" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"status": "nonsense"}, "status", "Choose a status from the list."),
        ({"basis": "z"}, "basis", "Choose a legal basis from the list."),
        ({"review": "soon"}, "review", "Choose due, overdue or all."),
        ({"party": "abc"}, "party", "Choose an organisation from the list."),
        ({"party": "99999999"}, "party", "Choose an organisation from the list."),
        ({"party": "1' OR '1'='1"}, "party", "Choose an organisation from the list."),
        ({"q": "x" * 201}, "q", "Enter at most 200 characters to search for."),
    ],
)
@pytest.mark.parametrize("page", ["register", "register_csv", "register_xlsx"])
def test_bad_filter_values_are_shown_by_the_field(client, bob, world, query, field, message, page):
    client.force_login(bob)
    response = client.get(register_url(page, **query))
    assert response.status_code == 200
    assert not response.streaming  # no download of a wrongly filtered view
    form = response.context["form"]
    assert form.errors[field] == [message]
    html = response.content.decode()
    assert "There is a problem" in html
    assert f'href="#id_{field}"' in html  # the summary links to the field
    assert f'id="id_{field}-error"' in html  # and the message sits by it
    assert response.context["rows"] == []
    assert html.startswith("<!DOCTYPE html>") and "<title>Error: " in html


def test_another_partnerships_organisation_is_not_a_valid_party(client, bob, world, beta):
    outsider = partner_named(beta, "Essex County Council")
    client.force_login(bob)
    response = client.get(register_url(party=outsider.pk))
    assert response.context["form"].errors["party"] == ["Choose an organisation from the list."]
    assert "Essex" not in response.content.decode()


# --- Pages ---------------------------------------------------------------------------------


def many_agreements(partnership, count: int, parties, start: int = 0, **fields) -> None:
    for i in range(start, start + count):
        make_agreement(partnership, f"BULK-{i:03d}", parties, **fields)


def test_pages_of_fifty_keep_the_filters(client, bob, alpha, orgs):
    many_agreements(alpha, 60, [orgs["luton"], orgs["bedford"]])
    many_agreements(alpha, 3, [orgs["luton"], orgs["beds"]], start=100, status="draft")
    client.force_login(bob)

    first = client.get(register_url(status="active"))
    assert len(first.context["rows"]) == 50
    assert references(first)[0] == "BULK-000"
    html = first.content.decode()
    assert "60 agreements match, 1 to 50 shown" in html
    assert "Page 1 of 2" in html
    assert 'href="?status=active&amp;page=2"' in html

    second = client.get(register_url(status="active", page=2))
    assert references(second) == [f"BULK-{i:03d}" for i in range(50, 60)]
    # A page past the end, or not a number, shows a real page rather than an error.
    assert client.get(register_url(page=99)).status_code == 200
    assert references(client.get(register_url(page="x")))[0] == "BULK-000"


def test_query_count_is_the_same_at_3_and_60_rows(client, bob, alpha, orgs):
    luton, bedford, police = orgs["luton"], orgs["bedford"], orgs["beds"]
    items = [(luton, bedford, DataCategory.SPECIAL), (bedford, police, DataCategory.PERSONAL)]

    def add(count, start):
        for i in range(start, start + count):
            agreement = make_agreement(
                alpha,
                f"Q-{i:03d}",
                [luton, bedford, police],
                article6="ce",
                review_date=timezone.localdate() + timedelta(days=i % 40 - 5),
                items=items,
            )
            sign(agreement, luton, timezone.now() - timedelta(hours=i))

    client.force_login(bob)
    add(3, 0)
    for query in ({}, {"status": "active", "q": "Q-", "basis": "e", "review": "due"}):
        client.get(register_url(**query))  # warm-up: sessions, content types
    with CaptureQueriesContext(connection) as few:
        assert len(client.get(register_url()).context["rows"]) == 3
    with CaptureQueriesContext(connection) as few_filtered:
        client.get(register_url(status="active", q="Q-", basis="e", party=luton.pk))

    add(57, 3)
    with CaptureQueriesContext(connection) as many:
        response = client.get(register_url())
    assert len(response.context["rows"]) == 50
    with CaptureQueriesContext(connection) as many_filtered:
        client.get(register_url(status="active", q="Q-", basis="e", party=luton.pk))

    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)
    assert len(many_filtered) == len(few_filtered)


# --- Downloads -----------------------------------------------------------------------------

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


def test_csv_of_the_filtered_view(client, bob, world, orgs):
    at = timezone.now() - timedelta(days=1)
    sign(world["care"], orgs["bedford"], at)
    client.force_login(bob)

    response = client.get(register_url("register_csv", basis="e"))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="agreements-alpha-')
    rows = csv_rows(response)  # read after the view returned: the scope is entered again
    assert rows[0] == HEADER
    assert [r[0] for r in rows[1:]] == ["ISA-001", "ISA-003"]
    care = rows[1]
    assert care[1:7] == [
        "1",
        "Hospital discharge",
        "Bedford NHS Trust; Luton Borough Council",
        "Active",
        "6(1)(c) Legal obligation; 6(1)(e) Public task",
        "Yes",
    ]
    assert care[7] == (timezone.localdate() + timedelta(days=200)).isoformat()
    assert care[8] == ""
    assert care[9] == timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
    assert rows[2][8] == "Overdue"


def test_the_register_links_to_downloads_of_what_it_shows(client, bob, world):
    client.force_login(bob)
    html = client.get(register_url(status="active", page=1)).content.decode()
    assert 'href="/p/alpha/agreements/export.csv?status=active"' in html
    assert 'href="/p/alpha/agreements/export.xlsx?status=active"' in html
    assert "Download these 1 agreement:" in " ".join(html.split())


def test_excel_of_the_filtered_view(client, bob, world, orgs):
    at = timezone.now() - timedelta(days=1)
    sign(world["care"], orgs["bedford"], at)
    client.force_login(bob)

    response = client.get(register_url("register_xlsx", q="luton"))

    assert response.status_code == 200
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert 'filename="agreements-alpha-' in response["Content-Disposition"]
    rows = xlsx_rows(response)
    assert list(rows[0]) == HEADER
    assert [r[0] for r in rows[1:]] == ["ISA-001", "ISA-002"]
    care, safety = rows[1], rows[2]
    assert care[1:7] == (
        1,
        "Hospital discharge",
        "Bedford NHS Trust; Luton Borough Council",
        "Active",
        "6(1)(c) Legal obligation; 6(1)(e) Public task",
        "Yes",
    )
    assert care[7].date() == timezone.localdate() + timedelta(days=200)
    assert care[9] == timezone.localtime(at).replace(tzinfo=None, microsecond=0)
    assert safety[4:9] == (
        "Draft",
        "6(1)(f) Legitimate interests",
        "No",
        safety[7],
        "Due",
    )
    assert safety[9] is None


def test_downloads_of_every_row_not_only_one_page(client, bob, alpha, orgs):
    many_agreements(alpha, 55, [orgs["luton"], orgs["bedford"]])
    client.force_login(bob)
    assert len(csv_rows(client.get(register_url("register_csv", page=1)))) == 56
    assert len(xlsx_rows(client.get(register_url("register_xlsx")))) == 56


def test_downloads_keep_formulas_as_text(client, bob, alpha, orgs):
    make_agreement(
        alpha, "=1+2", [orgs["luton"], orgs["beds"]], title='=HYPERLINK("http://x.example")'
    )
    client.force_login(bob)
    row = csv_rows(client.get(register_url("register_csv")))[1]
    assert row[0] == "'=1+2"
    assert row[2] == '\'=HYPERLINK("http://x.example")'
    data = b"".join(client.get(register_url("register_xlsx")).streaming_content)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "'=1+2"
    assert sheet["C2"].data_type == "s"


def test_the_filter_form_shows_what_was_chosen(client, bob, world, orgs):
    client.force_login(bob)
    html = client.get(
        register_url(status="draft", party=orgs["beds"].pk, basis="f", review="due", q="<x>")
    ).content.decode()
    assert '<option value="draft" selected>Draft</option>' in html
    assert f'<option value="{orgs["beds"].pk}" selected>Beds Police</option>' in html
    assert '<option value="f" selected>6(1)(f) Legitimate interests</option>' in html
    assert '<option value="due" selected>' in html
    assert '<option value="" selected>' not in html
    assert 'value="&lt;x&gt;"' in html  # the search, escaped
    # Styled as a GOV.UK select by the shared field template.
    assert '<select name="status" class="govuk-select" id="id_status">' in html


# --- The review rule, both ways --------------------------------------------------------------

OFFSETS = [-400, -1, 0, 1, 29, 30, 31, 365]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-400, "overdue"), (-1, "overdue"), (0, "due"), (30, "due"), (31, ""), (365, "")],
)
@pytest.mark.parametrize("status", list(AgreementStatus))
def test_review_state(offset, expected, status):
    from agreements.filters import review_state
    from agreements.models import ENDED_STATUSES

    today = timezone.localdate()
    state = review_state(status, today + timedelta(days=offset), today)
    assert state == ("" if status in ENDED_STATUSES else expected)
    assert review_state(status, None, today) == ""


def test_the_review_filter_follows_the_same_rule_as_the_tags(client, bob, alpha, orgs):
    from agreements.filters import review_state

    today = timezone.localdate()
    for status in AgreementStatus:
        for offset in OFFSETS:
            make_agreement(
                alpha,
                f"R-{status}-{offset}",
                [orgs["luton"], orgs["beds"]],
                status=status,
                review_date=today + timedelta(days=offset),
            )
    make_agreement(alpha, "R-none", [orgs["luton"], orgs["beds"]], review_date=None)
    client.force_login(bob)
    with scope(partnership=alpha):
        every = list(Agreement.objects.all())
    for state in ("due", "overdue"):
        expected = sorted(
            a.reference for a in every if review_state(a.status, a.review_date, today) == state
        )
        shown = csv_rows(client.get(register_url("register_csv", review=state)))[1:]
        assert sorted(r[0] for r in shown) == expected
        assert {r[8] for r in shown} == {state.capitalize()}
