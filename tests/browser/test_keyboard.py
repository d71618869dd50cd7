"""The site by keyboard alone: moving a protocol's sections keeps the focus on the section's
move button, searching for a partner as you type keeps one history entry, and on the signing
page Sign follows the signer's fields while declining leads from its error to the reason.

Only the keyboard acts here (Tab, Shift+Tab, Enter, Space and typing); the page is read
through document.activeElement and computed styles, and every focus stop named is seen to
be visibly focused."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django_scopes import scope
from playwright.sync_api import Locator, Page, expect

from signatories.models import Signature
from tenancy.roles import Role

from ..factories import (
    OrganisationFactory,
    make_agreement,
    make_member,
    make_partner,
    make_protocol,
    make_signatory,
    make_signature_request,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Far more stops than any page here has before the control a test looks for.
MOST_TABS = 200

# How an element shows the focus: its outline (when drawn and not transparent) and its box
# shadow. A GOV.UK checkbox is drawn by its label, so there the label's ::before is read.
_FOCUS_STYLE = """(element) => {
  const drawn = element.matches(".govuk-checkboxes__input, .govuk-radios__input")
    ? [element.labels[0], "::before"] : [element, null];
  const style = getComputedStyle(...drawn);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0
    && style.outlineColor !== "rgba(0, 0, 0, 0)" && style.outlineColor !== "transparent";
  return {
    outline: outline ? `${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}` : "",
    shadow: style.boxShadow === "none" ? "" : style.boxShadow,
    background: style.backgroundColor,
  };
}"""

_ACTIVE = r"""() => {
  const element = document.activeElement;
  const section = element.closest("section");
  return {
    tag: element.tagName.toLowerCase(),
    id: element.id,
    text: (element.innerText || "").replace(/\s+/g, " ").trim(),
    section: section && section.querySelector("h2") ? section.querySelector("h2").innerText : "",
  };
}"""


# Every element that takes the focus on a page, in order, from its first script on.
_RECORD_FOCUS = """window.focusTakers = [];
document.addEventListener("focusin", (event) => window.focusTakers.push(
  event.target.id || event.target.className), true);"""


def active(page: Page) -> dict:
    """The focused element: its tag, id, text and the heading of the section it is in."""
    return page.evaluate(_ACTIVE)


def focus_style(control: Locator) -> dict:
    """How a control is drawn now: read it before it has the focus, to compare."""
    return control.evaluate(_FOCUS_STYLE)


def assert_focus_visible(page: Page, unfocused: dict) -> None:
    """The focused element shows it: an outline or a box shadow, drawn otherwise than the
    control without the focus (`unfocused`, read with focus_style)."""
    now = page.evaluate(f"({_FOCUS_STYLE})(document.activeElement)")
    assert now["outline"] or now["shadow"], f"No focus indicator on {active(page)}: {now}"
    assert now != unfocused, f"{active(page)} looks the same focused and not: {now}"


def tab_to(page: Page, arrived, *, key: str = "Tab") -> dict:
    """Press Tab (or `key`) until `arrived(active element)` holds; the element reached."""
    for _ in range(MOST_TABS):
        page.keyboard.press(key)
        element = active(page)
        if arrived(element):
            return element
    raise AssertionError(f"{MOST_TABS} presses of {key} never reached it; last at {element}")


def press_and_load(journey, key: str) -> Page:
    """Press a key that loads a page (Enter on a link or a button), then check that page."""
    page = journey.page
    with page.expect_navigation():
        page.keyboard.press(key)
    journey.check()
    return page


def history_length(page: Page) -> int:
    return page.evaluate("() => history.length")


# --- Moving a protocol's sections ----------------------------------------------------------


def test_moving_a_section_by_keyboard_keeps_the_focus_on_its_move_button(journey, alpha):
    lead = make_partner(alpha, OrganisationFactory(name="Northshire County Council"))
    drafter = make_member(alpha, Role.IG_OFFICER, organisation=lead.organisation).user
    protocol = make_protocol(alpha, title="Northshire protocol", lead=lead, by=drafter)
    with scope(partnership=alpha):
        version = protocol.versions.get()
        first, second, third = version.sections.order_by("position")[:3]
    journey.sign_in_as(drafter)
    journey.page.add_init_script(_RECORD_FOCUS)
    page = journey.visit(f"/p/alpha/protocols/{protocol.pk}/versions/{version.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Northshire protocol")
    down, up = f"section-{second.pk}-move-down", f"section-{second.pk}-move-up"
    unfocused_button = focus_style(page.locator(f"#{down}"))

    # Down: the section becomes third, and the focus is back on its Move down button.
    tab_to(page, lambda element: element["id"] == down)
    assert_focus_visible(page, unfocused_button)
    press_and_load(journey, "Enter")

    expect(page).to_have_url(re.compile(rf"#{down}$"))
    expect(page.get_by_role("alert")).to_contain_text(
        f"The section “{second.title}” has been moved."
    )
    headings = page.locator("section h2")
    expect(headings.nth(1)).to_have_text(f"2. {third.title}")
    expect(headings.nth(2)).to_have_text(f"3. {second.title}")
    assert active(page)["id"] == down
    expect(page.locator(f"#{down}")).to_be_focused()
    # The success banner never took the focus on the way.
    assert page.evaluate("() => window.focusTakers") == [down]
    assert_focus_visible(page, unfocused_button)

    # Shift+Tab is the section's Move up, as it was before the move, not the top of the page.
    page.keyboard.press("Shift+Tab")
    assert active(page)["id"] == up
    assert_focus_visible(page, focus_style(page.locator(f"#section-{third.pk}-move-up")))

    # Up twice with Space and Enter: second again, then first, where it has no Move up: the
    # focus is on its Move down.
    press_and_load(journey, "Space")
    assert active(page)["id"] == up
    expect(headings.nth(1)).to_have_text(f"2. {second.title}")
    press_and_load(journey, "Enter")
    expect(headings.first).to_have_text(f"1. {second.title}")
    expect(page.locator(f"#{up}")).to_have_count(0)
    assert active(page)["id"] == down
    assert active(page)["text"] == f"Move down {second.title}"

    # Tab goes on from there, into the next section, not from the top of the page.
    page.keyboard.press("Tab")
    assert active(page)["section"] == f"2. {first.title}"


# --- Searching for a partner as you type ---------------------------------------------------


def test_typing_a_search_keeps_one_query_and_one_history_entry(journey, alice, alpha):
    OrganisationFactory(name="Essex County Fire and Rescue Service", ico_reference="Z1234567")
    OrganisationFactory(name="Essex Police", ico_reference="Z7654321")
    journey.sign_in_as(alice)
    page = journey.visit("/p/alpha/partners/")
    partners_url = page.url
    unfocused_link = focus_style(page.get_by_role("button", name="Add a partner"))
    tab_to(page, lambda element: element["text"] == "Add a partner")
    assert_focus_visible(page, unfocused_link)
    press_and_load(journey, "Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Add a partner")
    arrived = history_length(page)

    unfocused_box = focus_style(page.locator("#id_q"))
    tab_to(page, lambda element: element["id"] == "id_q")
    assert_focus_visible(page, unfocused_box)
    page.keyboard.type("Essex")
    results = page.locator("#search-results")
    expect(results.get_by_role("heading")).to_have_text("2 organisations found")
    expect(page).to_have_url(re.compile(r"\?q=Essex$"))
    journey.check()
    page.keyboard.type(" Police")
    expect(results.get_by_role("heading")).to_have_text("1 organisation found")
    expect(page).to_have_url(re.compile(r"\?q=Essex(\+|%20)Police$"))
    journey.check()

    assert parse_qs(urlsplit(page.url).query) == {"q": ["Essex Police"]}
    assert history_length(page) == arrived
    # Back leaves the search for the page before it, not the search as it was typed.
    journey.back()
    assert page.url == partners_url
    expect(page.get_by_role("heading", level=1)).to_have_text("Partners")


# --- The signing page ----------------------------------------------------------------------


ORGANISATION = "Southdale Academy Trust"
REASON = "Our governors meet next month to review the protocol."


def test_sign_follows_the_confirmation_and_declining_leads_to_the_reason(journey, alpha):
    partner = make_partner(alpha, OrganisationFactory(name=ORGANISATION))
    signatory = make_signatory(
        partner, name="Alex Morgan", position="Chief Executive", email="alex@southdale.sch.uk"
    )
    request, token = make_signature_request(partner, signatory=signatory, email=signatory.email)
    page = journey.visit(f"/sign/{token}/")
    unfocused = {
        "checkbox": focus_style(page.locator("#id_confirmed")),
        "button": focus_style(page.locator("button[value=sign]")),
        "box": focus_style(page.locator("#id_reason")),
    }

    tab_to(page, lambda element: element["id"] == "id_confirmed")
    assert_focus_visible(page, unfocused["checkbox"])
    page.keyboard.press("Tab")
    assert (active(page)["tag"], active(page)["text"]) == ("button", "Sign")
    assert_focus_visible(page, unfocused["button"])
    page.keyboard.press("Tab")
    assert active(page)["id"] == "id_reason"
    assert_focus_visible(page, unfocused["box"])
    page.keyboard.press("Tab")
    assert active(page)["text"] == "Decline"

    # Declining without a reason: the summary takes the focus, and its link leads to the box.
    press_and_load(journey, "Enter")
    expect(page).to_have_title(re.compile(r"^Error: Sign "))
    error_summary = page.locator(".govuk-error-summary")
    expect(error_summary).to_be_focused()
    expect(page.locator("#id_reason-error")).to_have_text("Error: Enter the reason for declining.")
    with scope(partnership=alpha):
        assert not Signature.objects.filter(request=request).exists()
    unfocused_link = focus_style(error_summary.get_by_role("link"))
    page.keyboard.press("Tab")
    assert (active(page)["tag"], active(page)["text"]) == ("a", "Enter the reason for declining.")
    assert_focus_visible(page, unfocused_link)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Your reason for declining", exact=True)).to_be_focused()

    # With the reason typed, Tab reaches Decline, which records the answer.
    page.keyboard.type(REASON)
    page.keyboard.press("Tab")
    assert active(page)["text"] == "Decline"
    press_and_load(journey, "Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("You have declined to sign")
    with scope(partnership=alpha):
        signature = Signature.objects.get(request=request)
    assert signature.outcome == Signature.Outcome.DECLINED
    assert signature.reason == REASON


# --- Drafting an agreement -----------------------------------------------------------------

# The skip link, the header, the task list's summary and buttons, then the sections: "4.
# Purpose" is the 19th stop (it was the 41st behind the 22 links of what blocks signing).
PURPOSE_WITHIN = 23


def test_drafting_an_agreement_by_keyboard_reaches_the_sections_first_and_carries_on(
    journey, alpha
):
    lead = make_partner(alpha, OrganisationFactory(name="Essex County Council"))
    other = make_partner(alpha, OrganisationFactory(name="Essex Cares Ltd"))
    officer = make_member(alpha, Role.IG_OFFICER, organisation=lead.organisation).user
    agreement = make_agreement(alpha, lead=lead, others=[other], reference="ISA-K", by=officer)
    journey.sign_in_as(officer)
    journey.page.add_init_script(_RECORD_FOCUS)
    page = journey.visit(f"/p/alpha/agreements/{agreement.pk}/")
    expect(page.locator("#readiness")).to_contain_text("needed before it can go for signature")

    # From the top, the sections come long before the 20-odd links of what blocks signing.
    stops = 0

    def counted(element):
        nonlocal stops
        stops += 1
        return element["text"] == "4. Purpose"

    tab_to(page, counted)
    assert stops <= PURPOSE_WITHIN, stops
    press_and_load(journey, "Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Purpose")

    tab_to(page, lambda element: element["id"] == "id_body")
    page.keyboard.type("A one-off review of adults who left the reablement service.")
    tab_to(page, lambda element: element["id"] == "id_completed_0")  # "Yes, I've completed"
    page.keyboard.press("Space")
    tab_to(page, lambda element: element["text"] == "Save and continue")
    press_and_load(journey, "Enter")

    # The next section opens with its banner focused, at the top of the page.
    expect(page.get_by_role("heading", level=1)).to_have_text("Information to be shared")
    banner = page.get_by_role("alert")
    expect(banner).to_contain_text("“Purpose” has been completed.")
    expect(banner).to_be_focused()
    assert page.evaluate("() => window.scrollY") < 200

    # A data item added in place by keyboard: the focus is back in the form for the next one.
    tab_to(page, lambda element: element["id"] == "item-item")
    page.keyboard.type("Mosaic number")
    tab_to(page, lambda element: element["id"] == "item-category_0")  # "Personal data"
    page.keyboard.press("Space")
    tab_to(page, lambda element: element["id"] == "item-data_subjects")
    page.keyboard.type("Adults who left the reablement service")
    page.keyboard.press("Tab")
    page.keyboard.type("Essex Cares Ltd")  # a select chooses by typing
    page.keyboard.press("Tab")
    page.keyboard.type("Essex County Council")
    tab_to(page, lambda element: element["id"] == "item-purpose")
    page.keyboard.type("To identify each adult")
    tab_to(page, lambda element: element["text"] == "Add the data item")
    page.keyboard.press("Enter")
    expect(page.locator("#data-items-status")).to_have_text(
        "The data item “Mosaic number” has been added."
    )
    expect(page.locator("#item-item")).to_be_focused()
    expect(page.locator("#data-items-block tbody")).to_contain_text("Mosaic number")
    journey.check()
