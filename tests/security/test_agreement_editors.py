"""Named editors of an agreement: people from the other parties whom the lead organisation's
drafters let edit its sections (a guardian object permission). They change the text, never
who leads the agreement or who its parties are, and the right lasts only while their
membership supports it: still in the partnership, acting for one of the parties."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scope
from guardian.shortcuts import assign_perm

from agreements import services
from agreements.models import AgreementParty, AgreementUserObjectPermission, DataItem
from tenancy import services as tenancy_services
from tenancy.models import Membership
from tenancy.roles import Role

from .. import test_agreements as base
from ..factories import make_member, make_partner
from ..pages import field_error, page_text
from ..test_agreements import agreement_url, audit, fresh, post_section, section_of, section_url

pytestmark = pytest.mark.django_db

# The seed-002 agreement of test_agreements: ECC leads, Essex Cares the other party.
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer

LEAD_REFUSAL = (
    "Only the drafters of Essex County Council, the lead organisation, and the partnership's "
    "administrators can change"
)


@pytest.fixture
def named(alpha, agreement, ecl, officer) -> Membership:
    """A viewer acting for the other party (Essex Cares), named an editor by the lead."""
    membership = make_member(alpha, Role.VIEWER, organisation=ecl.organisation)
    with scope(partnership=alpha):
        services.add_editor(agreement, membership, by=officer)
    return membership


def parties_of(agreement) -> dict[int, str]:
    with scope(partnership=agreement.partnership):
        return dict(
            AgreementParty.objects.filter(agreement=agreement).values_list("partner", "role")
        )


def grant_held(membership: Membership, agreement) -> bool:
    """Whether the guardian row naming the person an editor is still there."""
    return AgreementUserObjectPermission.objects.filter(
        user=membership.user, content_object=agreement
    ).exists()


# --- 5. Named editors change the text, not the lead or the parties --------------------------


def test_a_named_editor_cannot_make_their_own_organisation_the_lead(
    client, agreement, ecc, ecl, officer, named
):
    """Threat: a named editor makes their organisation the lead, locking the lead's drafters
    out. Answer: the summary refuses the change on the field; the lead and its drafters stay."""
    client.force_login(named.user)

    response = post_section(client, agreement, "summary", lead=str(ecl.pk))

    assert response.status_code == 200
    assert field_error(response, "lead") == f"Error: {LEAD_REFUSAL} the lead organisation."
    assert fresh(agreement).lead_id == ecc.pk
    with scope(partnership=agreement.partnership):
        assert services.can_edit(officer, fresh(agreement))


def test_a_named_editor_cannot_change_the_parties_or_their_roles(
    client, alpha, agreement, ecc, ecl, named
):
    """Threat: a named editor removes a party, adds one or changes a role (say, makes the
    lead a processor). Answer: refused with a message on the parties; nothing changes."""
    third = make_partner(alpha)
    before = parties_of(agreement)
    client.force_login(named.user)

    for change in (
        {f"party_{ecc.pk}": "processor"},
        {f"party_{third.pk}": "recipient"},
    ):
        response = post_section(client, agreement, "summary", **change)

        assert response.status_code == 200
        assert f"{LEAD_REFUSAL} the parties or their roles." in page_text(response)
        assert parties_of(agreement) == before


def test_the_service_refuses_a_named_editor_changing_the_lead_or_the_parties(
    alpha, agreement, ecc, ecl, named
):
    """Threat: a task or page calls save_section for a named editor with a new lead or new
    parties. Answer: the service itself refuses both."""
    section = section_of(agreement, "summary")
    with scope(partnership=alpha):
        with pytest.raises(ValidationError) as lead:
            services.save_section(
                section, expected_version=1, completed=True, fields={"lead": ecl}, by=named.user
            )
        with pytest.raises(ValidationError) as parties:
            services.save_section(
                section,
                expected_version=1,
                completed=True,
                parties={ecc.pk: "processor", ecl.pk: "joint_controller"},
                by=named.user,
            )
    assert lead.value.message_dict["lead"] == [f"{LEAD_REFUSAL} the lead organisation."]
    assert parties.value.message_dict["parties"] == [f"{LEAD_REFUSAL} the parties or their roles."]
    assert fresh(agreement).lead_id == ecc.pk
    assert parties_of(agreement) == {ecc.pk: "joint_controller", ecl.pk: "joint_controller"}


def test_a_named_editor_sees_the_lead_and_parties_read_only_and_saves_the_rest(
    client, agreement, ecc, ecl, named
):
    """Threat: none; the named editor's own work. Answer: the lead and the parties are shown
    read-only, and the summary's other answers save as usual, leaving them as they were."""
    client.force_login(named.user)
    page = client.get(section_url(agreement, "summary")).content.decode()
    for name in ("lead", f"party_{ecc.pk}", f"party_{ecl.pk}"):
        assert re.search(rf'<select name="{name}"[^>]* disabled[ >]', page), name
    assert re.search(r'<input type="text" name="title"(?![^>]* disabled)[^>]*>', page)

    response = post_section(client, agreement, "summary", title="Reablement review 2026")

    assert response.status_code == 302
    assert fresh(agreement).title == "Reablement review 2026"
    assert fresh(agreement).lead_id == ecc.pk
    assert parties_of(agreement) == {ecc.pk: "joint_controller", ecl.pk: "joint_controller"}


def test_a_partnership_administrator_changes_the_lead_and_the_parties(
    client, alpha, agreement, ecl
):
    """Threat: none; who may. Answer: a partnership administrator, acting for any
    organisation, changes the lead and the parties as the lead's drafters do."""
    admin = make_member(alpha, Role.ADMINISTRATOR).user
    client.force_login(admin)

    response = post_section(client, agreement, "summary", lead=str(ecl.pk))

    assert response.status_code == 302
    assert fresh(agreement).lead_id == ecl.pk


# --- 6. Named editing follows the membership ------------------------------------------------


def test_a_named_editor_who_moves_to_an_organisation_that_is_no_party_can_no_longer_edit(
    client, alpha, agreement, named
):
    """Threat: a named editor now acts for another organisation, no party to the agreement,
    and keeps editing it. Answer: the right ends with the change; the grant is taken back and
    the audit log says so."""
    elsewhere = make_partner(alpha).organisation
    with scope(partnership=alpha):
        tenancy_services.change_membership(named, roles=[Role.VIEWER], organisation=elsewhere)

    client.force_login(named.user)
    assert client.post(section_url(agreement, "purpose"), {"version": 1}).status_code == 403
    section = section_of(agreement, "purpose")
    with scope(partnership=alpha), pytest.raises(PermissionDenied):
        services.save_section(section, expected_version=1, completed=False, body="x", by=named.user)
    assert section_of(agreement, "purpose").body != "x"
    assert not grant_held(named, agreement)
    assert [e.summary for e in audit(alpha, "agreement.editor_removed")] == [
        f"Stopped {named.user} editing {agreement}: they no longer act for one of its parties"
    ]


def test_a_named_editor_removed_from_the_partnership_has_no_right_when_they_return(
    client, alpha, agreement, ecl, named
):
    """Threat: a named editor is removed from the partnership, is invited back (say as a
    viewer) and finds their old right still there. Answer: removal takes the grant back."""
    with scope(partnership=alpha):
        tenancy_services.remove_membership(named)
    assert not grant_held(named, agreement)

    make_member(alpha, Role.VIEWER, user=named.user, organisation=ecl.organisation)
    client.force_login(named.user)
    assert client.post(section_url(agreement, "purpose"), {"version": 1}).status_code == 403


def test_named_editing_ends_when_the_editors_organisation_stops_being_a_party(
    client, alpha, agreement, ecc, ecl, officer
):
    """Threat: the lead's drafters take an organisation off the agreement, but its named
    editor still edits. Answer: the right ends with the party; the grant is taken back."""
    third = make_partner(alpha)
    with scope(partnership=alpha):
        AgreementParty.objects.create(
            partnership=alpha, agreement=agreement, partner=third, role="recipient"
        )
    editor = make_member(alpha, Role.DPO, organisation=third.organisation)
    with scope(partnership=alpha):
        services.add_editor(agreement, editor, by=officer)
    client.force_login(editor.user)
    assert post_section(client, agreement, "purpose", body="Ours").status_code == 302

    client.force_login(officer)
    response = post_section(client, agreement, "summary", **{f"party_{third.pk}": ""})
    assert response.status_code == 302

    client.force_login(editor.user)
    assert client.post(section_url(agreement, "purpose"), {"version": 2}).status_code == 403
    assert not grant_held(editor, agreement)


def test_a_grant_held_by_someone_acting_for_no_party_is_of_no_use(client, alpha, agreement, bob):
    """Threat: a viewer acting for an organisation that is no party holds the object
    permission (granted directly, or left from before) and saves sections. Answer: the grant
    is checked against the membership when it is used, by the pages and the services."""
    assign_perm("agreements.edit_agreement", bob, agreement)
    client.force_login(bob)

    assert client.post(section_url(agreement, "purpose"), {"version": 1}).status_code == 403
    assert client.post(agreement_url("item_add", agreement), {}).status_code == 403
    with scope(partnership=alpha):
        assert not services.can_edit(bob, agreement)
        with pytest.raises(PermissionDenied):
            services.save_section(
                section_of(agreement, "purpose"),
                expected_version=1,
                completed=False,
                body="x",
                by=bob,
            )


def test_a_named_editor_left_without_any_role_can_no_longer_edit(client, alpha, agreement, named):
    """Threat: a membership whose roles were all taken away still edits through its grant.
    Answer: named editing needs a role that reads the partnership's documents (every role
    does today); with none left, the pages and the services refuse."""
    with scope(partnership=alpha):
        named.set_roles([])
        named.save()
    client.force_login(named.user)

    assert client.post(section_url(agreement, "purpose"), {"version": 1}).status_code == 403
    with scope(partnership=alpha):
        assert not services.can_edit(named.user, agreement)


def test_the_services_refuse_changes_by_someone_who_is_not_an_editor(alpha, agreement, bob):
    """Threat: code other than the pages (a task, the shell, a new view) saves a section or a
    data item for someone who may not edit. Answer: the services refuse, not only the views."""
    with scope(partnership=alpha):
        item = DataItem.objects.get(agreement=agreement)
        with pytest.raises(PermissionDenied):
            services.save_section(
                section_of(agreement, "purpose"),
                expected_version=1,
                completed=False,
                body="x",
                by=bob,
            )
        with pytest.raises(PermissionDenied):
            services.delete_data_item(item, by=bob)
        with pytest.raises(PermissionDenied):
            services.save_data_item(agreement, item=item, values={"item": "x"}, by=bob)
        assert DataItem.objects.filter(pk=item.pk, item=item.item).exists()


def test_a_named_editor_not_verified_for_their_party_cannot_edit():
    """Threat: a member says they act for a party and is named an editor; answer: the grant
    works only once their link to that party is verified."""
    from agreements.services.common import membership_supports_editing
    from signatories.models import Affiliation

    from ..factories import PartnershipFactory, make_agreement

    partnership = PartnershipFactory()
    agreement = make_agreement(partnership)
    with scope(partnership=partnership):
        party = agreement.parties.select_related("partner__organisation").first()
    member = make_member(
        partnership, Role.IG_OFFICER, organisation=party.partner.organisation, verified=False
    )
    with scope(partnership=partnership):
        assert not membership_supports_editing(member, agreement)
    Affiliation.objects.update_or_create(
        user=member.user,
        organisation=party.partner.organisation,
        defaults={"status": Affiliation.Status.VERIFIED},
    )
    with scope(partnership=partnership):
        assert membership_supports_editing(member, agreement)
