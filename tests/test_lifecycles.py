"""Lifecycles as data: each kind declares its transitions once, the services refuse whoever
the declaration does not allow, and a page shows exactly the buttons it allows."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django_scopes import scope

from agreements.transitions import AGREEMENTS
from protocols import services
from protocols.models import ProtocolVersion, VersionStatus
from protocols.transitions import VERSIONS
from signatories.models import PartnerStatus
from signatories.services import change_partner_status
from signatories.transitions import PARTNERS
from tenancy.lifecycle import declaration_table
from tenancy.models import Membership
from tenancy.roles import Role

from .factories import make_member, make_partner, make_protocol
from .pages import page_text

pytestmark = pytest.mark.django_db


def test_protocol_versions_declare_every_transition_once():
    assert declaration_table(VERSIONS) == [
        row("submit", ["draft"], "for_approval", "draft_documents", "protocol.version_submitted"),
        row(
            "approve",
            ["for_approval"],
            "approved",
            "approve_documents",
            "protocol.version_approved",
        ),
        row(
            "return",
            ["approved", "for_approval"],
            "draft",
            "approve_documents",
            "protocol.version_returned",
        ),
        row("send", ["approved"], "for_signature", "draft_documents", "protocol.version_sent"),
        row("issue", ["approved"], "signed", "draft_documents", "protocol.version_issued"),
        row("complete", ["for_signature"], "signed", None, "protocol.version_signed"),
        row(
            "supersede",
            ["approved", "for_signature", "signed"],
            "superseded",
            None,
            "protocol.version_superseded",
        ),
        row(
            "retire",
            ["approved", "draft", "for_approval", "for_signature", "signed"],
            "retired",
            None,
            "protocol.version_retired",
        ),
    ]


def test_agreements_declare_every_transition_once():
    assert declaration_table(AGREEMENTS) == [
        row("submit", ["draft"], "in_review", "draft_documents", "agreement.submitted"),
        row(
            "return",
            ["for_signature", "in_review"],
            "draft",
            "draft_documents",
            "agreement.returned",
        ),
        row("send", ["in_review"], "for_signature", "draft_documents", "agreement.sent"),
        row(
            "terminate",
            ["active", "for_signature"],
            "terminated",
            "draft_documents",
            "agreement.terminated",
        ),
        row("activate", ["for_signature"], "active", None, "agreement.active"),
        row("supersede", ["active", "for_signature"], "superseded", None, "agreement.superseded"),
        row("expire", ["active"], "expired", None, "agreement.expired"),
    ]


def test_partner_statuses_declare_every_transition_once():
    assert declaration_table(PARTNERS) == [
        row(
            "activate",
            ["invited", "withdrawing", "withdrawn"],
            "active",
            "manage_partners",
            "partner.status_changed",
        ),
        row("give_notice", ["active"], "withdrawing", "view", "partner.status_changed"),
        row(
            "withdraw",
            ["invited", "withdrawing"],
            "withdrawn",
            "manage_partners",
            "partner.status_changed",
        ),
    ]


def row(name, source, target, permission, action) -> dict:
    return {"name": name, "from": source, "to": target, "permission": permission, "action": action}


# --- The buttons a person sees are the transitions the declaration allows them ---------------

BUTTONS = {
    "submit": "Send for approval",
    "approve": "Approve version",
    "return": "Return to draft",
    "issue": "Issue version",
    "send": "Send for signature",
}


@pytest.fixture
def lead(alpha):
    return make_partner(alpha)


@pytest.fixture
def people(alpha, lead):
    """One person for each role, all acting for the lead organisation, and a drafter of
    another partner (not the lead)."""
    other = make_partner(alpha)
    found = {
        role: make_member(alpha, role, organisation=lead.organisation).user
        for role in (Role.ADMINISTRATOR, Role.IG_OFFICER, Role.STEERING_GROUP, Role.VIEWER)
    }
    found["other drafter"] = make_member(
        alpha, Role.IG_OFFICER, organisation=other.organisation
    ).user
    return found


def _at(version: ProtocolVersion, status: str, people) -> ProtocolVersion:
    admin, steering = people[Role.ADMINISTRATOR], people[Role.STEERING_GROUP]
    with scope(partnership=version.partnership):
        if status in (VersionStatus.FOR_APPROVAL, VersionStatus.APPROVED):
            services.submit_for_approval(version, by=admin)
        if status == VersionStatus.APPROVED:
            services.approve(version, by=steering)
        return ProtocolVersion.objects.get(pk=version.pk)


@pytest.mark.parametrize(
    "status", [VersionStatus.DRAFT, VersionStatus.FOR_APPROVAL, VersionStatus.APPROVED]
)
def test_the_version_page_shows_exactly_the_buttons_the_declaration_allows(
    client, alpha, lead, people, status
):
    protocol = make_protocol(alpha, lead=lead, by=people[Role.ADMINISTRATOR])
    with scope(partnership=alpha):
        version = _at(protocol.versions.get(), status, people)
    page = reverse(
        "protocols:version",
        kwargs={"partnership_slug": "alpha", "protocol_id": protocol.pk, "version_id": version.pk},
    )
    seen_any = set()
    for who, user in people.items():
        with scope(partnership=alpha):
            membership = Membership.objects.get(user=user)
            allowed = VERSIONS.allowed(version, membership)
        client.force_login(user)
        text = page_text(client.get(page))
        for name, label in BUTTONS.items():
            assert (label in text) == allowed[name], (who, status, name)
            if allowed[name]:
                seen_any.add(name)
    expected = {
        VersionStatus.DRAFT: {"submit"},
        VersionStatus.FOR_APPROVAL: {"approve", "return"},
        VersionStatus.APPROVED: {"return", "send"},
    }[status]
    assert seen_any == expected


# --- Separation of duties --------------------------------------------------------------------


def test_the_author_of_a_version_cannot_approve_it(client, alpha, lead):
    author = make_member(
        alpha, Role.STEERING_GROUP, Role.IG_OFFICER, organisation=lead.organisation
    ).user
    other = make_member(alpha, Role.STEERING_GROUP, organisation=lead.organisation).user
    protocol = make_protocol(alpha, lead=lead, by=author)
    with scope(partnership=alpha):
        version = services.submit_for_approval(protocol.versions.get(), by=author)
    page = reverse(
        "protocols:version",
        kwargs={"partnership_slug": "alpha", "protocol_id": protocol.pk, "version_id": version.pk},
    )
    approve = page.rstrip("/") + "/approve/"

    client.force_login(author)
    text = page_text(client.get(page))
    assert "Approve version" not in text
    assert "You wrote version 1.0, so another member of the steering group must approve it." in text
    assert client.post(approve).status_code == 403
    with scope(partnership=alpha):
        assert ProtocolVersion.objects.get(pk=version.pk).status == VersionStatus.FOR_APPROVAL
        with pytest.raises(PermissionDenied):
            services.approve(version, by=author)
        assert ProtocolVersion.objects.get(pk=version.pk).status == VersionStatus.FOR_APPROVAL

    client.force_login(other)
    assert client.post(approve).status_code == 302
    with scope(partnership=alpha):
        approved = ProtocolVersion.objects.get(pk=version.pk)
    assert approved.status == VersionStatus.APPROVED
    assert approved.approved_by == other


# --- Services refuse whoever the declaration does not allow ---------------------------------


def test_sending_for_signature_is_refused_to_a_drafter_of_another_partner(alpha, lead, people):
    protocol = make_protocol(alpha, lead=lead, by=people[Role.ADMINISTRATOR])
    with scope(partnership=alpha):
        version = _at(protocol.versions.get(), VersionStatus.APPROVED, people)
        with pytest.raises(PermissionDenied) as refused:
            services.send_for_signature(version, [lead], by=people["other drafter"])
        assert str(lead.organisation) in str(refused.value)
        stored = ProtocolVersion.objects.get(pk=version.pk)
    assert stored.status == VersionStatus.APPROVED
    assert stored.document_id is None


def test_a_viewer_cannot_give_a_partners_notice_through_the_service(alpha, lead, people):
    with scope(partnership=alpha):
        with pytest.raises(PermissionDenied):
            change_partner_status(
                lead, PartnerStatus.WITHDRAWING, reason="Merging", by=people[Role.VIEWER]
            )
        lead.refresh_from_db()
    assert lead.status == PartnerStatus.ACTIVE
