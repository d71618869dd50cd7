"""Who may see a breach, and who may act on it.

A breach is seen only by: the partnership's administrators; the DPOs of the reporting
organisation, of every involved partner and of the lead organisation. Everyone else gets 404
from its pages, downloads and links, as if it did not exist. It is managed (the report, the
assessment, telling people, closing) by the reporting organisation's DPOs and the
partnership's administrators; an involved partner's DPO acknowledges and gives its view; the
lead organisation's DPO decides when the partners cannot agree.

The DPOs who may see a breach hold guardian object permissions on its own direct
foreign-key table (`grant`: when it is logged, and whenever someone's roles or organisation
change), and every page asks a DPO both for that grant and for the rule as the roles are now
(`visible_to`): one who stops being a DPO, or moves organisation, loses sight of it at once,
and no DPO sees a breach without both. Administrators see every breach by their role.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, QuerySet

from tenancy.models import Membership
from tenancy.roles import Perm

from .models import SEE_PERMISSION, BreachReport, BreachUserObjectPermission, InvolvedPartner


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
    if membership is None:
        return BreachReport.objects.none()
    if membership.is_administrator:
        return BreachReport.objects.all()  # every breach, by their role: no grant to ask
    granted = BreachUserObjectPermission.objects.filter(
        user_id=membership.user_id, permission__codename=SEE_PERMISSION
    ).values("content_object_id")
    return BreachReport.objects.filter(visible_to(membership), pk__in=granted)


def may_see_by_rule(membership: Membership, breach: BreachReport, involved: set[int]) -> bool:
    """Whether a DPO's grant is due, by the rule of this module's docstring (no query). The
    administrators see every breach by their role and need no grant."""
    if not membership.is_dpo:
        return False
    organisations = {breach.reporting_partner.organisation_id, breach.lead_partner.organisation_id}
    return membership.organisation_id in organisations | involved


def grant(breach: BreachReport) -> int:
    """Bring the breach's object permissions in line with the rule: a row for each member
    who may see it, none for anyone else. Returns how many people may see it."""
    permission = Permission.objects.get(content_type__app_label="breaches", codename=SEE_PERMISSION)
    involved = set(
        InvolvedPartner.objects.filter(breach=breach).values_list(
            "partner__organisation_id", flat=True
        )
    )
    members = Membership.objects.filter(
        partnership_id=breach.partnership_id, is_dpo=True, is_administrator=False
    )
    wanted = {m.user_id for m in members if may_see_by_rule(m, breach, involved)}
    rows = BreachUserObjectPermission.objects.filter(content_object=breach, permission=permission)
    held = set(rows.values_list("user_id", flat=True))
    rows.exclude(user_id__in=wanted).delete()
    BreachUserObjectPermission.objects.bulk_create(
        [
            BreachUserObjectPermission(content_object=breach, permission=permission, user_id=pk)
            for pk in wanted - held
        ],
        ignore_conflicts=True,
    )
    return len(wanted)


def regrant_member(membership: Membership, *, gone: bool = False) -> int:
    """Someone's roles or organisation changed (or they left, `gone`): their rows on every
    breach of the partnership follow the rule (three queries). Returns how many they may see."""
    permission = Permission.objects.get(content_type__app_label="breaches", codename=SEE_PERMISSION)
    breaches = BreachReport.objects.filter(partnership_id=membership.partnership_id)
    due = not gone and membership.is_dpo and not membership.is_administrator
    wanted = (
        set(breaches.filter(visible_to(membership)).values_list("pk", flat=True)) if due else set()
    )
    rows = BreachUserObjectPermission.objects.filter(
        user_id=membership.user_id,
        permission=permission,
        content_object__partnership_id=membership.partnership_id,
    )
    held = set(rows.values_list("content_object_id", flat=True))
    rows.exclude(content_object_id__in=wanted).delete()
    BreachUserObjectPermission.objects.bulk_create(
        [
            BreachUserObjectPermission(
                content_object_id=pk, permission=permission, user_id=membership.user_id
            )
            for pk in wanted - held
        ],
        ignore_conflicts=True,
    )
    return len(wanted)


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
