"""An organisation's own people vouch for a colleague and list its domain; a new address and
a first person are confirmed from the e-mailed links. Every page checked by axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from signatories import addresses, affiliations
from signatories.models import Affiliation, OrganisationDomain
from tenancy.roles import Role

from ..factories import OrganisationFactory, UserFactory, make_member, make_partner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"/organisations/(?:confirm-address|approve)/[^/\s]+/")


@pytest.fixture
def luton(alpha):
    organisation = OrganisationFactory(
        name="Luton Borough Council", data_protection_email="dpo@luton.gov.uk"
    )
    make_partner(alpha, organisation)
    return organisation


def test_a_verified_person_approves_a_colleague_and_lists_the_domain(journey, alpha, luton):
    ivy = make_member(
        alpha,
        Role.ADMINISTRATOR,
        organisation=luton,
        user=UserFactory(email="ivy.green@luton.gov.uk", full_name="Ivy Green"),
    ).user
    rob = UserFactory(email="rob.records@luton.gov.uk", full_name="Rob Records")
    make_member(alpha, Role.VIEWER, user=rob, organisation=luton, verified=False)
    affiliations.request_affiliation(rob, luton, partnership=alpha)

    journey.sign_in_as(ivy)
    page = journey.visit("/partnerships/")
    journey.click(page.get_by_role("link", name="Organisations", exact=True))
    expect(page.get_by_role("heading", level=1, name="Your organisations")).to_be_visible()
    asking = page.get_by_role("table", name="People asking to be verified")
    expect(asking.get_by_role("row").filter(has_text="rob.records@luton.gov.uk")).to_contain_text(
        "Invited in Alpha Partnership"
    )
    journey.click(
        asking.get_by_role("button", name="Approve Rob Records for Luton Borough Council")
    )
    expect(page.get_by_role("alert")).to_contain_text(
        "Rob Records is now verified for Luton Borough Council."
    )
    assert Affiliation.objects.get(user=rob).status == Affiliation.Status.VERIFIED

    journey.click(page.get_by_role("link", name="Luton Borough Council"))
    page.get_by_label("Add a domain").fill("gmail.com")
    journey.click(page.get_by_role("button", name="Add domain"))
    expect(page).to_have_title(re.compile(r"^Error: Luton Borough Council"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("gmail.com is shared by many organisations")
    page.get_by_label("Add a domain").fill("luton.gov.uk")
    journey.click(page.get_by_role("button", name="Add domain"))
    expect(page.get_by_role("alert")).to_contain_text("luton.gov.uk is now listed")
    assert list(OrganisationDomain.objects.values_list("domain", flat=True)) == ["luton.gov.uk"]
    people = page.get_by_role("table", name="People verified for Luton Borough Council")
    expect(people).to_contain_text("Rob Records")


def test_a_new_address_confirms_itself_from_its_link(journey, luton, mailoutbox):
    addresses.ask_data_protection(luton, "info.governance@luton.gov.uk")
    (message,) = mailoutbox
    page = journey.visit(LINK.search(message.body).group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Confirm info.governance@luton.gov.uk"
    )
    luton.refresh_from_db()
    assert luton.data_protection_email == "dpo@luton.gov.uk"  # a GET changes nothing

    journey.click(page.get_by_role("button", name="Confirm this address"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Address confirmed")
    luton.refresh_from_db()
    assert luton.confirmed_data_protection_email == "info.governance@luton.gov.uk"


def test_the_data_protection_address_vouches_for_the_first_person(
    journey, alpha, luton, mailoutbox
):
    first = UserFactory(email="first@luton.gov.uk", full_name="Fay First")
    make_member(alpha, Role.VIEWER, user=first, organisation=luton, verified=False)
    affiliations.request_affiliation(first, luton, partnership=alpha)
    (message,) = mailoutbox
    assert message.to == ["dpo@luton.gov.uk"]

    page = journey.visit(LINK.search(message.body).group(0))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Does Fay First work for Luton Borough Council?"
    )
    journey.click(page.get_by_role("button", name="Approve"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    assert affiliations.acts_for(first, luton)
