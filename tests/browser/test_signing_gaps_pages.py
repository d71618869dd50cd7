"""The signatories table with an expired link and its "Send a new link" button, and the
signer's confirmation page with the signed PDF to download, reloaded: every page checked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from protocols import services
from signatories import signing
from signatories.models import RequestStatus, SignatureRequest
from tenancy.roles import Role

from ..factories import (
    OrganisationFactory,
    make_member,
    make_partner,
    make_protocol,
    make_signatory,
)
from ..test_protocols import approved, fresh, latest, version_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LUTON = "Luton Borough Council"
LINK = re.compile(r"https?://[^\s\"'<>]+(/sign/[A-Za-z0-9_-]+/)")


@pytest.fixture
def sent(alpha, pdf_storage):
    """Version 1.0 sent by the administrator to its lead and to Luton; (version, Luton,
    the administrator)."""
    lead = make_partner(alpha, OrganisationFactory(name="Central Bedfordshire Council"))
    luton = make_partner(alpha, OrganisationFactory(name=LUTON))
    make_signatory(lead, name="Sam Lee", position="Director")
    make_signatory(luton, name="Jane Smith", position="Chief Executive", email="jane@luton.gov.uk")
    admin = make_member(alpha, Role.ADMINISTRATOR, organisation=lead.organisation).user
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=lead.organisation).user
    protocol = make_protocol(alpha, title="Bedfordshire protocol", lead=lead, by=admin)
    version = approved(latest(protocol), admin, steering)
    with scope(partnership=alpha):
        services.send_for_signature(version, [lead, luton], by=admin)
    return fresh(version), luton, admin


def open_request(version, partner) -> SignatureRequest:
    with scopes_disabled():
        return SignatureRequest.objects.get(
            document_id=version.document_id,
            partner=partner,
            status__in=[RequestStatus.SENT, RequestStatus.OPENED],
        )


def test_an_expired_link_shows_in_the_table_and_a_new_one_is_sent(journey, sent, mailoutbox):
    version, luton, admin = sent
    with scopes_disabled():
        SignatureRequest.objects.filter(pk=open_request(version, luton).pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    journey.sign_in_as(admin)
    page = journey.visit(version_url("signatories", version))

    row = page.get_by_role("row").filter(has_text=LUTON)
    expect(row).to_contain_text("Link expired")
    mailoutbox.clear()
    journey.click(row.get_by_role("button", name=f"Send a new link to {LUTON}"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Signatories")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        "A new link has been sent to jane@luton.gov.uk"
    )
    expect(page.get_by_role("row").filter(has_text=LUTON)).not_to_contain_text("Link expired")
    assert [m.to for m in mailoutbox] == [["jane@luton.gov.uk"]]


def test_the_signer_downloads_the_signed_pdf_and_reloads_the_confirmation(
    journey, sent, mailoutbox
):
    version, luton, admin = sent
    mailoutbox.clear()
    with scope(partnership=version.partnership):
        signing.reissue(open_request(version, luton), by=admin)
    (path,) = set(LINK.findall(mailoutbox[-1].body))
    page = journey.visit(path)

    page.get_by_role("checkbox").check()
    journey.click(page.get_by_role("button", name="Sign", exact=True))

    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed")
    main = page.get_by_role("main")
    expect(main).to_contain_text("So far 1 of the 2 partners asked has signed.")
    download_link = page.get_by_role(
        "link", name="Download the information sharing protocol as signed (PDF)"
    )
    with page.expect_download() as download:
        download_link.click()
    assert download.value.suggested_filename == "bedfordshire-protocol-v1.0.pdf"

    page.reload()
    journey.check()
    expect(page.get_by_role("heading", level=1)).to_have_text("You have signed")
    expect(download_link).to_be_visible()
