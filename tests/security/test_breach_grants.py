"""Who may see a breach is kept as guardian object permissions on the breach's own table, and
follows people's roles: a DPO named later sees it, one who stops being a DPO or leaves does
not, and a grant without the role opens nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django_scopes import scope

from breaches import access
from breaches.models import SEE_PERMISSION, BreachUserObjectPermission
from tenancy.models import Membership
from tenancy.roles import Role

from ..breach_factories import dpo_of, make_breach
from ..factories import make_member, make_partner

pytestmark = pytest.mark.django_db


def granted(breach) -> set[int]:
    return set(
        BreachUserObjectPermission.objects.filter(
            content_object=breach, permission__codename=SEE_PERMISSION
        ).values_list("user_id", flat=True)
    )


def sees(membership, breach) -> bool:
    with scope(partnership=breach.partnership):
        membership = Membership.objects.get(pk=membership.pk)
        return access.visible(membership).filter(pk=breach.pk).exists()


def test_the_breachs_grants_are_its_dpos(alpha, alice):
    """The administrators see every breach by their role: they need no grant."""
    county, cares, police = make_partner(alpha), make_partner(alpha), make_partner(alpha)
    reporter = dpo_of(county)
    involved = make_member(alpha, Role.DPO, organisation=cares.organisation)
    outside = make_member(alpha, Role.DPO, organisation=police.organisation)
    breach = make_breach(alpha, by=reporter, involved=[cares])
    assert granted(breach) == {reporter.pk, involved.user_id}
    with scope(partnership=alpha):
        assert access.visible(Membership.objects.get(user=alice)).filter(pk=breach.pk).exists()
    assert outside.user_id not in granted(breach)


def test_a_dpo_named_later_is_granted_and_one_who_stops_loses_it(alpha):
    county, cares = make_partner(alpha), make_partner(alpha)
    breach = make_breach(alpha, by=dpo_of(county), involved=[cares])
    later = make_member(alpha, Role.VIEWER, organisation=cares.organisation)
    assert not sees(later, breach)

    with scope(partnership=alpha):
        later.set_roles([Role.DPO])
        later.save()
    assert later.user_id in granted(breach) and sees(later, breach)

    with scope(partnership=alpha):
        later.set_roles([Role.VIEWER])
        later.save()
    assert later.user_id not in granted(breach) and not sees(later, breach)


def test_a_grant_without_the_role_opens_nothing(alpha):
    """Threat: a stale or forged permission row shows a breach to someone the rule excludes.
    Answer: pages ask for the grant and for the rule as the roles are now."""
    county, police = make_partner(alpha), make_partner(alpha)
    breach = make_breach(alpha, by=dpo_of(county))
    stranger = make_member(alpha, Role.DPO, organisation=police.organisation)
    BreachUserObjectPermission.objects.create(
        content_object=breach,
        user_id=stranger.user_id,
        permission=Permission.objects.get(codename=SEE_PERMISSION),
    )
    assert not sees(stranger, breach)


def test_someone_who_leaves_the_partnership_keeps_no_grant(alpha):
    county = make_partner(alpha)
    reporter_membership = make_member(alpha, Role.DPO, organisation=county.organisation)
    colleague = make_member(alpha, Role.DPO, organisation=county.organisation)
    breach = make_breach(alpha, by=reporter_membership.user)
    assert colleague.user_id in granted(breach)
    with scope(partnership=alpha):
        colleague.delete()
    assert colleague.user_id not in granted(breach)
