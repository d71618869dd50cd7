"""Partners: the list, finding and adding organisations, new records, status changes and the
withdrawals the sweep completes."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from signatories.clocks import complete_due_withdrawals
from signatories.models import Organisation, Partner, PartnerStatus, Sector
from signatories.services import change_partner_status
from tenancy.models import AuditEntry

from .factories import OrganisationFactory, PartnershipFactory, make_partner
from .pages import field_error, page_text

pytestmark = pytest.mark.django_db


def url(name: str, partnership: str = "alpha", **kwargs) -> str:
    return reverse(f"signatories:{name}", kwargs={"partnership_slug": partnership, **kwargs})


def partners_of(partnership) -> list[str]:
    with scope(partnership=partnership):
        return sorted(Partner.objects.values_list("organisation__name", flat=True))


def audit(partnership, action: str) -> list[AuditEntry]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.filter(action=action).order_by("id"))


def organisation_count() -> int:
    return Organisation.objects.count()


# The list of partners


def test_partners_list_shows_each_organisation_with_its_status(client, alpha, bob):
    make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
    make_partner(alpha, OrganisationFactory(name="Bedfordshire Fire"), PartnerStatus.WITHDRAWING)
    make_partner(alpha, OrganisationFactory(name="Cranfield University"), PartnerStatus.INVITED)
    client.force_login(bob)

    response = client.get(url("partners"))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Luton Borough Council" in content
    assert 'govuk-tag govuk-tag--orange">Withdrawing</strong>' in content
    assert 'govuk-tag govuk-tag--blue">Invited</strong>' in content
    assert 'govuk-tag govuk-tag--green">Active</strong>' in content
    text = page_text(response)
    # bob's own organisation is a partner too.
    assert "Active (2)" in text
    assert "Withdrawing (1)" in text
    assert "Invited (1)" in text
    assert "All (4)" in text


def test_partners_list_filters_by_status(client, alpha, bob):
    make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
    make_partner(alpha, OrganisationFactory(name="Bedfordshire Fire"), PartnerStatus.WITHDRAWING)
    client.force_login(bob)

    text = page_text(client.get(url("partners"), {"status": "withdrawing"}))

    assert "Bedfordshire Fire" in text
    assert "Luton Borough Council" not in text

    text = page_text(client.get(url("partners"), {"status": "withdrawn"}))
    assert "No partners with this status." in text


def test_partners_list_ignores_an_unknown_status_filter(client, alpha, bob):
    make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
    client.force_login(bob)

    response = client.get(url("partners"), {"status": "nonsense"})

    assert response.status_code == 200
    assert "Luton Borough Council" in page_text(response)


def test_partners_list_shows_nothing_of_another_partnership(client, alpha, beta, bob):
    make_partner(beta, OrganisationFactory(name="Beta-only Council"))
    client.force_login(bob)

    text = page_text(client.get(url("partners")))

    assert "Beta-only Council" not in text
    assert "Beta Partnership" not in text


def test_partners_list_runs_the_same_number_of_queries_for_3_and_40_partners(client, alpha, bob):
    client.force_login(bob)
    for status in (PartnerStatus.ACTIVE, PartnerStatus.WITHDRAWING, PartnerStatus.INVITED):
        make_partner(alpha, status=status)
    client.get(url("partners"))  # warm up caches (content types, sessions)

    with CaptureQueriesContext(connection) as few:
        response = client.get(url("partners"))
    assert response.status_code == 200

    for i in range(37):
        make_partner(alpha, status=list(PartnerStatus)[i % 4])
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("partners"))
    assert response.status_code == 200
    assert response.content.decode().count('class="govuk-tag ') >= 40

    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)


# Finding an organisation to add


@pytest.fixture
def luton(beta):
    """An organisation already partner of ANOTHER partnership (Beta)."""
    organisation = OrganisationFactory(
        name="Luton Borough Council", ico_reference="Z6034810", sector=Sector.LOCAL_AUTHORITY
    )
    make_partner(beta, organisation)
    return organisation


@pytest.mark.parametrize("query", ["luton", "Borough Coun", "LUTON BOROUGH"])
def test_search_finds_an_organisation_by_part_of_its_name(client, alice, luton, query):
    client.force_login(alice)

    response = client.get(url("add"), {"q": query})

    assert response.status_code == 200
    text = page_text(response)
    assert "Luton Borough Council" in text
    assert "Z6034810" in text


@pytest.mark.parametrize("query", ["Z6034810", "z6034810", " z603 4810 "])
def test_search_finds_an_organisation_by_ico_reference(client, alice, luton, query):
    client.force_login(alice)

    text = page_text(client.get(url("add"), {"q": query}))

    assert "1 organisation found" in text
    assert "Luton Borough Council" in text


def test_search_does_not_reveal_the_other_partnerships_an_organisation_belongs_to(
    client, alice, luton
):
    client.force_login(alice)

    response = client.get(url("add"), {"q": "luton"})

    content = response.content.decode()
    assert "Luton Borough Council" in content
    assert "Beta Partnership" not in content
    assert "/p/beta/" not in content
    assert "Already a partner" not in content  # a partner of Beta, not of Alpha


def test_search_marks_organisations_that_are_already_partners(client, alpha, alice, luton):
    make_partner(alpha, OrganisationFactory(name="Luton Airport"))
    client.force_login(alice)

    response = client.get(url("add"), {"q": "luton"})

    content = response.content.decode()
    assert "2 organisations found" in page_text(response)
    airport_row = re.search(r"Luton Airport.*?</tr>", content, flags=re.S).group(0)
    assert "Already a partner" in airport_row
    assert "<button" not in airport_row
    council_row = re.search(r"Luton Borough Council.*?</tr>", content, flags=re.S).group(0)
    assert "Already a partner" not in council_row
    assert f'name="organisation" value="{luton.pk}"' in council_row


def test_search_with_no_match_offers_to_create_a_record(client, alice):
    client.force_login(alice)

    response = client.get(url("add"), {"q": "Nowhere Trust"})

    text = page_text(response)
    assert "0 organisations found" in text
    assert "Create a record for a new organisation" in text
    assert f"{url('add_new')}?name=Nowhere%20Trust" in response.content.decode()


def test_htmx_search_returns_only_the_results(client, alice, luton):
    client.force_login(alice)

    response = client.get(url("add"), {"q": "luton"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "1 organisation found" in content
    assert "Luton Borough Council" in content
    assert "<html" not in content
    assert "<h1" not in content
    assert 'name="q"' not in content  # the search form stays as it is on the page


def test_search_as_you_type_replaces_the_address_rather_than_adding_history(client, alice, luton):
    client.force_login(alice)

    content = client.get(url("add"), {"q": "luton"}).content.decode()

    form = re.search(r'<form [^>]*role="search"[^>]*>', content).group(0)
    # The request's address carries no query of its own: htmx adds the one typed, once.
    assert f'hx-get="{url("add")}"' in form
    assert 'hx-replace-url="true"' in form
    assert "hx-push-url" not in form
    # Without JavaScript the Search button sends the same form to the same page.
    assert 'method="get"' in form
    assert f'action="{url("add")}"' in form
    assert re.search(r'<button type="submit"[^>]*>Search</button>', content)


def test_viewer_cannot_add_partners(client, bob, luton):
    client.force_login(bob)

    assert client.get(url("add"), {"q": "luton"}).status_code == 403
    response = client.post(url("add"), {"organisation": luton.pk})

    assert response.status_code == 403
    with scopes_disabled():
        assert Partner.objects.filter(organisation=luton).count() == 1  # Beta's only


# Adding an existing organisation


def test_adding_an_organisation_makes_it_a_partner_and_is_audited(
    client, alpha, beta, alice, luton
):
    client.force_login(alice)

    response = client.post(url("add"), {"organisation": luton.pk}, follow=True)

    assert response.redirect_chain[-1][0] == url("partners")
    assert "Luton Borough Council is now a partner." in page_text(response)
    assert "Luton Borough Council" in partners_of(alpha)
    with scope(partnership=alpha):
        partner = Partner.objects.get(organisation=luton)
    assert partner.status == PartnerStatus.ACTIVE
    assert partner.joined_on == timezone.localdate()
    (entry,) = audit(alpha, "partner.created")
    assert entry.actor == alice
    assert entry.summary == "Added Luton Borough Council as a partner"
    assert entry.object_id == str(partner.pk)
    assert entry.changes["organisation"] == [None, "Luton Borough Council"]
    assert entry.changes["status"] == [None, "active"]
    # Beta's own record is untouched and Beta's log says nothing.
    assert "Luton Borough Council" in partners_of(beta)
    assert audit(beta, "partner.created") == []


def test_adding_the_same_organisation_twice_says_so_and_adds_nothing(client, alpha, alice, luton):
    client.force_login(alice)
    client.post(url("add"), {"organisation": luton.pk})

    response = client.post(url("add"), {"organisation": luton.pk})

    assert response.status_code == 200
    text = page_text(response)
    assert "There is a problem" in text
    assert "Luton Borough Council is already a partner of Alpha Partnership." in text
    with scope(partnership=alpha):
        assert Partner.objects.filter(organisation=luton).count() == 1
    assert len(audit(alpha, "partner.created")) == 1


def test_adding_an_organisation_that_does_not_exist_says_so(client, alpha, alice):
    client.force_login(alice)
    before = partners_of(alpha)

    response = client.post(url("add"), {"organisation": 999999})

    assert response.status_code == 200
    assert "That organisation no longer exists. Search again." in page_text(response)
    assert partners_of(alpha) == before


# Creating a record for a new organisation


def new_organisation(**values) -> dict:
    return {
        "name": "Bedford Hospital NHS Trust",
        "ico_reference": "",
        "sector": "nhs",
        "address": "",
        "phone": "",
        "data_protection_email": "",
        "dpo_name": "",
        **values,
    }


@pytest.mark.parametrize("reference", ["Z6034810", "ZA123456", "z6034810", "za 123456"])
def test_new_organisation_with_a_valid_ico_reference_becomes_a_partner(
    client, alpha, alice, reference
):
    client.force_login(alice)

    response = client.post(url("add_new"), new_organisation(ico_reference=reference))

    assert response.status_code == 302
    assert response["Location"] == url("partners")
    organisation = Organisation.objects.get(name="Bedford Hospital NHS Trust")
    assert organisation.ico_reference == reference.upper().replace(" ", "")
    assert organisation.sector == Sector.NHS
    assert "Bedford Hospital NHS Trust" in partners_of(alpha)
    assert [e.object_repr for e in audit(alpha, "partner.created")][-1:] == [
        "Bedford Hospital NHS Trust"
    ]


def test_new_organisation_form_is_prefilled_with_the_searched_name(client, alice):
    client.force_login(alice)

    response = client.get(url("add_new"), {"name": "Bedford Hospital"})

    assert response.status_code == 200
    assert 'value="Bedford Hospital"' in response.content.decode()


def test_new_organisation_with_an_ico_reference_already_used_points_to_search(
    client, alpha, alice, luton
):
    client.force_login(alice)
    organisations, partners = organisation_count(), partners_of(alpha)

    response = client.post(
        url("add_new"), new_organisation(name="Luton Council", ico_reference="z6034810")
    )

    assert response.status_code == 200
    assert field_error(response, "ico_reference") == (
        "Error: An organisation with this ICO registration reference already exists. "
        "Search for it and add that record instead."
    )
    assert "Error: Add a new organisation" in page_text(response)  # the page title
    assert organisation_count() == organisations
    assert partners_of(alpha) == partners


@pytest.mark.parametrize("reference", ["Z12345", "A1234567", "Z12345678", "ZAB12345", "Z123456A"])
def test_new_organisation_with_a_malformed_ico_reference_is_refused(
    client, alpha, alice, reference
):
    client.force_login(alice)
    organisations, partners = organisation_count(), partners_of(alpha)

    response = client.post(url("add_new"), new_organisation(ico_reference=reference))

    assert response.status_code == 200
    assert field_error(response, "ico_reference") == (
        "Error: Enter an ICO registration reference as Z and 7 digits, such as Z6034810, "
        "or Z, a letter and 6 digits, such as ZA123456."
    )
    assert organisation_count() == organisations
    assert partners_of(alpha) == partners


def test_new_organisation_needs_a_name_and_a_valid_email(client, alpha, alice):
    client.force_login(alice)
    organisations = organisation_count()

    response = client.post(
        url("add_new"), new_organisation(name="", data_protection_email="not an address")
    )

    assert response.status_code == 200
    assert field_error(response, "name") == "Error: Enter the organisation's name."
    assert field_error(response, "data_protection_email") == (
        "Error: Enter an e-mail address like dpo@example.gov.uk."
    )
    assert organisation_count() == organisations


# Status changes


@pytest.fixture
def partner(alpha):
    return make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))


def reload(partnership, partner) -> Partner:
    with scope(partnership=partnership):
        return Partner.objects.get(pk=partner.pk)


def test_status_page_offers_only_the_allowed_next_statuses(client, alice, partner):
    client.force_login(alice)

    content = client.get(url("partner_status", partner_id=partner.pk)).content.decode()

    assert 'value="withdrawing"' in content
    assert 'value="withdrawn"' not in content
    assert 'value="invited"' not in content


def test_withdrawing_needs_a_reason(client, alpha, alice, partner):
    client.force_login(alice)

    response = client.post(
        url("partner_status", partner_id=partner.pk), {"status": "withdrawing", "reason": "  "}
    )

    assert response.status_code == 200
    assert field_error(response, "reason") == "Error: Enter the reason for withdrawing."
    assert reload(alpha, partner).status == PartnerStatus.ACTIVE
    assert audit(alpha, "partner.status_changed") == []


def test_withdrawing_takes_effect_28_days_after_notice(client, alpha, alice, partner):
    # Notice can be dated up to a year back: a fixed date would fall out of range one day.
    given = timezone.localdate() - timedelta(days=30)
    leaves = given + timedelta(days=28)
    client.force_login(alice)

    response = client.post(
        url("partner_status", partner_id=partner.pk),
        {
            "status": "withdrawing",
            "reason": "Service decommissioned",
            "notice_given_on": f"{given:%d/%m/%Y}",
        },
        follow=True,
    )

    assert response.redirect_chain[-1][0] == url("partner", partner_id=partner.pk)
    text = page_text(response)
    assert "Luton Borough Council's status has been changed." in text
    assert (
        f"Notice given {given.day} {given:%B %Y}; takes effect {leaves.day} {leaves:%B %Y}." in text
    )
    record = reload(alpha, partner)
    assert record.status == PartnerStatus.WITHDRAWING
    assert record.notice_given_on == given
    assert record.leaves_on == leaves
    assert record.withdrawal_reason == "Service decommissioned"
    (entry,) = audit(alpha, "partner.status_changed")
    assert entry.actor == alice
    assert entry.summary == "Luton Borough Council is now withdrawing"
    assert entry.changes["status"] == ["active", "withdrawing"]
    assert entry.changes["leaves_on"] == [None, leaves.isoformat()]


def test_withdrawing_without_a_notice_date_counts_from_today(alpha, partner):
    with scope(partnership=alpha):
        record = change_partner_status(partner, PartnerStatus.WITHDRAWING, reason="Merged")

    assert record.notice_given_on == timezone.localdate()
    assert record.leaves_on == timezone.localdate() + timedelta(days=28)


def test_a_bad_notice_date_is_refused(client, alpha, alice, partner):
    client.force_login(alice)

    response = client.post(
        url("partner_status", partner_id=partner.pk),
        {"status": "withdrawing", "reason": "Merged", "notice_given_on": "31/02/2026"},
    )

    assert response.status_code == 200
    assert field_error(response, "notice_given_on") == "Error: Enter a date like 31/03/2026."
    assert reload(alpha, partner).status == PartnerStatus.ACTIVE


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("31/12/9999", "Error: The date notice was given must be today or in the past."),
        ("tomorrow", "Error: The date notice was given must be today or in the past."),
        ("year_and_a_day_ago", "Error: The date notice was given must be within the past year"),
    ],
)
def test_a_notice_date_in_the_future_or_over_a_year_ago_is_a_field_error(
    client, alpha, alice, partner, typed, message
):
    today = timezone.localdate()
    days = {"tomorrow": today + timedelta(days=1), "year_and_a_day_ago": today - timedelta(366)}
    value = days[typed].strftime("%d/%m/%Y") if typed in days else typed
    client.force_login(alice)

    response = client.post(
        url("partner_status", partner_id=partner.pk),
        {"status": "withdrawing", "reason": "Merged", "notice_given_on": value},
    )

    assert response.status_code == 200
    assert field_error(response, "notice_given_on").startswith(message)
    assert reload(alpha, partner).status == PartnerStatus.ACTIVE
    assert audit(alpha, "partner.status_changed") == []


def test_a_notice_date_a_year_ago_today_is_accepted(client, alpha, alice, partner):
    given = timezone.localdate() - timedelta(days=365)
    client.force_login(alice)

    client.post(
        url("partner_status", partner_id=partner.pk),
        {"status": "withdrawing", "reason": "Merged", "notice_given_on": f"{given:%d/%m/%Y}"},
    )

    assert reload(alpha, partner).notice_given_on == given


def test_the_service_refuses_a_far_future_notice_date_by_field_not_overflow(alpha, partner):
    with scope(partnership=alpha), pytest.raises(ValidationError) as caught:
        change_partner_status(
            partner, PartnerStatus.WITHDRAWING, reason="Merged", notice_given_on=date(9999, 12, 31)
        )

    assert list(caught.value.message_dict) == ["notice_given_on"]
    assert reload(alpha, partner).status == PartnerStatus.ACTIVE


def test_a_transition_that_is_not_allowed_is_refused(client, alpha, alice, partner):
    client.force_login(alice)

    response = client.post(url("partner_status", partner_id=partner.pk), {"status": "withdrawn"})

    assert response.status_code == 200
    assert "Select a valid choice" in field_error(response, "status")
    assert reload(alpha, partner).status == PartnerStatus.ACTIVE
    with scope(partnership=alpha), pytest.raises(ValidationError) as error:
        change_partner_status(partner, PartnerStatus.WITHDRAWN)
    assert error.value.messages == ["A partner that is active cannot become withdrawn."]
    assert reload(alpha, partner).status == PartnerStatus.ACTIVE


def test_choosing_no_status_says_so(client, alpha, alice, partner):
    client.force_login(alice)

    # No radio chosen: the browser sends the other fields only.
    response = client.post(
        url("partner_status", partner_id=partner.pk), {"reason": "", "notice_given_on": ""}
    )

    assert response.status_code == 200
    assert field_error(response, "status") == "Error: Choose the new status."


def test_a_withdrawing_partner_can_stay_after_all(client, alpha, alice, partner):
    with scope(partnership=alpha):
        change_partner_status(partner, PartnerStatus.WITHDRAWING, reason="Merged")
    client.force_login(alice)

    response = client.post(url("partner_status", partner_id=partner.pk), {"status": "active"})

    assert response.status_code == 302
    record = reload(alpha, partner)
    assert record.status == PartnerStatus.ACTIVE
    assert record.leaves_on is None
    assert record.notice_given_on is None
    assert record.withdrawal_reason == ""


def test_invited_partner_can_become_active(client, alpha, alice):
    invited = make_partner(alpha, OrganisationFactory(), PartnerStatus.INVITED)
    client.force_login(alice)

    client.post(url("partner_status", partner_id=invited.pk), {"status": "active"})

    record = reload(alpha, invited)
    assert record.status == PartnerStatus.ACTIVE
    assert record.joined_on == timezone.localdate()


def test_viewer_cannot_change_a_status(client, alpha, bob, partner):
    client.force_login(bob)

    response = client.post(
        url("partner_status", partner_id=partner.pk), {"status": "withdrawing", "reason": "Merged"}
    )

    assert response.status_code == 403
    assert reload(alpha, partner).status == PartnerStatus.ACTIVE


def test_a_partner_of_another_partnership_is_not_found(client, alice, beta):
    other = make_partner(beta, OrganisationFactory(name="Beta-only Council"))
    client.force_login(alice)

    assert client.get(url("partner", partner_id=other.pk)).status_code == 404
    assert client.get(url("partner_status", partner_id=other.pk)).status_code == 404


# The sweep completes withdrawals whose notice has run out


def withdrawing(partnership, name: str, notice_given_on: date) -> Partner:
    partner = make_partner(partnership, OrganisationFactory(name=name))
    with scope(partnership=partnership):
        return change_partner_status(
            partner, PartnerStatus.WITHDRAWING, reason="Merged", notice_given_on=notice_given_on
        )


def test_sweep_completes_due_withdrawals_once(alpha):
    today = timezone.localdate()
    other = PartnershipFactory(name="Gamma Partnership")
    due = withdrawing(alpha, "Due Council", today - timedelta(days=28))
    overdue = withdrawing(other, "Overdue Council", today - timedelta(days=40))
    not_yet = withdrawing(alpha, "Not Yet Council", today - timedelta(days=27))

    assert complete_due_withdrawals() == 2

    assert reload(alpha, due).status == PartnerStatus.WITHDRAWN
    assert reload(alpha, due).withdrawn_on == today
    assert reload(other, overdue).status == PartnerStatus.WITHDRAWN
    assert reload(alpha, not_yet).status == PartnerStatus.WITHDRAWING
    (entry,) = [
        e for e in audit(alpha, "partner.status_changed") if "is now withdrawn" in e.summary
    ]
    assert entry.summary == "Due Council is now withdrawn"
    assert entry.actor is None
    assert entry.actor_name == "Accord (automatic)"
    assert entry.changes["status"] == ["withdrawing", "withdrawn"]
    assert len(audit(other, "partner.status_changed")) == 2  # withdrawing, then withdrawn

    # Running again does nothing and logs nothing more.
    assert complete_due_withdrawals() == 0
    assert len(audit(alpha, "partner.status_changed")) == 3
    assert len(audit(other, "partner.status_changed")) == 2
    assert reload(alpha, due).withdrawn_on == today


def test_withdrawn_partner_shows_as_withdrawn_on_the_list(client, alpha, bob):
    withdrawing(alpha, "Due Council", timezone.localdate() - timedelta(days=30))
    complete_due_withdrawals()
    client.force_login(bob)

    text = page_text(client.get(url("partners"), {"status": "withdrawn"}))

    assert "Due Council" in text
    assert "Withdrawn (1)" in text
