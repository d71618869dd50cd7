"""Who may do what to organisations and partners: asked by views and services alike."""

from __future__ import annotations

from django_scopes import scopes_disabled

from tenancy.models import Membership
from tenancy.roles import Perm

from .affiliations import acts_for
from .models import Organisation, Partner


def may_edit_organisation(user, organisation: Organisation) -> bool:
    """Only the organisation's verified people keep its shared record."""
    return acts_for(user, organisation)


def may_see_organisation(user, organisation: Organisation) -> bool:
    """Its verified people, and members of a partnership it belongs to."""
    if acts_for(user, organisation):
        return True
    with scopes_disabled():
        partnerships = Membership.objects.filter(user=user).values("partnership")
        return Partner.objects.filter(
            organisation=organisation, partnership__in=partnerships
        ).exists()


def may_give_notice(membership: Membership, partner: Partner) -> bool:
    """Administrators, and the partner's own signatories verified for it, may give its
    notice of withdrawal."""
    if membership.can(Perm.MANAGE_PARTNERS):
        return True
    return (
        membership.can(Perm.SIGN)
        and membership.organisation_id == partner.organisation_id
        and acts_for(membership.user, partner.organisation)
    )
