"""What the agreements' service functions share: running in one transaction as someone, who
may edit an agreement, and the addresses of its pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from signatories.models import AuthorisedSignatory, Organisation
from tenancy.models import Membership
from tenancy.roles import Perm

from ..models import EDIT_PERMISSION, Agreement, AgreementStatus

EDIT_PERM = f"agreements.{EDIT_PERMISSION}"
NOT_EDITABLE = (
    "This agreement is {status}: its text can no longer change. Start a new version to change "
    "an active agreement."
)


def locked(agreement: Agreement) -> Agreement:
    """The agreement again, locked for the rest of the transaction."""
    return (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("lead__organisation", "partnership")
        .get(pk=agreement.pk)
    )


def require_status(agreement: Agreement, allowed: Iterable[str], message: str) -> None:
    if agreement.status not in set(allowed):
        raise ValidationError(message)


def require_editable(agreement: Agreement) -> None:
    if not agreement.is_editable:
        raise ValidationError(
            NOT_EDITABLE.format(status=agreement.get_status_display().lower()),
            code="not_editable",
        )


def status_word(agreement: Agreement) -> str:
    return agreement.get_status_display().lower()


# --- Who may do what ---------------------------------------------------------------------


def membership_of(user) -> Membership | None:
    """The user's membership of the current partnership (None outside it)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.select_related("organisation").filter(user=user).first()


def is_lead_drafter(membership: Membership | None, agreement: Agreement) -> bool:
    """A member who drafts documents and acts for the agreement's lead organisation."""
    if membership is None or not membership.can(Perm.DRAFT_DOCUMENTS):
        return False
    return membership.organisation_id == agreement.lead.organisation_id


def is_named_editor(user, agreement: Agreement) -> bool:
    """Granted editing of this agreement through its object permission (guardian's direct
    foreign-key tables), for the user or one of their groups. Read from the tables, so a
    superuser is no editor unless named (superusers get no special path)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    from ..models import AgreementGroupObjectPermission, AgreementUserObjectPermission

    direct = AgreementUserObjectPermission.objects.filter(
        user=user, content_object=agreement, permission__codename=EDIT_PERMISSION
    )
    through_group = AgreementGroupObjectPermission.objects.filter(
        group__user=user, content_object=agreement, permission__codename=EDIT_PERMISSION
    )
    return direct.exists() or through_group.exists()


def is_editor(user, agreement: Agreement, membership: Membership | None = None) -> bool:
    """The lead organisation's drafters and the agreement's named editors."""
    membership = membership if membership is not None else membership_of(user)
    if membership is None:
        return False
    return is_lead_drafter(membership, agreement) or is_named_editor(user, agreement)


def can_edit(user, agreement: Agreement, membership: Membership | None = None) -> bool:
    """May `user` change the agreement's sections now: an editor, and the agreement still a
    draft or in review."""
    return agreement.is_editable and is_editor(user, agreement, membership)


def can_comment(user, agreement: Agreement, membership: Membership | None = None) -> bool:
    """Editors, the partnership's drafters and the steering group raise and resolve comments."""
    membership = membership if membership is not None else membership_of(user)
    if membership is None:
        return False
    return (
        membership.can(Perm.DRAFT_DOCUMENTS)
        or membership.can(Perm.APPROVE_DOCUMENTS)
        or is_named_editor(user, agreement)
    )


def require_lead_drafter(membership: Membership | None, agreement: Agreement) -> None:
    if not is_lead_drafter(membership, agreement):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(
            f"Only the drafters of the lead organisation, {agreement.lead.organisation}, can "
            "do this."
        )


# --- Addresses ---------------------------------------------------------------------------


def link(name: str, agreement: Agreement, **kwargs: Any) -> str:
    return settings.SITE_URL + reverse(
        f"agreements:{name}",
        kwargs={
            "partnership_slug": agreement.partnership.slug,
            "agreement_id": agreement.pk,
            **kwargs,
        },
    )


def party_emails(agreement: Agreement) -> list[str]:
    """Where to tell the parties: each party's active authorised signatories and its
    organisation's data protection e-mail."""
    partners = list(agreement.parties.values_list("partner_id", flat=True))
    emails = set(
        AuthorisedSignatory.objects.filter(partner_id__in=partners, is_active=True).values_list(
            "email", flat=True
        )
    )
    emails |= set(
        Organisation.objects.filter(partners__pk__in=partners)
        .exclude(data_protection_email="")
        .values_list("data_protection_email", flat=True)
    )
    return sorted(e for e in emails if e)


LIVE_STATUSES = frozenset(
    {
        AgreementStatus.DRAFT,
        AgreementStatus.IN_REVIEW,
        AgreementStatus.FOR_SIGNATURE,
        AgreementStatus.ACTIVE,
    }
)
