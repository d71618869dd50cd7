"""Drafting an agreement in the browser: one page per section saved as you go, the summary's
parties and dates, data items, the legal basis and rights pages, optimistic locking,
comments, and named editors from the other parties (guardian object permissions)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django_scopes import scope

from agreements import services
from agreements.models import Agreement, AgreementComment, AgreementSection, DataItem
from signatories.models import Partner
from tenancy.roles import Role

from . import test_agreements as base
from .factories import make_agreement, make_member, make_partner
from .pages import field_error, messages_of, page_text
from .test_agreements import (
    agreement_url,
    audit,
    form_values,
    fresh,
    post_section,
    section_of,
    section_url,
)

pytestmark = pytest.mark.django_db

# Fixtures shared with test_agreements: the seed-002 parties, the lead's IG officer and a draft.
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer


def party_of(agreement, partner):
    with scope(partnership=agreement.partnership):
        return agreement.parties.get(partner=partner)


# --- Sections saved as you go --------------------------------------------------------------


def test_save_and_return_goes_to_the_task_list_and_the_last_section_too(
    client, alpha, agreement, officer
):
    client.force_login(officer)

    response = post_section(client, agreement, "purpose", completed=False, then="tasks")
    last = post_section(client, agreement, "approval", completed=False, body="Signed below.")

    assert response["Location"] == agreement_url("detail", agreement)
    assert last["Location"] == agreement_url("detail", agreement)
    page = client.get(section_url(agreement, "security")).content.decode()
    assert 'name="then" value="tasks"' in page and "Save and return to the task list" in page


def test_saving_a_section_keeps_the_text_and_sets_its_status(client, alpha, agreement, officer):
    client.force_login(officer)

    response = post_section(
        client, agreement, "purpose", completed=False, body="To understand why packages fall."
    )

    assert response.status_code == 302
    # "Save and continue" opens the next section: "Information to be shared".
    assert response["Location"] == section_url(agreement, "information")
    section = section_of(agreement, "purpose")
    assert (section.body, section.state, section.version) == (
        "To understand why packages fall.",
        "in_progress",
        2,
    )
    overview = client.get(agreement_url("detail", agreement)).content.decode()
    assert 'id="status-purpose"><strong class="govuk-tag govuk-tag--light-blue">In progress' in (
        overview
    )

    post_section(client, agreement, "purpose", completed=True)

    assert section_of(agreement, "purpose").state == "completed"
    overview = client.get(agreement_url("detail", agreement)).content.decode()
    assert 'id="status-purpose">Completed</div>' in overview
    assert "You have completed 1 of 18 sections" in page_text(
        client.get(agreement_url("detail", agreement))
    )
    assert audit(alpha, "agreement.section_saved")[-1].changes["state"] == [
        "In progress",
        "Completed",
    ]


def test_a_section_needs_an_answer_to_completed(client, agreement, officer):
    client.force_login(officer)
    data = form_values(client.get(section_url(agreement, "purpose")))
    data.pop("completed", None)

    response = client.post(section_url(agreement, "purpose"), data)

    assert field_error(response, "completed") == (
        "Error: Select whether you have completed this section."
    )
    assert section_of(agreement, "purpose").version == 1


def test_script_in_a_section_never_survives_rendering(client, alpha, agreement, officer):
    client.force_login(officer)
    body = 'Purpose.<script>alert("x")</script><a href="javascript:alert(1)">link</a>'

    post_section(client, agreement, "purpose", body=body)

    assert section_of(agreement, "purpose").body == body  # kept as typed, for editing
    reader = make_member(alpha, Role.VIEWER).user
    client.force_login(reader)
    for page in (
        client.get(section_url(agreement, "purpose")),
        client.get(agreement_url("preview", agreement)),
    ):
        content = page.content.decode()
        assert "Purpose." in content
        assert 'alert("x")' not in content and "javascript:" not in content


# --- The summary: parties and dates --------------------------------------------------------------


def test_the_summary_sets_title_lead_parties_roles_and_dates(
    client, alpha, agreement, ecc, ecl, officer
):
    third = make_partner(alpha)
    client.force_login(officer)

    response = post_section(
        client,
        agreement,
        "summary",
        title="Reablement review 2023",
        ongoing="no",
        start_date="10/03/2023",
        end_date="31/03/2023",
        completed=False,  # the new partner's contacts are still missing
        **{
            f"party_{ecl.pk}": "recipient",
            f"party_{third.pk}": "processor",
        },
    )

    assert response.status_code == 302, field_error(response, "parties")
    saved = fresh(agreement)
    assert saved.title == "Reablement review 2023"
    assert (saved.ongoing, str(saved.start_date), str(saved.end_date)) == (
        False,
        "2023-03-10",
        "2023-03-31",
    )
    with scope(partnership=alpha):
        roles = dict(saved.parties.values_list("partner", "role"))
    assert roles == {ecc.pk: "joint_controller", ecl.pk: "recipient", third.pk: "processor"}


def test_an_end_date_before_the_start_is_refused_by_the_field(client, agreement, officer):
    client.force_login(officer)

    response = post_section(
        client, agreement, "summary", start_date="10/03/2026", end_date="09/03/2026"
    )

    assert response.status_code == 200
    assert field_error(response, "end_date") == (
        "Error: The end date must be the same as or after the start date."
    )
    assert fresh(agreement).start_date is None
    assert section_of(agreement, "summary").version == 1
    assert 'value="10/03/2026"' in response.content.decode()  # nothing the person typed is lost


def test_parties_must_be_two_or_more(client, agreement, ecl, officer):
    client.force_login(officer)

    response = post_section(client, agreement, "summary", **{f"party_{ecl.pk}": ""})

    assert field_error(response, "parties") == (
        "Error: Choose two or more of the partnership's active partners as parties."
    )
    assert 'href="#parties"' in response.content.decode()
    with scope(partnership=agreement.partnership):
        assert agreement.parties.count() == 2


def test_a_party_that_is_not_an_active_partner_is_refused_by_its_field(
    client, alpha, agreement, ecl, officer
):
    with scope(partnership=alpha):
        Partner.objects.filter(pk=ecl.pk).update(status="withdrawn")
    client.force_login(officer)
    page = client.get(section_url(agreement, "summary"))
    assert "Essex Cares Ltd (withdrawn)" in page_text(page)

    response = post_section(client, agreement, "summary")

    assert field_error(response, f"party_{ecl.pk}") == (
        "Error: Essex Cares Ltd is withdrawn: only active partners can be parties to an "
        "agreement. Choose “Not a party”."
    )
    invited = make_partner(alpha, status="invited")
    assert (
        f"party_{invited.pk}" not in client.get(section_url(agreement, "summary")).content.decode()
    )


def test_the_service_refuses_a_party_that_is_not_active(alpha, agreement, ecc, officer):
    invited = make_partner(alpha, status="invited")
    section = section_of(agreement, "summary")
    with scope(partnership=alpha), pytest.raises(ValidationError) as caught:
        services.save_section(
            section,
            expected_version=1,
            completed=True,
            parties={ecc.pk: "joint_controller", invited.pk: "joint_controller"},
            by=officer,
        )
    assert "only active partners can be parties" in caught.value.message_dict["parties"][0]


def test_the_lead_must_be_a_party(client, alpha, agreement, ecc, ecl, officer):
    third = make_partner(alpha)
    client.force_login(officer)

    response = post_section(
        client,
        agreement,
        "summary",
        **{f"party_{ecc.pk}": "", f"party_{third.pk}": "joint_controller"},
    )

    assert (
        field_error(response, "lead") == "Error: The lead organisation must be one of the parties."
    )


def test_a_party_that_still_sends_data_items_cannot_be_removed(
    client, alpha, agreement, ecl, officer
):
    third = make_partner(alpha)
    client.force_login(officer)

    response = post_section(
        client,
        agreement,
        "summary",
        **{f"party_{ecl.pk}": "", f"party_{third.pk}": "joint_controller"},
    )

    assert "Essex Cares Ltd still sends or receives data items" in field_error(response, "parties")
    with scope(partnership=alpha):
        assert agreement.parties.filter(partner=ecl).exists()


# --- Data items ------------------------------------------------------------------------------


def item_data(agreement, sender, receiver, **changes):
    values = {
        "item": "Visit notes",
        "category": "special",
        "special_category_type": "health",
        "data_subjects": "Adults in reablement",
        "from_party": party_of(agreement, sender).pk,
        "to_party": party_of(agreement, receiver).pk,
        "purpose": "To see how support changed",
        "necessity": "The review cannot judge the service without them",
    }
    values.update(changes)
    return values


def test_data_items_are_added_changed_and_deleted(client, alpha, agreement, ecc, ecl, officer):
    client.force_login(officer)

    response = client.post(agreement_url("item_add", agreement), item_data(agreement, ecl, ecc))

    assert response.status_code == 302
    with scope(partnership=alpha):
        item = DataItem.objects.get(item="Visit notes")
    assert (item.category, item.special_category_type) == ("special", "health")
    assert section_of(agreement, "information").state == "in_progress"
    page = client.get(section_url(agreement, "information"))
    assert "Visit notes" in page_text(page)

    client.post(
        agreement_url("item_edit", agreement, item_id=item.pk),
        item_data(agreement, ecl, ecc, item="Visit notes and reviews"),
    )
    with scope(partnership=alpha):
        assert DataItem.objects.get(pk=item.pk).item == "Visit notes and reviews"

    client.post(agreement_url("item_delete", agreement, item_id=item.pk))
    with scope(partnership=alpha):
        assert not DataItem.objects.filter(pk=item.pk).exists()
    assert [e.action for e in audit(alpha, "agreement.item_removed")] == ["agreement.item_removed"]


def test_a_data_items_organisations_must_be_parties(client, alpha, agreement, ecc, ecl, officer):
    elsewhere = make_agreement(alpha, lead=ecc, others=[make_partner(alpha)], reference="OTHER")
    with scope(partnership=alpha):
        outsider = elsewhere.parties.exclude(partner=ecc).get()
    client.force_login(officer)

    response = client.post(
        agreement_url("item_add", agreement),
        item_data(agreement, ecl, ecc, to_party=outsider.pk),
    )

    assert response.status_code == 200
    assert field_error(response, "to_party") == (
        "Error: Choose one of this agreement's parties: the organisation must be a party to "
        "the agreement."
    )
    with scope(partnership=alpha):
        assert not DataItem.objects.filter(item="Visit notes").exists()
        with pytest.raises(ValidationError) as caught:
            services.save_data_item(
                agreement,
                values={**item_data(agreement, ecl, ecc), "to_party": outsider},
                by=officer,
            )
    assert "must be a party to the agreement" in caught.value.message_dict["to_party"][0]


def test_special_category_items_need_their_type(client, agreement, ecc, ecl, officer):
    client.force_login(officer)
    response = client.post(
        agreement_url("item_add", agreement),
        item_data(agreement, ecl, ecc, special_category_type=""),
    )
    assert field_error(response, "special_category_type") == (
        "Error: Choose the type of special category data."
    )


# --- Legal basis, rights, breaches ----------------------------------------------------------------


def test_the_legal_basis_page_explains_each_basis_and_offers_the_library(
    client, alpha, agreement, officer
):
    client.force_login(officer)
    page = client.get(section_url(agreement, "legal_basis"))
    text = page_text(page)
    assert "6(1)(e) Public task" in text
    assert "which is the usual basis for public bodies" in text  # the explanation, as a hint
    assert "9(2)(h) Health or social care" in text
    assert "Care Act 2014" in text
    with scope(partnership=alpha):
        care_act = services.drafting.Legislation.objects.get(title="Care Act 2014")

    post_section(
        client,
        agreement,
        "legal_basis",
        article6=["e"],
        article9=["h"],
        schedule1_condition="2",
        statutes=[str(care_act.pk)],
        other_statute="Care Act 2014, section 2",
    )

    saved = fresh(agreement)
    assert (saved.article6, saved.article9, saved.schedule1_condition) == ("e", "h", "2")
    with scope(partnership=alpha):
        assert list(saved.statutes.values_list("title", flat=True)) == ["Care Act 2014"]


def test_the_rights_page_ticks_the_rights_that_follow_from_the_basis(
    client, alpha, agreement, officer
):
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=agreement.pk).update(article6="e")
    client.force_login(officer)

    page = client.get(section_url(agreement, "rights"))

    data = form_values(page)
    assert "access" in data["rights"] and "objection" in data["rights"]
    assert "erasure" not in data["rights"] and "portability" not in data["rights"]
    assert "6(1)(e) Public task:" in page_text(page)  # the reasons, as hints

    post_section(client, agreement, "rights", rights_note="Erasure does not apply.")

    saved = fresh(agreement)
    assert "access" in saved.rights and "erasure" not in saved.rights
    assert saved.rights_note == "Erasure does not apply."


def test_the_ico_window_is_72_hours_at_most(client, agreement, officer):
    client.force_login(officer)
    response = post_section(client, agreement, "breaches", ico_breach_hours="96")
    assert field_error(response, "ico_breach_hours") == (
        "Error: The ICO must be told within 72 hours at most (UK GDPR Article 33)."
    )
    assert fresh(agreement).ico_breach_hours == 72


# --- Two people saving the same section ---------------------------------------------------------


def test_a_save_on_a_stale_version_overwrites_nothing_and_keeps_both_texts(
    alpha, agreement, officer, ecc
):
    colleague = make_member(alpha, Role.IG_OFFICER, organisation=ecc.organisation).user
    first, second = Client(), Client()
    first.force_login(officer)
    second.force_login(colleague)
    url = section_url(agreement, "purpose")
    mine = form_values(first.get(url))
    theirs = form_values(second.get(url))

    mine.update(body=["First person's purpose."], completed=["no"])
    assert first.post(url, mine).status_code == 302
    theirs.update(body=["Second person's purpose."], completed=["yes"])
    response = second.post(url, theirs)

    assert response.status_code == 409
    assert section_of(agreement, "purpose").body == "First person's purpose."
    assert section_of(agreement, "purpose").state == "in_progress"
    text = page_text(response)
    assert "Someone else has saved this section" in text
    assert "nothing of theirs was overwritten" in text
    content = response.content.decode()
    assert 'id="their-body" rows="8" readonly>First person&#x27;s purpose.</textarea>' in content
    kept = form_values(response)
    assert kept["body"] == ["Second person's purpose."]
    assert kept["version"] == ["2"]

    kept["body"] = ["First person's purpose. Second person's purpose."]
    assert second.post(url, kept).status_code == 302
    section = section_of(agreement, "purpose")
    assert section.body == "First person's purpose. Second person's purpose."
    assert (section.version, section.state) == (3, "completed")


def test_the_service_refuses_a_stale_version(alpha, agreement, officer):
    section = section_of(agreement, "purpose")
    with scope(partnership=alpha):
        services.save_section(section, expected_version=1, completed=False, body="A", by=officer)
        with pytest.raises(services.StaleSection) as caught:
            services.save_section(
                section, expected_version=1, completed=False, body="B", by=officer
            )
    assert caught.value.section.body == "A"
    assert section_of(agreement, "purpose").body == "A"


# --- Comments ------------------------------------------------------------------------------


def test_reviewers_raise_and_resolve_comments(client, alpha, agreement, officer):
    steering = make_member(alpha, Role.STEERING_GROUP).user
    client.force_login(steering)
    url = section_url(agreement, "purpose")

    response = client.post(url, {"action": "comment", "text": "Say which quadrants."})

    assert response.status_code == 302
    with scope(partnership=alpha):
        comment = AgreementComment.objects.get()
    assert comment.author == steering and not comment.is_resolved
    assert "1 comment still open" in page_text(client.get(agreement_url("detail", agreement)))

    client.force_login(officer)
    client.post(url, {"action": "resolve", "comment": comment.pk})

    with scope(partnership=alpha):
        comment.refresh_from_db()
    assert comment.resolved_by == officer and comment.resolved_at is not None
    assert "Resolved by" in page_text(client.get(url))
    assert len(audit(alpha, "agreement.comment_resolved")) == 1


@pytest.mark.parametrize("comment", ["abc", "", "-1", "99999999"])
def test_resolving_a_comment_that_is_not_there_is_not_found(client, agreement, officer, comment):
    client.force_login(officer)
    response = client.post(
        section_url(agreement, "purpose"), {"action": "resolve", "comment": comment}
    )
    assert response.status_code == 404


def test_an_empty_comment_is_refused_by_the_field(client, alpha, agreement, officer):
    client.force_login(officer)
    response = client.post(section_url(agreement, "purpose"), {"action": "comment", "text": " "})
    assert field_error(response, "text") == "Error: Enter your comment."


def test_a_viewer_reads_a_section_but_cannot_change_or_comment(client, alpha, agreement):
    viewer = make_member(alpha, Role.VIEWER).user
    client.force_login(viewer)
    url = section_url(agreement, "purpose")

    page = client.get(url)

    assert page.status_code == 200
    assert 'name="version"' not in page.content.decode()
    assert "only the agreement's editors can change it" in page_text(page)
    assert client.post(url, {"version": 1, "completed": "yes", "body": "x"}).status_code == 403
    assert client.post(url, {"action": "comment", "text": "x"}).status_code == 403
    assert client.post(agreement_url("item_add", agreement), {}).status_code == 403
    assert section_of(agreement, "purpose").version == 1


# --- Named editors from the other parties -------------------------------------------------------


def test_a_named_editor_from_another_party_edits_sections_and_nothing_else(
    client, alpha, agreement, ecc, ecl, officer
):
    colleague = make_member(alpha, Role.VIEWER, organisation=ecl.organisation)
    client.force_login(colleague.user)
    assert client.post(section_url(agreement, "purpose"), {}).status_code == 403

    client.force_login(officer)
    page = client.get(agreement_url("editors", agreement))
    assert colleague.user.email in page.content.decode() or colleague.user.full_name in page_text(
        page
    )
    response = client.post(agreement_url("editors", agreement), {"member": colleague.pk})
    assert response.status_code == 302
    with scope(partnership=alpha):
        assert services.is_named_editor(colleague.user, agreement)
        assert [m.pk for m in services.editors(agreement)] == [colleague.pk]

    client.force_login(colleague.user)
    response = post_section(client, agreement, "purpose", body="Written by the provider.")
    assert response.status_code == 302
    assert section_of(agreement, "purpose").body == "Written by the provider."
    response = client.post(agreement_url("item_add", agreement), item_data(agreement, ecl, ecc))
    assert response.status_code == 302
    for name in ("editors", "send", "terminate", "new_version", "return"):
        assert client.get(agreement_url(name, agreement)).status_code == 403, name
    assert client.post(agreement_url("submit", agreement)).status_code == 403
    assert client.get(agreement_url("detail", agreement)).status_code == 200

    client.force_login(officer)
    client.post(agreement_url("editors", agreement), {"action": "remove", "member": colleague.pk})
    client.force_login(colleague.user)
    assert client.post(section_url(agreement, "purpose"), {}).status_code == 403
    assert [e.action for e in audit(alpha, "agreement.editor_removed")] == [
        "agreement.editor_removed"
    ]


def test_editors_are_chosen_among_the_parties_people(client, alpha, agreement, officer):
    stranger = make_member(alpha, Role.IG_OFFICER)  # acts for an organisation that is no party
    client.force_login(officer)

    response = client.post(agreement_url("editors", agreement), {"member": stranger.pk})

    assert field_error(response, "member") == (
        "Error: Choose someone who acts for one of the agreement's parties."
    )
    with scope(partnership=alpha), pytest.raises(ValidationError):
        services.add_editor(agreement, stranger, by=officer)


def test_only_the_lead_organisations_drafters_manage_editors(client, alpha, agreement, ecl):
    other_drafter = make_member(alpha, Role.IG_OFFICER, organisation=ecl.organisation).user
    client.force_login(other_drafter)
    assert client.get(agreement_url("editors", agreement)).status_code == 403
    assert client.post(section_url(agreement, "purpose"), {}).status_code == 403


def test_a_superuser_member_is_no_editor_unless_named(client, alpha, agreement, ecl):
    boss = make_member(alpha, Role.VIEWER, organisation=ecl.organisation).user
    boss.is_superuser = True
    boss.save()
    with scope(partnership=alpha):
        assert not services.is_named_editor(boss, agreement)
    client.force_login(boss)
    assert client.post(section_url(agreement, "purpose"), {}).status_code == 403


def test_sections_cannot_change_once_the_agreement_is_out_for_signature(
    client, alpha, agreement, officer
):
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=agreement.pk).update(status="for_signature")
    client.force_login(officer)
    page = client.get(section_url(agreement, "purpose"))
    assert 'name="version"' not in page.content.decode()
    assert client.post(section_url(agreement, "purpose"), {"version": 1}).status_code == 403
    section = section_of(agreement, "purpose")
    with scope(partnership=alpha), pytest.raises(ValidationError):
        services.save_section(section, expected_version=1, completed=True, body="x", by=officer)
    with scope(partnership=alpha):
        assert AgreementSection.objects.get(pk=section.pk).body != "x"
    assert messages_of(page) == []


# --- Autosave (htmx) -------------------------------------------------------------------------


def test_the_text_is_saved_as_it_is_typed(client, agreement, officer):
    client.force_login(officer)
    page = client.get(section_url(agreement, "purpose")).content.decode()
    autosave = agreement_url("autosave", agreement, section_key="purpose")
    assert f'hx-post="{autosave}"' in page

    response = client.post(
        autosave, {"version": 1, "body": "Half a sentence"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "Draft saved automatically" in content
    assert 'name="version" value="2" id="id_version" hx-swap-oob="true"' in content
    section = section_of(agreement, "purpose")
    assert (section.body, section.state, section.version) == ("Half a sentence", "in_progress", 2)

    # The page, holding the new version, then saves normally.
    data = form_values(client.get(section_url(agreement, "purpose")))
    data.update(body=["Half a sentence, finished."], completed=["yes"], version=["2"])
    assert client.post(section_url(agreement, "purpose"), data).status_code == 302
    assert section_of(agreement, "purpose").state == "completed"


def test_autosave_on_a_stale_version_saves_nothing(client, alpha, agreement, officer):
    section = section_of(agreement, "purpose")
    with scope(partnership=alpha):
        services.save_section(
            section, expected_version=1, completed=False, body="Theirs", by=officer
        )
    client.force_login(officer)

    response = client.post(
        agreement_url("autosave", agreement, section_key="purpose"),
        {"version": 1, "body": "Mine"},
        headers={"HX-Request": "true"},
    )

    assert (
        "Not saved automatically: someone else has saved this section" in response.content.decode()
    )
    assert section_of(agreement, "purpose").body == "Theirs"


def test_autosave_is_for_editors_and_htmx_only(client, alpha, agreement, officer):
    autosave = agreement_url("autosave", agreement, section_key="purpose")
    client.force_login(officer)
    response = client.post(autosave, {"version": 1, "body": "x"})
    assert response["Location"] == section_url(agreement, "purpose")
    client.force_login(make_member(alpha, Role.VIEWER).user)
    response = client.post(autosave, {"version": 1, "body": "x"}, headers={"HX-Request": "true"})
    assert response.status_code == 403
    assert section_of(agreement, "purpose").version == 1
