"""What this app adds: cycles that follow their documents, the sweep steps, the navigation and
the dashboard's card."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models.signals import post_save
from django_scopes import scopes_disabled

from accord.kernel import sweeps
from agreements.models import Agreement, AgreementStatus
from protocols.models import Protocol, ProtocolVersion, VersionStatus
from tenancy import dashboard, navigation
from tenancy.roles import Perm

from . import clocks, queries, services

logger = logging.getLogger(__name__)

navigation.register("Reviews", "reviews:dashboard", Perm.VIEW, 40, prefixes=("reviews/",))


def _reviews_due(partnership, membership) -> int:
    """Reviews due within the partnership's notice period, or overdue (one query)."""
    return queries.due_count(partnership)


dashboard.register("Reviews due", _reviews_due, "reviews:dashboard", Perm.VIEW, 25)


def _follow(ensure, instance) -> None:
    """The document's save stands whatever happens to its cycle here: a failure is logged,
    rolled back to its savepoint, and the `reviews.cycles` sweep tries again."""
    try:
        with scopes_disabled(), transaction.atomic():
            ensure(instance)
    except Exception:
        logger.exception("The review cycle of %s could not follow it", instance)


def _protocol_saved(sender, instance: Protocol, **kwargs) -> None:
    if not kwargs.get("raw"):
        _follow(services.ensure_for_protocol, instance)


def _version_saved(sender, instance: ProtocolVersion, **kwargs) -> None:
    """A version signed puts its protocol in force (its date in force is saved just before)."""
    if not kwargs.get("raw") and instance.status == VersionStatus.SIGNED:
        _follow(
            lambda v: services.ensure_for_protocol(Protocol.objects.get(pk=v.protocol_id)), instance
        )


def _agreement_saved(sender, instance: Agreement, **kwargs) -> None:
    if not kwargs.get("raw"):
        _follow(services.ensure_for_agreement, instance)


post_save.connect(_protocol_saved, sender=Protocol, dispatch_uid="review_cycle_of_protocol")
post_save.connect(_version_saved, sender=ProtocolVersion, dispatch_uid="review_cycle_of_version")
post_save.connect(_agreement_saved, sender=Agreement, dispatch_uid="review_cycle_of_agreement")


def start_missing_cycles() -> int:
    """Sweep step: a document in force without a cycle (one that came into force before
    reviews existed, or whose save was interrupted) gets one."""
    started = 0
    with scopes_disabled():
        protocols = Protocol.objects.filter(
            date_in_force__isnull=False, retired_at__isnull=True, review_cycle__isnull=True
        )
        for protocol in protocols.select_related("partnership")[:500]:
            with transaction.atomic():
                started += services.ensure_for_protocol(protocol) is not None
        agreements = Agreement.objects.filter(
            status=AgreementStatus.ACTIVE, review_cycle__isnull=True
        )
        for agreement in agreements.select_related("partnership")[:500]:
            with transaction.atomic():
                started += services.ensure_for_agreement(agreement) is not None
    return started


sweeps.register("reviews.cycles")(start_missing_cycles)
sweeps.register("reviews.feedback_opens")(clocks.run_feedback_opens)
sweeps.register("reviews.lead_notices")(clocks.run_lead_notices)
sweeps.register("reviews.feedback_reminders")(clocks.run_reminders)
