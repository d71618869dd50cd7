"""Organisation records are global and kept up to date by the people who act for them; every
partnership they belong to sees the change in its audit log."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from signatories.models import Organisation, PartnerStatus, Sector
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .factories import (
    OrganisationFactory,
    PartnershipFactory,
    UserFactory,
    make_member,
    make_partner,
)
from .pages import field_error, page_text

pytestmark = pytest.mark.django_db


def detail(organisation) -> str:
    return reverse("organisations:detail", kwargs={"organisation_id": organisation.pk})


def edit(organisation) -> str:
    return reverse("organisations:edit", kwargs={"organisation_id": organisation.pk})


def changes_logged(partnership) -> list[AuditEntry]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.filter(action="organisation.changed"))


def form_data(organisation, **changes) -> dict:
    values = {
        "name": organisation.name,
        "ico_reference": organisation.ico_reference or "",
        "sector": organisation.sector,
        "address": organisation.address,
        "phone": organisation.phone,
        "data_protection_email": organisation.data_protection_email,
        "dpo_name": organisation.dpo_name,
    }
    return {**values, **changes}


@pytest.fixture
def luton(alpha, beta):
    """A partner of Alpha and Beta (and, once, of Gamma, which it has left)."""
    organisation = OrganisationFactory(
        name="Luton Borough Council",
        ico_reference="Z6034810",
        sector=Sector.LOCAL_AUTHORITY,
        dpo_name="Jo Bloggs",
        phone="01582 546000",
    )
    make_partner(alpha, organisation)
    make_partner(beta, organisation, PartnerStatus.WITHDRAWING)
    return organisation


@pytest.fixture
def dana(alpha, luton):
    """Acts for Luton in Alpha, as a viewer only."""
    return make_member(alpha, Role.VIEWER, organisation=luton).user


@pytest.fixture
def unrelated():
    """Has an account and nothing else."""
    return UserFactory()


# Editing by the people who act for the organisation


def test_person_acting_for_an_organisation_updates_its_record(client, dana, luton):
    client.force_login(dana)

    page = client.get(edit(luton))
    assert page.status_code == 200
    assert "Update Luton Borough Council's record" in page_text(page)
    assert 'value="Z6034810"' in page.content.decode()

    response = client.post(
        edit(luton), form_data(luton, dpo_name="Sam Smith", phone="01582 000000"), follow=True
    )

    assert response.redirect_chain[-1][0] == detail(luton)
    text = page_text(response)
    assert "Luton Borough Council's record has been saved." in text
    assert "Sam Smith" in text
    assert "01582 000000" in text
    luton.refresh_from_db()
    assert luton.dpo_name == "Sam Smith"
    assert luton.phone == "01582 000000"


def test_every_partnership_of_the_organisation_logs_the_change(client, alpha, beta, dana, luton):
    gamma = PartnershipFactory(name="Gamma Partnership")
    elsewhere = PartnershipFactory(name="Delta Partnership")
    make_partner(gamma, luton, PartnerStatus.WITHDRAWN)
    make_partner(elsewhere)
    client.force_login(dana)

    client.post(edit(luton), form_data(luton, dpo_name="Sam Smith", ico_reference="za123456"))

    for partnership in (alpha, beta, gamma):
        (entry,) = changes_logged(partnership)
        assert entry.summary == "Updated the record of Luton Borough Council"
        assert entry.changes == {
            "dpo_name": ["Jo Bloggs", "Sam Smith"],
            "ico_reference": ["Z6034810", "ZA123456"],
        }
        if partnership == alpha:  # where Dana is a member
            assert entry.actor == dana
        else:  # beta and gamma never see who, from another partnership, made the change
            assert entry.actor is None
            assert entry.actor_name == "Someone outside this partnership"
            assert entry.organisation_name == "Luton Borough Council"
        assert entry.object_id == str(luton.pk)
        assert entry.object_repr == "Luton Borough Council"
    assert changes_logged(elsewhere) == []


def test_change_shows_in_the_partnership_audit_log(client, alpha, alice, dana, luton):
    client.force_login(dana)
    client.post(edit(luton), form_data(luton, name="Luton Council"))

    client.force_login(alice)
    response = client.get(reverse("tenancy:audit", kwargs={"partnership_slug": "alpha"}))

    assert response.status_code == 200
    text = page_text(response)
    assert "Updated the record of Luton Council" in text
    assert "Luton Borough Council" in text  # the name before


def test_saving_without_a_change_logs_nothing(client, alpha, beta, dana, luton):
    client.force_login(dana)

    response = client.post(edit(luton), form_data(luton))

    assert response.status_code == 302
    assert changes_logged(alpha) == []
    assert changes_logged(beta) == []


def test_person_acting_for_it_in_a_partnership_it_left_can_still_edit(client, luton):
    """Acting for an organisation is what counts, not the partner record's status."""
    gamma = PartnershipFactory(name="Gamma Partnership")
    make_partner(gamma, luton, PartnerStatus.WITHDRAWN)
    erin = make_member(gamma, Role.VIEWER, organisation=luton).user
    client.force_login(erin)

    response = client.post(edit(luton), form_data(luton, dpo_name="Erin Jones"))

    assert response.status_code == 302
    luton.refresh_from_db()
    assert luton.dpo_name == "Erin Jones"


def test_my_organisations_lists_those_i_act_for(client, dana, luton):
    client.force_login(dana)

    response = client.get(reverse("organisations:mine"))

    assert response.status_code == 200
    assert "Luton Borough Council" in page_text(response)
    assert detail(luton) in response.content.decode()


# People who do not act for it


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "unrelated"])
def test_person_not_acting_for_the_organisation_cannot_edit_it(client, request, luton, who):
    """Even an administrator of a partnership it belongs to: the record is the organisation's."""
    client.force_login(request.getfixturevalue(who))

    assert client.get(edit(luton)).status_code == 404
    response = client.post(edit(luton), form_data(luton, name="Hijacked"))

    assert response.status_code == 404
    luton.refresh_from_db()
    assert luton.name == "Luton Borough Council"


def test_signed_out_visitor_is_sent_to_sign_in(client, luton):
    response = client.get(edit(luton))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert client.get(detail(luton)).status_code == 302


def test_no_edit_link_for_people_who_do_not_act_for_it(client, bob, luton):
    client.force_login(bob)

    response = client.get(detail(luton))

    assert response.status_code == 200
    assert "Update the record" not in page_text(response)
    assert edit(luton) not in response.content.decode()


def test_edit_link_for_people_who_act_for_it(client, dana, luton):
    client.force_login(dana)

    response = client.get(detail(luton))

    assert "Update the record" in page_text(response)
    assert edit(luton) in response.content.decode()


# Who may see the organisation's page


@pytest.mark.parametrize("who", ["dana", "alice", "bob", "charlie"])
def test_organisation_page_shows_to_people_linked_to_it(client, request, luton, who):
    """Those who act for it, and members of partnerships it belongs to (Alpha and Beta)."""
    client.force_login(request.getfixturevalue(who))

    response = client.get(detail(luton))

    assert response.status_code == 200
    text = page_text(response)
    assert "Luton Borough Council" in text
    assert "Z6034810" in text


def test_organisation_page_is_not_found_for_people_with_no_link_to_it(client, unrelated, luton):
    client.force_login(unrelated)

    assert client.get(detail(luton)).status_code == 404


def test_organisation_page_is_not_found_for_members_of_other_partnerships(client, luton):
    gamma = PartnershipFactory(name="Gamma Partnership")
    outsider = make_member(gamma, Role.ADMINISTRATOR).user
    client.force_login(outsider)

    response = client.get(detail(luton))

    assert response.status_code == 404
    assert "Luton Borough Council" not in response.content.decode()


def test_a_missing_organisation_is_not_found(client, dana):
    client.force_login(dana)

    missing = reverse("organisations:detail", kwargs={"organisation_id": 999999})
    assert client.get(missing).status_code == 404
    missing = reverse("organisations:edit", kwargs={"organisation_id": 999999})
    assert client.get(missing).status_code == 404


# Bad input: a clear message by the field, and nothing changed


@pytest.mark.parametrize(
    ("changes", "field", "error"),
    [
        (
            {"ico_reference": "Z12345"},
            "ico_reference",
            "Enter an ICO registration reference as Z and 7 digits, such as Z6034810, "
            "or Z, a letter and 6 digits, such as ZA123456.",
        ),
        (
            {"ico_reference": "A1234567"},
            "ico_reference",
            "Enter an ICO registration reference as Z and 7 digits, such as Z6034810, "
            "or Z, a letter and 6 digits, such as ZA123456.",
        ),
        (
            {"ico_reference": "Z12345678"},
            "ico_reference",
            "Enter an ICO registration reference as Z and 7 digits, such as Z6034810, "
            "or Z, a letter and 6 digits, such as ZA123456.",
        ),
        (
            {"ico_reference": "z 999 9999"},
            "ico_reference",
            "Another organisation's record already uses this ICO registration reference. "
            "Check the reference on the ICO's register.",
        ),
        ({"name": ""}, "name", "Enter the organisation's name."),
        ({"name": "   "}, "name", "Enter the organisation's name."),
        (
            {"data_protection_email": "dpo at luton"},
            "data_protection_email",
            "Enter an e-mail address like dpo@example.gov.uk.",
        ),
        ({"sector": "aerospace"}, "sector", "Select a valid choice."),
    ],
    ids=[
        "ico-too-short",
        "ico-not-z",
        "ico-too-long",
        "ico-of-another-organisation",
        "no-name",
        "blank-name",
        "email",
        "sector",
    ],
)
def test_bad_input_is_refused_by_the_field_and_changes_nothing(
    client, alpha, beta, dana, luton, changes, field, error
):
    OrganisationFactory(name="Another Council", ico_reference="Z9999999")
    client.force_login(dana)
    before = Organisation.objects.values().get(pk=luton.pk)

    response = client.post(edit(luton), form_data(luton, dpo_name="Sam Smith", **changes))

    assert response.status_code == 200
    assert field_error(response, field).startswith(f"Error: {error}")
    text = page_text(response)
    assert text.startswith("Error: Update Luton Borough Council")  # the page title
    assert "There is a problem" in text
    assert Organisation.objects.values().get(pk=luton.pk) == before
    assert changes_logged(alpha) == []
    assert changes_logged(beta) == []


def test_the_form_keeps_what_was_typed_after_an_error(client, dana, luton):
    client.force_login(dana)

    response = client.post(edit(luton), form_data(luton, name="", dpo_name="Sam Smith"))

    assert 'value="Sam Smith"' in response.content.decode()
    assert "Update Luton Borough Council's record" in page_text(response)
