"""What a signatory of an agreement signs and what its PDF shows: the summary sheet (parties'
addresses, contacts and data protection officers) inside the signed text, once in the PDF;
one wording of the agreement's end; a cover naming the partnership and the parties. Also: the
template page reads without saving, and the dashboard counts what the register lists."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from datetime import date

import pypdf
import pytest
from django.core import mail
from django.urls import reverse
from django_scopes import scope

from agreements.models import AgreementTemplate
from agreements.services.rendering import end_wording
from documents.pdf import render_pdf
from protocols.pdf import pdf_content as protocol_pdf_content
from tenancy.models import AuditEntry

from . import test_agreements as base
from . import test_agreements_lifecycle as lifecycle
from . import test_protocols_signing as protocols
from .factories import make_agreement
from .pages import messages_of, page_text
from .test_agreements import agreement_url, audit, form_values, fresh, url

pytestmark = pytest.mark.django_db

# The seed-002 parties, the lead's IG officer and their agreement, drafted, sent and signed.
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer
complete, sent, active = lifecycle.complete, lifecycle.sent, lifecycle.active
# A protocol of four partners, approved by the steering group.
partners, lead, manager, steering = (
    protocols.partners,
    protocols.lead,
    protocols.manager,
    protocols.steering,
)
protocol, ready = protocols.protocol, protocols.ready

SIGNING_LINK = re.compile(r"https?://[^\s\"'<>]+(/sign/[A-Za-z0-9_-]+/)")
# What the summary sheet says of each party, from its organisation record.
SUMMARY_SHEET = (
    "Essex County Council",
    "County Hall, Market Road, Chelmsford CM1 1QH",
    "0345 743 0430",
    "dpo@example.gov.uk",
    "Priya Shah",
    "Z6034810",
    "Essex Cares Ltd",
    "Seax House, Victoria Road, Chelmsford CM1 1QH",
    "0333 013 5438",
    "dataprotection@example.org",
    "Tom Reid",
    "Z1801658",
)
ONE_OFF = "None: a one-off exchange"
# The other wordings the same agreement's end once had.
OLD_WORDINGS = ("None (one-off exchange)", "until terminated", "End date: none")


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_of(client, agreement) -> bytes:
    response = client.get(agreement_url("pdf", agreement))
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def pdf_text(data: bytes, tmp_path) -> str:
    """The PDF's text in the order it is written, so a table cell's lines stay together."""
    path = tmp_path / "agreement.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def cover_text(data: bytes) -> str:
    return flat(pypdf.PdfReader(io.BytesIO(data)).pages[0].extract_text())


# --- What is signed ---------------------------------------------------------------------------


@pytest.fixture
def sent_by_email(committing_client, complete, officer):
    """The complete agreement sent for signature, the signing e-mails delivered."""
    committing_client.force_login(officer)
    assert committing_client.post(agreement_url("submit", complete)).status_code == 302
    assert committing_client.post(agreement_url("send", complete)).status_code == 302
    return fresh(complete)


def test_the_signing_page_shows_both_parties_addresses_contacts_and_dpos(client, sent_by_email):
    sent = sent_by_email
    links = [
        path
        for message in mail.outbox
        if message.subject.startswith("Please sign")
        for path in SIGNING_LINK.findall(message.body)
    ]
    assert len(links) == 2  # one for each party's signatory
    client.logout()

    response = client.get(links[0])

    assert response.status_code == 200
    text = flat(page_text(response))
    for expected in SUMMARY_SHEET:
        assert expected in text, expected
    assert "Joint controller" in text
    assert "Lead organisation Essex County Council" in text
    assert f"End date {ONE_OFF}" in text
    with scope(partnership=sent.partnership):
        assert sent.document.sha256 in text


def test_the_frozen_text_holds_the_summary_sheet_and_its_fingerprint_covers_it(alpha, sent):
    with scope(partnership=alpha):
        document = fresh(sent).document
    text = flat(re.sub(r"<[^>]+>", " ", document.html))

    for expected in SUMMARY_SHEET:
        assert expected in text, expected
    assert document.sha256 == hashlib.sha256(document.html.encode("utf-8")).hexdigest()
    # Nothing the parties read lies outside what they sign.
    assert fresh(sent).summary_sheet_html == ""


def test_the_preview_shows_the_summary_sheet_once(client, complete):
    text = flat(page_text(client.get(agreement_url("preview", complete))))
    assert text.count("Seax House, Victoria Road") == 1
    assert text.count("Title of the agreement") == 1


# --- The PDF ----------------------------------------------------------------------------------


def test_the_pdf_prints_the_summary_sheet_and_the_version_control_once(
    client, active, pdf_storage, tmp_path
):
    text = flat(pdf_text(pdf_of(client, active), tmp_path))

    for expected in SUMMARY_SHEET:
        assert expected in text, expected
    assert text.count("Seax House, Victoria Road") == 1
    assert text.count("Title of the agreement") == 1
    assert text.count("Tom Reid") == 1
    # The text's own "Version control" section, and its line in the contents.
    assert text.count("Version control") == 2
    assert "Current version" not in text


def test_the_pdf_words_the_end_of_a_one_off_exchange_one_way(client, active, pdf_storage, tmp_path):
    text = flat(pdf_text(pdf_of(client, active), tmp_path))

    # The cover, the summary sheet and the commencement section.
    assert text.count(ONE_OFF) == 3
    for old in OLD_WORDINGS:
        assert old not in text, old


def test_the_pdf_cover_names_the_partnership_and_the_parties(client, active, pdf_storage):
    cover = cover_text(pdf_of(client, active))

    assert "Partnership Alpha Partnership" in cover
    assert "Essex Cares Ltd" in cover and "Essex County Council" in cover
    assert f"End date {ONE_OFF}" in cover


def test_a_protocols_pdf_cover_names_its_partnership(alpha, ready, partners, manager):
    sent_version = protocols.send(ready, partners, manager)
    with scope(partnership=alpha):
        content = protocol_pdf_content(protocols.fresh(sent_version))
        cover = cover_text(render_pdf(content))

    assert content.partnership == "Alpha Partnership"
    assert "Partnership Alpha Partnership" in cover
    assert "Alpha information sharing protocol" in cover


# --- One end-date wording -----------------------------------------------------------------------


def test_the_end_of_an_agreement_is_worded_one_way(alpha, agreement):
    with scope(partnership=alpha):
        agreement.ongoing, agreement.end_date = False, None
        assert end_wording(agreement) == "None: a one-off exchange"
        agreement.ongoing = True
        assert end_wording(agreement) == "None: until terminated"
        agreement.end_date = date(2027, 3, 31)
        assert end_wording(agreement) == "31 March 2027"
        agreement.ongoing = False
        assert end_wording(agreement) == "31 March 2027"


def test_the_agreements_page_and_its_text_word_the_end_the_same_way(client, complete):
    detail = flat(page_text(client.get(agreement_url("detail", complete))))
    preview = flat(page_text(client.get(agreement_url("preview", complete))))

    assert f"End date {ONE_OFF}" in detail
    # The summary sheet and the commencement section.
    assert preview.count(ONE_OFF) == 2
    for old in OLD_WORDINGS:
        assert old not in preview, old


# --- The template page --------------------------------------------------------------------------


def test_reading_the_template_page_saves_nothing(client, alpha, officer):
    client.force_login(officer)
    with scope(partnership=alpha):
        entries = AuditEntry.objects.count()

    response = client.get(url("template"))

    assert response.status_code == 200
    text = page_text(response)
    assert "Version 1" in text and "Summary sheet" in text and "Purpose" in text
    with scope(partnership=alpha):
        assert not AgreementTemplate.objects.exists()
        assert AuditEntry.objects.count() == entries


def test_saving_the_template_page_unchanged_copies_nothing(client, alpha, officer):
    client.force_login(officer)
    data = form_values(client.get(url("template")), containing="name")

    response = client.post(url("template"), data, follow=True)

    assert "Nothing had changed" in messages_of(response)[-1]
    with scope(partnership=alpha):
        assert not AgreementTemplate.objects.exists()
    assert audit(alpha, "agreement_template.created") == []


def test_a_refused_first_save_of_the_template_copies_nothing(client, alpha, officer):
    client.force_login(officer)
    data = form_values(client.get(url("template")), containing="name")
    data["purpose-title"] = [""]

    response = client.post(url("template"), data)

    assert response.status_code == 200
    assert "Enter a title for the section “Purpose”." in page_text(response)
    with scope(partnership=alpha):
        assert not AgreementTemplate.objects.exists()
    assert audit(alpha, "agreement_template.created") == []


def test_the_first_change_to_the_template_copies_it_and_saves_the_change(client, alpha, officer):
    client.force_login(officer)
    data = form_values(client.get(url("template")), containing="name")
    data["security-body"] = ["Everything is encrypted."]

    response = client.post(url("template"), data, follow=True)

    assert "saved as version 2" in messages_of(response)[-1]
    with scope(partnership=alpha):
        template = AgreementTemplate.objects.get()
        assert template.sections.get(key="security").body == "Everything is encrypted."
    assert len(audit(alpha, "agreement_template.created")) == 1
    assert len(audit(alpha, "agreement_template.changed")) == 1


# --- The dashboard ------------------------------------------------------------------------------


def test_the_dashboard_counts_the_agreements_the_register_lists(client, alpha, officer):
    make_agreement(alpha, by=officer)  # one draft
    client.force_login(officer)

    register = page_text(client.get(reverse("agreements:register", args=["alpha"])))
    dashboard = client.get("/p/alpha/").content.decode()

    assert "1 agreement" in register
    assert '<span class="accord-card__count">1</span> Agreements' in dashboard
