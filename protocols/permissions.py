"""Who may do what to protocols: asked by the transitions, the services and the views."""

from __future__ import annotations

from signatories.affiliations import acts_for
from tenancy.models import Membership
from tenancy.roles import Perm

from .models import Protocol, ProtocolVersion


def acts_for_lead(membership: Membership, protocol: Protocol) -> bool:
    """The member acts, verified, for the protocol's lead organisation."""
    return membership.organisation_id == protocol.lead.organisation_id and acts_for(
        membership.user, protocol.lead.organisation
    )


def may_draft(membership: Membership | None) -> bool:
    return membership is not None and membership.can(Perm.DRAFT_DOCUMENTS)


def may_send(membership: Membership | None, protocol: Protocol) -> bool:
    """The lead organisation's drafters, verified for it, send for signature and issue (and
    the partnership's administrator, for it)."""
    return may_draft(membership) and (
        membership.is_administrator or acts_for_lead(membership, protocol)
    )


def may_retire(membership: Membership | None) -> bool:
    return membership is not None and membership.can(Perm.APPROVE_DOCUMENTS)


def lead_only(version: ProtocolVersion, membership: Membership) -> str | None:
    protocol = version.protocol
    if may_send(membership, protocol):
        return None
    return (
        f"Only the lead organisation, {protocol.lead.organisation}, or the partnership's "
        "administrator can send this protocol for signature."
    )


def not_the_author(version: ProtocolVersion, membership: Membership) -> str | None:
    """Separation of duties: whoever wrote a version does not approve it."""
    if version.author_id is not None and version.author_id == membership.user_id:
        return (
            f"You wrote version {version.number}, so another member of the steering group "
            "must approve it."
        )
    return None
