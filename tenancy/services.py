"""State changes of partnerships and their people: each checks, logs and queues its e-mail."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accord.kernel.context import acting, current_actor
from accord.kernel.mail import send_templated_email

from .audit import created, diff, log_action, snapshot
from .directory import member_acts_for, partnership_created
from .models import Invitation, Membership, Partnership
from .roles import Role

User = get_user_model()


def _require_roles(roles: Iterable[str]) -> list[Role]:
    chosen = [Role(r) for r in roles]
    if not chosen:
        raise ValidationError({"roles": "Choose at least one role."})
    return chosen


@transaction.atomic
def create_partnership(
    *, name: str, slug: str, description: str, founder, organisation
) -> Partnership:
    """A new partnership whose founder becomes its first administrator."""
    partnership = Partnership(name=name, slug=slug, description=description)
    partnership.full_clean()
    partnership.save()
    with scope(partnership=partnership):
        membership = Membership.objects.create(
            partnership=partnership,
            user=founder,
            organisation=organisation,
            is_administrator=True,
        )
        log_action(
            partnership,
            "partnership.created",
            f"Created the partnership {name}",
            partnership,
            created(partnership),
        )
        log_action(
            partnership,
            "membership.created",
            f"{founder} joined as Partnership administrator",
            membership,
            {"roles": [None, ["Partnership administrator"]]},
        )
        partnership_created.send(Partnership, partnership=partnership, organisation=organisation)
        member_acts_for.send(Membership, membership=membership)
    return partnership


@transaction.atomic
def update_partnership(partnership: Partnership, **values) -> Partnership:
    before = snapshot(partnership)
    for key, value in values.items():
        setattr(partnership, key, value)
    partnership.full_clean()
    partnership.save()
    changes = diff(before, snapshot(partnership))
    if changes:
        log_action(
            partnership,
            "partnership.changed",
            "Changed the partnership's settings",
            partnership,
            changes,
        )
    return partnership


def invitation_link(token: str) -> str:
    return settings.SITE_URL + reverse("tenancy:accept_invitation", kwargs={"token": token})


@transaction.atomic
def invite_person(
    partnership: Partnership,
    *,
    email: str,
    full_name: str,
    roles: Iterable[str],
    organisation,
    invited_by,
) -> Invitation:
    """Invite someone by e-mail with roles; refuses members and people already invited."""
    email = email.strip().lower()
    chosen = _require_roles(roles)
    if Membership.objects.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": f"{email} is already a member of {partnership.name}."})
    if Invitation.objects.pending().filter(email__iexact=email).exists():
        raise ValidationError(
            {"email": f"{email} has already been invited. Resend that invitation instead."}
        )
    invitation = Invitation(
        partnership=partnership,
        email=email,
        full_name=full_name,
        organisation=organisation,
        invited_by=invited_by,
    )
    invitation.set_roles(chosen)
    token = invitation.issue_token()
    invitation.save()
    log_action(
        partnership,
        "invitation.created",
        f"Invited {email} as {', '.join(invitation.role_labels)}",
        invitation,
        {
            "email": [None, email],
            "roles": [None, invitation.role_labels],
            "organisation": [None, str(organisation)],
        },
    )
    _send_invitation(invitation, token)
    return invitation


def _send_invitation(invitation: Invitation, token: str) -> None:
    send_templated_email(
        "invitation",
        [invitation.email],
        {
            "invitation": invitation,
            "partnership": invitation.partnership,
            "link": invitation_link(token),
        },
    )


@transaction.atomic
def resend_invitation(invitation: Invitation) -> Invitation:
    """A fresh link and expiry; the old link stops working."""
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError("This invitation has already been used or withdrawn.")
    token = invitation.issue_token()
    Invitation.objects.filter(pk=invitation.pk).update(
        token_hash=invitation.token_hash, expires_at=invitation.expires_at
    )
    log_action(
        invitation.partnership,
        "invitation.resent",
        f"Resent the invitation to {invitation.email}",
        invitation,
    )
    _send_invitation(invitation, token)
    return invitation


@transaction.atomic
def revoke_invitation(invitation: Invitation) -> Invitation:
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError("This invitation has already been used or withdrawn.")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    log_action(
        invitation.partnership,
        "invitation.revoked",
        f"Withdrew the invitation to {invitation.email}",
        invitation,
        {"state": ["pending", "revoked"]},
    )
    return invitation


def find_invitation(token: str) -> Invitation | None:
    """The invitation a link's secret opens. Crosses tenants: the visitor is not a member yet."""
    with scopes_disabled():
        return (
            Invitation.objects.select_related("partnership", "organisation")
            .filter(token_hash=Invitation.hash_token(token))
            .first()
        )


def invitation_problem(invitation: Invitation | None) -> str | None:
    """Why a link cannot be used, in words for the person who clicked it; None if it can."""
    if invitation is None:
        return "This invitation link is not valid. Check you copied the whole link from the e-mail."
    state = invitation.state
    if state == "accepted":
        return "This invitation has already been used. Sign in to open the partnership."
    if state == "revoked":
        return "This invitation was withdrawn. Ask the partnership's administrator for a new one."
    if state == "expired":
        return "This invitation has expired. Ask the partnership's administrator to send it again."
    return None


@transaction.atomic
def accept_invitation(
    invitation: Invitation, *, user=None, full_name: str = "", password: str = ""
) -> Membership:
    """Join the partnership: with the signed-in account, or a new one made from the form."""
    with scope(partnership=invitation.partnership):
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        problem = invitation_problem(locked)
        if problem:
            raise ValidationError(problem)
        if user is None:
            if User.objects.filter(email__iexact=locked.email).exists():
                raise ValidationError(
                    "An account with this e-mail address exists. Sign in to accept."
                )
            user = User.objects.create_user(
                email=locked.email, password=password, full_name=full_name or locked.full_name
            )
        if Membership.objects.filter(user=user).exists():
            raise ValidationError(f"You are already a member of {locked.partnership.name}.")
        membership = Membership(
            partnership=locked.partnership, user=user, organisation=locked.organisation
        )
        membership.set_roles(locked.roles)
        membership.save()
        member_acts_for.send(Membership, membership=membership)
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
        with acting(user=user, organisation=locked.organisation):
            log_action(
                locked.partnership,
                "membership.created",
                f"{user} accepted the invitation and joined as {', '.join(membership.role_labels)}",
                membership,
                {
                    "roles": [None, membership.role_labels],
                    "organisation": [None, str(membership.organisation)],
                },
            )
        return membership


@transaction.atomic
def change_membership(membership: Membership, *, roles: Iterable[str], organisation) -> Membership:
    """Another administrator changes a person's roles or organisation: nobody changes their
    own (so nobody approves their own drafts or signs for another body by choosing it)."""
    acting_user = current_actor().user
    if getattr(acting_user, "pk", None) == membership.user_id:
        raise PermissionDenied(
            "You cannot change your own roles or organisation. Ask another administrator."
        )
    chosen = _require_roles(roles)
    partnership = membership.partnership
    moved = membership.organisation_id != getattr(organisation, "pk", organisation)
    if Role.ADMINISTRATOR not in chosen and membership.is_administrator:
        _keep_an_administrator(membership)
    before = {"roles": membership.role_labels, "organisation": str(membership.organisation)}
    membership.set_roles(chosen)
    membership.organisation = organisation
    membership.save()
    after = {"roles": membership.role_labels, "organisation": str(membership.organisation)}
    if moved:
        member_acts_for.send(Membership, membership=membership)
    changes = diff(before, after)
    if changes:
        log_action(
            partnership,
            "membership.changed",
            f"Changed {membership.user}'s roles",
            membership,
            changes,
        )
    return membership


def _keep_an_administrator(membership: Membership) -> None:
    # Lock every administrator's row, so two people demoting each other at once cannot both
    # succeed and leave the partnership without one.
    admins = list(
        Membership.objects.select_for_update()
        .filter(is_administrator=True)
        .values_list("pk", flat=True)
    )
    if not [pk for pk in admins if pk != membership.pk]:
        raise ValidationError(
            {
                "roles": "A partnership needs at least one administrator. Make someone else an "
                "administrator first."
            }
        )


@transaction.atomic
def remove_membership(membership: Membership) -> None:
    if membership.is_administrator:
        _keep_an_administrator(membership)
    log_action(
        membership.partnership,
        "membership.removed",
        f"Removed {membership.user} from the partnership",
        membership,
        {"roles": [membership.role_labels, None]},
    )
    membership.delete()
