"""Who may see a breach, and who may act on it.

A breach is seen only by: the partnership's administrators; the DPOs of the reporting
organisation, of every involved partner and of the lead organisation. Everyone else gets 404
from its pages, downloads and links, as if it did not exist. It is managed (the report, the
assessment, telling people, closing) by the reporting organisation's DPOs and the
partnership's administrators; an involved partner's DPO acknowledges and gives its view; the
lead organisation's DPO decides when the partners cannot agree.

Access is decided from the roles and organisations as they are now, in one query condition
(`visible_to`), so a person who stops being a DPO, or moves organisation, loses sight of the
partnership's breaches at once.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet

from tenancy.models import Membership
from tenancy.roles import Perm

from .models import BreachReport, InvolvedPartner


def visible_to(membership: Membership | None) -> Q:
    """The condition on BreachReport for the breaches `membership` may see."""
    if membership is None:
        return Q(pk__in=[])
    if membership.is_administrator:
        return Q()
    if not membership.is_dpo:
        return Q(pk__in=[])
    organisation = membership.organisation_id
    involved = InvolvedPartner.objects.filter(
        breach=OuterRef("pk"), partner__organisation_id=organisation
    )
    return (
        Q(reporting_partner__organisation_id=organisation)
        | Q(lead_partner__organisation_id=organisation)
        | Exists(involved)
    )


def visible(membership: Membership | None) -> QuerySet[BreachReport]:
    return BreachReport.objects.filter(visible_to(membership))


def counted_in_figures(membership: Membership | None) -> QuerySet[BreachReport]:
    """The breaches whose timings a member's figures count: every one of the partnership for
    the steering group and the administrators (figures only, never a breach's details), the
    ones they may see for a DPO."""
    if membership is not None and (membership.is_steering_group or membership.is_administrator):
        return BreachReport.objects.all()
    return visible(membership)


def may_see(membership: Membership | None, breach: BreachReport) -> bool:
    return visible(membership).filter(pk=breach.pk).exists()


def may_manage(membership: Membership | None, breach: BreachReport) -> bool:
    """The reporting organisation's DPOs and the partnership's administrators."""
    if membership is None or not membership.can(Perm.MANAGE_BREACHES):
        return False
    if membership.is_administrator:
        return True
    return membership.organisation_id == breach.reporting_partner.organisation_id


def may_log(membership: Membership | None) -> bool:
    return membership is not None and membership.can(Perm.MANAGE_BREACHES)


def speaks_for(membership: Membership | None, involved: InvolvedPartner) -> bool:
    """An involved partner's DPO, giving its acknowledgement and view in the app."""
    return (
        membership is not None
        and membership.is_dpo
        and membership.organisation_id == involved.partner.organisation_id
    )


def is_lead_dpo(membership: Membership | None, breach: BreachReport) -> bool:
    return (
        membership is not None
        and membership.is_dpo
        and membership.organisation_id == breach.lead_partner.organisation_id
    )
