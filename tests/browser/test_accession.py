"""A partner that joins after the protocol is signed is asked to sign the version in force,
from the signatories page: a missing choice is shown where it was made, then the partner is
asked; every page checked by axe."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope
from playwright.sync_api import expect

from documents.pdf import renders_on_demand
from protocols import services
from signatories.models import RequestStatus, SignatureRequest
from tenancy.roles import Role

from ..factories import (
    OrganisationFactory,
    make_member,
    make_partner,
    make_protocol,
    make_signatory,
)
from ..test_protocols import approved, latest
from ..test_protocols_signing import send, sign_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_partner_joining_later_is_asked_to_sign_the_version_in_force(journey, alpha, pdf_storage):
    names = ["Northshire County Council", "Eastvale Police", "Westmoor District Council"]
    partners = [make_partner(alpha, OrganisationFactory(name=name)) for name in names]
    for partner in partners:
        make_signatory(partner, position="Senior Information Risk Owner")
    manager = make_member(alpha, Role.ADMINISTRATOR, organisation=partners[0].organisation).user
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=partners[1].organisation).user
    with renders_on_demand():
        protocol = make_protocol(alpha, title="Northshire protocol", lead=partners[0], by=manager)
        version = send(approved(latest(protocol), manager, steering), partners, manager)
        sign_all(version, partners)
    newcomer = make_partner(alpha, OrganisationFactory(name="Southdale Academy Trust"))
    make_signatory(newcomer, position="Data Protection Officer")

    journey.sign_in_as(manager)
    page = journey.visit(f"/p/alpha/protocols/{protocol.pk}/versions/{version.pk}/signatories/")
    expect(page.get_by_text("3 of 3 partners asked have signed.")).to_be_visible()
    expect(page.get_by_role("heading", name="Ask partners to sign this version")).to_be_visible()
    group = page.get_by_role("group", name="Partners to ask")
    expect(group.get_by_role("checkbox")).to_have_count(1)

    journey.click(page.get_by_role("button", name="Ask to sign"))

    expect(page).to_have_title(re.compile(r"^Error: Signatories"))
    error = page.locator(".govuk-error-summary")
    expect(error).to_contain_text("Choose at least one partner to ask to sign.")
    expect(error.get_by_role("link")).to_have_attribute("href", "#id_partners_0")

    page.get_by_role("checkbox", name="Southdale Academy Trust").check()
    with renders_on_demand():
        journey.click(page.get_by_role("button", name="Ask to sign"))

    expect(page.get_by_role("alert")).to_contain_text(
        "Southdale Academy Trust has been asked to sign version 1.0."
    )
    table = page.get_by_role("table", name="Partners asked to sign version 1.0")
    expect(table.get_by_role("row").filter(has_text="Southdale Academy Trust")).to_contain_text(
        "Sent"
    )
    expect(page.get_by_text("3 of 4 partners asked have signed.")).to_be_visible()
    with scope(partnership=alpha):
        assert services.partners_asked(version).count() == 4
        assert SignatureRequest.objects.filter(status=RequestStatus.SENT).count() == 1
