"""The seed-002 agreement drafted in the browser, end to end: an IG officer of the county
council starts it from the template, works through the task list (two parties as joint
controllers, Article 6(1)(e) with Article 9(2)(h), the Care Act 2014) while the list of what
blocks it shrinks to nothing, sends it, both parties sign through the links in their
e-mails, and the signed PDF holds every section. Every page is checked by axe."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from agreements.facts import SECTIONS
from agreements.models import Agreement, AgreementStatus
from signatories.models import Organisation, Sector
from tenancy.roles import Role

from ..factories import make_member, make_partner, make_signatory
from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Reablement service review"
REFERENCE = "AP-ISA-001"  # suggested from the initials of "Alpha Partnership"
PARTIES = [
    ("Essex County Council", "Z6034810", Sector.LOCAL_AUTHORITY, "Ann Lee", "SIRO"),
    ("Essex Cares Ltd", "Z1801658", Sector.PRIVATE, "Bo Khan", "DPO"),
]


@pytest.fixture
def parties(alpha):
    made = []
    for name, ico, sector, signer, position in PARTIES:
        organisation = Organisation.objects.create(
            name=name,
            ico_reference=ico,
            sector=sector,
            address="Market Road, Chelmsford",
            phone="01632 960000",
            data_protection_email=f"dpo@{name.split()[1].lower()}.example.org",
            data_protection_email_confirmed_at=timezone.now(),
            dpo_name=f"{signer.split()[0]} DPO",
        )
        partner = make_partner(alpha, organisation)
        signatory = make_signatory(
            partner,
            name=signer,
            position=position,
            email=f"{signer.split()[0].lower()}@example.org",
        )
        made.append((partner, signatory))
    return made


def blocking(page) -> int:
    """How many things the task list says are needed before the agreement can be sent."""
    text = page.locator("#readiness").inner_text()
    match = re.search(r"(\d+) things? (?:is|are) needed before it can go for signature", text)
    return int(match.group(1)) if match else 0


def save_and_continue(journey: Journey, completed: bool = True, then: str = ""):
    """Mark the section and press "Save and continue": the next section (named by `then`)
    opens with the banner saying this one was saved."""
    page = journey.page
    title = page.get_by_role("heading", level=1).inner_text()
    if completed:
        page.get_by_label("Yes, I've completed this section").check()
    journey.click(page.get_by_role("button", name="Save and continue"))
    expect(page.get_by_role("alert")).to_contain_text(f"“{title}” has been completed")
    if then:
        expect(page.get_by_role("heading", level=1, name=then)).to_be_visible()
    return page


def link_in(message, pattern: str) -> str:
    match = re.search(rf"https?://\S+{pattern}\S*", message.body)
    assert match, f"No link like {pattern!r} in:\n{message.body}"
    return match.group(0)


# Seed 002's data items: what Essex Cares shares with the county council for the review.
DATA_ITEMS = [
    ("Access Reference Number", "personal"),
    ("Date of exit from the reablement service", "personal"),
    ("Mosaic number", "personal"),
    ("Name", "personal"),
    ("Date of birth", "personal"),
    ("Post code", "personal"),
    ("Care package at the start of the service", "special"),
    ("Assessment information: goals and presenting need", "special"),
    ("Visit notes", "special"),
    ("Therapy assessments and equipment", "special"),
    ("Reviews of the care package", "special"),
    ("Date the service was expected to end", "personal"),
    ("Outcome at the end of the service", "special"),
]
MAX_PAGE_VIEWS = 30


def add_data_item(page, name: str, category: str) -> None:
    """Add one data item in place: the list and a fresh form come back without a page load,
    and the keyboard carries on in the new form's first field."""
    form = page.locator("#data-items-block form")
    form.get_by_label("Data item", exact=True).fill(name)
    if category == "special":
        form.get_by_label("Special category data", exact=True).check()
        form.get_by_label("Type of special category data").select_option(label="Health")
    else:
        form.get_by_label("Personal data", exact=True).check()
    form.get_by_label("Data subjects").fill("Adults who left the reablement service")
    form.get_by_label("Sent by").select_option(label="Essex Cares Ltd")
    form.get_by_label("Received by").select_option(label="Essex County Council")
    form.get_by_label("Purpose", exact=True).fill("To follow each adult's journey")
    form.get_by_label("Why it is needed").fill("The review cannot judge the service without it")
    form.get_by_role("button", name="Add the data item").click()
    expect(page.locator("#data-items-status")).to_have_text(
        f"The data item “{name}” has been added."
    )
    expect(
        page.locator("#data-items-block form").get_by_label("Data item", exact=True)
    ).to_be_focused()


def test_the_seed_002_agreement_is_drafted_sent_and_signed_online(
    journey, new_context, base_url, alpha, parties, live_server, settings, tmp_path, pdf_storage
):
    settings.SITE_URL = live_server.url
    (ecc, _), (ecl, _) = parties
    officer = make_member(alpha, Role.IG_OFFICER, organisation=ecc.organisation).user
    today = timezone.localdate()

    # The IG officer starts the agreement from the register, its reference suggested.
    journey.sign_in_as(officer)
    page = journey.visit("/p/alpha/agreements/")
    journey.click(page.get_by_role("button", name="Start an agreement"))
    page.get_by_label("Title").fill(TITLE)
    expect(page.get_by_label("Reference")).to_have_value(REFERENCE)
    expect(page.get_by_label("Lead organisation")).to_have_value(str(ecc.pk))
    journey.click(page.get_by_role("button", name="Start the agreement"))
    expect(page.get_by_role("heading", level=1, name=TITLE)).to_be_visible()
    expect(page.get_by_text("You have completed 0 of 18 sections.")).to_be_visible()
    first = blocking(page)
    assert first > 18

    # "Save and continue" walks the sections in order, from the summary sheet to approval.
    journey.click(page.get_by_role("link", name="1. Summary sheet"))
    page.get_by_label("Essex County Council").select_option(label="Joint controller")
    page.get_by_label("Essex Cares Ltd").select_option(label="Joint controller")
    page.get_by_label("A one-off exchange").check()
    page.get_by_label("Start date").fill(today.strftime("%d/%m/%Y"))
    page.get_by_label("End date").fill((today - timedelta(days=1)).strftime("%d/%m/%Y"))
    page.get_by_label("Yes, I've completed this section").check()
    journey.click(page.get_by_role("button", name="Save and continue"))
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_contain_text(
        "The end date must be the same as or after the start date."
    )
    expect(page.get_by_label("Start date")).to_have_value(today.strftime("%d/%m/%Y"))
    page.get_by_label("End date").fill("")
    save_and_continue(journey, then="Version control")
    save_and_continue(journey, then="Supporting documents")
    page.get_by_label("Data protection impact assessment (DPIA)").fill("DPIA-ASC-2023-07")
    save_and_continue(journey, then="Purpose")
    page.get_by_label("Text").fill(
        "A one-off review of adults who left the reablement service, to understand why fewer "
        "new care packages are offered."
    )
    save_and_continue(journey, then="Information to be shared")

    # Thirteen data items, added in place: no page loads.
    views = journey.page_views
    for name, category in DATA_ITEMS:
        add_data_item(page, name, category)
    assert journey.page_views == views
    expect(page.locator("#data-items")).to_have_text(f"Data items ({len(DATA_ITEMS)})")
    journey.check()
    save_and_continue(journey, then="Legal basis")

    expect(page.get_by_text("which is the usual basis for public bodies")).to_be_visible()
    page.get_by_label("6(1)(e) Public task").check()
    page.get_by_label("9(2)(h) Health or social care").check()
    page.get_by_label("DPA 2018 Schedule 1 condition").select_option(
        label="Schedule 1 paragraph 2: Health or social care purposes"
    )
    # The library's statutes are found by typing; only what matches and what is chosen shows.
    care_act = page.get_by_label("Care Act 2014", exact=True)
    expect(care_act).to_be_hidden()
    page.get_by_label("Find legislation").press_sequentially("care act")
    expect(care_act).to_be_visible()
    expect(page.get_by_label("Children Act 1989", exact=True)).to_be_hidden()
    care_act.check()
    expect(page.get_by_text("Sections 2, 6, 7 and 42 to 45.")).to_be_visible()
    page.get_by_label("Legal requirement or court order").check()
    journey.check()
    save_and_continue(journey, then="Responsibilities of the parties")

    page.get_by_label("Joint controllers: the single contact point for individuals").fill(
        "The Connect Programme, Adult Social Care"
    )
    save_and_continue(journey, then="Data subject rights")
    rights = page.get_by_role("group", name="Rights that apply to this sharing")
    expect(rights.get_by_label("Article 15 Right of access")).to_be_checked()
    expect(rights.get_by_label("Article 17 Right to erasure")).not_to_be_checked()
    save_and_continue(journey, then="Security")
    # The template's placeholders are replaced with what the parties actually do.
    page.get_by_label("Text").fill(
        "Extracts move by encrypted e-mail between the two data protection teams; copies are "
        "kept on each party's secure network share and nowhere else."
    )
    save_and_continue(journey, then="International transfers")
    page.get_by_label("No", exact=True).check()
    save_and_continue(journey, then="Format and frequency of sharing")
    page.get_by_label("Text").fill("One spreadsheet extract, sent once at the start of the review.")
    save_and_continue(journey, then="Retention and disposal")
    page.get_by_label("Retention period").fill("Until the review ends, then anonymised.")
    save_and_continue(journey, then="Accuracy of information")
    save_and_continue(journey, then="Personal data breaches")
    save_and_continue(journey, then="Complaints and requests")
    save_and_continue(journey, then="Commencement and review")
    page.get_by_label("Date of the next review").fill(
        (today + timedelta(days=365)).strftime("%d/%m/%Y")
    )
    save_and_continue(journey, then="Withdrawal and termination")
    save_and_continue(journey, then="Approval")
    save_and_continue(journey, then=TITLE)  # the last section returns to the task list

    assert blocking(page) == 0
    expect(page.get_by_text("Nothing is missing")).to_be_visible()
    expect(page.get_by_text("You have completed 18 of 18 sections.")).to_be_visible()

    # Reviewed, then sent: every party is asked to sign by e-mail.
    journey.click(page.get_by_role("button", name="Send for review"))
    expect(page.get_by_role("alert")).to_contain_text("The agreement is in review")
    journey.click(page.get_by_role("button", name="Send for signature"))
    expect(page.get_by_role("heading", level=2, name="What will be frozen")).to_be_visible()
    journey.click(page.get_by_role("button", name="Freeze and send for signature"))
    expect(page.get_by_role("heading", level=1, name="Signatories")).to_be_visible()
    expect(page.get_by_text("0 of 2 parties have signed.")).to_be_visible()
    assert journey.page_views <= MAX_PAGE_VIEWS, journey.page_views

    for _partner, signatory in parties:
        (message,) = [
            m
            for m in mail.outbox
            if m.to == [signatory.email] and REFERENCE in m.subject and "/sign/" in m.body
        ]
        signer = Journey(new_context().new_page(), base_url)
        signing = signer.visit(link_in(message, "/sign/"))
        expect(signing.get_by_role("heading", level=1)).to_have_text(f"Sign {TITLE}, version 1.0")
        document = signing.get_by_role("region", name="The document to sign")
        expect(document.get_by_role("heading", name="Data subject rights")).to_be_attached()
        signing.get_by_label("Your full name").fill(signatory.name)
        signing.get_by_label("Your position").fill(signatory.position)
        signing.get_by_role("checkbox", name=re.compile("^I confirm I am authorised")).check()
        signer.click(signing.get_by_role("button", name="Sign", exact=True))
        expect(signing.get_by_role("heading", level=1)).to_have_text("You have signed")
        assert not signer.unchecked

    with scope(partnership=alpha):
        agreement = Agreement.objects.get(reference=REFERENCE)
    assert agreement.status == AgreementStatus.ACTIVE

    page = journey.visit(f"/p/alpha/agreements/{agreement.pk}/signatories/")
    expect(page.get_by_text("2 of 2 parties have signed.")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the PDF with its signatures").click()
    path = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(path)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = " ".join(text.split())
    for _, title in SECTIONS:
        assert title in flat, title
    for name, ico, *_ in PARTIES:
        assert ico in flat and name in flat
    assert re.search(r"Right to erasure\s+✗ No", text)
    assert "Care Act 2014" in flat


def test_the_other_drafting_pages_are_accessible(journey, new_context, base_url, alpha, parties):
    """Pages the journey above does not reach: the template, the whole agreement, editors,
    a conflicting save, comments, a read-only section and the lifecycle forms."""
    from agreements import services

    from ..factories import make_agreement

    (ecc, _), (ecl, _) = parties
    officer = make_member(alpha, Role.IG_OFFICER, organisation=ecc.organisation).user
    make_member(alpha, Role.VIEWER, organisation=ecl.organisation)  # a possible editor
    agreement = make_agreement(alpha, lead=ecc, others=[ecl], reference="ISA-9", by=officer)
    base = f"/p/alpha/agreements/{agreement.pk}"

    journey.sign_in_as(officer)
    for path in ("/p/alpha/agreements/template/", f"{base}/preview/", f"{base}/editors/"):
        journey.visit(path)

    # Two people save the same section: the later one is told, with both texts.
    page = journey.visit(f"{base}/sections/purpose/")
    with scope(partnership=alpha):
        section = agreement.sections.get(key="purpose")
        section.agreement = agreement
        services.save_section(
            section, expected_version=1, completed=False, body="Their text", by=officer
        )
    page.get_by_label("Text").fill("My text")
    page.get_by_label("No, I'll come back to it later").check()
    journey.click(page.get_by_role("button", name="Save and continue"))
    expect(page.get_by_text("Someone else has saved this section")).to_be_visible()
    expect(page.get_by_label("Text (optional)", exact=True)).to_have_value("My text")
    expect(page.get_by_label(re.compile("^Text saved by"))).to_have_value("Their text")

    # A comment is raised and resolved.
    page.get_by_label("Add a comment").fill("Say which quadrants are covered.")
    journey.click(page.get_by_role("button", name="Add the comment"))
    expect(page.get_by_text("Say which quadrants are covered.")).to_be_visible()
    journey.click(page.get_by_role("button", name=re.compile("^Resolve")))
    expect(page.get_by_text("Resolved by")).to_be_visible()

    with scope(partnership=alpha):
        item = agreement.data_items.get()
    journey.visit(f"{base}/items/{item.pk}/delete/")
    journey.visit(f"{base}/items/{item.pk}/")

    # In review, with things still missing: the send page says what.
    page = journey.visit(f"{base}/")
    journey.click(page.get_by_role("button", name="Send for review"))
    expect(page.get_by_role("button", name="Send for signature")).to_be_disabled()
    page = journey.visit(f"{base}/send/")
    expect(page.get_by_text("The agreement is not complete")).to_be_visible()
    journey.visit(f"{base}/return/")

    with scope(partnership=alpha):
        Agreement.objects.filter(pk=agreement.pk).update(status=AgreementStatus.ACTIVE)
    journey.visit(f"{base}/terminate/")
    journey.visit(f"{base}/new-version/")
    journey.visit(f"{base}/signatories/")

    # Someone who may only read sees the section without a form.
    reader = Journey(new_context().new_page(), base_url)
    reader.sign_in_as(make_member(alpha, Role.VIEWER).user)
    page = reader.visit(f"{base}/sections/legal_basis/")
    expect(page.get_by_role("button", name="Save and continue")).to_have_count(0)
    reader.visit("/p/alpha/agreements/drafts/")
    assert not reader.unchecked
