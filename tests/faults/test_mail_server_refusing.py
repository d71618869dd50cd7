"""The mail server refusing: a temporary refusal (451) is retried after the first backoff and
delivered once when the server accepts again; a permanent one (550) fails the message at once
with the server's reason, listed for the partnership's administrators."""

from __future__ import annotations

import html
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone
from django_scopes import scope

from accord.kernel import outbox
from accord.kernel.models import OutboxMessage

Status = OutboxMessage.Status


def stored(partnership, to: str, subject: str = "Please sign the protocol") -> OutboxMessage:
    """A message stored by a change in the partnership (not queued: the test delivers)."""
    with scope(partnership=partnership):
        return outbox.enqueue(to=[to], subject=subject, text=f"Hello {to}")


def reload(message: OutboxMessage) -> OutboxMessage:
    return OutboxMessage.objects.get(pk=message.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_mail_server_refusing_with_451_has_the_message_retried_then_delivered_once(
    mail_server, alpha, stage
):
    message = stored(alpha, "jane.smith@luton.gov.uk")
    mail_server.refuse(451, "4.7.1 Greylisted, please try again later", at=stage)

    before = timezone.now()
    assert outbox.deliver_due() == 0
    after = timezone.now()

    tried = reload(message)
    assert tried.status == Status.QUEUED
    assert tried.attempts == 1
    assert before + outbox.BACKOFF[0] - timedelta(seconds=1) <= tried.next_attempt_at
    assert tried.next_attempt_at <= after + outbox.BACKOFF[0] + timedelta(seconds=1)
    assert "451" in tried.last_error
    assert "Greylisted" in tried.last_error
    assert tried.sent_at is None
    assert mail_server.received == []

    mail_server.accept()
    # Not before its time: the next sweep leaves it alone.
    assert outbox.deliver_due() == 0
    assert mail_server.received == []

    later = tried.next_attempt_at + timedelta(seconds=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        assert outbox.deliver_due() == 1
        assert outbox.deliver_due() == 0
    assert outbox.deliver_due() == 0

    (received,) = mail_server.received
    assert received.message_id == str(message.pk)
    assert received.to == ("jane.smith@luton.gov.uk",)
    assert received.subject == "Please sign the protocol"
    sent = reload(message)
    assert (sent.status, sent.attempts, sent.last_error) == (Status.SENT, 2, "")
    assert sent.sent_at == later


@pytest.mark.django_db
def test_mail_server_refusing_a_recipient_with_550_fails_the_message_at_once_with_the_reason(
    mail_server, alpha, beta, client, alice
):
    mail_server.refuse_address(
        "gone@luton.gov.uk", 550, "5.1.1 <gone@luton.gov.uk>: Recipient address rejected"
    )
    refused = stored(alpha, "gone@luton.gov.uk", "You are invited to join Alpha Partnership")
    fine = stored(alpha, "jane.smith@luton.gov.uk")
    elsewhere = stored(beta, "gone@luton.gov.uk", "You are invited to join Beta Partnership")

    assert outbox.deliver_due() == 1

    failed = reload(refused)
    assert failed.status == Status.FAILED
    assert failed.attempts == 1
    assert "gone@luton.gov.uk: 550" in failed.last_error
    assert "Recipient address rejected" in failed.last_error
    assert reload(fine).status == Status.SENT
    assert [r.message_id for r in mail_server.received] == [str(fine.pk)]
    assert mail_server.refused == [("gone@luton.gov.uk", 550)] * 2  # Alpha's and Beta's

    # Never tried again, however many sweeps run.
    with mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days=2)):
        assert outbox.deliver_due() == 0
    assert reload(refused).attempts == 1
    assert len(mail_server.refused) == 2

    # Listed for the partnership it belongs to, and only that one.
    assert list(OutboxMessage.objects.filter(partnership_id=alpha.pk, status=Status.FAILED)) == [
        failed
    ]
    assert list(OutboxMessage.objects.filter(partnership_id=beta.pk, status=Status.FAILED)) == [
        reload(elsewhere)
    ]
    client.force_login(alice)
    page = client.get("/p/alpha/mail/")
    assert page.status_code == 200
    text = html.unescape(page.content.decode())
    assert "gone@luton.gov.uk" in text
    assert "Recipient address rejected" in text
    assert "You are invited to join Alpha Partnership" in text
    assert "Beta Partnership" not in text
