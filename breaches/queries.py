"""What the breach pages read: the register's rows in a fixed number of queries, one breach
with what its page shows, and its timeline from the audit trail."""

from __future__ import annotations

from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import Http404

from tenancy.models import AuditEntry, Membership

from . import access
from .models import BreachReport, BreachStatus, Obligation, ObligationState

# The register's status filter and tags: an open breach with a deadline passed is overdue.
OPEN, OVERDUE, CLOSED = "open", "overdue", "closed"


def _open_obligations():
    return Obligation.objects.filter(
        breach=OuterRef("pk"), state=ObligationState.DUE, due_at__isnull=False
    )


def register(membership: Membership | None, now: datetime) -> QuerySet[BreachReport]:
    """The breaches the member may see, newest first, each with `next_due` (the earliest
    deadline still open) and `is_overdue`: one query whatever their number."""
    return (
        access.visible(membership)
        .select_related("reporting_partner__organisation")
        .annotate(
            next_due=Subquery(_open_obligations().order_by("due_at").values("due_at")[:1]),
            is_overdue=Exists(_open_obligations().filter(due_at__lt=now)),
        )
        .order_by("-detected_at", "-number")
    )


def with_status(breaches: QuerySet[BreachReport], status: str) -> QuerySet[BreachReport]:
    if status == OPEN:
        return breaches.filter(status=BreachStatus.OPEN)
    if status == OVERDUE:
        return breaches.filter(status=BreachStatus.OPEN, is_overdue=True)
    if status == CLOSED:
        return breaches.filter(status=BreachStatus.CLOSED)
    return breaches


def status_of(breach: BreachReport) -> str:
    """open, overdue or closed (`is_overdue`: as `register` annotates it)."""
    if not breach.is_open:
        return CLOSED
    return OVERDUE if breach.is_overdue else OPEN


def visible_breach(membership: Membership | None, breach_id: int) -> BreachReport:
    """The breach, if this member may see it; 404 otherwise, as if it did not exist."""
    breach = (
        access.visible(membership)
        .select_related(
            "partnership",
            "reporting_partner__organisation",
            "lead_partner__organisation",
            "reported_by",
            "protocol",
            "closed_by",
        )
        .filter(pk=breach_id)
        .first()
    )
    if breach is None:
        raise Http404("No such breach.")
    return breach


def obligations(breach: BreachReport) -> list[Obligation]:
    found = list(
        breach.obligations.select_related("involved__partner__organisation", "done_by").order_by(
            "due_at", "pk"
        )
    )
    for obligation in found:
        obligation.breach = breach
    return found


def timeline(breach: BreachReport) -> list[AuditEntry]:
    """The breach's audit entries, oldest first."""
    content_type = ContentType.objects.get_for_model(BreachReport, for_concrete_model=False)
    return list(
        AuditEntry.objects.filter(content_type=content_type, object_id=str(breach.pk)).order_by(
            "at", "id"
        )
    )
