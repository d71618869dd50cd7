"""What this app adds to the partnership's navigation, dashboard, audit log and periodic
sweep, and how it hears about signatures and partners leaving."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django_scopes import scope

from accord.kernel import sweeps
from signatories.models import Partner, PartnerStatus
from signatories.signals import partner_status_changed, signature_recorded
from signatories.signing import register_superseded_check
from tenancy import dashboard, navigation
from tenancy.audit import describe_actions
from tenancy.models import Membership
from tenancy.roles import Perm

from .models import Agreement, AgreementStatus
from .services import (
    agreement_changed,
    expire_due,
    is_superseded,
    party_withdrawn,
    record_answer,
)
from .services.drafting import revoke_editing_of


def _home() -> str:
    """The register when it exists, else the list of agreements being drafted."""
    from . import register_urls

    names = {getattr(pattern, "name", None) for pattern in register_urls.urlpatterns}
    return "agreements:register" if "register" in names else "agreements:drafts"


HOME = _home()
navigation.register("Agreements", HOME, Perm.VIEW, 15)
dashboard.register(
    "Agreements",
    lambda partnership: Agreement.objects.filter(status=AgreementStatus.ACTIVE).count(),
    HOME,
    Perm.VIEW,
    7,
)
register_superseded_check(is_superseded)
sweeps.register("agreements.expire")(expire_due)
post_save.connect(agreement_changed, sender=Agreement, dispatch_uid="agreement_clocks")


def _signature_recorded(sender, signature, document, **kwargs) -> None:
    with scope(partnership=document.partnership):
        record_answer(document)


signature_recorded.connect(_signature_recorded, dispatch_uid="agreements.signature_recorded")


def _partner_status_changed(sender, partner: Partner, old: str, new: str, **kwargs) -> None:
    if new == PartnerStatus.WITHDRAWN:
        with scope(partnership=partner.partnership):
            party_withdrawn(partner)


partner_status_changed.connect(
    _partner_status_changed, sender=Partner, dispatch_uid="agreements.partner_status_changed"
)


def _membership_saved(sender, instance: Membership, created: bool, raw: bool = False, **kw) -> None:
    """A person's organisation or roles changed: named editing follows the membership."""
    if not created and not raw:
        with scope(partnership=instance.partnership):
            revoke_editing_of(instance)


def _membership_deleted(sender, instance: Membership, origin=None, **kwargs) -> None:
    """A person left the partnership: their named editing goes with them (when a whole
    partnership or account is deleted, the grants go with it anyway)."""
    if isinstance(origin, Membership) or getattr(origin, "model", None) is Membership:
        with scope(partnership=instance.partnership):
            revoke_editing_of(instance, removed=True)


post_save.connect(_membership_saved, sender=Membership, dispatch_uid="agreements.membership")
post_delete.connect(_membership_deleted, sender=Membership, dispatch_uid="agreements.left")

describe_actions(
    {
        "agreement_template.created": "Agreement template copied",
        "agreement_template.changed": "Agreement template changed",
        "agreement.created": "Agreement started",
        "agreement.section_saved": "Agreement section saved",
        "agreement.item_added": "Agreement data item added",
        "agreement.item_changed": "Agreement data item changed",
        "agreement.item_removed": "Agreement data item removed",
        "agreement.comment_added": "Agreement comment added",
        "agreement.comment_resolved": "Agreement comment resolved",
        "agreement.editor_added": "Agreement editor added",
        "agreement.editor_removed": "Agreement editor removed",
        "agreement.submitted": "Agreement sent for review",
        "agreement.returned": "Agreement returned to draft",
        "agreement.sent": "Agreement sent for signature",
        "agreement.active": "Agreement signed by every party",
        "agreement.superseded": "Agreement superseded",
        "agreement.expired": "Agreement expired",
        "agreement.terminated": "Agreement terminated",
        "agreement.version_created": "Agreement version started",
        "agreement.party_withdrawn": "Agreement party withdrew",
    }
)
