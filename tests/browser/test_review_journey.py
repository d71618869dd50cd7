"""A review in the browser, from the dashboard to the outcome: the steering group sees Essex
ISP due soon, asks the parties for feedback; Essex Police answers through the e-mailed link
with no account (first leaving a section unanswered); the steering group reads the feedback
beside the section, tries a cadence of 600 months, then records the review (first without a
decision) as "no change", which the protocol's revision table then shows. Every page on the way
is checked by axe."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from reviews import services
from tenancy.roles import Role

from ..factories import OrganisationFactory, UserFactory, make_member, make_partner
from ..review_factories import protocol_in_force, refreshed_cycle
from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLICE = "ig@police.example"
COMMENT = "Name the Information Sharing Unit as the police's single point of contact."


@pytest.fixture
def county(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(name="Essex County Council", data_protection_email="dpo@essex.example"),
    )


@pytest.fixture
def police(alpha):
    return make_partner(
        alpha, OrganisationFactory(name="Essex Police", data_protection_email=POLICE)
    )


@pytest.fixture
def steering(alpha, county):
    user = UserFactory(full_name="Ann Lee", email="ann.lee@essex.example")
    return make_member(alpha, Role.STEERING_GROUP, user=user, organisation=county.organisation).user


@pytest.fixture
def cycle(alpha, county, police, steering):
    _, cycle = protocol_in_force(alpha, lead=county, title="Essex ISP")
    with scope(partnership=alpha):
        services.update_schedule(
            cycle,
            cadence_months=12,
            feedback_months=1,
            first_review_on=timezone.localdate() + timedelta(days=45),
            by=steering,
        )
    return refreshed_cycle(cycle)


def feedback_link(address: str) -> str:
    for message in mail.outbox:
        if address in message.to and (
            found := re.search(r"https?://\S+/feedback/\S+/", message.body)
        ):
            return found.group(0)
    raise AssertionError(f"No feedback link was sent to {address}")


def test_a_feedback_round_and_a_review(
    journey, new_context, base_url, alpha, cycle, steering, live_server, settings
):
    settings.SITE_URL = live_server.url

    # 1. The steering group finds the protocol due soon on the reviews dashboard.
    journey.sign_in_as(steering)
    page = journey.visit("/p/alpha/")
    nav = page.get_by_role("navigation", name="Alpha Partnership")
    journey.click(nav.get_by_role("link", name="Reviews", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reviews")
    row = page.locator("#reviews tbody tr").filter(has_text="Essex ISP")
    expect(row).to_contain_text("Due soon")
    expect(row).to_contain_text("Not yet asked")
    journey.click(row.get_by_role("link", name="Essex ISP"))

    # 2. It asks the parties for feedback now.
    journey.click(page.get_by_role("button", name="Ask the parties for feedback now"))
    expect(
        page.get_by_role("alert").or_(page.locator(".govuk-notification-banner"))
    ).to_contain_text("2 parties have been asked for feedback")
    expect(page.locator("#parties tr").filter(has_text="Essex Police")).to_contain_text(
        "Not yet answered"
    )

    # 3. Essex Police answers through its link, with no account.
    police = Journey(new_context().new_page(), base_url)
    form = police.visit(feedback_link(POLICE))
    expect(form.get_by_role("heading", level=1)).to_have_text("Essex ISP")
    form.get_by_label("Your name").fill("Ian Grey")
    form.get_by_label("Your e-mail address").fill("ian.grey@police.example")
    groups = form.get_by_role("group", name=re.compile("^Does “"))
    count = groups.count()
    assert count >= 2
    for i in range(count - 1):
        groups.nth(i).get_by_label("No changes").check()
    police.click(form.get_by_role("button", name="Send the feedback"))
    expect(form).to_have_title(re.compile("^Error: "))
    problem = form.get_by_role("alert").filter(has_text="There is a problem")
    expect(problem.get_by_role("listitem")).to_have_count(1)
    expect(problem).to_contain_text("needs any changes")
    last = form.get_by_role("group", name=re.compile("^Does “")).nth(count - 1)
    last.get_by_label("Comments or a proposed amendment").check()
    form.locator(f"#id_comments_{count}").fill(COMMENT)
    police.click(form.get_by_role("button", name="Send the feedback"))
    expect(form.locator(".govuk-notification-banner, [role=alert]").first).to_contain_text(
        "Essex Police's feedback has been sent to the steering group"
    )
    expect(form.locator("#answered")).to_contain_text("Ian Grey gave Essex Police's feedback")

    # 4. The steering group reads it beside the section.
    journey.visit(f"/p/alpha/reviews/{cycle.pk}/")
    expect(page.locator("#feedback + p")).to_contain_text("1 of 2")
    expect(page.locator(f"#section-{count}")).to_contain_text(f"Essex Police: {COMMENT}")

    # 5. A cadence of 600 months is refused where it was typed.
    journey.click(page.get_by_role("link", name="Change the schedule"))
    page.get_by_label("Review every (months)").fill("600")
    journey.click(page.get_by_role("button", name="Save"))
    expect(page).to_have_title(re.compile("^Error: "))
    expect(page.get_by_role("alert")).to_contain_text(
        "Enter how often it is reviewed between 1 and 120 months."
    )
    assert refreshed_cycle(cycle).cadence_months == 12
    journey.click(page.get_by_role("link", name="Cancel"))

    # 6. The review is recorded: an outcome needs a decision.
    journey.click(page.get_by_role("button", name="Record the review"))
    page.get_by_label("Date of the review meeting").fill(timezone.localdate().strftime("%d/%m/%Y"))
    page.get_by_label("Who attended").fill("Ann Lee, Essex County Council\nIan Grey, Essex Police")
    page.get_by_label("No change").check()
    journey.click(page.get_by_role("button", name="Record the review"))
    expect(page.get_by_role("alert")).to_contain_text(
        "Enter the decision the review made: an outcome needs one."
    )
    page.get_by_label("Decision").fill("The protocol still serves; contacts to follow in 1.1.")
    journey.click(page.get_by_role("button", name="Record the review"))
    expect(page.locator("#reviews-held + table")).to_contain_text("No change")
    after = refreshed_cycle(cycle)
    assert after.last_reviewed_on == timezone.localdate()

    # 7. The protocol's revision table says so.
    journey.click(page.get_by_role("link", name="Open the protocol"))
    journey.click(page.get_by_role("link", name="All versions"))
    expect(page.get_by_text("Reviewed, no change.")).to_be_visible()


def confirmation_link(address: str) -> str:
    for message in mail.outbox:
        if address in message.to and (
            found := re.search(r"https?://\S+/confirm/\S+/", message.body)
        ):
            return found.group(0)
    raise AssertionError(f"No confirmation link was sent to {address}")


def test_monitoring_the_pack_a_confirmation_and_a_calendar(
    journey, new_context, base_url, alpha, cycle, steering, county, live_server, settings
):
    settings.SITE_URL = live_server.url
    admin = make_member(alpha, Role.ADMINISTRATOR, organisation=county.organisation).user

    # The steering group asks the partners to confirm, and records a complaint.
    journey.sign_in_as(steering)
    page = journey.visit("/p/alpha/reviews/")
    journey.click(page.get_by_role("link", name=re.compile("^Monitoring")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Monitoring")
    journey.click(page.get_by_role("button", name="Ask partners to confirm").first)
    journey.click(page.get_by_role("button", name="Record the complaint"))
    expect(page).to_have_title(re.compile("^Error: "))
    journey.click(page.get_by_role("link", name="The annual review pack"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Annual review pack")

    # Essex Police confirms through its link, with no account.
    police = Journey(new_context().new_page(), base_url)
    form = police.visit(confirmation_link(POLICE))
    expect(form.get_by_role("heading", level=1)).to_have_text("Confirm that Essex ISP is in place")
    police.click(form.get_by_role("button", name="Confirm for Essex Police"))
    expect(form).to_have_title(re.compile("^Error: "))

    # Anyone keeps a calendar: the page, then an address made.
    page = journey.visit("/account/")
    journey.click(page.get_by_role("link", name="Your calendar"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your calendar")
    journey.click(page.get_by_role("button", name="Create your calendar address"))
    expect(page.get_by_label("Calendar address")).to_have_value(re.compile(r"/calendar/\S+\.ics$"))

    # An administrator's review settings, with a slip.
    admin_journey = Journey(new_context().new_page(), base_url)
    admin_journey.sign_in_as(admin)
    page = admin_journey.visit("/p/alpha/reviews/settings/")
    page.get_by_label("Review every (months)").fill("0")
    admin_journey.click(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("alert")).to_contain_text(
        "Enter how often documents are reviewed between 1 and 120 months."
    )
