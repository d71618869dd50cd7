"""A person in two partnerships moves between them; neither leaks into the other's pages."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tenancy.models import Membership
from tenancy.roles import Role

from ..factories import make_member

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_switching_partnership_shows_only_the_chosen_one(journey, alice, alpha, beta):
    with scopes_disabled():
        alpha_organisation = str(Membership.objects.get(user=alice, partnership=alpha).organisation)
    beta_organisation = str(make_member(beta, Role.ADMINISTRATOR, user=alice).organisation)
    journey.sign_in_as(alice)
    page = journey.page

    journey.visit("/partnerships/")
    expect(page.get_by_role("heading", level=1, name="Your partnerships")).to_be_visible()
    journey.click(page.get_by_role("link", name="Alpha Partnership"))
    expect(page.get_by_role("heading", level=1, name="Alpha Partnership")).to_be_visible()
    expect(page.get_by_text(f"You act for {alpha_organisation}")).to_be_visible()

    journey.back()
    expect(page.get_by_role("heading", level=1, name="Your partnerships")).to_be_visible()
    journey.click(page.get_by_role("link", name="Beta Partnership"))
    expect(page.get_by_role("heading", level=1, name="Beta Partnership")).to_be_visible()
    expect(page.get_by_text(f"You act for {beta_organisation}")).to_be_visible()

    # Beta's own pages: nothing of Alpha's, neither its name nor its organisation.
    nav = page.get_by_role("navigation", name="Beta Partnership")
    for section in ("Dashboard", "Partners", "People", "Audit log"):
        if section != "Dashboard":
            journey.click(nav.get_by_role("link", name=section))
        expect(nav.get_by_role("link", name=section)).to_have_attribute("aria-current", "page")
        expect(page).to_have_title(f"{section} – Beta Partnership – Accord")
        expect(page.locator("body")).not_to_contain_text("Alpha Partnership")
        expect(page.locator("body")).not_to_contain_text(alpha_organisation)
        if section in ("Partners", "People"):
            expect(page.get_by_role("cell", name=beta_organisation)).to_be_visible()

    # And the header's link leads back to the chooser, which lists both.
    journey.click(page.get_by_role("banner").get_by_role("link", name="Partnerships"))
    expect(page.get_by_role("link", name="Alpha Partnership")).to_be_visible()
    expect(page.get_by_role("link", name="Beta Partnership")).to_be_visible()
