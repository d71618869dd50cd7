"""Monitoring's clock: every partner is asked once a year, on each protocol's adoption
anniversary, to confirm that the protocol's procedures are in place (one clock row a
protocol, on accord.kernel.clocks: two sweeps at once ask once). Its sweep step, the facts
it follows, and the audit trail's words for monitoring."""

from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django_scopes import scopes_disabled

from accord.kernel import clocks, sweeps
from protocols.models import Protocol
from tenancy.audit import describe_actions
from tenancy.sweeps import in_partnership

from . import monitoring
from .monitoring import CONFIRMATION_REQUEST


@clocks.kind(
    CONFIRMATION_REQUEST,
    model=Protocol,
    due_for=monitoring.yearly_request_due,
    candidates=monitoring.protocols_awaiting_requests,
)
def _ask_yearly(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        protocol = (
            Protocol.objects.select_related("partnership", "lead__organisation")
            .filter(pk=clocks.subject_pk(clock))
            .first()
        )
        if protocol is None:
            return None
        due = monitoring.yearly_request_due(protocol)
        if due is None or due > timezone.now():
            clocks.recompute(CONFIRMATION_REQUEST, protocol)
            return None
        asked = monitoring.request_confirmations(protocol, timezone.localtime(due).year, by=None)
        return f"{asked.total} partners asked to confirm"


def run_confirmation_requests() -> int:
    return clocks.run_due(CONFIRMATION_REQUEST)


sweeps.register("reviews.confirmation_requests")(run_confirmation_requests)


def _protocol_saved(sender, instance: Protocol, **kwargs) -> None:
    """Adopted, retired, or its date in force corrected: the yearly request follows."""
    if kwargs.get("raw") or instance.date_in_force is None:
        return  # never in force: no yearly request was ever due
    with scopes_disabled(), transaction.atomic():
        clocks.recompute(CONFIRMATION_REQUEST, instance)


post_save.connect(_protocol_saved, sender=Protocol, dispatch_uid="review_confirmation_request")

describe_actions(
    {
        "review.confirmations_requested": "Partners asked to confirm the protocol's procedures",
        "review.confirmed": "Partner confirmed the protocol's procedures are in place",
        "review.complaint_recorded": "Complaint about a disclosure recorded",
    }
)
