"""An administrator adds partners: one found by its ICO reference, then several from a CSV."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import expect

from signatories.models import Organisation, Partner, Sector

from ..factories import OrganisationFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_add_a_partner_found_by_its_ico_reference(journey, alice, alpha):
    OrganisationFactory(
        name="Northshire Fire and Rescue Service", ico_reference="Z1234567", sector=Sector.FIRE
    )
    OrganisationFactory(name="Northshire County Council", ico_reference="Z7654321")
    journey.sign_in_as(alice)
    page = journey.visit("/p/alpha/partners/")
    journey.click(page.get_by_role("button", name="Add a partner"))

    # Results come as the person types (htmx), and the address follows the search.
    page.get_by_label("Organisation name or ICO registration reference").fill("z123 4567")
    results = page.locator("#search-results")
    expect(results.get_by_role("heading", name="1 organisation found")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/partners/add/\?q=z123(\+|%20)4567$"))
    journey.check()
    expect(results).not_to_contain_text("Northshire County Council")

    journey.click(results.get_by_role("button", name="Add Northshire Fire and Rescue Service"))

    expect(page.get_by_role("heading", level=1, name="Partners")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text(
        "Northshire Fire and Rescue Service is now a partner."
    )
    row = page.get_by_role("row").filter(has_text="Northshire Fire and Rescue Service")
    expect(row).to_contain_text("Fire and rescue")
    expect(row).to_contain_text("Z1234567")
    expect(row).to_contain_text("Active")
    expect(page.get_by_role("link", name="Northshire Fire and Rescue Service")).to_be_visible()


HEADER = "name,ICO reference,DPO,e-mail,sector\n"
GOOD_ROWS = (
    "Westmoor District Council,Z2345678,Pat Lee,dpo@westmoor.gov.uk,Local authority\n"
    "Eastvale Police,ZA123456,Sam Roy,foi@eastvale.police.uk,Police\n"
)
BAD_ROW = "Southdale Academy Trust,Z12,Jo Hart,dpo@southdale.sch.uk,Education\n"
FIXED_ROW = "Southdale Academy Trust,Z3456789,Jo Hart,dpo@southdale.sch.uk,Education\n"
NAMES = ["Westmoor District Council", "Eastvale Police", "Southdale Academy Trust"]


def csv_file(text: str) -> dict:
    return {"name": "partners.csv", "mimeType": "text/csv", "buffer": text.encode()}


def test_import_partners_from_csv_after_fixing_a_bad_row(journey, alice, alpha):
    journey.sign_in_as(alice)
    page = journey.visit("/p/alpha/partners/")
    journey.click(page.get_by_role("button", name="Import from CSV"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Import partners from a CSV file")

    page.get_by_label("CSV file").set_input_files(csv_file(HEADER + GOOD_ROWS + BAD_ROW))
    journey.click(page.get_by_role("button", name="Upload and check"))

    expect(page).to_have_title(re.compile(r"^Error: Import partners"))
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("heading")).to_have_text("1 row cannot be imported")
    expect(summary).to_contain_text("Nothing has been saved.")
    row_error = summary.get_by_role("link", name=re.compile(r"^Row 4: 'Z12' is not an ICO"))
    expect(row_error).to_have_attribute("href", "#row-4")
    expect(page.locator("#row-4")).to_contain_text("Error")
    expect(page.get_by_role("button", name=re.compile(r"^Import \d+ partner"))).to_have_count(0)
    with scopes_disabled():
        assert not Organisation.objects.filter(name__in=NAMES).exists()
    with scope(partnership=alpha):
        assert not Partner.objects.filter(organisation__name__in=NAMES).exists()

    page.get_by_label("CSV file").set_input_files(csv_file(HEADER + GOOD_ROWS + FIXED_ROW))
    journey.click(page.get_by_role("button", name="Upload and check"))

    expect(page).to_have_title(re.compile(r"^Import partners"))
    preview = page.get_by_role("table", name="Preview: 3 rows")
    for name in NAMES:
        expect(preview.get_by_role("row").filter(has_text=name)).to_contain_text("New organisation")
    journey.click(page.get_by_role("button", name="Import 3 partners"))

    expect(page.get_by_role("heading", level=1, name="Partners")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("3 partners have been imported.")
    for name in NAMES:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Eastvale Police")).to_contain_text("ZA123456")

    nav = page.get_by_role("navigation", name="Alpha Partnership")
    journey.click(nav.get_by_role("link", name="Audit log"))
    expect(page.get_by_role("heading", level=1, name="Audit log")).to_be_visible()
    for name in NAMES:
        expect(page.get_by_role("cell", name=f"Added {name} as a partner")).to_be_visible()
