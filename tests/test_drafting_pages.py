"""Fewer pages to draft an agreement: it is started from the register with its reference
suggested, data items are added and changed in place on their section's page, and the
legislation chosen is cited with the sections that empower the sharing."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope

from agreements import services
from agreements.models import Agreement, DataItem
from protocols.models import Legislation
from tenancy.models import Partnership
from tenancy.roles import Role

from . import test_agreements as base
from .factories import make_agreement, make_member
from .pages import page_html, page_text
from .test_agreements import agreement_url, post_section, section_url, url
from .test_agreements_drafting import item_data

pytestmark = pytest.mark.django_db
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer
HTMX = {"HX-Request": "true"}


# --- Starting ------------------------------------------------------------------------------


def test_the_register_offers_to_start_an_agreement_to_those_who_draft(client, alpha, officer):
    client.force_login(officer)
    page = page_html(client.get(url("register", "alpha")))
    assert f'href="{url("create", "alpha")}">Start an agreement</a>' in page

    client.force_login(make_member(alpha, Role.VIEWER).user)
    assert "Start an agreement" not in page_text(client.get(url("register", "alpha")))


def test_the_reference_is_suggested_from_the_partnerships_initials(alpha, ecc, ecl, officer):
    Partnership.objects.filter(pk=alpha.pk).update(
        name="Wider Eastern Information Stakeholder Forum"
    )
    alpha.refresh_from_db()
    with scope(partnership=alpha):
        assert services.suggested_reference(alpha) == "WEISF-ISA-001"
    make_agreement(alpha, lead=ecc, others=[ecl], reference="WEISF-ISA-001", by=officer)
    make_agreement(alpha, lead=ecc, others=[ecl], reference="ISA-2023-004", by=officer)
    with scope(partnership=alpha):
        assert services.suggested_reference(alpha) == "WEISF-ISA-002"


def test_the_start_page_holds_the_suggested_reference(client, alpha, ecc, officer):
    client.force_login(officer)
    page = page_html(client.get(url("create", "alpha")))
    with scope(partnership=alpha):
        suggested = services.suggested_reference(alpha)
    assert f'name="reference" value="{suggested}"' in page


def test_a_suggested_reference_taken_meanwhile_is_refused_by_the_field(
    client, alpha, ecc, ecl, officer
):
    client.force_login(officer)
    with scope(partnership=alpha):
        suggested = services.suggested_reference(alpha)
    make_agreement(alpha, lead=ecc, others=[ecl], reference=suggested, by=officer)
    response = client.post(
        url("create", "alpha"), {"title": "Second", "reference": suggested, "lead": ecc.pk}
    )
    assert response.status_code == 200
    assert "Another agreement already has this reference." in page_text(response)
    with scope(partnership=alpha):
        assert Agreement.objects.filter(reference=suggested).count() == 1


# --- Data items in place -------------------------------------------------------------------


def test_the_information_page_holds_the_form_that_adds_a_data_item(client, agreement, officer):
    client.force_login(officer)
    page = page_html(client.get(section_url(agreement, "information")))
    add = agreement_url("item_add", agreement)
    assert f'action="{add}" hx-post="{add}"' in page
    assert 'id="item-item"' in page and "Add the data item" in page


def test_a_data_item_added_in_place_comes_back_in_the_list_with_a_fresh_form(
    client, agreement, ecc, ecl, officer
):
    client.force_login(officer)
    response = client.post(
        agreement_url("item_add", agreement),
        item_data(agreement, ecl, ecc, item="Mosaic number"),
        headers=HTMX,
    )
    assert response.status_code == 200
    block = response.content.decode()
    assert 'id="data-items-block"' in block
    assert "<!DOCTYPE" not in block  # a part of the page, not a page
    assert "The data item “Mosaic number” has been added." in block
    assert "Mosaic number" in page_text(response)
    (first_field,) = re.findall(r'<input[^>]*id="item-item"[^>]*>', block)
    assert "autofocus" in first_field  # the keyboard carries on with the next item
    assert 'value="Mosaic number"' not in block  # the form is fresh for the next item
    with scope(partnership=agreement.partnership):
        assert agreement.data_items.filter(item="Mosaic number").exists()


def test_a_data_item_with_a_mistake_is_shown_again_in_place_and_nothing_is_saved(
    client, agreement, ecc, ecl, officer
):
    client.force_login(officer)
    with scope(partnership=agreement.partnership):
        before = agreement.data_items.count()
    response = client.post(
        agreement_url("item_add", agreement),
        item_data(agreement, ecl, ecc, item="Date of birth", data_subjects=""),
        headers=HTMX,
    )
    assert response.status_code == 200
    text = page_text(response)
    assert "There is a problem with the data item" in text
    assert "Enter whose data it is." in text
    assert 'value="Date of birth"' in response.content.decode()  # nothing typed is lost
    with scope(partnership=agreement.partnership):
        assert agreement.data_items.count() == before


def test_a_data_item_is_changed_in_place(client, agreement, ecc, ecl, officer):
    client.force_login(officer)
    with scope(partnership=agreement.partnership):
        item = agreement.data_items.first()
    edit = agreement_url("item_edit", agreement, item_id=item.pk)

    form = client.get(edit, headers=HTMX)
    assert f'hx-post="{edit}"' in form.content.decode()
    assert f"Change “{item.item}”" in page_text(form)

    saved = client.post(
        edit, item_data(agreement, ecl, ecc, item="Visit notes (all visits)"), headers=HTMX
    )
    assert "The data item “Visit notes (all visits)” has been saved." in page_text(saved)
    with scope(partnership=agreement.partnership):
        assert DataItem.objects.get(pk=item.pk).item == "Visit notes (all visits)"


def test_without_javascript_a_data_item_is_added_from_the_section_page_in_one_step(
    client, agreement, ecc, ecl, officer
):
    client.force_login(officer)
    response = client.post(
        agreement_url("item_add", agreement), item_data(agreement, ecl, ecc, item="Post code")
    )
    assert response["Location"] == section_url(agreement, "information") + "#data-items"


def test_someone_who_may_only_read_cannot_add_in_place(client, alpha, agreement, ecc, ecl):
    client.force_login(make_member(alpha, Role.VIEWER).user)
    with scope(partnership=agreement.partnership):
        before = agreement.data_items.count()
    response = client.post(
        agreement_url("item_add", agreement),
        item_data(agreement, ecl, ecc, item="Name"),
        headers=HTMX,
    )
    assert response.status_code == 403
    with scope(partnership=agreement.partnership):
        assert agreement.data_items.count() == before


# --- Legislation with its sections ---------------------------------------------------------


def test_the_care_act_entry_carries_section_2(client, alpha, agreement, officer):
    client.force_login(officer)
    page = page_text(client.get(section_url(agreement, "legal_basis")))
    assert "Sections 2, 6, 7 and 42 to 45." in page
    with scope(partnership=alpha):
        care_act = Legislation.objects.get(title="Care Act 2014")
    assert care_act.sections == "sections 2, 6, 7 and 42 to 45"
    assert care_act.note.startswith("Section 2: preventing, reducing or delaying needs")


def test_the_agreement_cites_the_statutes_with_their_sections(client, alpha, agreement, officer):
    client.force_login(officer)
    with scope(partnership=alpha):
        care_act = Legislation.objects.get(title="Care Act 2014")
    post_section(client, agreement, "legal_basis", completed=False, statutes=[str(care_act.pk)])
    whole = page_text(client.get(agreement_url("preview", agreement)))
    assert "Care Act 2014, sections 2, 6, 7 and 42 to 45" in whole


def test_the_statutes_are_a_search_as_you_type_choice(client, agreement, officer):
    client.force_login(officer)
    page = page_html(client.get(section_url(agreement, "legal_basis")))
    assert '<div data-choice-filter="legislation">' in page
