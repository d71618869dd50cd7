"""What falls due in signing and partnership: on Accord's one clock engine (accord.kernel.clocks).

- a signature request's next reminder: (the later of its last reminder and its sending) + its
  cadence, while reminders remain and before the link expires (after the last one, the people
  who lead the document are told: signing._remind);
- a signature request's link expiring unanswered: the people who lead the document are told
  (signables.lead_emails: its lead organisation's drafters and the requester);
- a partner's withdrawal taking effect on the day its notice runs out.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accord.kernel import clocks
from tenancy.audit import log_action
from tenancy.sweeps import in_partnership

from . import signing
from .models import Partner, PartnerStatus, SignatureRequest
from .services import complete_withdrawal

REMINDER = signing.REMINDER_CLOCK
LINK_EXPIRY = "signing.link_expiry"
WITHDRAWAL = "partners.withdrawal"


# --- Signing reminders --------------------------------------------------------------------


def reminder_due(request: SignatureRequest) -> datetime | None:
    if request.status not in signing.OPEN_STATUSES:
        return None
    if request.reminders_sent >= request.max_reminders:
        return None
    # A request sent again with a new link (signing.reissue) keeps the earlier reminders'
    # count and time; its next reminder still follows the new link by a whole cadence.
    since = max(request.sent_at, request.last_reminded_at or request.sent_at)
    due = since + timedelta(days=request.remind_every_days)
    return due if due < request.expires_at else None


def _open_requests():
    return SignatureRequest.objects.filter(status__in=signing.OPEN_STATUSES)


@clocks.kind(REMINDER, model=SignatureRequest, due_for=reminder_due, candidates=_open_requests)
def _remind(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        request = SignatureRequest.objects.filter(pk=clocks.subject_pk(clock)).first()
        if request is None:
            return None
        due = reminder_due(request)
        if due is None or due > timezone.now():
            clocks.recompute(REMINDER, request)  # the facts moved on: follow them
            return None
        sent = signing.remind_when_due(request)
        return f"reminder {request.reminders_sent + 1} sent" if sent else None


def send_due_reminders() -> int:
    """Sweep step: every reminder due now, once each."""
    return clocks.run_due(REMINDER)


# --- Links expiring -----------------------------------------------------------------------


def link_expiry_due(request: SignatureRequest) -> datetime | None:
    return request.expires_at if request.status in signing.OPEN_STATUSES else None


@clocks.kind(
    LINK_EXPIRY, model=SignatureRequest, due_for=link_expiry_due, candidates=_open_requests
)
def _link_expired(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        request = (
            SignatureRequest.objects.select_related("partner__organisation", "document")
            .filter(pk=clocks.subject_pk(clock))
            .first()
        )
        if request is None or link_expiry_due(request) is None:
            return None
        if request.expires_at > timezone.now():
            clocks.recompute(LINK_EXPIRY, request)
            return None
        organisation = request.partner.organisation
        log_action(
            request.partnership,
            "signature.expired",
            f"The link to {organisation} to sign {request.document} expired unanswered",
            request,
            {"expires_at": [None, request.expires_at]},
        )
        told = signing.tell_lead(
            "signature_link_expired",
            request,
            {
                "partner_link": settings.SITE_URL
                + reverse(
                    "signatories:partner",
                    kwargs={
                        "partnership_slug": request.partnership.slug,
                        "partner_id": request.partner_id,
                    },
                )
            },
        )
        return f"expired; {told} told"


def expire_due_links() -> int:
    return clocks.run_due(LINK_EXPIRY)


# --- Withdrawals taking effect ------------------------------------------------------------


def withdrawal_due(partner: Partner) -> datetime | None:
    if partner.status != PartnerStatus.WITHDRAWING or partner.leaves_on is None:
        return None
    return clocks.start_of_day(partner.leaves_on)


def _withdrawing():
    return Partner.objects.filter(status=PartnerStatus.WITHDRAWING)


@clocks.kind(WITHDRAWAL, model=Partner, due_for=withdrawal_due, candidates=_withdrawing)
def _withdraw(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        return "withdrawn" if complete_withdrawal(clocks.subject_pk(clock)) else None


def complete_due_withdrawals() -> int:
    """Sweep step: partners whose notice has run out become withdrawn (once each)."""
    return clocks.run_due(WITHDRAWAL)


# --- Facts that move the clocks ------------------------------------------------------------


def request_changed(sender, instance: SignatureRequest, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    clocks.recompute(REMINDER, instance)
    clocks.recompute(LINK_EXPIRY, instance)


def partner_changed(sender, instance: Partner, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    with scopes_disabled():
        clocks.recompute(WITHDRAWAL, instance)
