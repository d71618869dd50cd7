"""Protocols: starting one from the model protocol, editing its sections, approval by the
steering group, new versions, comparing versions and the legislation library."""

from __future__ import annotations

import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django_scopes import scope

from documents.markup import MAX_BODY_CHARS
from protocols import services
from protocols.content import LEGISLATION, MODEL_SECTIONS
from protocols.models import (
    LOCKED_MESSAGE,
    Legislation,
    Protocol,
    ProtocolVersion,
    Section,
    VersionStatus,
)
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .factories import make_member, make_partner, make_protocol
from .pages import field_error, messages_of, page_text

pytestmark = pytest.mark.django_db


# --- Helpers ---------------------------------------------------------------------------------


def url(name: str, partnership: str = "alpha", **kwargs) -> str:
    return reverse(f"protocols:{name}", kwargs={"partnership_slug": partnership, **kwargs})


def version_url(name: str, version: ProtocolVersion, **kwargs) -> str:
    return url(name, protocol_id=version.protocol_id, version_id=version.pk, **kwargs)


def section_url(name: str, section: Section) -> str:
    return url(
        name,
        protocol_id=section.version.protocol_id,
        version_id=section.version_id,
        section_id=section.pk,
    )


def audit(partnership, action: str) -> list[AuditEntry]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.filter(action=action).order_by("id"))


def sections_of(version: ProtocolVersion) -> list[tuple[str, str]]:
    with scope(partnership=version.partnership):
        return list(version.sections.order_by("position").values_list("title", "body"))


def fresh(obj):
    with scope(partnership=obj.partnership):
        return type(obj).objects.get(pk=obj.pk)


def latest(protocol: Protocol) -> ProtocolVersion:
    with scope(partnership=protocol.partnership):
        version = services.latest_version(protocol)
        version.protocol = protocol
        return version


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture
def lead(alpha):
    return make_partner(alpha)


@pytest.fixture
def manager(alpha, lead):
    """The information sharing manager: administrator, acting for the lead organisation."""
    return make_member(alpha, Role.ADMINISTRATOR, organisation=lead.organisation).user


@pytest.fixture
def ig_officer(alpha, lead):
    return make_member(alpha, Role.IG_OFFICER, organisation=lead.organisation).user


@pytest.fixture
def steering(alpha, lead):
    return make_member(alpha, Role.STEERING_GROUP, organisation=lead.organisation).user


@pytest.fixture
def viewer(alpha, lead):
    return make_member(alpha, Role.VIEWER, organisation=lead.organisation).user


@pytest.fixture
def protocol(alpha, lead, manager):
    return make_protocol(alpha, title="Alpha information sharing protocol", lead=lead, by=manager)


@pytest.fixture
def draft(protocol) -> ProtocolVersion:
    return latest(protocol)


def submitted(version: ProtocolVersion, by) -> ProtocolVersion:
    with scope(partnership=version.partnership):
        return services.submit_for_approval(version, by=by)


def approved(version: ProtocolVersion, drafter, steering) -> ProtocolVersion:
    with scope(partnership=version.partnership):
        services.submit_for_approval(version, by=drafter)
        return services.approve(version, by=steering)


# --- Starting from the model protocol ----------------------------------------------------


def test_manager_starts_a_protocol_from_the_model_as_draft_version_1_0(
    client, alpha, lead, manager
):
    client.force_login(manager)

    response = client.post(
        url("create"), {"title": "Bedfordshire information sharing protocol", "lead": lead.pk}
    )

    with scope(partnership=alpha):
        protocol = Protocol.objects.get()
        version = protocol.versions.get()
    assert response.status_code == 302
    assert response["Location"] == url("detail", protocol_id=protocol.pk)
    assert protocol.title == "Bedfordshire information sharing protocol"
    assert protocol.lead == lead
    assert (version.number, version.status, version.author) == ("1.0", "draft", manager)
    assert [t for t, _ in sections_of(version)] == [s.title for s in MODEL_SECTIONS]
    entry = audit(alpha, "protocol.created")[0]
    assert entry.actor == manager
    assert "Bedfordshire information sharing protocol" in entry.summary


def test_the_model_protocol_is_filled_in_with_the_partnership_and_its_lead(
    alpha, protocol, draft, lead
):
    bodies = dict(sections_of(draft))
    assert "$" not in "".join(bodies.values())
    assert alpha.name in bodies["Purpose and scope"]
    assert lead.organisation.name in bodies["Purpose and scope"]
    assert "4 weeks" in bodies["Withdrawal"]
    assert "every 12 months" in bodies["Monitoring and review"]
    breaches = bodies["Personal data breaches"]
    assert "48 hours" in breaches and "72 hours" in breaches
    assert "lead organisation decides" in breaches
    assert "One month before the review date" in bodies["Monitoring and review"]


def test_the_model_protocol_covers_every_principle(draft):
    principles = dict(sections_of(draft))["Principles"]
    for heading in [
        "Consent",
        "Sharing without consent",
        "Need to know",
        "Duty of confidentiality",
        "Fact and opinion",
        "Anonymisation and pseudonymisation",
    ]:
        assert f"### {heading}" in principles


def test_the_detail_page_shows_the_rendered_sections(client, protocol, draft, viewer):
    client.force_login(viewer)

    response = client.get(url("detail", protocol_id=protocol.pk))

    assert response.status_code == 200
    content = response.content.decode()
    for section in MODEL_SECTIONS:
        assert html.escape(section.title) in content
    assert "<h3>Sharing without consent</h3>" in content
    assert 'govuk-tag--grey">Draft</strong>' in content
    assert "Edit<span" not in content, "a viewer gets no editing links"


def test_creating_needs_a_title_and_an_active_lead(client, alpha, manager):
    withdrawn = make_partner(alpha, status="withdrawn")
    client.force_login(manager)

    response = client.post(url("create"), {"title": "  ", "lead": withdrawn.pk})

    assert response.status_code == 200
    assert field_error(response, "title") == "Error: Enter the protocol's title."
    assert field_error(response, "lead") == (
        "Error: Choose one of the partnership's active partners."
    )
    with scope(partnership=alpha):
        assert not Protocol.objects.exists()


def test_the_first_protocol_copies_the_legislation_library(alpha, protocol):
    with scope(partnership=alpha):
        titles = set(Legislation.objects.values_list("title", flat=True))
    assert titles == {s.title for s in LEGISLATION}
    assert len(audit(alpha, "legislation.copied")) == 1


def test_the_protocol_list_shows_each_protocol_with_its_version_and_status(
    client, protocol, viewer
):
    client.force_login(viewer)

    response = client.get(url("list"))

    text = page_text(response)
    assert "Alpha information sharing protocol" in text
    assert "1.0 Draft" in text
    assert "Not sent" in text


def test_the_dashboard_and_navigation_offer_protocols(client, protocol, viewer):
    client.force_login(viewer)

    response = client.get(reverse("tenancy:dashboard", kwargs={"partnership_slug": "alpha"}))

    content = response.content.decode()
    assert f'href="{url("list")}">Protocols</a>' in content
    assert re.search(r'accord-card__count">1</span> Protocols', content)


# --- Editing sections ----------------------------------------------------------------------


def test_drafter_adds_a_section_at_the_end(client, alpha, draft, ig_officer):
    client.force_login(ig_officer)

    response = client.post(
        version_url("section_add", draft),
        {"title": "Emergencies", "body": "Share first, record afterwards."},
    )

    assert response.status_code == 302
    assert sections_of(draft)[-1] == ("Emergencies", "Share first, record afterwards.")
    assert audit(alpha, "protocol.section_added")[0].actor == ig_officer


def test_drafter_edits_a_section(client, alpha, draft, manager):
    with scope(partnership=alpha):
        section = draft.sections.get(title="Complaints")
    client.force_login(manager)

    response = client.post(
        section_url("section_edit", section),
        {"title": "Complaints and concerns", "body": "Tell us within 10 working days."},
    )

    assert response.status_code == 302
    section = fresh(section)
    assert (section.title, section.body) == (
        "Complaints and concerns",
        "Tell us within 10 working days.",
    )
    entry = audit(alpha, "protocol.section_changed")[0]
    assert entry.changes["title"] == ["Complaints", "Complaints and concerns"]


def test_drafter_moves_sections_up_and_down(client, alpha, draft, manager):
    with scope(partnership=alpha):
        second = draft.sections.get(position=2)
    first_title = sections_of(draft)[0][0]
    client.force_login(manager)

    client.post(section_url("section_move", second), {"direction": "up"})

    assert [t for t, _ in sections_of(draft)][:2] == ["Principles", first_title]
    client.post(section_url("section_move", second), {"direction": "down"})
    assert [t for t, _ in sections_of(draft)][:2] == [first_title, "Principles"]


def test_the_first_section_cannot_move_up(client, alpha, draft, manager):
    with scope(partnership=alpha):
        first = draft.sections.get(position=1)
    client.force_login(manager)

    response = client.post(section_url("section_move", first), {"direction": "up"}, follow=True)

    assert "“Purpose and scope” is already the first section." in messages_of(response)
    # The refusal is read at the top of the page, not beside the button.
    assert response.redirect_chain[0][0] == version_url("version", draft)


def move_button(content: str, button_id: str) -> str:
    """The opening tag of the button with this id ('' if there is none)."""
    match = re.search(rf'<button [^>]*\bid="{button_id}"[^>]*>', content)
    return match.group(0) if match else ""


def test_after_a_move_the_page_opens_at_the_button_pressed(client, alpha, draft, manager):
    with scope(partnership=alpha):
        second = draft.sections.get(position=2)
    client.force_login(manager)

    response = client.post(section_url("section_move", second), {"direction": "down"})

    assert response.status_code == 302
    assert response["Location"] == version_url("version", draft) + f"#section-{second.pk}-move-down"
    page = client.get(response["Location"])
    content = page.content.decode()
    button = move_button(content, f"section-{second.pk}-move-down")
    assert "data-focus-on-arrival" in button  # the script puts the focus back on it
    assert "Move down" in content[content.index(button) :].split("</button>")[0]
    # The success banner does not take the focus away from the button.
    banner = re.search(r'<div class="govuk-notification-banner[^>]*>', content).group(0)
    assert 'data-disable-auto-focus="true"' in banner
    assert "The section “Principles” has been moved." in page_text(page)


def test_a_section_moved_to_the_top_returns_to_its_other_button(client, alpha, draft, manager):
    with scope(partnership=alpha):
        second = draft.sections.get(position=2)
    client.force_login(manager)

    response = client.post(section_url("section_move", second), {"direction": "up"})

    # Now first, it has no Move up button: the page opens at its Move down button.
    assert response["Location"].endswith(f"#section-{second.pk}-move-down")
    content = client.get(response["Location"]).content.decode()
    assert move_button(content, f"section-{second.pk}-move-down")
    assert not move_button(content, f"section-{second.pk}-move-up")


def test_a_section_moved_to_the_bottom_returns_to_its_other_button(client, alpha, draft, manager):
    with scope(partnership=alpha):
        *_, before_last, last = draft.sections.order_by("position")
    client.force_login(manager)

    response = client.post(section_url("section_move", before_last), {"direction": "down"})

    assert response["Location"].endswith(f"#section-{before_last.pk}-move-up")
    content = client.get(response["Location"]).content.decode()
    assert move_button(content, f"section-{before_last.pk}-move-up")
    assert not move_button(content, f"section-{before_last.pk}-move-down")
    assert move_button(content, f"section-{last.pk}-move-down")  # now second to last


def test_deleting_a_section_asks_first_then_removes_it(client, alpha, draft, manager):
    with scope(partnership=alpha):
        section = draft.sections.get(title="Disciplinary action")
    client.force_login(manager)

    confirm = client.get(section_url("section_delete", section))
    assert "Delete the section “Disciplinary action”?" in page_text(confirm)
    assert "Disciplinary action" in [t for t, _ in sections_of(draft)]

    response = client.post(section_url("section_delete", section))

    assert response.status_code == 302
    titles = [t for t, _ in sections_of(draft)]
    assert "Disciplinary action" not in titles
    with scope(partnership=alpha):
        positions = list(draft.sections.values_list("position", flat=True))
    assert positions == list(range(1, len(titles) + 1))
    assert audit(alpha, "protocol.section_removed")


def test_a_script_in_a_section_does_not_reach_the_page(client, alpha, draft, manager):
    client.force_login(manager)
    client.post(
        version_url("section_add", draft),
        {
            "title": "Contacts",
            "body": "Ring us.<script>alert('stolen')</script>\n\n"
            '<img src=x onerror="alert(1)"> [link](javascript:alert(2))',
        },
    )

    response = client.get(url("detail", protocol_id=draft.protocol_id))

    content = response.content.decode()
    assert "Ring us." in content
    assert "alert(" not in content
    assert "onerror" not in content
    assert "javascript:" not in content


def test_a_section_needs_a_title(client, alpha, draft, manager):
    client.force_login(manager)
    before = sections_of(draft)

    response = client.post(version_url("section_add", draft), {"title": "", "body": "Text"})

    assert response.status_code == 200
    assert field_error(response, "title") == "Error: Enter the section's title."
    assert 'href="#id_title">Enter the section' in response.content.decode()
    assert sections_of(draft) == before


def test_a_five_megabyte_section_is_refused_and_nothing_is_saved(client, alpha, draft, manager):
    client.force_login(manager)
    before = sections_of(draft)
    body = "word " * 1_000_000  # 5 MB

    response = client.post(version_url("section_add", draft), {"title": "Appendix", "body": body})

    assert response.status_code == 200
    assert field_error(response, "body") == (
        f"Error: The section is too long: it has {len(body):,} characters and the most a "
        f"section can have is {MAX_BODY_CHARS:,}. Split it into several sections."
    )
    assert sections_of(draft) == before


def test_the_section_services_refuse_a_too_long_body(alpha, draft, manager):
    with scope(partnership=alpha), pytest.raises(ValidationError) as caught:
        services.add_section(draft, title="Appendix", body="x" * (MAX_BODY_CHARS + 1), by=manager)
    assert set(caught.value.message_dict) == {"body"}


def test_a_version_sent_for_approval_cannot_be_edited(client, alpha, draft, manager):
    submitted(draft, manager)
    with scope(partnership=alpha):
        section = draft.sections.get(title="Security")
    before = sections_of(draft)
    client.force_login(manager)

    response = client.post(
        section_url("section_edit", section), {"title": "Security", "body": "Nothing."}, follow=True
    )

    assert LOCKED_MESSAGE in messages_of(response)
    assert sections_of(draft) == before
    for attempt in (
        lambda: services.update_section(section, title="Security", body="Nothing.", by=manager),
        lambda: services.add_section(draft, title="More", body="", by=manager),
        lambda: services.delete_section(section, by=manager),
        lambda: services.move_section(section, "up", by=manager),
    ):
        with scope(partnership=alpha), pytest.raises(ValidationError, match="start a new version"):
            attempt()
    assert sections_of(draft) == before


def test_the_models_refuse_to_change_sections_of_a_version_that_is_not_a_draft(
    alpha, draft, manager
):
    submitted(draft, manager)
    with scope(partnership=alpha):
        section = draft.sections.first()
        section.body = "Changed behind the services' back."
        with pytest.raises(ValidationError, match="start a new version"):
            section.save()
        with pytest.raises(ValidationError, match="start a new version"):
            Section(partnership=alpha, version=draft, title="Extra").save()


# --- Settings ----------------------------------------------------------------------------


def test_settings_change_is_saved_and_audited_with_before_and_after(
    client, alpha, protocol, manager
):
    new_lead = make_partner(alpha)
    client.force_login(manager)

    response = client.post(
        url("settings", protocol_id=protocol.pk),
        {
            "title": "Alpha protocol",
            "lead": new_lead.pk,
            "purposes": "Safeguarding adults.",
            "date_in_force": "",
            "notice_weeks": "6",
            "review_months": "24",
            "remind_every_days": "5",
            "max_reminders": "2",
        },
    )

    assert response.status_code == 302
    protocol = fresh(protocol)
    assert (protocol.title, protocol.lead, protocol.notice_weeks) == (
        "Alpha protocol",
        new_lead,
        6,
    )
    changes = audit(alpha, "protocol.changed")[0].changes
    assert changes["notice_weeks"] == [4, 6]
    assert changes["review_months"] == [12, 24]


def test_settings_refuse_bad_values_with_messages_by_the_fields(client, alpha, protocol, manager):
    client.force_login(manager)

    response = client.post(
        url("settings", protocol_id=protocol.pk),
        {
            "title": "Alpha protocol",
            "lead": protocol.lead_id,
            "notice_weeks": "60",
            "review_months": "0",
            "remind_every_days": "7",
            "max_reminders": "3",
        },
    )

    assert response.status_code == 200
    assert field_error(response, "notice_weeks") == (
        "Error: The notice period can be 52 weeks at most."
    )
    assert field_error(response, "review_months") == (
        "Error: The review period must be at least 1 month."
    )
    assert fresh(protocol).notice_weeks == 4


# --- Approval ----------------------------------------------------------------------------


def test_a_draft_goes_to_the_steering_group_who_approve_it(
    client, alpha, draft, manager, steering, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(version_url("submit", draft))
    assert fresh(draft).status == VersionStatus.FOR_APPROVAL
    assert [m.to for m in mailoutbox] == [[steering.email]]
    assert "For approval: Alpha information sharing protocol, version 1.0" in (
        mailoutbox[0].subject
    )

    client.force_login(steering)
    response = client.post(version_url("approve", draft), follow=True)

    version = fresh(draft)
    assert version.status == VersionStatus.APPROVED
    assert version.approved_by == steering
    assert version.approved_at is not None
    assert "Version 1.0 has been approved." in messages_of(response)[-1]
    assert audit(alpha, "protocol.version_approved")[0].actor == steering


@pytest.mark.parametrize("role", [Role.VIEWER, Role.IG_OFFICER, Role.ADMINISTRATOR])
def test_only_the_steering_group_approves(client, alpha, lead, draft, manager, role):
    submitted(draft, manager)
    client.force_login(make_member(alpha, role, organisation=lead.organisation).user)

    assert client.post(version_url("approve", draft)).status_code == 403
    assert client.get(version_url("return", draft)).status_code == 403
    assert fresh(draft).status == VersionStatus.FOR_APPROVAL


def test_the_steering_group_returns_a_version_to_draft_with_a_reason(
    client, alpha, draft, manager, steering, mailoutbox, django_capture_on_commit_callbacks
):
    submitted(draft, manager)
    client.force_login(steering)

    empty = client.post(version_url("return", draft), {"reason": " "})
    assert field_error(empty, "reason") == (
        "Error: Enter what needs to change before it is approved."
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(version_url("return", draft), {"reason": "Name the Caldicott Guardian."})

    version = fresh(draft)
    assert version.status == VersionStatus.DRAFT
    assert version.return_reason == "Name the Caldicott Guardian."
    assert mailoutbox[-1].to == [manager.email]
    assert "Name the Caldicott Guardian." in mailoutbox[-1].body
    client.force_login(manager)
    page = page_text(client.get(url("detail", protocol_id=draft.protocol_id)))
    assert "Returned by the steering group: Name the Caldicott Guardian." in page


def test_approving_a_draft_that_was_not_submitted_is_refused(client, draft, steering):
    client.force_login(steering)

    response = client.post(version_url("approve", draft), follow=True)

    assert messages_of(response) == [
        "Version 1.0 is draft: only a version sent for approval can be approved."
    ]
    assert fresh(draft).status == VersionStatus.DRAFT


def test_an_empty_draft_cannot_go_for_approval(alpha, draft, manager):
    with scope(partnership=alpha):
        for section in list(draft.sections.all()):
            services.delete_section(section, by=manager)
        with pytest.raises(ValidationError, match="Add at least one section"):
            services.submit_for_approval(draft, by=manager)


# --- New versions and comparing them ---------------------------------------------------------


def test_a_new_version_cannot_start_from_a_draft(client, protocol, manager):
    client.force_login(manager)

    response = client.get(url("new_version", protocol_id=protocol.pk), follow=True)

    assert "Version 1.0 is draft: edit it instead." in messages_of(response)[0]
    with scope(partnership=protocol.partnership), pytest.raises(ValidationError):
        services.new_version(protocol, major=False, change_summary="Typos", by=manager)


def test_editing_an_approved_version_starts_a_new_draft_copying_its_sections(
    client, alpha, protocol, draft, manager, steering
):
    approved(draft, manager, steering)
    client.force_login(manager)

    missing = client.post(url("new_version", protocol_id=protocol.pk), {"kind": "minor"})
    assert field_error(missing, "change_summary") == "Error: Say what this version changes."
    response = client.post(
        url("new_version", protocol_id=protocol.pk),
        {"kind": "minor", "change_summary": "Updated the contacts for breaches."},
    )

    new = latest(protocol)
    assert response["Location"] == version_url("version", new)
    assert (new.number, new.status, new.author) == ("1.1", VersionStatus.DRAFT, manager)
    assert sections_of(new) == sections_of(draft)
    assert fresh(draft).status == VersionStatus.APPROVED
    assert audit(alpha, "protocol.version_created")[0].changes["version"] == ["1.0", "1.1"]


def test_a_major_version_is_numbered_from_the_next_whole_number(
    alpha, protocol, draft, manager, steering
):
    approved(draft, manager, steering)
    with scope(partnership=alpha):
        new = services.new_version(protocol, major=True, change_summary="Rewritten", by=manager)
    assert new.number == "2.0"


def test_the_versions_page_is_the_revision_table(client, alpha, protocol, draft, manager, steering):
    approved(draft, manager, steering)
    with scope(partnership=alpha):
        services.new_version(protocol, major=True, change_summary="New partners", by=manager)
    client.force_login(steering)

    text = page_text(client.get(url("versions", protocol_id=protocol.pk)))

    assert "Version 2.0 Draft New partners" in text
    assert "Version 1.0 Approved First version, drafted from Accord's model protocol." in text
    assert manager.full_name in text


def test_compare_highlights_the_changed_words(client, alpha, protocol, draft, manager, steering):
    approved(draft, manager, steering)
    with scope(partnership=alpha):
        new = services.new_version(protocol, major=False, change_summary="Wording", by=manager)
        security = new.sections.get(title="Security")
        services.update_section(
            security,
            title="Security",
            body=security.body.replace("measures suited to the risk", "measures fit for the risk"),
            by=manager,
        )
        services.add_section(new, title="Glossary", body="ISA: <agreement>", by=manager)
        services.delete_section(new.sections.get(title="Complaints"), by=manager)
    client.force_login(manager)

    response = client.get(url("compare", protocol_id=protocol.pk), {"a": draft.pk, "b": new.pk})

    content = response.content.decode()
    assert re.search(r'<del class="accord-diff-before">.*?suited.*?</del>', content)
    assert re.search(r'<ins class="accord-diff-after">.*?fit.*?</ins>', content)
    assert "ISA: &lt;agreement&gt;" in content
    text = page_text(response)
    assert "Security Changed" in text
    assert "Glossary Added" in text
    assert "Complaints Removed" in text
    assert "Principles Unchanged" in text


def test_compare_with_a_single_version_explains_there_is_nothing_to_compare(
    client, protocol, viewer
):
    client.force_login(viewer)
    response = client.get(url("compare", protocol_id=protocol.pk))
    assert "There is only one version so far" in page_text(response)


def test_retiring_a_protocol_needs_the_steering_group_and_a_reason(
    client, alpha, protocol, manager, steering
):
    client.force_login(manager)
    assert client.get(url("retire", protocol_id=protocol.pk)).status_code == 403

    client.force_login(steering)
    empty = client.post(url("retire", protocol_id=protocol.pk), {"reason": ""})
    assert field_error(empty, "reason") == "Error: Enter the reason for retiring the protocol."
    client.post(url("retire", protocol_id=protocol.pk), {"reason": "Replaced by a regional one."})

    protocol = fresh(protocol)
    assert protocol.retired_at is not None
    assert latest(protocol).status == VersionStatus.RETIRED
    assert "Replaced by a regional one." in audit(alpha, "protocol.retired")[0].summary
    assert "Retired on" in page_text(client.get(url("detail", protocol_id=protocol.pk)))


# --- The legislation library -------------------------------------------------------------


def test_opening_the_library_writes_nothing_and_shows_accords_list_read_only(
    client, alpha, viewer, manager
):
    client.force_login(viewer)

    response = client.get(url("legislation"))

    text = page_text(response)
    assert "Data Protection Act 2018 on legislation.gov.uk 2018" in text
    assert "Common Law Duty of Confidentiality" in text
    with scope(partnership=alpha):
        assert not Legislation.objects.exists()
    assert audit(alpha, "legislation.copied") == []
    client.force_login(manager)
    content = client.get(url("legislation")).content.decode()
    assert "Add legislation" in content
    assert "/delete/" not in content and ">Change<" not in content  # no rows to change yet
    assert "gets its own copy, to change, when you add legislation" in page_text(
        client.get(url("legislation"))
    )


def test_the_library_is_copied_with_the_first_protocol_and_only_once(
    client, alpha, lead, manager, viewer
):
    make_protocol(alpha, lead=lead, by=manager)
    with scope(partnership=alpha):
        Legislation.objects.filter(title="Computer Misuse Act 1990").delete()
    make_protocol(alpha, title="A second protocol", lead=lead, by=manager)
    client.force_login(viewer)
    client.get(url("legislation"))

    with scope(partnership=alpha):
        assert Legislation.objects.count() == len(LEGISLATION) - 1
        gdpr = Legislation.objects.get(title__startswith="UK General Data Protection")
    assert gdpr.url == "https://www.legislation.gov.uk/eur/2016/679/contents"
    assert len(audit(alpha, "legislation.copied")) == 1


def test_the_first_addition_copies_the_library_then_adds(client, alpha, manager):
    client.force_login(manager)

    client.post(url("legislation_add"), {"title": "Domestic Abuse Act 2021", "year": "2021"})

    with scope(partnership=alpha):
        assert Legislation.objects.count() == len(LEGISLATION) + 1
    assert len(audit(alpha, "legislation.copied")) == 1
    assert len(audit(alpha, "legislation.added")) == 1


def test_the_library_has_what_partners_rely_on():
    titles = {s.title for s in LEGISLATION}
    for expected in [
        "Data Protection Act 2018",
        "Human Rights Act 1998",
        "Freedom of Information Act 2000",
        "Crime and Disorder Act 1998",
        "Children Act 1989",
        "Children Act 2004",
        "Care Act 2014",
        "Health and Social Care Act 2012",
        "Health and Social Care (Safety and Quality) Act 2015",
        "National Health Service Act 2006",
        "Mental Capacity Act 2005",
        "Mental Health Act 1983",
        "Local Government Act 2000",
        "Localism Act 2011",
        "Education Act 1996",
        "Education Act 2002",
        "Criminal Justice Act 2003",
        "Police Act 1996",
        "Fire and Rescue Services Act 2004",
        "Computer Misuse Act 1990",
        "Digital Economy Act 2017",
        "Privacy and Electronic Communications (EC Directive) Regulations 2003",
        "Common Law Duty of Confidentiality",
    ]:
        assert expected in titles
    for statute in LEGISLATION:
        assert statute.url == "" or statute.url.startswith("https://www.legislation.gov.uk/")
    assert [s.url for s in LEGISLATION if s.year is None] == [""]


def test_drafters_add_change_and_delete_legislation(client, alpha, manager, viewer):
    client.force_login(viewer)
    assert client.get(url("legislation_add")).status_code == 403
    client.force_login(manager)

    bad = client.post(url("legislation_add"), {"title": "", "year": "18", "url": "nope"})
    assert field_error(bad, "title") == "Error: Enter the legislation's title."
    assert field_error(bad, "year") == "Error: Enter the year as 4 digits, such as 2018."
    assert field_error(bad, "url").startswith("Error: Enter an address like https://")
    duplicate = client.post(url("legislation_add"), {"title": "care act 2014", "year": "2014"})
    assert field_error(duplicate, "title") == (
        "Error: The library already has legislation with this title."
    )

    client.post(
        url("legislation_add"),
        {"title": "Domestic Abuse Act 2021", "year": "2021", "note": "Part 4 duties."},
    )
    with scope(partnership=alpha):
        statute = Legislation.objects.get(title="Domestic Abuse Act 2021")
    client.post(
        url("legislation_edit", legislation_id=statute.pk),
        {"title": "Domestic Abuse Act 2021", "year": "2021", "note": "Safe accommodation."},
    )
    assert fresh(statute).note == "Safe accommodation."
    client.post(url("legislation_delete", legislation_id=statute.pk))
    with scope(partnership=alpha):
        assert not Legislation.objects.filter(title="Domestic Abuse Act 2021").exists()
    for action in ("legislation.added", "legislation.changed", "legislation.removed"):
        assert audit(alpha, action)[0].actor == manager
