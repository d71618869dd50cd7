"""The public verify page: is this PDF (or this SHA-256) a document signed in Accord?"""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from documents.models import RenderedPdf
from documents.seal import seal
from signatories import forms as signatory_forms
from signatories import signing, signing_views, tables

from .factories import OrganisationFactory, make_document, make_partner, make_signature_request
from .pages import field_error, page_text

pytestmark = pytest.mark.django_db

VERIFY = reverse("signing:verify")


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    from weasyprint import HTML

    return HTML(string="<h1>Bedfordshire Protocol</h1><p>Signed by every partner.</p>").write_pdf()


@pytest.fixture(autouse=True)
def _generous_rate_limit(monkeypatch):
    monkeypatch.setattr(signing_views, "VERIFY_LOOKUPS_PER_MINUTE", 10_000)


@pytest.fixture
def signed(alpha, pdf_bytes):
    """A protocol version answered by two partners, and its final PDF."""
    document = make_document(alpha, title="Bedfordshire Protocol", version_label="4.2")
    luton = make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
    barnet = make_partner(alpha, OrganisationFactory(name="Barnet Council"))
    luton_request, _ = make_signature_request(luton, document)
    barnet_request, _ = make_signature_request(barnet, document)
    signing.sign(
        luton_request,
        name="Jane Smith",
        position="Chief Executive",
        confirmed=True,
        ip_address="203.0.113.9",
        user_agent="",
    )
    signing.decline(
        barnet_request,
        name="Raj Patel",
        position="SIRO",
        reason="Not yet reviewed",
        ip_address=None,
        user_agent="",
    )
    with scope(partnership=alpha):
        pdf = RenderedPdf.objects.create(
            partnership=alpha,
            document=document,
            state="a" * 64,
            file="pdfs/final.pdf",
            sha256=hashlib.sha256(pdf_bytes).hexdigest(),
            final=True,
        )
    return document, pdf


def upload(content: bytes, name: str = "protocol.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_the_page_needs_no_sign_in(client):
    response = client.get(VERIFY)

    assert response.status_code == 200
    assert "Check a signed document" in page_text(response)
    assert 'enctype="multipart/form-data"' in response.content.decode()


def test_the_final_signed_pdf_is_recognised_with_its_signatures(client, signed, pdf_bytes):
    document, pdf = signed

    response = client.post(VERIFY, {"file": upload(pdf_bytes)})

    assert response.status_code == 200
    text = page_text(response)
    assert "This matches a document signed in Accord" in text
    assert "Document Information sharing protocol: Bedfordshire Protocol" in text
    assert "Version 4.2" in text
    assert "Partnership Alpha Partnership" in text
    assert "The final signed PDF: every partner asked had signed." in text
    assert pdf.sha256 in text
    with scope(partnership=document.partnership):
        jane, _raj = tables.signatures_for(document)
    jane_at = timezone.localtime(jane.at).strftime("%-d %B %Y, %H:%M")
    assert f"Luton Borough Council Chief Executive {jane_at}" in text
    assert "Yes: this version has not been replaced." in text


def test_only_signatures_are_listed_and_names_only_where_the_partnership_publishes_them(
    client, alpha, signed
):
    document, _pdf = signed

    hidden = page_text(client.post(VERIFY, {"sha256": document.sha256}))

    assert "Signatures recorded for this version" in hidden
    assert "Luton Borough Council Chief Executive" in hidden
    assert "Jane Smith" not in hidden
    for declined in ("Barnet Council", "Raj Patel", "Declined", "Not yet reviewed"):
        assert declined not in hidden

    alpha.public_signatory_names = True
    alpha.save()
    shown = page_text(client.post(VERIFY, {"sha256": document.sha256}))

    assert "Luton Borough Council Jane Smith Chief Executive" in shown
    assert "Raj Patel" not in shown and "Declined" not in shown


def test_a_superseded_version_is_said_to_be_replaced(client, signed, monkeypatch):
    document, _pdf = signed
    monkeypatch.setattr(signing, "is_superseded", lambda d: d.pk == document.pk)

    text = page_text(client.post(VERIFY, {"sha256": document.sha256}))

    assert "This matches a document signed in Accord" in text
    assert "No: this version has been replaced by a newer one or retired." in text


def test_an_uploaded_pdf_is_told_whether_its_seal_is_intact(client, alpha, pdf_storage, pdf_bytes):
    sealed = seal(pdf_bytes)
    document = make_document(alpha, title="Sealed Protocol")
    with scope(partnership=alpha):
        for state, data in (("c" * 64, sealed), ("d" * 64, pdf_bytes)):
            RenderedPdf.objects.create(
                partnership=alpha,
                document=document,
                state=state,
                file=f"pdfs/{state[0]}.pdf",
                sha256=hashlib.sha256(data).hexdigest(),
                final=True,
            )

    intact = page_text(client.post(VERIFY, {"file": upload(sealed)}))
    unsealed = page_text(client.post(VERIFY, {"file": upload(pdf_bytes)}))
    appended = page_text(client.post(VERIFY, {"file": upload(sealed + b"\n%extra\n")}))

    assert "Accord's seal Intact: the file has not changed since Accord sealed it" in intact
    assert "Accord's seal Not intact. This PDF has no seal." in unsealed
    assert "This file does not match any document signed in Accord." in appended
    assert "Accord's seal Not intact." in appended


def test_an_earlier_pdf_is_recognised_but_not_as_the_final_one(client, alpha, signed, pdf_bytes):
    document, _pdf = signed
    earlier = pdf_bytes.replace(b"%%EOF", b"%%EOF\n%earlier")
    with scope(partnership=alpha):
        RenderedPdf.objects.create(
            partnership=alpha,
            document=document,
            state="b" * 64,
            file="pdfs/earlier.pdf",
            sha256=hashlib.sha256(earlier).hexdigest(),
            final=False,
        )

    text = page_text(client.post(VERIFY, {"file": upload(earlier)}))

    assert "A PDF issued before every partner asked had signed (not the final signed PDF)." in text


def test_a_sha256_can_be_entered_instead(client, signed):
    _document, pdf = signed
    typed = " ".join(pdf.sha256.upper()[i : i + 8] for i in range(0, 64, 8))

    text = page_text(client.post(VERIFY, {"sha256": typed}))

    assert "The final signed PDF" in text
    assert "Luton Borough Council" in text


def test_the_sha256_of_the_document_text_is_recognised_too(client, signed):
    document, _pdf = signed

    text = page_text(client.post(VERIFY, {"sha256": document.sha256}))

    assert "The text of the document as it was sent for signing (not a PDF)." in text


def test_a_one_byte_change_matches_nothing(client, signed, pdf_bytes):
    changed = bytearray(pdf_bytes)
    changed[len(changed) // 2] ^= 0x01

    response = client.post(VERIFY, {"file": upload(bytes(changed))})

    assert response.status_code == 200
    text = page_text(response)
    assert "This file does not match any document signed in Accord." in text
    assert "Luton Borough Council" not in text


def test_a_file_that_is_not_a_pdf_is_a_field_error(client, signed):
    response = client.post(VERIFY, {"file": upload(b"Name,Signed\nLuton,yes\n", "list.csv")})

    assert response.status_code == 200
    assert field_error(response, "file") == "Error: The file is not a PDF"
    assert "There is a problem" in page_text(response)


def test_a_file_over_the_limit_is_a_field_error(client, signed, monkeypatch):
    monkeypatch.setattr(signatory_forms, "MAX_PDF_BYTES", 1000)

    response = client.post(VERIFY, {"file": upload(b"%PDF-1.7\n" + b"0" * 2000)})

    assert field_error(response, "file") == "Error: The file must be smaller than 20 MB."


def test_a_pdf_of_20_mb_is_accepted_and_looked_up(client, signed):
    big = b"%PDF-1.7\n" + b"0" * (20 * 1024 * 1024 - 9)

    response = client.post(VERIFY, {"file": upload(big)})

    assert response.status_code == 200
    assert "This file does not match any document signed in Accord." in page_text(response)


@pytest.mark.parametrize("value", ["abc", "g" * 64, "a" * 65, "a" * 300])
def test_a_malformed_sha256_is_a_field_error(client, signed, value):
    response = client.post(VERIFY, {"sha256": value})

    assert response.status_code == 200
    assert field_error(response, "sha256").startswith("Error: ")
    assert "does not match" not in page_text(response)


def test_nothing_to_check_is_a_field_error(client):
    response = client.post(VERIFY, {})

    assert field_error(response, "file") == (
        "Error: Choose a PDF to upload, or enter its SHA-256 fingerprint."
    )


def test_a_file_and_a_sha256_together_is_a_field_error(client, signed, pdf_bytes):
    _document, pdf = signed

    response = client.post(VERIFY, {"file": upload(pdf_bytes), "sha256": pdf.sha256})

    assert field_error(response, "sha256") == (
        "Error: Upload a PDF or enter a SHA-256 fingerprint, not both."
    )


def test_a_signed_in_member_of_another_partnership_checks_it_too(client, charlie, signed):
    client.force_login(charlie)
    document, _pdf = signed

    text = page_text(client.post(VERIFY, {"sha256": document.sha256}))

    assert "Alpha Partnership" in text
    assert "Luton Borough Council" in text


def test_lookups_are_rate_limited_per_address(client, signed, monkeypatch):
    monkeypatch.setattr(signing_views, "VERIFY_LOOKUPS_PER_MINUTE", 2)
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"  # this run's own
    document, _pdf = signed

    for _ in range(2):
        ok = client.post(VERIFY, {"sha256": document.sha256}, REMOTE_ADDR=address)
        assert ok.status_code == 200
    response = client.post(VERIFY, {"sha256": document.sha256}, REMOTE_ADDR=address)

    assert response.status_code == 429
    assert "Too many checks from your address in the last minute." in page_text(response)
    assert "Jane Smith" not in page_text(response)
