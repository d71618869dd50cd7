"""An administrator invites a person, after the form has asked for what was missing."""

from __future__ import annotations

import re

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from tenancy.models import Membership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EMAIL = "nia.okafor@example.gov.uk"


def test_invite_a_person_after_correcting_the_form(journey, alice, alpha, mailoutbox):
    with scopes_disabled():
        organisation = str(Membership.objects.get(user=alice, partnership=alpha).organisation)
    journey.sign_in_as(alice)
    page = journey.visit("/p/alpha/")
    nav = page.get_by_role("navigation", name="Alpha Partnership")
    journey.click(nav.get_by_role("link", name="People"))
    journey.click(page.get_by_role("button", name="Invite a person"))
    expect(page.get_by_role("heading", level=1, name="Invite a person")).to_be_visible()

    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Full name (optional)").fill("Nia Okafor")
    page.get_by_label("Organisation they act for").select_option(label=organisation)
    journey.click(page.get_by_role("button", name="Send invitation"))

    # No role chosen: the error summary links to the field, which shows the same message.
    expect(page).to_have_title(re.compile(r"^Error: Invite a person"))
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    link = summary.get_by_role("link", name="Choose at least one role.")
    expect(link).to_have_attribute("href", "#id_roles_0")
    roles = page.get_by_role("group", name="Roles")
    expect(roles.locator(".govuk-error-message")).to_have_text("Error: Choose at least one role.")
    link.click()
    first_role = roles.get_by_role("checkbox", name="Partnership administrator")
    expect(first_role).to_be_focused()
    # What was typed is still there.
    expect(page.get_by_label("E-mail address")).to_have_value(EMAIL)
    expect(page.get_by_label("Organisation they act for")).to_have_value(re.compile(r"\d+"))

    roles.get_by_role("checkbox", name="IG officer").check()
    journey.click(page.get_by_role("button", name="Send invitation"))

    expect(page.get_by_role("heading", level=1, name="People")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(f"An invitation has been sent to {EMAIL}.")
    invitations = page.get_by_role("table", name="Invitations waiting to be accepted")
    row = invitations.get_by_role("row").filter(has_text=EMAIL)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(organisation)
    expect(row).to_contain_text("IG officer")

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [EMAIL]
    assert "Alpha Partnership" in message.subject
    assert re.search(r"/invitations/[^/\s]+/", message.body)
    assert "IG officer" in message.body
