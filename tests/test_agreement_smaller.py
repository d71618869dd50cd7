"""Sending for signature after a look at what is frozen and what is still open, sections that
cannot be completed while the rules ask for something in them, and the read-only legal basis."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope

from agreements import services
from agreements.models import AgreementStatus, DataItem
from tenancy.roles import Role

from . import test_agreements as base
from . import test_agreements_lifecycle as lifecycle
from .factories import make_member
from .pages import field_error, page_html, page_text
from .test_agreements import (
    agreement_url,
    audit,
    form_values,
    fresh,
    post_section,
    section_of,
    section_url,
    url,
)

pytestmark = pytest.mark.django_db

agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer
complete = lifecycle.complete


@pytest.fixture
def in_review(client, complete):
    assert client.post(agreement_url("submit", complete)).status_code == 302
    return fresh(complete)


# --- Send for signature ------------------------------------------------------------------------


def test_the_agreement_page_leads_to_the_send_page_without_freezing(client, in_review):
    html = page_html(client.get(agreement_url("detail", in_review)))
    send = agreement_url("send", in_review)
    assert re.search(rf'<a [^>]*href="{re.escape(send)}"[^>]*>Send for signature</a>', html)
    assert f'action="{send}"' not in html
    page = client.get(send)
    assert page.status_code == 200
    assert "What will be frozen" in page_text(page)
    assert fresh(in_review).status == AgreementStatus.IN_REVIEW
    assert fresh(in_review).document_id is None


def test_the_send_page_warns_of_comments_still_open_and_still_sends(client, in_review, officer):
    with scope(partnership=in_review.partnership):
        for key in ("purpose", "retention"):
            services.add_comment(section_of(in_review, key), text="Is this right?", by=officer)
        services.add_comment(section_of(in_review, "security"), text="Resolved", by=officer)
        comment = section_of(in_review, "security").comments.get()
        services.resolve_comment(comment, by=officer)
    text = page_text(client.get(agreement_url("send", in_review)))
    assert "2 comments are still open" in text
    assert "Freeze and send for signature" in text
    response = client.post(agreement_url("send", in_review))
    assert response.status_code == 302
    assert fresh(in_review).status == AgreementStatus.FOR_SIGNATURE


def test_one_open_comment_is_counted_in_the_singular(client, in_review, officer):
    with scope(partnership=in_review.partnership):
        services.add_comment(section_of(in_review, "purpose"), text="Check", by=officer)
    assert "1 comment is still open" in page_text(client.get(agreement_url("send", in_review)))


def test_no_warning_when_every_comment_is_resolved(client, in_review):
    assert "still open" not in page_text(client.get(agreement_url("send", in_review)))


# --- Completing a section ----------------------------------------------------------------------


def test_a_section_the_rules_still_ask_about_is_saved_but_stays_in_progress(
    client, agreement, officer
):
    client.force_login(officer)
    response = post_section(client, agreement, "retention", completed=True, retention_period="")
    assert response.status_code == 200
    assert section_of(agreement, "retention").state == "in_progress"
    error = field_error(response, "completed")
    assert "No retention period is set" in error
    assert "There is a problem" in page_text(response)
    assert re.search(r"<title>\s*Error:", page_html(response))


def test_the_section_is_completed_once_nothing_is_asked_of_it(client, agreement, officer):
    client.force_login(officer)
    response = post_section(
        client, agreement, "retention", completed=True, retention_period="Six years"
    )
    assert response.status_code == 302
    assert section_of(agreement, "retention").state == "completed"


def test_saving_again_after_the_refusal_is_not_stale(client, agreement, officer):
    client.force_login(officer)
    post_section(client, agreement, "retention", completed=True, retention_period="")
    response = post_section(
        client, agreement, "retention", completed=True, retention_period="Six years"
    )
    assert response.status_code == 302
    assert section_of(agreement, "retention").state == "completed"


# --- The read-only legal basis -------------------------------------------------------------


def test_the_read_only_legal_basis_headings_go_down_one_level_at_a_time(client, agreement):
    reader = make_member(agreement.partnership, Role.VIEWER).user
    client.force_login(reader)
    html = page_html(client.get(section_url(agreement, "legal_basis")))
    # Under the section's own title (h1), whatever the checks above it say.
    assert re.search(r"<h2[^>]*>\s*Legislation empowering this sharing", html)
    # In the whole document the section's title is an h2, so it stays an h3 there.
    preview = page_html(client.get(agreement_url("preview", agreement)))
    assert re.search(r"<h3[^>]*>\s*Legislation empowering this sharing", preview)


# --- Health data: the partnership's DPIA policy and the common law duty --------------------


def share_health_data(agreement) -> None:
    with scope(partnership=agreement.partnership):
        DataItem.objects.filter(agreement=agreement).update(
            category="special", special_category_type="health"
        )


DPIA_POLICY = "Your partnership's template asks for a DPIA whenever special category data"


def test_the_dpia_for_health_data_is_the_partnerships_policy_and_its_template_can_drop_it(
    client, alpha, agreement, officer
):
    share_health_data(agreement)
    client.force_login(officer)
    assert DPIA_POLICY in page_text(client.get(agreement_url("detail", agreement)))

    page = client.get(url("template"))
    assert "Ask for a DPIA whenever special category data is shared?" in page_text(page)
    data = form_values(page, containing="name")
    assert data["dpia_for_special_category"] == ["yes"]
    data["dpia_for_special_category"] = ["no"]
    assert client.post(url("template"), data).status_code == 302

    with scope(partnership=alpha):
        template = services.default_template(alpha)
        assert template.dpia_for_special_category is False
    assert audit(alpha, "agreement_template.changed")[-1].changes["dpia_for_special_category"] == [
        True,
        False,
    ]
    assert DPIA_POLICY not in page_text(client.get(agreement_url("detail", agreement)))
    again = form_values(client.get(url("template")), containing="name")
    assert again["dpia_for_special_category"] == ["no"]


def test_the_template_page_needs_an_answer_about_the_dpia_policy(client, alpha, officer):
    client.force_login(officer)
    data = form_values(client.get(url("template")), containing="name")
    del data["dpia_for_special_category"]
    response = client.post(url("template"), data)
    assert response.status_code == 200
    assert "Select whether to ask for a DPIA" in field_error(response, "dpia_for_special_category")
    with scope(partnership=alpha):
        assert services.default_template(alpha) is None


COMMON_LAW = "the common law duty of confidentiality is not answered"


def test_health_data_with_no_common_law_basis_asks_to_confirm_the_duty(client, agreement, officer):
    share_health_data(agreement)
    client.force_login(officer)
    assert COMMON_LAW in page_text(client.get(agreement_url("detail", agreement)))
    assert COMMON_LAW in page_text(client.get(section_url(agreement, "legal_basis")))
    with scope(partnership=agreement.partnership):
        type(agreement).objects.filter(pk=agreement.pk).update(common_law_basis="consent")
    assert COMMON_LAW not in page_text(client.get(agreement_url("detail", agreement)))


def test_the_duty_is_confirmed_not_to_apply_by_an_answer_of_its_own(client, agreement, officer):
    """Health data none of which was given in confidence: the officer says so in the legal
    basis section, the question goes, and the agreement's text records the answer."""
    share_health_data(agreement)
    client.force_login(officer)
    page = client.get(section_url(agreement, "legal_basis"))
    assert "Does not apply: none of the information was given in confidence" in page_text(page)

    response = post_section(
        client, agreement, "legal_basis", completed=False, common_law_basis="not_confidential"
    )

    assert response.status_code == 302
    assert COMMON_LAW not in page_text(client.get(agreement_url("detail", agreement)))
    whole = page_text(client.get(agreement_url("preview", agreement)))
    assert (
        "Common law duty of confidentiality Does not apply: none of the information was given "
        "in confidence" in whole
    )
