"""What partners and the lead rely on around signing: the lead is told when a partner
declines, runs out of reminders or lets its link expire; an expired link shows in the
signatories table with a new link to send; a new link keeps the reminders already sent; the
signer gets the document as signed, and can reload the confirmation."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accord.kernel.models import Clock
from protocols import services
from protocols.models import ProtocolVersion
from signatories import clocks as signing_clocks
from signatories import signables, signing
from signatories.models import RequestStatus, SignatureRequest
from tenancy.models import Membership
from tenancy.roles import Role

from .factories import (
    OrganisationFactory,
    facts_changed,
    make_member,
    make_partner,
    make_protocol,
    make_signatory,
)
from .pages import page_text
from .test_protocols import approved, fresh, latest, version_url

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"'<>]+/sign/([A-Za-z0-9_-]+)/")
LEAD = "Central Bedfordshire Council"
LUTON = "Luton Borough Council"
TITLE = "Bedfordshire information sharing protocol"


@pytest.fixture(autouse=True)
def _pdfs(pdf_storage):
    """Answers re-render the protocol's PDF: stored under a temporary folder, sealed."""


# --- Who leads the protocol, and who does not -------------------------------------------------


@pytest.fixture
def lead(alpha):
    return make_partner(alpha, OrganisationFactory(name=LEAD))


@pytest.fixture
def luton(alpha):
    partner = make_partner(alpha, OrganisationFactory(name=LUTON))
    make_signatory(
        partner, name="Jane Smith", position="Chief Executive", email="jane.smith@luton.gov.uk"
    )
    return partner


@pytest.fixture
def drafter(alpha, lead):
    """An IG officer of the lead organisation, verified for it: one of the lead's people."""
    return make_member(alpha, Role.IG_OFFICER, organisation=lead.organisation).user


@pytest.fixture
def sender(alpha):
    """The partnership's administrator, acting for another organisation, who sends it."""
    office = make_partner(alpha, OrganisationFactory(name="Partnership Office"))
    return make_member(alpha, Role.ADMINISTRATOR, organisation=office.organisation).user


@pytest.fixture
def not_the_lead(alpha, lead, luton):
    """People who are not told: the lead's unverified drafter and its viewer, another
    organisation's drafter and another administrator."""
    return [
        make_member(alpha, Role.IG_OFFICER, organisation=lead.organisation, verified=False).user,
        make_member(alpha, Role.VIEWER, organisation=lead.organisation).user,
        make_member(alpha, Role.IG_OFFICER, organisation=luton.organisation).user,
        make_member(alpha, Role.ADMINISTRATOR).user,
    ]


@pytest.fixture
def version(alpha, lead, luton, drafter, sender, not_the_lead) -> ProtocolVersion:
    """Version 1.0, sent by `sender` to the lead and Luton (each with a signatory)."""
    make_signatory(lead, name="Sam Lee", position="Senior Information Risk Owner")
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=lead.organisation).user
    protocol = make_protocol(alpha, title=TITLE, lead=lead, by=drafter)
    version = approved(latest(protocol), drafter, steering)
    with scope(partnership=alpha):
        services.send_for_signature(version, [lead, luton], by=sender)
    mail.outbox.clear()
    return fresh(version)


def request_of(version: ProtocolVersion, partner) -> SignatureRequest:
    with scope(partnership=version.partnership):
        return SignatureRequest.objects.get(
            document_id=version.document_id,
            partner=partner,
            status__in=[RequestStatus.SENT, RequestStatus.OPENED],
        )


def told(subject: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if subject in m.subject]


def recipients(messages) -> list[str]:
    """Each message goes to one person, so nobody sees who else was told."""
    assert all(len(m.to) == 1 for m in messages)
    return sorted(m.to[0] for m in messages)


def page_link(version: ProtocolVersion) -> str:
    return settings.SITE_URL + version_url("version", version)


def a_link_for(version, partner, django_capture_on_commit_callbacks) -> str:
    """A working link to the partner's request (sent again, so its secret is known)."""
    with scope(partnership=version.partnership), django_capture_on_commit_callbacks(execute=True):
        signing.reissue(request_of(version, partner), by=None)
    (token,) = set(LINK.findall(mail.outbox[-1].body))
    mail.outbox.clear()
    return token


def answer(client, token: str, **data):
    form = {
        "name": "Jane Smith",
        "position": "Chief Executive",
        "confirmed": "on",
        "action": "sign",
        **data,
    }
    return client.post(reverse("signing:sign", kwargs={"token": token}), form)


def test_the_lead_is_its_verified_drafters_and_the_sender(
    alpha, version, drafter, sender, not_the_lead
):
    with scope(partnership=alpha):
        found = signables.lead_emails(version.document, requested_by=sender)
        without_sender = signables.lead_emails(version.document)

    assert found == sorted([drafter.email, sender.email])
    assert without_sender == [drafter.email]


def test_with_nobody_leading_the_administrators_are_told(alpha, version, drafter, sender):
    with scope(partnership=alpha):
        Membership.objects.filter(user=drafter).update(is_ig_officer=False, is_viewer=True)
        found = signables.lead_emails(version.document)
        admins = Membership.objects.filter(is_administrator=True).values_list(
            "user__email", flat=True
        )

    assert found == sorted(admins)
    assert len(found) == 2
    assert sender.email in found


# --- A. The lead is told ---------------------------------------------------------------------


def test_a_decline_emails_the_lead_with_the_reason(
    committing_client, version, luton, drafter, sender, django_capture_on_commit_callbacks
):
    token = a_link_for(version, luton, django_capture_on_commit_callbacks)

    response = answer(
        committing_client,
        token,
        confirmed="",
        action="decline",
        reason="Our legal team has not reviewed section 4.",
    )

    assert response.status_code == 302
    messages = told(f"{LUTON} declined to sign {TITLE}, version 1.0")
    assert recipients(messages) == sorted([drafter.email, sender.email])
    body, html = messages[0].body, messages[0].alternatives[0][0]
    assert "Their reason: Our legal team has not reviewed section 4." in body
    assert "Declined by: Jane Smith (Chief Executive)" in body
    assert page_link(version) in body
    assert f'href="{page_link(version)}"' in html
    assert "Our legal team has not reviewed section 4." in html


def test_a_signature_does_not_email_the_lead(
    committing_client, version, luton, django_capture_on_commit_callbacks
):
    token = a_link_for(version, luton, django_capture_on_commit_callbacks)

    answer(committing_client, token)

    assert [m.to for m in mail.outbox] == [["jane.smith@luton.gov.uk"]]  # the confirmation


def remind(request: SignatureRequest, django_capture_on_commit_callbacks) -> int:
    """Let a cadence pass since the request was sent and last reminded; run the sweep."""
    eight_days_ago = timezone.now() - timedelta(days=8)
    with scopes_disabled():
        stored = SignatureRequest.objects.filter(pk=request.pk)
        stored.update(sent_at=eight_days_ago)
        stored.filter(last_reminded_at__isnull=False).update(last_reminded_at=eight_days_ago)
    facts_changed(SignatureRequest, request.pk)
    with django_capture_on_commit_callbacks(execute=True):
        return signing_clocks.send_due_reminders()


def test_exhausted_reminders_email_the_lead_once(
    alpha, version, luton, drafter, sender, django_capture_on_commit_callbacks
):
    request = request_of(version, luton)
    subject = f"{LUTON} has not answered after 3 reminders to sign {TITLE}, version 1.0"

    for number in (1, 2):
        assert remind(request, django_capture_on_commit_callbacks) == 1, number
        assert told(subject) == []
    assert remind(request, django_capture_on_commit_callbacks) == 1
    messages = told(subject)
    assert recipients(messages) == sorted([drafter.email, sender.email])
    assert "sent its last reminder (3 of 3)" in messages[0].body
    assert "No more reminders will be sent." in messages[0].body
    assert page_link(version) in messages[0].body

    assert remind(request, django_capture_on_commit_callbacks) == 0  # none left to send
    assert len(told(subject)) == 2
    assert len(told("Reminder: please sign")) == 3


def expire(request: SignatureRequest) -> None:
    with scopes_disabled():
        SignatureRequest.objects.filter(pk=request.pk).update(
            sent_at=timezone.now() - timedelta(days=31),
            expires_at=timezone.now() - timedelta(minutes=1),
        )
    facts_changed(SignatureRequest, request.pk)


def test_an_expired_link_emails_the_lead_once(
    alpha, version, luton, drafter, sender, django_capture_on_commit_callbacks
):
    expire(request_of(version, luton))

    with django_capture_on_commit_callbacks(execute=True):
        assert signing_clocks.expire_due_links() == 1
        assert signing_clocks.expire_due_links() == 0

    messages = told(f"{LUTON}'s link to sign {TITLE}, version 1.0, has expired")
    assert recipients(messages) == sorted([drafter.email, sender.email])
    assert "without an answer" in messages[0].body
    assert page_link(version) in messages[0].body
    assert len(mail.outbox) == 2


# --- B. The signatories table shows the expired link, with a new one to send ------------------


def test_the_table_shows_link_expired_and_sends_a_new_link(
    committing_client, alpha, version, luton, sender
):
    expire(request_of(version, luton))
    committing_client.force_login(sender)
    table = version_url("signatories", version)

    page = committing_client.get(table)

    text = page_text(page)
    assert text.count("Link expired") == 1
    assert re.search(rf"{LUTON} .*Link expired", text)
    assert "Send a new link to Luton Borough Council" in text
    old = request_of(version, luton)
    resend = reverse(
        "signatories:resend", kwargs={"partnership_slug": "alpha", "request_id": old.pk}
    )
    assert f'action="{resend}"' in page.content.decode()

    sent = committing_client.post(resend, {"next": table})

    assert sent.status_code == 302
    assert sent["Location"] == table
    (message,) = mail.outbox
    assert message.to == ["jane.smith@luton.gov.uk"]
    (token,) = set(LINK.findall(message.body))
    assert committing_client.get(reverse("signing:sign", kwargs={"token": token})).status_code == (
        200
    )
    text = page_text(committing_client.get(table))
    assert "Link expired" not in text
    assert "Send a new link" not in text


def test_only_those_who_may_send_links_are_offered_a_new_one(
    client, alpha, version, luton, drafter
):
    expire(request_of(version, luton))
    client.force_login(drafter)

    page = client.get(version_url("signatories", version))
    resend = reverse(
        "signatories:resend",
        kwargs={"partnership_slug": "alpha", "request_id": request_of(version, luton).pk},
    )

    assert "Link expired" in page_text(page)
    assert "Send a new link" not in page_text(page)
    assert client.post(resend).status_code == 403


# --- C. A new link keeps the reminders already sent -------------------------------------------


def test_a_new_link_keeps_the_reminder_count(
    alpha, version, luton, sender, django_capture_on_commit_callbacks
):
    request = request_of(version, luton)
    for _ in range(2):
        assert remind(request, django_capture_on_commit_callbacks) == 1

    with scope(partnership=alpha), django_capture_on_commit_callbacks(execute=True):
        renewed = signing.reissue(request, by=sender)

    assert renewed.reminders_sent == 2
    (clock,) = Clock.objects.filter(
        kind="signing.reminder", subject=f"signatories.signaturerequest:{renewed.pk}"
    ).filter(done_at__isnull=True)
    # The next reminder follows the new link by a whole cadence.
    assert clock.due_at == renewed.sent_at + timedelta(days=renewed.remind_every_days)

    assert remind(renewed, django_capture_on_commit_callbacks) == 1
    assert remind(renewed, django_capture_on_commit_callbacks) == 0
    reminders = [m for m in told("Reminder: please sign") if m.to == ["jane.smith@luton.gov.uk"]]
    assert len(reminders) == renewed.max_reminders == 3


# --- D. The signer gets the document, and can reload the confirmation ------------------------


def pdf_text(response, path) -> str:
    path.write_bytes(b"".join(response.streaming_content))
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def test_the_confirmation_links_to_the_pdf_as_signed(
    committing_client, client, alpha, version, lead, luton, tmp_path,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    token = a_link_for(version, luton, django_capture_on_commit_callbacks)

    done = answer(committing_client, token)["Location"]
    page = committing_client.get(done)

    text = page_text(page)
    assert "The information sharing protocol comes into force once every partner asked" in text
    assert "So far 1 of the 2 partners asked has signed." in text
    (href,) = re.findall(r'href="(/signed/[^"]+/pdf/)"', page.content.decode())
    assert "Download the information sharing protocol as signed (PDF)" in text
    (confirmation,) = mail.outbox
    assert settings.SITE_URL + href in confirmation.body
    assert "So far 1 of the 2 partners asked has signed." in confirmation.body

    download = client.get(href)  # another browser, no account: the link is the key

    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"] == (
        'attachment; filename="bedfordshire-information-sharing-protocol-v1.0.pdf"'
    )
    text = pdf_text(download, tmp_path / "first.pdf")
    today = timezone.localdate()
    # In the signatories table: Luton signed today, by Jane Smith; the lead has not yet.
    assert re.search(
        rf"^\s*{LUTON}\s+Jane Smith\s+Chief Executive\s+{today.day} {today:%B %Y}", text, re.M
    )
    assert re.search(rf"^\s*{LEAD}\s+Sent\s*$", text, re.M)

    # The lead signs: the same link serves the PDF as it now stands.
    with scope(partnership=alpha):
        lead_request = request_of(version, lead)
        signing.sign(
            lead_request,
            name="Sam Lee",
            position="Senior Information Risk Owner",
            confirmed=True,
            ip_address=None,
            user_agent="",
        )
    again = pdf_text(client.get(href), tmp_path / "again.pdf")
    assert re.search(rf"^\s*{LUTON}\s+Jane Smith\s+Chief Executive", again, re.M)
    assert re.search(r"^\s*Central Bedfordshire( Council)?\s+Sam Lee\s+Senior", again, re.M)
    text = page_text(committing_client.get(done))
    assert (
        "Every partner asked has now signed, so the information sharing protocol is in force"
        in (text)
    )


def test_reloading_the_confirmation_shows_it_again(
    committing_client, version, luton, django_capture_on_commit_callbacks
):
    token = a_link_for(version, luton, django_capture_on_commit_callbacks)
    done = answer(committing_client, token)["Location"]

    first = committing_client.get(done)
    second = committing_client.get(done)

    assert first.status_code == second.status_code == 200
    assert page_text(second) == page_text(first)
    assert "You have signed" in page_text(second)
    assert f"{TITLE}, version 1.0, for {LUTON}" in page_text(second)


def test_a_decliner_is_told_what_happens_next(
    committing_client, version, luton, django_capture_on_commit_callbacks
):
    token = a_link_for(version, luton, django_capture_on_commit_callbacks)

    done = answer(committing_client, token, confirmed="", action="decline", reason="Not yet.")

    text = page_text(committing_client.get(done["Location"]))
    assert "You have declined to sign" in text
    assert "The people leading the information sharing protocol have been told" in text
