"""Who may do what to agreements: asked by the transitions, the services and the views."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from signatories.affiliations import acts_for
from tenancy.models import Membership
from tenancy.roles import Perm

from .models import (
    EDIT_PERMISSION,
    Agreement,
    AgreementGroupObjectPermission,
    AgreementUserObjectPermission,
)

READ_ONLY = "You can read this agreement, but only its editors can change it."


def membership_of(user) -> Membership | None:
    """The user's membership of the current partnership (None outside it)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Membership.objects.select_related("organisation").filter(user=user).first()


def is_lead_drafter(membership: Membership | None, agreement: Agreement) -> bool:
    """A member who drafts documents and acts, verified, for the agreement's lead organisation."""
    if membership is None or not membership.can(Perm.DRAFT_DOCUMENTS):
        return False
    return membership.organisation_id == agreement.lead.organisation_id and acts_for(
        membership.user, membership.organisation
    )


def may_change_parties(membership: Membership | None, agreement: Agreement) -> bool:
    """The lead organisation's drafters and the partnership's administrators: the only people
    who change an agreement's lead organisation and its parties (named editors do not)."""
    if membership is None or membership.partnership_id != agreement.partnership_id:
        return False
    return is_lead_drafter(membership, agreement) or membership.can(Perm.MANAGE_PARTNERSHIP)


def parties_refusal(agreement: Agreement, what: str) -> str:
    return (
        f"Only the drafters of {agreement.lead.organisation}, the lead organisation, and the "
        f"partnership's administrators can change {what}."
    )


# What a named editor's membership must still allow. Naming is the lead's drafters' choice
# of a person, so every role that reads the partnership's documents (today every role,
# viewers included: a provider's service manager may write its part) keeps the right while
# the person stays a member acting for one of the parties.
NAMED_EDITOR_PERM = Perm.VIEW


def has_edit_grant(user, agreement: Agreement) -> bool:
    """Whether the user (or one of their groups) holds the agreement's object permission
    (guardian's direct foreign-key tables). Read from the tables, so a superuser has no
    grant unless named (superusers get no special path)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    direct = AgreementUserObjectPermission.objects.filter(
        user=user, content_object=agreement, permission__codename=EDIT_PERMISSION
    )
    through_group = AgreementGroupObjectPermission.objects.filter(
        group__user=user, content_object=agreement, permission__codename=EDIT_PERMISSION
    )
    return direct.exists() or through_group.exists()


def membership_supports_editing(membership: Membership | None, agreement: Agreement) -> bool:
    """What a named editor's grant needs at the moment of use: a membership of the
    agreement's partnership, with a role that may contribute (NAMED_EDITOR_PERM), acting
    for an organisation that is one of the agreement's parties."""
    if membership is None or membership.partnership_id != agreement.partnership_id:
        return False
    if not membership.can(NAMED_EDITOR_PERM):
        return False
    if not agreement.parties.filter(partner__organisation_id=membership.organisation_id).exists():
        return False
    # Acting for that party is a verified fact, not the membership's say-so.
    return acts_for(membership.user, membership.organisation)


def is_named_editor(user, agreement: Agreement, membership: Membership | None = None) -> bool:
    """Granted editing of this agreement (has_edit_grant) and still able to use the grant
    (membership_supports_editing): the right follows the membership, so leaving the
    partnership, acting for an organisation that is no party, or not (or no longer) being
    verified for it ends it."""
    if not has_edit_grant(user, agreement):
        return False
    membership = membership if membership is not None else membership_of(user)
    return membership_supports_editing(membership, agreement)


def is_editor(user, agreement: Agreement, membership: Membership | None = None) -> bool:
    """The lead organisation's drafters, the partnership's administrators and the
    agreement's named editors: the one answer to "may this person edit it" (with the
    agreement's status, can_edit)."""
    membership = membership if membership is not None else membership_of(user)
    if membership is None or getattr(membership, "user_id", None) != getattr(user, "pk", None):
        return False
    return may_change_parties(membership, agreement) or is_named_editor(user, agreement, membership)


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
        or is_named_editor(user, agreement, membership)
    )


def require_lead_drafter(membership: Membership | None, agreement: Agreement) -> None:
    if not is_lead_drafter(membership, agreement):
        raise PermissionDenied(
            f"Only the drafters of the lead organisation, {agreement.lead.organisation}, can "
            "do this."
        )


def require_editor(user, agreement: Agreement) -> Membership:
    """The user's membership when they may edit the agreement (is_editor); else
    PermissionDenied, whatever page or task called."""
    membership = membership_of(user)
    if not is_editor(user, agreement, membership):
        raise PermissionDenied(READ_ONLY)
    return membership


def require_commenter(user, agreement: Agreement) -> None:
    if not can_comment(user, agreement):
        raise PermissionDenied("Only editors and reviewers can comment.")
