"""A partner's place in a partnership: its statuses and transitions, declared once.

`services.change_partner_status` makes them through `PARTNERS.perform`; the partner's page
offers what `PARTNERS.allowed` gives.
"""

from __future__ import annotations

from tenancy.lifecycle import Lifecycle, Transition
from tenancy.models import Membership
from tenancy.roles import Perm

from .models import Partner, PartnerStatus
from .permissions import may_give_notice

S = PartnerStatus
NOT_THEIRS = "Only an administrator or the partner's signatory can do this."


def gives_notice_for_it(partner: Partner, membership: Membership) -> str | None:
    return None if may_give_notice(membership, partner) else NOT_THEIRS


PARTNERS = Lifecycle(
    Partner,
    related=("organisation", "partnership"),
    audit_labels=False,  # as the partner's audit trail has always shown them
    transitions=[
        Transition(
            "activate",
            frozenset({S.INVITED, S.WITHDRAWING, S.WITHDRAWN}),
            S.ACTIVE,
            "partner.status_changed",
            permission=Perm.MANAGE_PARTNERS,
        ),
        Transition(
            "give_notice",
            frozenset({S.ACTIVE}),
            S.WITHDRAWING,
            "partner.status_changed",
            permission=Perm.VIEW,
            rules=(gives_notice_for_it,),
        ),
        Transition(
            "withdraw",
            frozenset({S.INVITED, S.WITHDRAWING}),
            S.WITHDRAWN,
            "partner.status_changed",
            permission=Perm.MANAGE_PARTNERS,
        ),
    ],
)
