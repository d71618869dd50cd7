"""The public signing pages and the withdrawal page: a link that cannot be used, a signing
form sent back with errors, checking a PDF on the verify page, and giving notice."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from protocols import services
from protocols.models import VersionStatus
from protocols.pdf import version_pdf
from signatories import signing, signing_views
from signatories.models import PartnerStatus, Signature, SignatureRequest
from signatories.services import notice_period
from signatories.signing import UNKNOWN_LINK
from tenancy.roles import Role

from ..factories import (
    OrganisationFactory,
    make_member,
    make_partner,
    make_protocol,
    make_signatory,
    make_signature_request,
)
from ..pages import summary

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORGANISATION = "Southdale Academy Trust"
CONFIRM = f"I confirm I am authorised to sign this on behalf of {ORGANISATION}"


def uk_date(day) -> str:
    return f"{day.day} {day:%B %Y}"


def open_page(journey, path: str):
    """Open an address, check the page, and return the HTTP response."""
    response = journey.page.goto(journey.url(path))
    journey.check()
    return response


@pytest.fixture
def southdale(alpha):
    partner = make_partner(alpha, OrganisationFactory(name=ORGANISATION))
    signatory = make_signatory(
        partner, name="Alex Morgan", position="Chief Executive", email="alex@southdale.sch.uk"
    )
    return partner, signatory


# --- Links that cannot be used ----------------------------------------------------------------


def test_a_link_that_opens_nothing_explains_itself(journey):
    response = open_page(journey, "/sign/not-a-real-signing-link/")
    page = journey.page

    assert response.status == 404
    expect(page).to_have_title(re.compile(r"^This link cannot be used"))
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(page.get_by_text(UNKNOWN_LINK)).to_be_visible()
    expect(page.get_by_text("Nothing has been recorded.")).to_be_visible()
    expect(page.get_by_role("button", name="Sign")).to_have_count(0)


def test_an_expired_link_says_when_it_expired(journey, southdale):
    partner, signatory = southdale
    sent = timezone.now() - timedelta(days=31)
    expired = sent + timedelta(days=30)
    _, token = make_signature_request(
        partner, signatory=signatory, email=signatory.email, sent_at=sent, expires_at=expired
    )

    response = open_page(journey, f"/sign/{token}/")
    page = journey.page

    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    expect(page.get_by_role("main")).to_contain_text(
        f"This link expired on {uk_date(timezone.localtime(expired))}"
    )
    expect(page.get_by_role("main")).to_contain_text("Ask the person who sent it for a new one.")


def test_a_link_already_answered_says_so(journey, southdale):
    partner, signatory = southdale
    request, token = make_signature_request(partner, signatory=signatory, email=signatory.email)
    signing.sign(
        request,
        name="Alex Morgan",
        position="Chief Executive",
        confirmed=True,
        ip_address="192.0.2.1",
        user_agent="Test",
    )

    response = open_page(journey, f"/sign/{token}/")
    page = journey.page

    assert response.status == 410
    expect(page.get_by_role("main")).to_contain_text(
        f"This request has already been answered: {ORGANISATION} signed this document"
    )


# --- The signing form sent back with its errors -------------------------------------------


def test_signing_without_the_confirmation_is_sent_back_with_the_error(journey, southdale):
    partner, signatory = southdale
    request, token = make_signature_request(partner, signatory=signatory, email=signatory.email)
    page = journey.visit(f"/sign/{token}/")

    # The signatory recorded for the partner is suggested.
    expect(page.get_by_label("Your full name")).to_have_value("Alex Morgan")
    expect(page.get_by_label("Your position")).to_have_value("Chief Executive")
    page.get_by_label("Your position").fill("Accounting Officer")
    journey.click(page.get_by_role("button", name="Sign", exact=True))

    expect(page).to_have_title(re.compile(r"^Error: Sign Information Sharing Protocol"))
    summary_box = page.locator(".govuk-error-summary")
    expect(summary_box).to_have_count(1)
    expect(summary_box).to_be_focused()  # GOV.UK Frontend moves focus to the summary
    expect(summary_box.get_by_role("heading")).to_have_text("There is a problem")
    message = f"Confirm that you are authorised to sign for {ORGANISATION}"
    link = summary_box.get_by_role("link", name=message)
    expect(link).to_have_attribute("href", "#id_confirmed")
    expect(page.locator("#id_confirmed-error")).to_have_text(f"Error: {message}")
    checkbox = page.get_by_role("checkbox", name=CONFIRM)
    expect(checkbox).to_have_attribute("aria-describedby", "id_confirmed-error")
    expect(checkbox).to_have_attribute("aria-invalid", "true")
    expect(checkbox).not_to_be_checked()
    link.click()
    expect(checkbox).to_be_focused()
    # What was typed is kept, and nothing was recorded.
    expect(page.get_by_label("Your position")).to_have_value("Accounting Officer")
    with scope(partnership=partner.partnership):
        assert not Signature.objects.filter(request=request).exists()

    # Declining needs a reason: that error leads to the reason's box.
    journey.click(page.get_by_role("button", name="Decline"))
    link = page.locator(".govuk-error-summary").get_by_role(
        "link", name="Enter the reason for declining."
    )
    expect(link).to_have_attribute("href", "#id_reason")
    link.click()
    expect(page.get_by_label("Your reason for declining")).to_be_focused()

    checkbox.check()
    journey.click(page.get_by_role("button", name="Sign", exact=True))

    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed")
    expect(summary(page, "Position")).to_have_text("Accounting Officer")
    with scope(partnership=partner.partnership):
        signature = Signature.objects.get(request=request)
    assert signature.outcome == Signature.Outcome.SIGNED
    expect(summary(page, "SHA-256 of the document")).to_have_text(signature.sha256)


# --- Verifying a PDF ---------------------------------------------------------------------------


# Signer: (organisation, position)
SIGNED_PDF_SIGNERS = {
    "Priya Shah": ("Northshire County Council", "Chief Executive"),
    "Tom Hughes": ("Eastvale Police", "Senior Information Risk Owner"),
}


def in_own_thread(func):
    """Run `func` in a thread of its own and return what it returns. Sealing a PDF runs
    asyncio, which cannot start in this thread while Playwright's event loop runs here."""
    outcome = {}

    def run():
        try:
            outcome["value"] = func()
        except BaseException as exc:  # raised again below, in the test
            outcome["error"] = exc
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def signed_pdf(alpha, pdf_storage):
    """Version 1.0 of a protocol signed by both its partners, and its stored final PDF."""
    lead, other = (
        make_partner(alpha, OrganisationFactory(name=organisation))
        for organisation, _ in SIGNED_PDF_SIGNERS.values()
    )
    for partner, (name, (_, position)) in zip(
        (lead, other), SIGNED_PDF_SIGNERS.items(), strict=True
    ):
        make_signatory(partner, name=name, position=position)
    manager = make_member(alpha, Role.IG_OFFICER, organisation=lead.organisation).user
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=other.organisation).user
    protocol = make_protocol(alpha, title="Northshire protocol", lead=lead, by=manager)

    def sign_and_seal():
        with scope(partnership=alpha):
            version = services.latest_version(protocol)
            services.submit_for_approval(version, by=manager)
            services.approve(version, by=steering)
            version = services.send_for_signature(version, [lead, other], by=manager)
            for partner, (name, (_, position)) in zip(
                (lead, other), SIGNED_PDF_SIGNERS.items(), strict=True
            ):
                signing.sign(
                    SignatureRequest.objects.get(document=version.document, partner=partner),
                    name=name,
                    position=position,
                    confirmed=True,
                    ip_address="192.0.2.7",
                    user_agent="Test",
                )
            version.refresh_from_db()
            assert version.status == VersionStatus.SIGNED
            pdf = version_pdf(version)
            assert pdf.final
            with pdf.file.open("rb") as stored:
                return pdf, stored.read()

    return in_own_thread(sign_and_seal)


def test_the_verify_page_refuses_a_file_that_is_not_a_pdf(journey, monkeypatch):
    monkeypatch.setattr(signing_views, "VERIFY_LOOKUPS_PER_MINUTE", 10_000)
    page = journey.visit("/verify/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a signed document")

    page.get_by_label("Upload the PDF").set_input_files(
        {"name": "protocol.pdf", "mimeType": "application/pdf", "buffer": b"Just some text.\n"}
    )
    journey.click(page.get_by_role("button", name="Check"))

    expect(page).to_have_title(re.compile(r"^Error: Check a signed document"))
    link = page.locator(".govuk-error-summary").get_by_role("link", name="The file is not a PDF")
    expect(link).to_have_attribute("href", "#id_file")
    expect(page.locator("#id_file-error")).to_have_text("Error: The file is not a PDF")
    upload = page.get_by_label("Upload the PDF")
    expect(upload).to_have_attribute("aria-invalid", "true")
    expect(upload).to_have_attribute("aria-describedby", re.compile(r"\bid_file-error\b"))
    link.click()
    expect(upload).to_be_focused()
    expect(page.get_by_role("status")).to_have_count(0)


def test_the_verify_page_recognises_the_signed_pdf(journey, signed_pdf, monkeypatch):
    monkeypatch.setattr(signing_views, "VERIFY_LOOKUPS_PER_MINUTE", 10_000)
    pdf, content = signed_pdf
    page = journey.visit("/verify/")

    page.get_by_label("Upload the PDF").set_input_files(
        {"name": "northshire-protocol-v1.0.pdf", "mimeType": "application/pdf", "buffer": content}
    )
    journey.click(page.get_by_role("button", name="Check"))

    expect(page).to_have_title(re.compile(r"^Check a signed document"))
    found = page.get_by_role("status")
    expect(found.get_by_role("heading")).to_have_text("This matches a document signed in Accord")
    expect(summary(found, "Document")).to_have_text(
        "Information sharing protocol: Northshire protocol"
    )
    expect(summary(found, "Version")).to_have_text("1.0")
    expect(summary(found, "Partnership")).to_have_text("Alpha Partnership")
    expect(summary(found, "What matched")).to_have_text(
        "The final signed PDF: every partner asked had signed."
    )
    expect(summary(found, "Current version")).to_have_text(
        "Yes: this version has not been replaced."
    )
    expect(summary(found, "SHA-256 fingerprint")).to_have_text(pdf.sha256)
    expect(summary(found, "Accord's seal")).to_contain_text(
        "Intact: the file has not changed since Accord sealed it"
    )
    signatures = found.get_by_role("table", name="Signatures recorded for this version")
    signed_on = uk_date(timezone.localdate())
    for organisation, position in SIGNED_PDF_SIGNERS.values():
        row = signatures.get_by_role("row").filter(has_text=organisation)
        expect(row).to_contain_text(position)
        expect(row).to_contain_text(signed_on)
    # Alpha does not publish its signatories' names: anyone may use this page.
    for name in SIGNED_PDF_SIGNERS:
        expect(found).not_to_contain_text(name)

    # A copy changed by one byte matches nothing, and its seal no longer covers it.
    page.get_by_label("Upload the PDF").set_input_files(
        {"name": "copy.pdf", "mimeType": "application/pdf", "buffer": content + b"\n"}
    )
    journey.click(page.get_by_role("button", name="Check"))
    found = page.get_by_role("status")
    expect(found.get_by_role("heading")).to_have_text("No match")
    expect(summary(found, "Accord's seal")).to_contain_text("Not intact.")


# --- Withdrawal -------------------------------------------------------------------------------


def test_an_administrator_gives_notice_of_withdrawal(journey, alice, alpha):
    partner = make_partner(alpha, OrganisationFactory(name="Westmoor District Council"))
    name = "Westmoor District Council"
    reason = "Westmoor is merging with Eastmoor to form a unitary council."
    today = timezone.localdate()
    with scope(partnership=alpha):
        takes_effect = today + notice_period(alpha)

    journey.sign_in_as(alice)
    page = journey.visit("/p/alpha/partners/")
    journey.click(page.get_by_role("link", name=name, exact=True))
    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    journey.click(page.get_by_role("link", name=f"Give notice of withdrawal for {name}"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Give notice of withdrawal")
    main = page.get_by_role("main")
    expect(main).to_contain_text(
        f"The notice period is 4 weeks. If notice is given today, {name}'s withdrawal takes "
        f"effect on {uk_date(takes_effect)}."
    )
    expect(
        page.get_by_role("heading", name="Obligations that continue after withdrawal")
    ).to_be_visible()

    # Without a reason the notice is not given.
    journey.click(page.get_by_role("button", name="Give notice"))
    link = page.locator(".govuk-error-summary").get_by_role(
        "link", name="Enter the reason for withdrawing."
    )
    link.click()
    expect(page.get_by_label("Why is the organisation withdrawing?")).to_be_focused()

    page.get_by_label("Why is the organisation withdrawing?").fill(reason)
    journey.click(page.get_by_role("button", name="Give notice"))

    expect(page.get_by_role("heading", level=1, name=name)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"{name} has given notice of withdrawal.")
    expect(summary(page, "Status")).to_have_text("Withdrawing")
    expect(summary(page, "Withdrawal")).to_contain_text(
        f"Notice given {uk_date(today)}; takes effect {uk_date(takes_effect)}."
    )
    expect(summary(page, "Withdrawal")).to_contain_text(f"Reason: {reason}")
    obligations = page.get_by_role("heading", name="Obligations that continue after withdrawal")
    expect(obligations).to_be_visible()
    bullets = page.locator("ul.govuk-list--bullet").filter(has_text="stays protected by it")
    expect(bullets.get_by_role("listitem")).to_have_count(3)
    expect(bullets).to_contain_text(f"{name} may use it only for the purposes it was shared for")
    expect(page.get_by_role("link", name=re.compile("^Give notice of withdrawal"))).to_have_count(0)

    with scope(partnership=alpha):
        partner.refresh_from_db()
    assert partner.status == PartnerStatus.WITHDRAWING
    assert partner.leaves_on == takes_effect

    nav = page.get_by_role("navigation", name="Alpha Partnership")
    journey.click(nav.get_by_role("link", name="Partners"))
    expect(page.get_by_role("row").filter(has_text=name)).to_contain_text("Withdrawing")
