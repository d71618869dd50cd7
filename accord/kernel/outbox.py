"""The outbox: every e-mail is stored with the change that causes it, then delivered once.

`enqueue()` writes the message in the caller's transaction and, once it commits, asks a worker
to deliver it (accord.kernel.queueing). Queueing is only an accelerator: when the broker is down the
failure is logged and the periodic sweep (`deliver_due`) delivers what is due, so a message
is delayed, never lost. Each delivery first claims the message with a conditional UPDATE
(queued -> sending), so two workers or two sweeps never both send it. SMTP trouble is retried
with backoff; a refused address or a message failing every try is marked failed with the
reason, and the partnership's administrators see it on their undelivered mail page, with a
resend.

A worker killed after the mail server accepted a message but before it was marked sent leaves
it "sending"; after STALE_CLAIM the sweep queues it again, so that one message (and only a
message caught at that instant) can arrive twice. Nothing is lost.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_scopes import get_scope

from .context import current_actor
from .models import OutboxMessage
from .queueing import queue_on_commit

logger = logging.getLogger(__name__)
Status = OutboxMessage.Status

# The wait after each failed try (the 1st, the 2nd, ...); after the last, the message fails.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=8),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
# A claim older than this belongs to a worker that died while sending.
STALE_CLAIM = timedelta(minutes=10)
SWEEP_BATCH = 500


def _partnership_id() -> int | None:
    """The partnership the change belongs to: the tenant scope, else the page being served."""
    scoped = get_scope().get("partnership")
    if scoped is not None and not isinstance(scoped, list | tuple | set):
        return getattr(scoped, "pk", scoped)
    return current_actor().partnership_id


def enqueue(
    *, to: Iterable[str], subject: str, text: str, html: str = "", template: str = ""
) -> OutboxMessage | None:
    """Store one message in the current transaction; deliver it once that commits."""
    addresses = sorted({a.strip().lower() for a in to if a and a.strip()})
    if not addresses:
        return None
    message = OutboxMessage.objects.create(
        partnership_id=_partnership_id(),
        template=template[:80],
        to=addresses,
        subject=" ".join(subject.split())[:998],
        text=text,
        html=html,
    )
    queue_on_commit(deliver_message, message.pk)
    return message


# --- Delivering ---------------------------------------------------------------------------


def claim(pk: int) -> OutboxMessage | None:
    """Take the message for sending if it is queued and due; None if someone else has it."""
    now = timezone.now()
    taken = OutboxMessage.objects.filter(
        pk=pk, status=Status.QUEUED, next_attempt_at__lte=now
    ).update(status=Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    return OutboxMessage.objects.get(pk=pk) if taken else None


def _permanent(exc: Exception) -> bool:
    """A refusal the mail server means (5xx): trying again will not help."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    code = getattr(exc, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        parts = [
            f"{address}: {code} {_text(text)}" for address, (code, text) in exc.recipients.items()
        ]
        return ("Refused by the mail server: " + "; ".join(parts))[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


def _send(message: OutboxMessage, connection: Any) -> None:
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message.to,
        connection=connection,
        headers={"X-Accord-Message": str(message.pk)},
    )
    if message.html:
        email.attach_alternative(message.html, "text/html")
    email.send()


def _finish(message: OutboxMessage, exc: Exception | None) -> bool:
    """Record the try's outcome, if the claim is still ours. True when sent."""
    now = timezone.now()
    ours = OutboxMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, claimed_at=message.claimed_at
    )
    if exc is None:
        ours.update(status=Status.SENT, sent_at=now, last_error="")
        return True
    if _permanent(exc) or message.attempts >= MAX_ATTEMPTS:
        ours.update(status=Status.FAILED, last_error=_reason(exc))
        logger.warning("E-mail %s failed: %s", message.pk, _reason(exc))
    else:
        wait = BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
        ours.update(status=Status.QUEUED, next_attempt_at=now + wait, last_error=_reason(exc))
    return False


def deliver(pk: int, connection: Any = None) -> bool:
    """Claim and send one message; True when this call sent it."""
    message = claim(pk)
    if message is None:
        return False
    try:
        _send(message, connection or get_connection())
    except (OSError, smtplib.SMTPException) as exc:
        return _finish(message, exc)
    return _finish(message, None)


def deliver_due(limit: int = SWEEP_BATCH) -> int:
    """Every message due now (oldest first), over one connection; returns how many were sent.
    Claims left by a worker that died are released first."""
    now = timezone.now()
    OutboxMessage.objects.filter(status=Status.SENDING, claimed_at__lt=now - STALE_CLAIM).update(
        status=Status.QUEUED, next_attempt_at=now, claimed_at=None
    )
    due = list(
        OutboxMessage.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    if not due:
        return 0
    connection = get_connection()
    sent = 0
    try:
        connection.open()
    except (OSError, smtplib.SMTPException):
        connection = None  # each message tries on its own, and records why it could not
    try:
        for pk in due:
            sent += deliver(pk, connection)
    finally:
        if connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.close()
    return sent


@shared_task(name="accord.deliver_message")
def deliver_message(pk: int) -> bool:
    """Deliver one stored e-mail now (the sweep retries what this could not send)."""
    return deliver(pk)


@transaction.atomic
def resend(message: OutboxMessage) -> OutboxMessage:
    """An administrator sends a message that was not delivered again, from the first try."""
    OutboxMessage.objects.filter(pk=message.pk).exclude(status=Status.SENT).update(
        status=Status.QUEUED,
        attempts=0,
        next_attempt_at=timezone.now(),
        claimed_at=None,
        last_error="",
    )
    message.refresh_from_db()
    queue_on_commit(deliver_message, message.pk)
    return message
