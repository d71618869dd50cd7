"""Importing partners from a CSV file: a preview first, then all rows or nothing."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_scopes import scope

from signatories.models import Organisation, Partner, PartnerStatus, Sector
from tenancy.models import AuditEntry

from .factories import OrganisationFactory, make_partner
from .pages import page_text

pytestmark = pytest.mark.django_db

IMPORT = reverse("signatories:import", kwargs={"partnership_slug": "alpha"})
CONFIRM = reverse("signatories:confirm_import", kwargs={"partnership_slug": "alpha"})
PARTNERS = reverse("signatories:partners", kwargs={"partnership_slug": "alpha"})

GOOD_CSV = (
    "name,ICO reference,DPO,e-mail,sector\n"
    "Luton Borough Council,Z6034810,Jo Bloggs,dpo@luton.gov.uk,Local authority\n"
    "Bedfordshire Police,za 123456,Sam Smith,dpo@beds.police.uk,police\n"
    "Cranfield University,Z7654321,,,\n"
)


def upload(client, content: bytes | str, name: str = "partners.csv"):
    if isinstance(content, str):
        content = content.encode()
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    # As from a browser, the form's CSRF token comes with the file.
    response = client.post(IMPORT, {"file": file, "csrfmiddlewaretoken": "-"})
    found = re.search(r'name="digest" value="([0-9a-f]*)"', response.content.decode())
    client.previewed_digest = found.group(1) if found else ""
    return response


def confirm(client, **kwargs):
    """Press the preview's Import button: it sends the digest of the file it previewed."""
    digest = getattr(client, "previewed_digest", "")
    return client.post(CONFIRM, {"digest": digest}, **kwargs)


def has_confirm_button(response) -> bool:
    return f'action="{CONFIRM}"' in response.content.decode()


def partner_names(partnership) -> list[str]:
    with scope(partnership=partnership):
        return sorted(Partner.objects.values_list("organisation__name", flat=True))


def audit(partnership, action: str) -> list[AuditEntry]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def cranfield(beta):
    """Already known to Accord (a partner of Beta), so the import reuses its record."""
    organisation = OrganisationFactory(
        name="Cranfield University", ico_reference="Z7654321", sector=Sector.EDUCATION
    )
    make_partner(beta, organisation)
    return organisation


@pytest.fixture
def unchanged(alpha):
    """Asserts, at the end of a test, that nothing was saved."""
    organisations = Organisation.objects.count()
    partners = partner_names(alpha)
    created = len(audit(alpha, "partner.created"))
    yield
    assert Organisation.objects.count() == organisations
    assert partner_names(alpha) == partners
    assert len(audit(alpha, "partner.created")) == created


# A good file


def test_good_file_shows_a_preview_and_saves_nothing(signed_in, cranfield, unchanged):
    response = upload(signed_in, GOOD_CSV)

    assert response.status_code == 200
    text = page_text(response)
    assert "Preview: 3 rows" in text
    assert "2 Luton Borough Council Z6034810 Jo Bloggs Local authority New organisation" in text
    assert "3 Bedfordshire Police za 123456 Sam Smith police New organisation" in text
    assert "4 Cranfield University Z7654321 Use existing record: Cranfield University" in text
    assert "Beta Partnership" not in text
    assert "cannot be imported" not in text
    assert "Import 3 partners" in text
    assert has_confirm_button(response)


def test_confirming_creates_every_partner_and_organisation(signed_in, alpha, alice, cranfield):
    organisations = Organisation.objects.count()
    upload(signed_in, GOOD_CSV)

    response = confirm(signed_in, follow=True)

    assert response.redirect_chain[-1][0] == PARTNERS
    text = page_text(response)
    assert "3 partners have been imported." in text
    for name in ("Luton Borough Council", "Bedfordshire Police", "Cranfield University"):
        assert name in text
        assert name in partner_names(alpha)
    assert Organisation.objects.count() == organisations + 2  # Cranfield's record is reused
    luton = Organisation.objects.get(name="Luton Borough Council")
    assert luton.ico_reference == "Z6034810"
    assert luton.dpo_name == "Jo Bloggs"
    assert luton.data_protection_email == "dpo@luton.gov.uk"
    assert luton.sector == Sector.LOCAL_AUTHORITY
    police = Organisation.objects.get(name="Bedfordshire Police")
    assert police.ico_reference == "ZA123456"
    assert police.sector == Sector.POLICE
    assert Organisation.objects.filter(name="Cranfield University").count() == 1
    with scope(partnership=alpha):
        imported = Partner.objects.filter(
            organisation__name__in=[
                "Luton Borough Council",
                "Bedfordshire Police",
                "Cranfield University",
            ]
        )
        assert {p.status for p in imported} == {PartnerStatus.ACTIVE}
    entries = audit(alpha, "partner.created")
    assert {e.object_repr for e in entries} >= {
        "Luton Borough Council",
        "Bedfordshire Police",
        "Cranfield University",
    }
    assert {e.actor for e in entries[-3:]} == {alice}


def test_confirming_twice_imports_once(signed_in, alpha, cranfield):
    upload(signed_in, GOOD_CSV)
    confirm(signed_in)
    count = len(partner_names(alpha))

    response = confirm(signed_in, follow=True)

    assert response.redirect_chain[-1][0] == IMPORT
    assert "Upload the file again" in page_text(response)
    assert len(partner_names(alpha)) == count


def test_file_saved_as_utf8_with_a_byte_order_mark_is_read(signed_in, alpha):
    content = (
        "\ufeffName,ICO Reference,DPO,Email,Sector\r\n"
        "Café Trust,,Zoë Ward,,Voluntary and community\r\n"
    )

    response = upload(signed_in, content.encode("utf-8"))

    text = page_text(response)
    assert "Café Trust" in text
    assert "Zoë Ward" in text
    assert "New organisation" in text
    confirm(signed_in)
    assert Organisation.objects.get(name="Café Trust").sector == Sector.VOLUNTARY


def test_file_saved_by_excel_as_windows_1252_is_read(signed_in, alpha):
    content = "Name,DPO\r\nCafé Trust,Zoë Ward – DPO\r\n".encode("cp1252")

    response = upload(signed_in, content)

    text = page_text(response)
    assert "Café Trust" in text
    assert "Zoë Ward – DPO" in text
    confirm(signed_in)
    assert Organisation.objects.get(name="Café Trust").dpo_name == "Zoë Ward – DPO"


def test_blank_lines_are_skipped(signed_in, unchanged):
    response = upload(signed_in, "name,sector\n\nLuton Borough Council,nhs\n,\n")

    text = page_text(response)
    assert "Preview: 1 row" in text
    assert "Import 1 partner" in text


# A file with a bad row: the row's error, and nothing saved


@pytest.mark.parametrize(
    ("cells", "error"),
    [
        (
            "Z60348,Jo Bloggs,dpo@beds.police.uk,police",
            "Row 3: 'Z60348' is not an ICO registration reference "
            "(Z and 7 digits, or Z, a letter and 6 digits).",
        ),
        (
            "ZA123456,Jo Bloggs,dpo at beds police,police",
            "Row 3: 'dpo at beds police' is not a valid e-mail address.",
        ),
        (
            "ZA123456,Jo Bloggs,dpo@beds.police.uk,Aerospace",
            "Row 3: 'Aerospace' is not a sector. Use one of: Local authority, NHS, Police, "
            "Fire and rescue, Education, Voluntary and community, Private, Other.",
        ),
        (",Jo Bloggs,dpo@beds.police.uk,police", None),
    ],
    ids=["ico-reference", "email", "sector", "no-name"],
)
def test_bad_row_is_shown_with_its_number_and_nothing_is_saved(
    signed_in, alpha, unchanged, cells, error
):
    name = "Bedfordshire Police" if error else ""
    content = (
        "name,ICO reference,DPO,e-mail,sector\n"
        "Luton Borough Council,Z6034810,Jo Bloggs,dpo@luton.gov.uk,Local authority\n"
        f"{name},{cells}\n"
        "Cranfield University,Z7654321,,,\n"
    )

    response = upload(signed_in, content)

    assert response.status_code == 200
    text = page_text(response)
    assert "1 row cannot be imported" in text
    assert "Nothing has been saved. Correct the file and upload it again." in text
    assert (error or "Row 3: Enter the organisation's name.") in text
    assert 'href="#row-3"' in response.content.decode()
    assert not has_confirm_button(response)
    assert "Import 3 partners" not in text
    # Even a confirm sent anyway saves nothing.
    assert confirm(signed_in).status_code == 302


def test_corrected_file_imports_after_a_failed_upload(signed_in, alpha):
    bad = GOOD_CSV.replace("dpo@beds.police.uk", "dpo at beds police")
    response = upload(signed_in, bad)
    assert "Row 3: 'dpo at beds police' is not a valid e-mail address." in page_text(response)

    response = upload(signed_in, GOOD_CSV)
    assert has_confirm_button(response)
    confirm(signed_in)

    assert {"Luton Borough Council", "Bedfordshire Police", "Cranfield University"} <= set(
        partner_names(alpha)
    )


def test_a_failed_upload_cancels_the_preview_before_it(signed_in, alpha, unchanged):
    """A confirm after a file that failed does not import an earlier file."""
    upload(signed_in, GOOD_CSV)
    upload(signed_in, GOOD_CSV.replace("Z6034810", "Z60"))

    response = confirm(signed_in, follow=True)

    assert response.redirect_chain[-1][0] == IMPORT
    assert "Upload the file again" in page_text(response)


def test_each_row_gets_its_own_errors(signed_in, unchanged):
    content = (
        "name,ICO reference,e-mail\n"
        "Luton Borough Council,Z60,dpo@luton.gov.uk\n"
        "Bedfordshire Police,ZA123456,nope\n"
        "Cranfield University,Z7654321,dpo@cranfield.ac.uk\n"
    )

    response = upload(signed_in, content)

    text = page_text(response)
    assert "2 rows cannot be imported" in text
    assert "Row 2: 'Z60' is not an ICO registration reference" in text
    assert "Row 3: 'nope' is not a valid e-mail address." in text
    assert "Row 4" not in text.split("Import partners from a CSV file")[0]


def test_unknown_columns_are_named(signed_in, unchanged):
    response = upload(signed_in, "name,colour,Postcode\nLuton Borough Council,red,LU1 2BQ\n")

    assert response.status_code == 200
    text = page_text(response)
    assert "Unknown columns: colour, Postcode. Use: name, ICO reference, DPO, e-mail, sector." in (
        text
    )
    assert not has_confirm_button(response)


def test_a_file_without_a_name_column_says_so(signed_in, unchanged):
    response = upload(signed_in, "ICO reference,sector\nZ6034810,nhs\n")

    assert "The file needs a 'name' column." in page_text(response)


def test_a_column_given_twice_is_named(signed_in, unchanged):
    response = upload(signed_in, "name,email,e-mail\nLuton,a@b.uk,c@d.uk\n")

    assert "The column 'e-mail' appears twice." in page_text(response)


def test_duplicate_ico_references_in_the_file_name_the_other_row(signed_in, unchanged):
    content = (
        "name,ICO reference\n"
        "Luton Borough Council,Z6034810\n"
        "Bedfordshire Police,ZA123456\n"
        "Luton Council,z603 4810\n"
    )

    response = upload(signed_in, content)

    text = page_text(response)
    assert "Row 4: ICO reference Z6034810 is also on row 2." in text
    assert not has_confirm_button(response)


def test_the_same_name_twice_in_the_file_names_the_other_row(signed_in, unchanged):
    response = upload(signed_in, "name\nLuton Borough Council\nluton borough council\n")

    assert "Row 3: luton borough council is also on row 2." in page_text(response)


def test_ico_reference_of_an_organisation_with_another_name_is_refused(
    signed_in, cranfield, unchanged
):
    response = upload(signed_in, "name,ICO reference\nCranfield Uni,Z7654321\n")

    text = page_text(response)
    assert "Row 2: ICO reference Z7654321 belongs to Cranfield University, not Cranfield Uni." in (
        text
    )
    assert not has_confirm_button(response)


def test_an_organisation_already_a_partner_is_refused(signed_in, alpha, cranfield):
    make_partner(alpha, cranfield)

    response = upload(signed_in, GOOD_CSV)

    text = page_text(response)
    assert "Row 4: Cranfield University is already a partner." in text
    assert not has_confirm_button(response)


def test_an_organisation_partner_of_another_partnership_only_is_accepted(signed_in, cranfield):
    response = upload(signed_in, "name,ICO reference\nCranfield University,Z7654321\n")

    assert "Use existing record: Cranfield University" in page_text(response)
    assert has_confirm_button(response)


def test_rows_with_more_cells_than_the_header_are_refused(signed_in, unchanged):
    response = upload(signed_in, "name,sector\nLuton Borough Council,nhs,extra,cells\n")

    assert response.status_code == 200
    assert "Row 2: This row has more cells than the header row." in page_text(response)
    assert not has_confirm_button(response)


def test_rows_with_fewer_cells_than_the_header_are_read(signed_in, unchanged):
    response = upload(signed_in, "name,ICO reference,DPO,e-mail,sector\nLuton Borough Council\n")

    assert "New organisation" in page_text(response)
    assert has_confirm_button(response)


# Files that are not what they should be: a clear message, never a 500


def test_file_over_5_mb_is_refused(signed_in, unchanged):
    row = "Luton Borough Council,Z6034810,Jo Bloggs,dpo@luton.gov.uk,nhs\n"
    content = "name,ICO reference,DPO,e-mail,sector\n" + row * (5 * 1024 * 1024 // len(row) + 1)
    assert len(content) > 5 * 1024 * 1024

    response = upload(signed_in, content)

    assert response.status_code == 200
    text = page_text(response)
    assert "The file is larger than 5 MB. Split it into smaller files." in text
    assert not has_confirm_button(response)


def test_empty_file_is_refused(signed_in, unchanged):
    response = upload(signed_in, b"")

    assert response.status_code == 200
    assert "The chosen file is empty." in page_text(response)


def test_no_file_chosen_is_refused(signed_in, unchanged):
    response = signed_in.post(IMPORT, {"csrfmiddlewaretoken": "-"})

    assert response.status_code == 200
    assert "Choose a CSV file to upload." in page_text(response)


def test_header_only_file_is_refused(signed_in, unchanged):
    response = upload(signed_in, "name,ICO reference,DPO,e-mail,sector\n")

    assert response.status_code == 200
    assert "The file has a header row but no partners." in page_text(response)


def test_a_file_of_blank_lines_is_refused(signed_in, unchanged):
    response = upload(signed_in, "\n\n\n")

    assert response.status_code == 200
    assert "The file is empty. It needs a header row and one row a partner." in page_text(response)


@pytest.mark.parametrize(
    "content",
    [
        bytes(range(256)) * 10,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
        b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
        b"\x00\x00\x00\x00IEND\xaeB`\x82",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00" + bytes(range(128, 256)) * 4,
        b"name\n" + b"\x00" * 100 + b"\n",
        b"name\nLuton\x00Council\n",
        "name\nLuton Borough Council\n".encode("utf-16"),
    ],
    ids=["binary", "png", "xlsx", "nul-bytes", "nul-in-a-name", "utf-16"],
)
def test_files_that_are_not_text_are_refused_clearly(signed_in, unchanged, content):
    response = upload(signed_in, content)

    assert response.status_code == 200
    text = page_text(response)
    assert "The file could not be read as text. Save it as CSV (UTF-8)." in text
    assert not has_confirm_button(response)


@pytest.mark.parametrize(
    "content",
    [
        b"\x89PNG\r\n\x1a\n" + b"IHDR" * 10,  # reads as Windows-1252 text: no such column
        b'name\n"an unterminated quote\n',
        b"name\n" + b"x" * 200_000 + b"\n",
        b"\r\r\r,,,\n" * 5,
        b'"name\nsector"\nLuton\n',
    ],
    ids=["png-header-only", "open-quote", "huge-cell", "commas-only", "newline-in-header"],
)
def test_odd_files_never_break_the_page(signed_in, alpha, content):
    organisations, partners = Organisation.objects.count(), partner_names(alpha)

    response = upload(signed_in, content)

    assert response.status_code == 200
    assert "Import partners from a CSV file" in page_text(response)
    assert Organisation.objects.count() == organisations
    assert partner_names(alpha) == partners


def test_a_cell_too_large_for_csv_is_reported(signed_in, unchanged):
    response = upload(signed_in, b"name\n" + b"x" * 200_000 + b"\n")

    assert "The file is not a valid CSV file" in page_text(response)


# Confirming


def test_confirm_without_an_upload_sends_back_to_the_upload(signed_in, unchanged):
    response = confirm(signed_in, follow=True)

    assert response.redirect_chain == [(IMPORT, 302)]
    assert "Upload the file again" in page_text(response)


def test_confirm_by_get_does_nothing(signed_in, cranfield, unchanged):
    upload(signed_in, GOOD_CSV)

    response = signed_in.get(CONFIRM)

    assert response.status_code == 302
    assert response["Location"] == IMPORT


def test_confirm_in_another_partnership_does_not_import_the_file(
    client, alpha, beta, alice, cranfield
):
    """A preview made in Alpha cannot be confirmed into Beta by the same person."""
    from tenancy.roles import Role

    from .factories import make_member

    make_member(beta, Role.ADMINISTRATOR, user=alice)
    client.force_login(alice)
    upload(client, GOOD_CSV)
    before = partner_names(beta)

    response = client.post(
        reverse("signatories:confirm_import", kwargs={"partnership_slug": "beta"})
    )

    assert response.status_code == 302
    assert partner_names(beta) == before
    assert not Organisation.objects.filter(name="Luton Borough Council").exists()


def test_confirm_checks_again_and_saves_nothing_if_something_changed(signed_in, alpha, cranfield):
    response = upload(signed_in, GOOD_CSV)
    assert has_confirm_button(response)
    # Meanwhile someone adds one of the file's organisations as a partner.
    make_partner(alpha, cranfield)
    partners_now = partner_names(alpha)

    response = confirm(signed_in)

    assert response.status_code == 200
    text = page_text(response)
    assert "Row 4: Cranfield University is already a partner." in text
    assert "Nothing has been saved" in text
    assert not has_confirm_button(response)
    assert partner_names(alpha) == partners_now
    assert not Organisation.objects.filter(name="Luton Borough Council").exists()


def test_viewer_cannot_import(client, alpha, bob, unchanged):
    client.force_login(bob)

    assert client.get(IMPORT).status_code == 403
    assert upload(client, GOOD_CSV).status_code == 403
    assert confirm(client).status_code == 403


def test_confirming_an_older_preview_from_another_tab_imports_nothing(signed_in, alpha, unchanged):
    """Preview A in one tab, upload B in another, then press Import on A: nothing is saved."""
    upload(signed_in, GOOD_CSV)
    digest_of_a = signed_in.previewed_digest
    upload(signed_in, GOOD_CSV.replace("Luton Borough Council", "Luton Council"))

    response = signed_in.post(CONFIRM, {"digest": digest_of_a}, follow=True)

    assert response.redirect_chain[-1][0] == IMPORT
    assert "Upload the file again" in page_text(response)
