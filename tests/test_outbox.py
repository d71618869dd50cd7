"""Every e-mail goes through the outbox: stored with the change, delivered once, retried,
and, when it cannot be, shown to the partnership's administrators with a resend."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accord.kernel import outbox
from accord.kernel.mail import send_templated_email
from accord.kernel.models import OutboxMessage
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .factories import make_member, make_outbox_message

pytestmark = pytest.mark.django_db
Status = OutboxMessage.Status


def stored(**filters) -> list[OutboxMessage]:
    return list(OutboxMessage.objects.filter(**filters).order_by("pk"))


def queue_one(**fields) -> OutboxMessage:
    """A message stored outside any change (its on-commit queueing not run)."""
    return OutboxMessage.objects.create(
        to=["dana@example.org"], subject="Hello", text="Hello Dana", **fields
    )


def invitation_context(partnership) -> dict:
    return {
        "partnership": partnership,
        "invitation": {
            "full_name": "Dana Scully",
            "invited_by": {"full_name": "Alice Smith"},
            "organisation": "Luton Borough Council",
            "role_labels": ["Viewer"],
            "expires_at": timezone.now() + timedelta(days=14),
        },
        "link": "https://accord.example.org/invitations/abc/",
    }


def test_an_email_is_stored_with_the_change_and_sent_once_it_commits(
    alpha, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        send_templated_email("invitation", ["Dana@Example.org"], invitation_context(alpha))
        (message,) = stored()
        assert message.status == Status.QUEUED
        assert mail.outbox == []  # nothing leaves before the change is saved

    (sent,) = mail.outbox
    assert sent.to == ["dana@example.org"]
    assert sent.subject == "You are invited to join Alpha Partnership on Accord"
    message.refresh_from_db()
    assert message.status == Status.SENT and message.sent_at is not None
    assert message.template == "invitation"


def test_a_rolled_back_change_stores_and_sends_nothing(alpha, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_templated_email("invitation", ["lost@example.org"], invitation_context(alpha))
        raise RuntimeError("the change fails")
    assert stored() == []
    assert mail.outbox == []


def test_a_down_broker_delays_the_email_and_the_sweep_sends_it(
    alpha, django_capture_on_commit_callbacks, caplog
):
    with (
        mock.patch.object(outbox.deliver_message, "delay", side_effect=ConnectionError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_templated_email("invitation", ["dana@example.org"], invitation_context(alpha))
    assert mail.outbox == []
    assert "it waits for the sweep" in caplog.text
    (message,) = stored()
    assert message.status == Status.QUEUED

    assert outbox.deliver_due() == 1
    assert outbox.deliver_due() == 0
    assert [m.to for m in mail.outbox] == [["dana@example.org"]]


def test_a_message_is_claimed_once_so_two_deliveries_send_it_once():
    message = queue_one()
    assert outbox.claim(message.pk) is not None
    assert outbox.claim(message.pk) is None
    assert outbox.deliver(message.pk) is False
    assert mail.outbox == []


def test_a_temporary_failure_is_tried_again_later_with_its_reason():
    message = queue_one()
    refusal = smtplib.SMTPResponseException(451, b"Try again later")
    with mock.patch.object(outbox, "_send", side_effect=refusal):
        assert outbox.deliver(message.pk) is False
    message.refresh_from_db()
    assert message.status == Status.QUEUED
    assert message.attempts == 1
    assert "451" in message.last_error
    wait = message.next_attempt_at - timezone.now()
    assert outbox.BACKOFF[0] - timedelta(seconds=5) < wait <= outbox.BACKOFF[0]
    assert outbox.deliver_due() == 0  # not due yet

    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbox.deliver_due() == 1
    message.refresh_from_db()
    assert message.status == Status.SENT and message.last_error == ""


def test_a_refused_address_fails_at_once_and_a_message_failing_every_try_fails_at_the_last():
    refused = queue_one()
    error = smtplib.SMTPRecipientsRefused({"dana@example.org": (550, b"No such user")})
    with mock.patch.object(outbox, "_send", side_effect=error):
        outbox.deliver(refused.pk)
    refused.refresh_from_db()
    assert refused.status == Status.FAILED
    assert refused.last_error == "Refused by the mail server: dana@example.org: 550 No such user"

    flaky = queue_one(attempts=outbox.MAX_ATTEMPTS - 1)
    with mock.patch.object(outbox, "_send", side_effect=ConnectionRefusedError("closed")):
        outbox.deliver(flaky.pk)
    flaky.refresh_from_db()
    assert flaky.status == Status.FAILED
    assert flaky.attempts == outbox.MAX_ATTEMPTS
    assert "ConnectionRefusedError" in flaky.last_error


def test_a_claim_left_by_a_worker_that_died_is_released_and_the_message_sent():
    message = queue_one(status=Status.SENDING, claimed_at=timezone.now() - outbox.STALE_CLAIM * 2)
    recent = queue_one(status=Status.SENDING, claimed_at=timezone.now())
    assert outbox.deliver_due() == 1
    message.refresh_from_db()
    recent.refresh_from_db()
    assert message.status == Status.SENT
    assert recent.status == Status.SENDING  # its worker may still be sending it


def test_an_email_sent_in_a_partnership_is_its_own(alpha, django_capture_on_commit_callbacks):
    from django_scopes import scope

    with scope(partnership=alpha), django_capture_on_commit_callbacks(execute=True):
        send_templated_email("invitation", ["dana@example.org"], invitation_context(alpha))
    (message,) = stored()
    assert message.partnership_id == alpha.pk


# --- The undelivered mail page ------------------------------------------------------------


def mail_page(slug: str = "alpha") -> str:
    return reverse("tenancy:mail", kwargs={"partnership_slug": slug})


def test_administrators_see_what_was_not_delivered_and_why(client, alpha, beta, alice):
    make_outbox_message(alpha, to=["wrong@example.org"])
    make_outbox_message(
        alpha,
        to=["slow@example.org"],
        status=Status.QUEUED,
        attempts=2,
        last_error="SMTPResponseException: (451, b'Try again later')",
    )
    make_outbox_message(alpha, to=["fine@example.org"], status=Status.SENT, last_error="")
    make_outbox_message(beta, to=["beta@example.org"])
    client.force_login(alice)

    page = client.get(mail_page()).content.decode()

    assert "wrong@example.org" in page and "550 No such user" in page
    assert "Not delivered" in page
    assert "slow@example.org" in page and "Trying again" in page
    assert "fine@example.org" not in page
    assert "beta@example.org" not in page
    dashboard = client.get(reverse("tenancy:dashboard", kwargs={"partnership_slug": "alpha"}))
    assert "E-mails not delivered" in dashboard.content.decode()


def test_an_administrator_sends_a_failed_email_again(
    client, alpha, alice, django_capture_on_commit_callbacks
):
    message = make_outbox_message(alpha, to=["fixed@example.org"])
    client.force_login(alice)
    url = reverse(
        "tenancy:resend_mail", kwargs={"partnership_slug": "alpha", "message_id": message.pk}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)

    assert "The e-mail to fixed@example.org will be sent again now." in response.content.decode()
    message.refresh_from_db()
    assert message.status == Status.SENT
    assert [m.to for m in mail.outbox] == [["fixed@example.org"]]
    from django_scopes import scope

    with scope(partnership=alpha):
        assert AuditEntry.objects.filter(action="mail.resent").count() == 1
    assert client.get(url).status_code == 405


def test_only_administrators_see_the_undelivered_mail(client, alpha):
    viewer = make_member(alpha, Role.DPO).user
    client.force_login(viewer)
    assert client.get(mail_page()).status_code == 403
