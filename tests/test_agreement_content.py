"""The completeness check reads what an agreement says, not its ticks: a section's text, the
template's placeholders, the parties' contact details on the summary sheet and the review
date, each shown by the section to fix. The rights page asks a reason for every suggested
right left unticked, does not suggest Article 22 without automated decisions, and the rights
table prints each right with its article."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope

from agreements import services
from agreements.models import Agreement, AgreementSection
from signatories.models import Organisation

from . import test_agreements as base
from .pages import field_error, page_html, page_text
from .test_agreements import (
    agreement_url,
    audit,
    form_values,
    fresh,
    post_section,
    section_of,
    section_url,
)
from .test_agreements_lifecycle import draft_seed_002

pytestmark = pytest.mark.django_db

# Fixtures shared with test_agreements: the seed-002 parties, the lead's IG officer and a draft.
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer

OBJECTION_REASON = "Only anonymised figures leave the review, so no personal data is used further."


def blocking_on_overview(client, agreement) -> str:
    """The overview's list of what stops the agreement going for signature, as HTML."""
    html = page_html(client.get(agreement_url("detail", agreement)))
    start = html.index("Before it can go for signature")
    return html[start : html.index("</ul>", start)]


def checks_on_section(client, agreement, key: str) -> str:
    """What the section's page asks to check in it, as read ("" when it asks nothing)."""
    markup = page_html(client.get(section_url(agreement, key)))
    if 'id="section-checks"' not in markup:
        return ""
    start = markup.index('id="section-checks"')
    inset = markup[start : markup.index("</div>", start)]
    return " ".join(re.sub(r"<[^>]+>", " ", inset.split(">", 1)[1]).split())


def link_to(agreement, key: str, text: str) -> str:
    return f'<a href="{section_url(agreement, key)}">{text}'


def set_basis(agreement, article6: str) -> None:
    with scope(partnership=agreement.partnership):
        Agreement.objects.filter(pk=agreement.pk).update(article6=article6)


# --- Text, not ticks ---------------------------------------------------------------------------


def test_nothing_is_missing_only_while_the_purpose_has_text(client, agreement, ecc, ecl, officer):
    client.force_login(officer)
    assert draft_seed_002(client, agreement, ecc, ecl)[-1] == 0

    response = post_section(client, agreement, "purpose", body="  ", completed=True)

    # Saved, but it cannot be completed without text.
    assert response.status_code == 200
    assert section_of(agreement, "purpose").state == "in_progress"
    overview = page_text(client.get(agreement_url("detail", agreement)))
    assert "Nothing is missing" not in overview
    assert "Before it can go for signature (2)" in overview
    assert link_to(agreement, "purpose", "‘Purpose’ has no text") in blocking_on_overview(
        client, agreement
    )
    assert checks_on_section(client, agreement, "purpose").startswith(
        "To check in this section Needed before signing: ‘Purpose’ has no text: write what "
        "the parties agree in it; marking it as completed is not enough."
    )
    with scope(partnership=agreement.partnership):
        assert not services.can_send_for_signature(fresh(agreement))


def test_a_new_agreement_shows_the_templates_placeholders_by_their_sections(
    client, alpha, ecc, officer
):
    with scope(partnership=alpha):
        draft = services.create_agreement(
            alpha, title="Hospital discharge alerts", reference="ISA-9", lead=ecc, by=officer
        )
        found = {
            (m.section, m.text.split(":")[0])
            for m in services.check(draft)
            if m.code == "placeholder_left"
        }
    assert found == {
        (
            "security",
            "‘Security’ still has the template's placeholder “describe the transfer method”",
        ),
        (
            "format_frequency",
            "‘Format and frequency of sharing’ still has the template's placeholders “how the "
            "information is shared” and “how often it is shared”",
        ),
    }
    client.force_login(officer)
    assert "Needed before signing: ‘Security’ still has the template's placeholder" in (
        checks_on_section(client, draft, "security")
    )


def test_a_placeholder_left_in_a_completed_section_blocks_signing(client, agreement, officer):
    client.force_login(officer)
    body = "Protected in transit by: *describe the transfer method*."

    post_section(client, agreement, "security", body=body, completed=True)

    assert section_of(agreement, "security").state == "in_progress"  # saved, not completed
    assert link_to(
        agreement,
        "security",
        "‘Security’ still has the template's placeholder “describe the transfer method”: "
        "replace it with what the parties actually do.",
    ) in blocking_on_overview(client, agreement)


# --- The parties' contacts ---------------------------------------------------------------------


def test_a_party_missing_contacts_is_named_by_the_summary_sheet(client, agreement, ecl, officer):
    Organisation.objects.filter(pk=ecl.organisation_id).update(
        phone="", data_protection_email_confirmed_at=None
    )
    client.force_login(officer)

    message = (
        "Essex Cares Ltd has no telephone number and confirmed data protection e-mail on its "
        "organisation record, and the parties reach each other through the summary sheet's "
        "details about a breach: ask Essex Cares Ltd to complete its record, then check "
        "‘Summary sheet’."
    )
    assert link_to(agreement, "summary", message) in blocking_on_overview(client, agreement)
    assert f"Needed before signing: {message}" in checks_on_section(client, agreement, "summary")
    assert "Essex County Council has no" not in page_text(
        client.get(agreement_url("detail", agreement))
    )


def test_facts_carry_the_texts_the_contacts_and_the_dates(alpha, agreement, ecl):
    Organisation.objects.filter(pk=ecl.organisation_id).update(
        data_protection_email_confirmed_at=None
    )
    with scope(partnership=alpha):
        AgreementSection.objects.filter(agreement=agreement, key="purpose").update(body="Why.")
        facts = Agreement.objects.get(pk=agreement.pk).facts()
    by_name = {p.name: p for p in facts.parties}
    council, provider = by_name["Essex County Council"], by_name["Essex Cares Ltd"]
    assert (council.address, council.phone, council.email, council.dpo_name) == (
        "County Hall, Market Road, Chelmsford CM1 1QH",
        "0345 743 0430",
        "dpo@example.gov.uk",
        "Priya Shah",
    )
    assert provider.email == ""  # not confirmed from itself yet
    assert facts.section_texts["purpose"] == "Why."
    assert facts.rights is None and facts.rights_reasons == {}
    assert facts.start_date is None


# --- The review date ---------------------------------------------------------------------------


def test_a_review_date_in_the_past_is_shown_by_commencement(client, agreement, officer):
    client.force_login(officer)

    response = post_section(client, agreement, "commencement", review_date="01/01/2020")

    assert response.status_code == 200  # saved, but not completed while the date is past
    assert link_to(
        agreement, "commencement", "The review date, 1 January 2020, is in the past"
    ) in blocking_on_overview(client, agreement)


# --- Rights: a reason for each suggested right left unticked -----------------------------------


def test_unticking_a_suggested_right_without_a_reason_saves_nothing(
    client, alpha, agreement, officer
):
    set_basis(agreement, "e")
    client.force_login(officer)
    data = form_values(client.get(section_url(agreement, "rights")))
    assert "objection" in data["rights"]
    data["rights"] = [key for key in data["rights"] if key != "objection"]
    data["completed"] = ["yes"]

    response = client.post(section_url(agreement, "rights"), data)

    assert response.status_code == 200
    assert field_error(response, "reason_objection") == (
        "Error: Say why “Article 21 Right to object” does not apply to this sharing, or tick it "
        "again."
    )
    assert '<a href="#id_reason_objection">Say why “Article 21 Right to object”' in (
        response.content.decode()
    )
    saved = fresh(agreement)
    assert saved.rights is None and saved.rights_reasons == {}
    section = section_of(agreement, "rights")
    assert (section.version, section.state) == (1, "not_started")
    assert audit(alpha, "agreement.section_saved") == []


def test_a_reason_saves_the_untick_and_is_printed_in_the_rights_table(
    client, alpha, agreement, officer
):
    set_basis(agreement, "e")
    client.force_login(officer)
    data = form_values(client.get(section_url(agreement, "rights")))
    data["rights"] = [key for key in data["rights"] if key != "objection"]
    data["reason_objection"] = [OBJECTION_REASON]
    data["completed"] = ["yes"]

    response = client.post(section_url(agreement, "rights"), data)

    assert response.status_code == 302
    saved = fresh(agreement)
    assert "objection" not in saved.rights and "access" in saved.rights
    assert saved.rights_reasons == {"objection": OBJECTION_REASON}
    assert checks_on_section(client, agreement, "rights") == ""
    assert form_values(client.get(section_url(agreement, "rights")))["reason_objection"] == [
        OBJECTION_REASON
    ]
    with scope(partnership=alpha):
        document = services.render_agreement_html(saved)
    assert (
        "<td>Article 21 Right to object</td><td>✗ No</td><td>Not applied by the parties: "
        f"{OBJECTION_REASON}</td>"
    ) in document


def test_a_right_the_new_basis_suggests_blocks_until_ticked_or_explained(
    client, agreement, officer
):
    set_basis(agreement, "c")  # legal obligation: no right to object
    client.force_login(officer)
    assert post_section(client, agreement, "rights").status_code == 302
    assert "objection" not in fresh(agreement).rights

    set_basis(agreement, "e")  # public task: people may object

    message = (
        "“Article 21 Right to object” applies to this sharing but is not ticked, and no reason "
        "is given: tick it, or say why it does not apply, in ‘Data subject rights’."
    )
    assert link_to(agreement, "rights", message) in blocking_on_overview(client, agreement)
    assert f"Needed before signing: {message}" in checks_on_section(client, agreement, "rights")

    post_section(client, agreement, "rights", reason_objection=OBJECTION_REASON)

    assert "Article 21 Right to object" not in checks_on_section(client, agreement, "rights")


def test_public_task_does_not_tick_article_22_unless_automated_decisions_are_described(
    client, agreement, officer
):
    set_basis(agreement, "e")
    client.force_login(officer)
    page = client.get(section_url(agreement, "rights"))
    data = form_values(page)
    assert set(data["rights"]) == {
        "informed",
        "access",
        "rectification",
        "restriction",
        "notification",
        "objection",
        "foi_eir",
    }
    assert "Article 22 Rights related to automated decision-making" in page_text(page)
    assert "reason_automated" not in data

    described = "Each adult's risk of readmission is scored by a computer model."
    refused = post_section(client, agreement, "rights", automated_decisions=described)

    assert refused.status_code == 200
    assert field_error(refused, "reason_automated") == (
        "Error: Say why “Article 22 Rights related to automated decision-making” does not "
        "apply to this sharing, or tick it again."
    )
    assert fresh(agreement).automated_decisions == ""

    data["automated_decisions"] = [described]
    data["rights"] = [*data["rights"], "automated"]
    data["completed"] = ["yes"]
    assert client.post(section_url(agreement, "rights"), data).status_code == 302
    saved = fresh(agreement)
    assert saved.automated_decisions == described and "automated" in saved.rights
    assert "automated" in form_values(client.get(section_url(agreement, "rights")))["rights"]


# --- The rights table --------------------------------------------------------------------------


def test_the_rights_table_prints_each_right_with_its_article(client, alpha, agreement, officer):
    set_basis(agreement, "e")
    client.force_login(officer)

    preview = page_html(client.get(agreement_url("preview", agreement)))

    for row in (
        "<td>Articles 13 and 14 Right to be informed</td><td>✓ Yes</td>",
        "<td>Article 15 Right of access</td><td>✓ Yes</td>",
        "<td>Article 16 Right to rectification</td><td>✓ Yes</td>",
        "<td>Article 17 Right to erasure</td><td>✗ No</td>",
        "<td>Article 18 Right to restrict processing</td><td>✓ Yes</td>",
        "<td>Article 19 Notification of rectification, erasure or restriction</td><td>✓ Yes</td>",
        "<td>Article 20 Right to data portability</td><td>✗ No</td>",
        "<td>Article 21 Right to object</td><td>✓ Yes</td>",
        "<td>Article 22 Rights related to automated decision-making</td><td>✗ No</td>",
        "<td>Article 7(3) Right to withdraw consent</td><td>✗ No</td>",
        "<td>Requests under the Freedom of Information Act 2000 or the Environmental "
        "Information Regulations 2004</td><td>✓ Yes</td>",
    ):
        assert row in preview, row
