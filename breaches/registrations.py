"""What this app adds to the navigation, the dashboard and the periodic sweep."""

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django_scopes import scopes_disabled

from accord.kernel import flags, sweeps
from tenancy import audit, dashboard, navigation
from tenancy.models import Membership, Partnership
from tenancy.roles import Perm

from . import access
from .clocks import (
    breach_changed,
    obligation_changed,
    run_escalations,
    run_lead_decides,
    run_warnings,
)
from .models import BreachReport, BreachStatus, Obligation

navigation.register("Breaches", "breaches:register", Perm.MANAGE_BREACHES, 50)
navigation.register("Breach figures", "breaches:figures", Perm.VIEW_BREACH_FIGURES, 55)


def _open_breaches(partnership, membership) -> int:
    """Open breaches the member may see (one query)."""
    return access.visible(membership).filter(status=BreachStatus.OPEN).count()


dashboard.register("Open breaches", _open_breaches, "breaches:register", Perm.MANAGE_BREACHES, 30)


sweeps.register("breaches.warnings")(run_warnings)
sweeps.register("breaches.escalations")(run_escalations)
sweeps.register("breaches.lead_decides")(run_lead_decides)
post_save.connect(obligation_changed, sender=Obligation, dispatch_uid="obligation_clocks")
post_save.connect(breach_changed, sender=BreachReport, dispatch_uid="breach_clocks")

EARLY_REVIEW = "Early review: after a breach"


def _agreements_flagged(ids: list[int]) -> dict[int, list[str]]:
    """Agreements a breach has flagged for an early review (one query). Only that it was a
    breach shows: the breach itself is seen only by those its access rules allow."""
    through = BreachReport.agreements.through
    flagged = through.objects.filter(
        agreement_id__in=ids, breachreport__early_review_flagged=True
    ).values_list("agreement_id", flat=True)
    return {pk: [EARLY_REVIEW] for pk in set(flagged)}


def _protocols_flagged(ids: list[int]) -> dict[int, list[str]]:
    flagged = BreachReport.objects.filter(
        protocol_id__in=ids, early_review_flagged=True
    ).values_list("protocol_id", flat=True)
    return {pk: [EARLY_REVIEW] for pk in set(flagged)}


flags.register("agreement", _agreements_flagged)
flags.register("protocol", _protocols_flagged)

# A breach's audit entries are read only by those who may see the breach.
audit.restrict(
    BreachReport, access.visible, sees_all=lambda membership: access.visible_to(membership) == Q()
)


def _membership_changed(sender, instance: Membership, **kwargs) -> None:
    """Roles or organisation changed, or someone left: who may see each breach follows."""
    if kwargs.get("raw"):
        return
    with scopes_disabled():
        access.regrant_member(instance, gone=kwargs.get("signal") is post_delete)


post_save.connect(_membership_changed, sender=Membership, dispatch_uid="breach_access")
post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="breach_access_gone")


def _settings_changed(sender, instance, **kwargs) -> None:
    """The partnership's warning hours or the lead's hours changed: open clocks follow."""
    if kwargs.get("raw") or kwargs.get("created"):
        return
    with scopes_disabled():
        for breach in BreachReport.objects.filter(
            partnership_id=instance.pk, status=BreachStatus.OPEN
        ).select_related("partnership"):
            breach.partnership = instance
            breach_changed(BreachReport, breach)


post_save.connect(_settings_changed, sender=Partnership, dispatch_uid="breach_settings")
from . import calendar  # noqa: E402, F401 (breach deadlines in the calendar feed)

# isort: split
# The annual review pack's section on breaches (reviews asks; breaches answers).
from . import review_pack  # noqa: E402, F401
