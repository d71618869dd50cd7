"""A personal data breach from logging to closing, in the browser: Essex County Council's DPO
logs it against the seed-002 agreement with Essex Cares Ltd (first with a detection time in
the future), sees both clocks in UK time, tells Essex Cares by e-mail; Essex Cares
acknowledges and gives its view through the link, with no account; the DPO assesses it as
notifiable, the decision stands, the ICO is told with its case reference, the individuals are
not told for a reason, and the breach is closed with its timeline in order. Every page on the
way is checked by axe, and so are the register filtered, the figures, the report's edit page
asking BST or GMT, the follow-up page and the link's page for a wrong token."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone
from django_scopes import scope
from playwright.sync_api import expect

from accounts.models import User
from agreements.models import Agreement, AgreementStatus
from breaches.models import BreachReport
from breaches.times import UK, AmbiguousTime, shown, uk_moment
from tenancy.roles import Role

from ..factories import OrganisationFactory, UserFactory, make_agreement, make_member, make_partner
from ..pages import summary
from .journey import Journey

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Visit notes e-mailed to the wrong care provider"
WHAT_HAPPENED = "Visit notes on 14 adults were e-mailed to a care provider not caring for them."
CARES_ADDRESS = "ig@essexcares.example"
PARTNER_VIEW = "The notes hold health details of vulnerable adults: the ICO must know."
ASSESSMENT_REASON = "Health details of vulnerable adults reached a provider not caring for them."
NOT_TOLD_REASON = "The provider deleted the notes unread the same day: the risk is not high."
CASE_REFERENCE = "IC-123456-A1B2"
COUNTDOWN = re.compile(r"^\d+ hours? \d+ minutes? left$")


def about_hours(whole: int) -> re.Pattern:
    """Hours as the figures show them, a minute or two more than `whole`: “2” or “2.1”."""
    return re.compile(rf"^{whole}(\.\d)?$")


@pytest.fixture
def county(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(
            name="Essex County Council",
            dpo_name="Ann Lee",
            phone="0333 013 2000",
            data_protection_email="dpo@essex.gov.example",
        ),
    )


@pytest.fixture
def cares(alpha):
    return make_partner(
        alpha, OrganisationFactory(name="Essex Cares Ltd", data_protection_email=CARES_ADDRESS)
    )


@pytest.fixture
def dpo(alpha, county) -> User:
    """Essex County Council's data protection officer."""
    user = UserFactory(full_name="Ann Lee", email="ann.lee@essex.gov.example")
    return make_member(alpha, Role.DPO, user=user, organisation=county.organisation).user


@pytest.fixture
def agreement(alpha, county, cares, dpo):
    """The seed-002 agreement between the two, in force."""
    made = make_agreement(alpha, lead=county, others=[cares], title="Reablement service review")
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=made.pk).update(status=AgreementStatus.ACTIVE)
    return made


def a_uk_minute(hours: float) -> datetime:
    """A whole minute `hours` from now (before, when negative) that a UK clock shows once
    (not in the hour repeated when the clocks go back), in UTC."""
    moment = (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)
    while True:
        at = moment.astimezone(UK)
        try:
            uk_moment(at.date(), at.time().replace(tzinfo=None))
        except AmbiguousTime:
            moment -= timedelta(hours=1)
            continue
        return moment.astimezone(UTC)


def typed(moment: datetime) -> tuple[str, str]:
    """The UK date and time as a person types them: 02/12/2026 and 14:30."""
    at = moment.astimezone(UK)
    return at.strftime("%d/%m/%Y"), at.strftime("%H:%M")


def type_moment(page, legend: str, moment: datetime) -> None:
    day, at = typed(moment)
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Date", exact=True).fill(day)
    group.get_by_label("Time", exact=True).fill(at)


def link_in(message, pattern: str) -> str:
    match = re.search(rf"https?://\S+{pattern}\S*", message.body)
    assert match, f"No link like {pattern!r} in:\n{message.body}"
    return match.group(0)


def breaches(partnership) -> list[BreachReport]:
    with scope(partnership=partnership):
        return list(BreachReport.objects.all())


def row(page, table: str, name: str):
    """The row of a table whose header cell starts with `name`."""
    return page.locator(f"#{table} tbody tr").filter(
        has=page.get_by_role("rowheader", name=re.compile(f"^{re.escape(name)}"))
    )


def test_a_breach_is_logged_told_decided_reported_to_the_ico_and_closed(
    journey, new_context, base_url, alpha, county, cares, dpo, agreement, live_server, settings
):
    settings.SITE_URL = live_server.url  # the e-mailed link leads to this server
    detected, aware = a_uk_minute(-2), a_uk_minute(-1)
    partners_due = f"Tell the partners by {shown(detected + timedelta(hours=48))}"
    ico_due = f"Tell the ICO by {shown(aware + timedelta(hours=72))}"

    # 1. Essex County Council's DPO logs the breach from the breach log.
    journey.sign_in_as(dpo)
    page = journey.visit("/p/alpha/")
    nav = page.get_by_role("navigation", name="Alpha Partnership")
    journey.click(nav.get_by_role("link", name="Breaches", exact=True))
    expect(page.get_by_role("heading", level=1)).to_have_text("Breach log")
    expect(page.locator("#breaches caption")).to_have_text("0 breaches")
    journey.click(page.get_by_role("button", name="Log a breach"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a breach")
    expect(page.get_by_text("Reported by Essex County Council")).to_be_visible()

    page.get_by_label("Short description").fill(TITLE)
    page.get_by_label(f"{agreement.reference}: Reablement service review").check()
    type_moment(page, "When it was detected", a_uk_minute(3))  # a slip: in the future
    type_moment(page, "When your organisation became aware (optional)", aware)
    page.get_by_label("What happened").fill(WHAT_HAPPENED)
    page.get_by_label("Contact point", exact=True).fill("Ann Lee")
    page.get_by_label("Contact e-mail").fill("ann.lee@essex.gov.example")
    involved = page.get_by_role("group", name="The partners involved")
    involved.get_by_label("Essex Cares Ltd").check()
    journey.click(page.get_by_role("button", name="Log the breach"))

    expect(page).to_have_title(re.compile("^Error: Log a breach"))
    problem = page.get_by_role("alert").filter(has_text="There is a problem")
    to_field = problem.get_by_role("link", name="When it was detected cannot be in the future.")
    expect(to_field).to_have_attribute("href", "#id_detected_date")
    # One slip, one error: the awareness time typed right is not blamed for it.
    expect(problem.get_by_role("listitem")).to_have_count(1)
    detected_group = page.get_by_role("group", name="When it was detected")
    expect(detected_group).to_contain_text("Error: When it was detected cannot be in the future.")
    to_field.click()
    expect(detected_group.get_by_label("Date", exact=True)).to_be_focused()
    # What was typed is kept; nothing is logged.
    expect(page.get_by_label("Short description")).to_have_value(TITLE)
    expect(involved.get_by_label("Essex Cares Ltd")).to_be_checked()
    assert breaches(alpha) == []
    journey.check()

    type_moment(page, "When it was detected", detected)
    journey.click(page.get_by_role("button", name="Log the breach"))

    (breach,) = breaches(alpha)
    reference = breach.reference
    assert breach.detected_at == detected and breach.aware_at == aware
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{reference}: {TITLE}")
    expect(page.get_by_role("alert")).to_contain_text(
        f"Breach {reference} is logged. Both clocks have started: the deadlines are below."
    )
    expect(page.locator("#status")).to_have_text("Open")
    partners_clock, ico_clock = page.locator("#partners-clock"), page.locator("#ico-clock")
    expect(partners_clock.get_by_role("heading")).to_have_text(partners_due)
    expect(ico_clock.get_by_role("heading")).to_have_text(ico_due)
    expect(partners_clock.locator("time[data-countdown]")).to_have_text(COUNTDOWN)
    expect(ico_clock.locator("time[data-countdown]")).to_have_text(COUNTDOWN)
    expect(partners_clock).to_contain_text("Still to tell: Essex Cares Ltd.")
    expect(summary(page, "Detected")).to_have_text(shown(detected))
    expect(summary(page, "Aware")).to_have_text(shown(aware))
    expect(summary(page, "Agreements")).to_have_text(
        f"{agreement.reference}: Reablement service review"
    )
    expect(row(page, "obligations", "Essex Cares Ltd")).to_contain_text("To do")
    expect(row(page, "obligations", "The ICO")).to_contain_text("To do")

    # 2. The partners are told by e-mail; Essex Cares answers through the link.
    mail.outbox.clear()
    journey.click(page.get_by_role("button", name="Tell the partners by e-mail"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell the partners by e-mail")
    expect(row(page, "recipients", "Essex Cares Ltd")).to_contain_text(CARES_ADDRESS)
    journey.click(page.get_by_role("button", name="Send the notice"))
    expect(page.get_by_role("alert")).to_contain_text("The notice is on its way to 1 partner.")
    told = row(page, "obligations", "Essex Cares Ltd")
    expect(told).to_contain_text("Done on time")
    expect(told).to_contain_text("E-mail from Accord")
    expect(partners_clock.get_by_role("heading")).to_have_text(partners_due)
    expect(partners_clock).to_contain_text("Every partner told, the last at")

    (notice,) = [m for m in mail.outbox if m.to == [CARES_ADDRESS]]
    assert notice.subject == (
        f"Personal data breach {reference} involving Essex Cares Ltd: {TITLE}"
    )
    assert f"The ICO must be told by: {shown(aware + timedelta(hours=72))}" in notice.body

    partner = Journey(new_context().new_page(), base_url)
    link = partner.visit(link_in(notice, "/breach-notice/"))
    expect(link.get_by_role("heading", level=1)).to_have_text(f"{reference}: {TITLE}")
    expect(summary(link, "Reported by")).to_have_text("Essex County Council")
    expect(summary(link, "Partners to be told by")).to_have_text(
        shown(detected + timedelta(hours=48))
    )
    assert WHAT_HAPPENED not in link.content()  # the notice, not the report
    partner.click(link.get_by_role("button", name="Acknowledge"))
    expect(link.get_by_role("alert")).to_contain_text(
        "Thank you: Essex Cares Ltd has acknowledged the breach."
    )
    expect(link.locator("#acknowledged")).to_contain_text(
        "Essex Cares Ltd acknowledged the breach at"
    )
    link.get_by_label("Your name").fill("Sam Patel")
    link.get_by_label("Your position").fill("Data protection officer")
    link.get_by_label("Notify the ICO", exact=True).check()
    link.get_by_label("Your reasons").fill(PARTNER_VIEW)
    partner.click(link.get_by_role("button", name="Give the view"))
    expect(link.get_by_role("alert")).to_contain_text(
        "Thank you: Essex Cares Ltd's view is recorded."
    )
    expect(link.locator("#view-given")).to_contain_text(f"Notify the ICO: {PARTNER_VIEW}")
    expect(link.locator("#view-given")).to_contain_text(
        "Given by Sam Patel, Data protection officer, Essex Cares Ltd (the e-mailed link)"
    )

    page = journey.visit(page.url)
    answered = row(page, "involved", "Essex Cares Ltd")
    expect(answered).to_contain_text("Yes,")
    expect(answered).to_contain_text("Essex Cares Ltd, through the e-mailed link")
    expect(answered).to_contain_text(f"Notify the ICO: {PARTNER_VIEW}")
    expect(page.locator("#ico-decision")).to_contain_text(
        "Not yet decided: 1 of 2 involved partners has given a view (1 to notify, 0 not to)."
    )

    # 3. The DPO assesses it as notifiable: both agree, so the decision stands.
    journey.click(page.get_by_role("button", name="Assess the risk"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Assess the risk to people")
    page.get_by_label("Likely", exact=True).check()
    page.get_by_label("Significant: distress, financial loss or embarrassment").check()
    page.get_by_label("Notifiable to the ICO").check()
    page.get_by_label("Reasons").fill(ASSESSMENT_REASON)
    journey.click(page.get_by_role("button", name="Save the assessment"))
    expect(page.get_by_role("alert")).to_contain_text("The assessment is recorded.")
    expect(summary(page, "Outcome")).to_have_text("Notifiable to the ICO")
    decision = page.locator("#ico-decision")
    expect(summary(decision, "Decision")).to_have_text("Notify the ICO")
    expect(summary(decision, "Decided by")).to_contain_text("Agreed by every involved partner")
    expect(page.locator("#next-step")).to_contain_text(f"{ico_due} and record its case reference.")

    # The ICO report pack, then the ICO told through its online form.
    journey.click(page.get_by_role("link", name=re.compile("^The ICO report, every answer")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Report to the ICO")
    expect(page.get_by_text("This is the initial report.")).to_be_visible()
    journey.click(page.get_by_role("link", name=f"Back to {reference}"))
    journey.click(page.get_by_role("link", name=re.compile(r"^Record told\W+The ICO$")))
    expect(page.get_by_role("heading", level=1)).to_have_text("Record The ICO told")
    type_moment(page, "When were they told?", a_uk_minute(0))
    page.get_by_label("How were they told?").fill("ICO online form")
    page.get_by_label("ICO case reference").fill(CASE_REFERENCE)
    journey.click(page.get_by_role("button", name="Record as told"))
    expect(page.get_by_role("alert")).to_contain_text("The ICO is recorded as told.")
    ico_row = row(page, "obligations", "The ICO")
    expect(ico_row).to_contain_text("Done on time")
    expect(ico_row).to_contain_text("ICO online form")
    expect(ico_clock.get_by_role("heading")).to_have_text(ico_due)
    expect(ico_clock).to_contain_text("Told at")
    expect(summary(decision, "ICO case reference")).to_have_text(CASE_REFERENCE)

    # 4 (on the way). The follow-up page, and the report's edit page asking BST or GMT for a
    # time the clocks repeated: nothing is saved from either.
    journey.click(page.get_by_role("link", name="Record a follow-up report"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Record a follow-up report to the ICO"
    )
    journey.click(page.get_by_role("link", name="Cancel"))
    journey.click(page.get_by_role("button", name="Complete or correct the report"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Complete or correct the report")
    expect(page.get_by_label("Was it BST or GMT?")).to_have_count(0)
    happened = page.get_by_role("group", name="When it happened (optional)")
    happened.get_by_label("Date", exact=True).fill("25/10/2026")
    happened.get_by_label("Time", exact=True).fill("01:30")
    journey.click(page.get_by_role("button", name="Save the report"))
    question = (
        "01:30 on 25 October 2026 happened twice in the UK, as the clocks went back: choose "
        "BST (the first time) or GMT (the second)."
    )
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_contain_text(
        question
    )
    zone = happened.get_by_role("group", name="Was it BST or GMT?")
    expect(zone.get_by_label(re.compile("^BST \\(UTC\\+1\\)"))).not_to_be_checked()
    expect(zone.get_by_label(re.compile("^GMT \\(UTC\\+0\\)"))).not_to_be_checked()
    with scope(partnership=alpha):
        assert BreachReport.objects.get(pk=breach.pk).occurred_at is None
    journey.click(page.get_by_role("link", name="Cancel"))

    # The risk is not high: Essex County Council's decision not to tell the individuals, with
    # the reason, stands at once. Then the breach is closed.
    individuals = page.locator("#individuals")
    expect(individuals).to_contain_text("Not yet decided.")
    journey.click(
        individuals.get_by_role(
            "link", name="Give Essex County Council's decision on telling the people affected"
        )
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("Telling the people affected")
    page.get_by_label("Do not tell them").check()
    page.get_by_label("Why not, or the exemption that applies").fill(NOT_TOLD_REASON)
    journey.click(page.get_by_role("button", name="Save the decision"))
    expect(page.get_by_role("alert")).to_contain_text(
        "The decision on telling the people affected is recorded."
    )
    expect(summary(individuals, "Decision")).to_have_text("Do not tell them")
    expect(summary(individuals, "Why not, or the exemption")).to_have_text(NOT_TOLD_REASON)
    expect(page.locator("#next-step")).to_contain_text(
        "Close the breach: everyone who must be told has been."
    )

    journey.click(page.get_by_role("link", name="Close the breach"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Close the breach")
    expect(page.get_by_text("It cannot be closed while")).to_have_count(0)
    journey.click(page.get_by_role("button", name="Close the breach"))
    expect(page.get_by_role("alert")).to_contain_text(
        f"Breach {reference} is closed. It stays in the log."
    )
    expect(page.locator("#status")).to_have_text("Closed")
    expect(page.locator("#next-step")).to_contain_text("Nothing: the breach is closed.")
    expect(page.get_by_role("button", name="Complete or correct the report")).to_have_count(0)
    # The timeline: each event, in the order it happened.
    events = [
        f"Breach {reference} logged by Essex County Council: {TITLE}",
        f"Essex Cares Ltd told of breach {reference} by e-mail",
        f"Essex Cares Ltd acknowledged breach {reference}",
        f"Essex Cares Ltd's view on breach {reference}: notify the ico",
        f"Breach {reference} assessed: Notifiable to the ICO",
        f"Decision on breach {reference}: notify the ico",
        f"The ICO told of breach {reference}: ICO online form",
        f"Essex County Council's view on breach {reference}: do not tell them",
        f"Breach {reference}: do not tell them",
        f"Breach {reference} closed",
    ]
    entries = page.locator("#timeline > li").all_inner_texts()
    assert len(entries) == len(events), "\n".join(entries)
    for event, entry in zip(events, entries, strict=True):
        assert event in entry, "\n".join(entries)

    # 4. The register filtered, the figures, and the link's page for a wrong token.
    journey.click(nav.get_by_role("link", name="Breaches", exact=True))
    page.get_by_label("Status").select_option(label="Closed")
    page.get_by_label("Reporting organisation").select_option(label="Essex County Council")
    journey.click(page.get_by_role("button", name="Filter"))
    expect(page.locator("#breaches caption")).to_have_text("1 breach matches")
    listed = page.locator("#breaches tbody tr")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(reference)
    expect(listed).to_contain_text("None: closed")
    expect(page.get_by_role("link", name="Clear filters")).to_be_visible()
    journey.click(page.get_by_role("link", name="How quickly breaches were handled"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Breach figures")
    figures = row(page, "figures-by-organisation", "Essex County Council").locator("td")
    expect(figures).to_have_text(
        # Breaches; hours to tell the partners (median, longest), the share in time; the ICO.
        ["1", about_hours(2), about_hours(2), "1 of 1 (100%)", about_hours(1), "1 of 1 (100%)"]
    )

    with partner.page.expect_response(re.compile("/breach-notice/")) as answer:
        wrong = partner.visit("/breach-notice/not-a-real-token/")
    assert answer.value.status == 404
    expect(wrong.get_by_role("heading", level=1)).to_have_text("This link is not valid")
    assert not partner.unchecked


def test_an_administrator_sets_when_dpos_are_warned(journey, alpha, alice):
    journey.sign_in_as(alice)
    page = journey.visit("/p/alpha/breaches/")
    journey.click(page.get_by_role("link", name="When DPOs are warned"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Breach deadlines: warnings and the lead's decision"
    )
    page.get_by_label("Warn before a breach deadline (hours)").fill("24, six")
    journey.click(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("alert").filter(has_text="There is a problem")).to_contain_text(
        "Enter whole numbers of hours separated by commas, such as 24, 6, 1."
    )
    page.get_by_label("Warn before a breach deadline (hours)").fill("12, 2")
    journey.click(page.get_by_role("button", name="Save"))
    expect(page.get_by_role("alert")).to_contain_text(
        "The breach deadlines' hours have been saved."
    )
    alpha.refresh_from_db()
    assert alpha.breach_warning_hours == "12, 2"
    assert not journey.unchecked
