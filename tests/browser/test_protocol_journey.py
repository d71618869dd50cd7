"""A protocol from the model to its signed PDF: drafted and edited by the lead organisation's
IG officer, approved by the steering group, then signed, declined and signed by the partners
through the links in their e-mails."""

from __future__ import annotations

import re
import subprocess

import pytest
from django.core import mail
from django_scopes import scope
from playwright.sync_api import expect

from protocols.models import Protocol, VersionStatus
from signatories.models import Sector
from tenancy.roles import Role

from ..factories import OrganisationFactory, make_member, make_partner, make_signatory
from ..pages import summary
from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Northshire information sharing protocol"
EDITED_PHRASE = "Partners answer every request for information within ten working days."
# Short names, so that none is hyphenated across lines in the PDF.
SIGNERS = [
    ("Northshire County Council", Sector.LOCAL_AUTHORITY, "Priya Shah", "Chief Executive"),
    ("Eastvale Police", Sector.POLICE, "Tom Hughes", "Director"),
    ("Westmoor District Council", Sector.LOCAL_AUTHORITY, "Ruth Evans", "Caldicott Guardian"),
]
DECLINE_REASON = "Our legal team has not finished reviewing the breach section."


@pytest.fixture
def browsers(new_context, base_url, request):
    """Other people's browsers: each call opens a fresh context (no cookies shared) with its
    own journey. Like the `journey` fixture, fails the test for any page never checked."""
    opened: list[Journey] = []

    def open_browser() -> Journey:
        journey = Journey(new_context().new_page(), base_url)
        opened.append(journey)
        return journey

    yield open_browser
    missed = [url for journey in opened for url in journey.unchecked]
    if missed and getattr(request.node, "browser_call_passed", False):
        pytest.fail(
            "These pages were reached without an accessibility check:\n"
            + "\n".join(f"- {url}" for url in missed),
            pytrace=False,
        )


@pytest.fixture
def partners(alpha):
    """Three active partners, each with one authorised signatory; the first leads."""
    made = []
    for name, sector, signer, position in SIGNERS:
        partner = make_partner(alpha, OrganisationFactory(name=name, sector=sector))
        signatory = make_signatory(
            partner,
            name=signer,
            position=position,
            email=f"{signer.split()[0].lower()}@{name.split()[0].lower()}.gov.uk",
        )
        made.append((partner, signatory))
    return made


def link_in(message, pattern: str) -> str:
    match = re.search(rf"https?://\S+{pattern}\S*", message.body)
    assert match, f"No link like {pattern!r} in:\n{message.body}"
    return match.group(0)


def message_to(address: str, subject_starts: str):
    found = [m for m in mail.outbox if m.to == [address] and m.subject.startswith(subject_starts)]
    assert len(found) == 1, [(m.to, m.subject) for m in mail.outbox]
    return found[0]


def pdf_text(path) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_a_protocol_is_drafted_approved_and_signed_online(
    journey, browsers, alpha, partners, live_server, settings, mailoutbox, tmp_path, pdf_storage
):
    settings.SITE_URL = live_server.url  # the links in e-mails lead to this server
    (lead, _), (eastvale, _), _ = partners
    manager = make_member(alpha, Role.IG_OFFICER, organisation=lead.organisation).user
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=eastvale.organisation).user

    # The lead organisation's IG officer starts the protocol from Accord's model.
    journey.sign_in_as(manager)
    page = journey.visit("/p/alpha/")
    nav = page.get_by_role("navigation", name="Alpha Partnership")
    journey.click(nav.get_by_role("link", name="Protocols"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Information sharing protocols")
    expect(page.get_by_text("The partnership has no protocol yet.")).to_be_visible()
    journey.click(page.get_by_role("button", name="Start a protocol from the model"))
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Lead organisation").select_option(label="Northshire County Council")
    journey.click(page.get_by_role("button", name="Start the draft"))

    expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        f"“{TITLE}” has been started from the model protocol as draft version 1.0."
    )
    expect(summary(page, "Version")).to_contain_text("Draft")
    contents = page.get_by_role("navigation", name="Contents")
    expect(contents.get_by_role("link", name="Purpose and scope")).to_be_visible()
    expect(page.get_by_text(EDITED_PHRASE)).to_have_count(0)

    # She changes the text of the first section.
    journey.click(page.get_by_role("link", name="Edit Purpose and scope", exact=True))
    expect(page.get_by_role("heading", level=1, name="Edit the section")).to_be_visible()
    expect(page.get_by_label("Section title")).to_have_value("Purpose and scope")
    text = page.get_by_label("Text")
    body = text.input_value()
    assert "Northshire County Council keeps the protocol" in body
    text.fill(f"{EDITED_PHRASE}\n\n{body}")
    journey.click(page.get_by_role("button", name="Save the section"))

    expect(page.get_by_role("alert")).to_contain_text(
        "The section “Purpose and scope” has been saved."
    )
    section = page.get_by_role("region", name="1. Purpose and scope")
    expect(section.get_by_text(EDITED_PHRASE)).to_be_visible()

    # ...and sends it to the steering group.
    journey.click(page.get_by_role("button", name="Send for approval"))
    expect(page.get_by_role("alert")).to_contain_text(
        "Version 1.0 has been sent to the steering group for approval."
    )
    expect(summary(page, "Version")).to_contain_text("For approval")
    expect(page.get_by_role("button", name="Send for approval")).to_have_count(0)
    expect(page.get_by_role("link", name="Edit Purpose and scope")).to_have_count(0)

    # A steering group member follows the link in the e-mail and approves it.
    to_approve = message_to(steering.email, "")
    assert TITLE in to_approve.body
    member = browsers()
    member.sign_in_as(steering)
    approving = member.visit(link_in(to_approve, "/protocols/"))
    expect(approving.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    expect(
        approving.get_by_role("region", name="1. Purpose and scope").get_by_text(EDITED_PHRASE)
    ).to_be_visible()
    member.click(approving.get_by_role("button", name="Approve version 1.0"))
    expect(approving.get_by_role("alert")).to_contain_text(
        "Version 1.0 has been approved. The lead organisation can now send it for signature."
    )
    expect(approving.get_by_role("link", name="Send for signature")).to_have_count(0)

    # The IG officer is told, and sends it to every active partner.
    approved = message_to(manager.email, "")
    page = journey.visit(link_in(approved, "/protocols/"))
    expect(summary(page, "Version")).to_contain_text("Approved")
    journey.click(page.get_by_role("button", name="Send for signature"))
    expect(
        page.get_by_role("heading", level=1, name="Send version 1.0 for signature")
    ).to_be_visible()
    chosen = page.get_by_role("group", name="Partners to ask")
    for name, *_ in SIGNERS:
        expect(chosen.get_by_role("checkbox", name=name)).to_be_checked()
    journey.click(page.get_by_role("button", name="Freeze and send"))

    expect(page.get_by_role("heading", level=1, name="Signatories")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "Version 1.0 has been frozen and sent to 3 partners for signature."
    )
    with scope(partnership=alpha):
        version = Protocol.objects.get(title=TITLE).versions.get()
        document = version.document
    assert version.status == VersionStatus.FOR_SIGNATURE
    sha256 = document.sha256
    table = page.get_by_role("table", name="Partners asked to sign version 1.0")
    for name, *_ in SIGNERS:
        expect(table.get_by_role("row").filter(has_text=name)).to_contain_text("Sent")

    # One e-mail per signatory, each with its own link and the document's fingerprint.
    requests = {}
    for (_, signatory), (name, *_rest) in zip(partners, SIGNERS, strict=True):
        message = message_to(signatory.email, f"Please sign {TITLE}, version 1.0")
        assert name in message.body
        assert sha256 in message.body
        requests[name] = link_in(message, "/sign/")
    assert len(set(requests.values())) == 3

    # The first partner's signatory, not signed in, reads the frozen text and signs.
    signer = browsers()
    signing = signer.visit(requests["Northshire County Council"])
    expect(signing.get_by_role("heading", level=1)).to_have_text(f"Sign {TITLE}, version 1.0")
    expect(signing.get_by_role("link", name="Sign out")).to_have_count(0)
    expect(summary(signing, "SHA-256 fingerprint")).to_have_text(sha256)
    text = signing.get_by_role("region", name="The document to sign")
    expect(text).to_have_count(1)  # one landmark: the box that scrolls, reachable by keyboard
    expect(text).to_have_attribute("tabindex", "0")
    expect(text.get_by_role("heading", name="Purpose and scope")).to_be_visible()
    text.get_by_text(EDITED_PHRASE).scroll_into_view_if_needed()
    expect(text.get_by_text(EDITED_PHRASE)).to_be_visible()
    signing.get_by_label("Your full name").fill("Priya Shah")
    signing.get_by_label("Your position").fill("Chief Executive")
    signing.get_by_role(
        "checkbox",
        name="I confirm I am authorised to sign this on behalf of Northshire County Council",
    ).check()
    signer.click(signing.get_by_role("button", name="Sign", exact=True))

    expect(signing.get_by_role("heading", level=1)).to_have_text("You have signed")
    expect(summary(signing, "Organisation")).to_have_text("Northshire County Council")
    expect(summary(signing, "Answer")).to_have_text("Signed")
    expect(summary(signing, "Name")).to_have_text("Priya Shah")
    expect(summary(signing, "SHA-256 of the document")).to_have_text(sha256)

    # The second partner's signatory declines, saying why.
    decliner = browsers()
    declining = decliner.visit(requests["Eastvale Police"])
    expect(
        declining.get_by_role("region", name="The document to sign").get_by_text(EDITED_PHRASE)
    ).to_be_attached()
    declining.get_by_label("Your full name").fill("Tom Hughes")
    declining.get_by_label("Your position").fill("Director")
    declining.get_by_label("Your reason for declining").fill(DECLINE_REASON)
    decliner.click(declining.get_by_role("button", name="Decline"))

    expect(declining.get_by_role("heading", level=1)).to_have_text("You have declined to sign")
    expect(summary(declining, "Answer")).to_have_text("Declined")
    expect(summary(declining, "Reason")).to_have_text(DECLINE_REASON)

    # The third signs.
    third = browsers()
    signing = third.visit(requests["Westmoor District Council"])
    signing.get_by_label("Your full name").fill("Ruth Evans")
    signing.get_by_label("Your position").fill("Caldicott Guardian")
    signing.get_by_role("checkbox", name=re.compile("^I confirm I am authorised")).check()
    third.click(signing.get_by_role("button", name="Sign", exact=True))
    expect(signing.get_by_role("heading", level=1)).to_have_text("You have signed")

    # The IG officer sees who signed and who declined, and why.
    page = journey.visit("/p/alpha/protocols/")
    row = page.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("2 of 3 partners (version 1.0), 1 declined")
    journey.click(page.get_by_role("link", name=TITLE))
    journey.click(page.get_by_role("link", name="2 of 3 partners signed, 1 declined"))
    expect(page.get_by_role("heading", level=1, name="Signatories")).to_be_visible()
    expect(page.get_by_text("2 of 3 partners asked have signed; 1 declined.")).to_be_visible()
    expect(page.get_by_text("A partner has declined to sign")).to_be_visible()
    table = page.get_by_role("table", name="Partners asked to sign version 1.0")
    rows = {name: table.get_by_role("row").filter(has_text=name) for name, *_ in SIGNERS}
    expect(rows["Northshire County Council"]).to_contain_text("Priya Shah")
    expect(rows["Northshire County Council"]).to_contain_text("Signed")
    expect(rows["Eastvale Police"]).to_contain_text("Tom Hughes")
    expect(rows["Eastvale Police"]).to_contain_text("Declined")
    expect(rows["Eastvale Police"]).to_contain_text(f"Reason: {DECLINE_REASON}")
    expect(rows["Westmoor District Council"]).to_contain_text("Ruth Evans")
    expect(rows["Westmoor District Council"]).to_contain_text("Signed")

    # The PDF holds the title, the version, the signers and the fingerprint of the text.
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the PDF with its signatures").click()
    download = download_info.value
    assert download.suggested_filename == "northshire-information-sharing-protocol-v1.0.pdf"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    assert path.read_bytes().startswith(b"%PDF-")
    text = pdf_text(path)
    assert TITLE in text
    assert re.search(r"Version\s+1\.0", text)
    for name, _sector, signer_name, _position in SIGNERS:
        assert flat(signer_name) in flat(text), signer_name
        assert flat(name) in flat(text), name
    assert flat(EDITED_PHRASE) in flat(text)
    assert sha256 in flat(text)
