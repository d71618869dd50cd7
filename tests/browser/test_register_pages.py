"""The steering group browses the register and the data-flow map: axe finds nothing, the
filters work from the keyboard's point of view (labels, error by the field), and both exports
are offered for the filtered view."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tenancy.roles import Role

from ..factories import make_agreement, make_member, make_partner

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_register_and_the_map_are_accessible_and_filter(journey, alpha):
    steering = make_member(alpha, Role.STEERING_GROUP).user
    county = make_partner(alpha)
    make_agreement(alpha, lead=county, title="Reablement review", reference="ISA-001")
    make_agreement(alpha, lead=county, title="Hospital discharge", reference="ISA-002")
    journey.sign_in_as(steering)

    page = journey.visit("/p/alpha/agreements/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Register of information sharing agreements"
    )
    table = page.get_by_role("table").first
    expect(table).to_contain_text("Reablement review")
    expect(table).to_contain_text("Hospital discharge")

    page.get_by_label("Search").fill("discharge")
    journey.click(page.get_by_role("button", name="Filter"))
    expect(page.get_by_role("table").first).to_contain_text("Hospital discharge")
    expect(page.get_by_role("table").first).not_to_contain_text("Reablement review")
    csv_link = page.get_by_role("link", name="CSV")
    expect(csv_link).to_have_attribute(
        "href", re.compile(r"^/p/alpha/agreements/export\.csv\?q=discharge")
    )

    page = journey.visit("/p/alpha/agreements/?status=nonsense")
    expect(page.get_by_text("Choose a status from the list.").first).to_be_visible()

    page = journey.visit("/p/alpha/agreements/map/?status=")
    expect(page.get_by_role("img").first).to_be_visible()
    expect(page.get_by_role("table").first).to_contain_text(county.organisation.name)
