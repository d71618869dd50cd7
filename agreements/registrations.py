"""What this app adds to the partnership's navigation, dashboard, audit log and periodic
sweep, and how it hears about signatures and partners leaving."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save
from django_scopes import scope

from accord.kernel import sweeps
from documents.models import FrozenDocument
from signatories import signables
from signatories.models import Partner, PartnerStatus
from signatories.signals import partner_status_changed
from tenancy import dashboard, navigation
from tenancy.audit import describe_actions
from tenancy.models import Membership
from tenancy.roles import Perm

from . import register_urls
from .links import link
from .models import Agreement
from .pdf import agreement_pdf
from .services import (
    activate_if_signed,
    agreement_changed,
    expire_due,
    open_for_signing,
    party_withdrawn,
)
from .services.drafting import revoke_editing_of


def _home() -> str:
    """The register when it exists, else the list of agreements being drafted."""
    names = {getattr(pattern, "name", None) for pattern in register_urls.urlpatterns}
    return "agreements:register" if "register" in names else "agreements:drafts"


HOME = _home()
navigation.register("Agreements", HOME, Perm.VIEW, 15)
# The card counts what the register it opens lists: every agreement, drafts included.
dashboard.register(
    "Agreements",
    lambda partnership, membership: Agreement.objects.count(),
    HOME,
    Perm.VIEW,
    7,
)
sweeps.register("agreements.expire")(expire_due)
post_save.connect(agreement_changed, sender=Agreement, dispatch_uid="agreement_clocks")


def _agreement_of(document, lock: bool) -> Agreement | None:
    agreements = Agreement.objects.select_related("partnership", "lead__organisation").filter(
        document=document
    )
    return (agreements.select_for_update(of=("self",)) if lock else agreements).first()


def _agreement(pk: int) -> Agreement | None:
    return (
        Agreement.objects.select_related("lead__organisation", "document", "partnership")
        .filter(pk=pk)
        .first()
    )


signables.register(
    signables.Signable(
        kind=FrozenDocument.Kind.AGREEMENT,
        owner_of=_agreement_of,
        get=_agreement,
        open_for_signing=open_for_signing,
        answered=activate_if_signed,
        render=lambda agreement: [agreement_pdf(agreement)],
        lead=lambda agreement: agreement.lead,
        page_link=lambda agreement: link("detail", agreement),
    )
)


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
        "agreement.contacts_requested": "Agreement party asked to complete its record",
    }
)
