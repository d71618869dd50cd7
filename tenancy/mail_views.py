"""The partnership's undelivered e-mail: what the outbox could not send, and a resend."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accord.kernel import outbox
from accord.kernel.models import OutboxMessage

from .audit import log_action
from .permissions import requires
from .roles import Perm

PAGE_SIZE = 50
# Shown as well as the failed ones: still trying, after at least one failure.
STRUGGLING = {"status": OutboxMessage.Status.QUEUED, "attempts__gt": 0}


def undelivered(partnership_id: int):
    """The partnership's messages that failed, or are being retried after failing."""
    mine = OutboxMessage.objects.filter(partnership_id=partnership_id)
    return mine.filter(status=OutboxMessage.Status.FAILED) | mine.filter(**STRUGGLING)


def failed_count(partnership, membership=None) -> int:
    return OutboxMessage.objects.filter(
        partnership_id=partnership.pk, status=OutboxMessage.Status.FAILED
    ).count()


@requires(Perm.MANAGE_PARTNERSHIP)
def undelivered_mail(request):
    rows = (
        undelivered(request.partnership.pk)
        .order_by("-created_at", "-pk")
        .only("created_at", "to", "subject", "status", "attempts", "next_attempt_at", "last_error")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tenancy/mail.html", {"page": page, "query": ""})


@require_POST
@requires(Perm.MANAGE_PARTNERSHIP)
def resend(request, message_id: int):
    message = get_object_or_404(undelivered(request.partnership.pk), pk=message_id)
    outbox.resend(message)
    log_action(
        request.partnership,
        "mail.resent",
        f"Sent again the e-mail \u201c{message.subject}\u201d to {', '.join(message.to)}",
        None,
        {"to": [None, message.to], "last_error": [message.last_error or None, None]},
    )
    messages.success(request, f"The e-mail to {', '.join(message.to)} will be sent again now.")
    return redirect("tenancy:mail", partnership_slug=request.partnership.slug)
