"""An agreement's states and transitions, declared once.

Services make them through `AGREEMENTS.perform`; the agreement's page shows the buttons
`AGREEMENTS.allowed` gives; `tests/test_lifecycles.py` checks this table against both.
"""

from __future__ import annotations

from tenancy.lifecycle import Lifecycle, Transition
from tenancy.roles import Perm

from .links import link, party_emails
from .models import Agreement, AgreementStatus
from .permissions import is_lead_drafter

S = AgreementStatus
WHY_LEAD = "Only the drafters of the lead organisation, {organisation}, can do this."


def lead_drafters_only(agreement: Agreement, membership) -> str | None:
    if is_lead_drafter(membership, agreement):
        return None
    return WHY_LEAD.format(organisation=agreement.lead.organisation)


def _wrong(what: str) -> str:
    return "This agreement is {status}: " + what


AGREEMENTS = Lifecycle(
    Agreement,
    related=("lead__organisation", "partnership"),
    rules=(lead_drafters_only,),
    email_context=lambda agreement: {
        "agreement": agreement,
        "partnership": agreement.partnership,
        "link": link("detail", agreement),
    },
    transitions=[
        Transition(
            "submit",
            frozenset({S.DRAFT}),
            S.IN_REVIEW,
            "agreement.submitted",
            permission=Perm.DRAFT_DOCUMENTS,
            wrong_state=_wrong("only a draft can be sent for review."),
        ),
        Transition(
            "return",
            frozenset({S.IN_REVIEW, S.FOR_SIGNATURE}),
            S.DRAFT,
            "agreement.returned",
            permission=Perm.DRAFT_DOCUMENTS,
            wrong_state=_wrong(
                "only an agreement in review or out for signature can go back to draft."
            ),
        ),
        Transition(
            "send",
            frozenset({S.IN_REVIEW}),
            S.FOR_SIGNATURE,
            "agreement.sent",
            permission=Perm.DRAFT_DOCUMENTS,
            wrong_state=_wrong("only an agreement in review can be sent for signature."),
        ),
        Transition(
            "terminate",
            frozenset({S.ACTIVE, S.FOR_SIGNATURE}),
            S.TERMINATED,
            "agreement.terminated",
            permission=Perm.DRAFT_DOCUMENTS,
            wrong_state=_wrong(
                "only an active agreement or one out for signature can be terminated."
            ),
            email="agreement_terminated",
            recipients=party_emails,
        ),
        # Made by Accord: the last party's signature, a newer version, the end date.
        Transition(
            "activate",
            frozenset({S.FOR_SIGNATURE}),
            S.ACTIVE,
            "agreement.active",
            email="agreement_active",
            recipients=party_emails,
        ),
        Transition(
            "supersede",
            frozenset({S.ACTIVE, S.FOR_SIGNATURE}),
            S.SUPERSEDED,
            "agreement.superseded",
        ),
        Transition(
            "expire",
            frozenset({S.ACTIVE}),
            S.EXPIRED,
            "agreement.expired",
            email="agreement_expired",
            recipients=party_emails,
        ),
    ],
)
