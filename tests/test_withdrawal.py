"""Withdrawal: giving notice (who may), the notice period, the e-mails to the partnership with
the obligations that continue, and the sweep completing it."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from signatories import services
from signatories.clocks import complete_due_withdrawals
from signatories.models import Partner, PartnerStatus
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .factories import (
    OrganisationFactory,
    facts_changed,
    make_member,
    make_partner,
    make_signatory,
)
from .pages import field_error, page_text

pytestmark = pytest.mark.django_db

OBLIGATIONS = [
    "Information already shared under the protocol stays protected by it",
    "Confidentiality, security and retention duties continue",
    "returned or securely destroyed as agreed",
]


def url(name: str, **kwargs) -> str:
    return reverse(f"signatories:{name}", kwargs={"partnership_slug": "alpha", **kwargs})


def reload(partner: Partner) -> Partner:
    with scope(partnership=partner.partnership):
        return Partner.objects.get(pk=partner.pk)


@pytest.fixture
def luton(alpha):
    partner = make_partner(
        alpha,
        OrganisationFactory(name="Luton Borough Council", data_protection_email="dpo@luton.gov.uk"),
    )
    make_signatory(partner, name="Jane Smith", email="jane@luton.gov.uk")
    return partner


@pytest.fixture
def partnership_contacts(alpha):
    """Other partners: active ones hear of a withdrawal; invited and withdrawn ones do not."""
    barnet = make_partner(
        alpha, OrganisationFactory(name="Barnet Council", data_protection_email="dpo@barnet.gov.uk")
    )
    make_signatory(barnet, email="raj@barnet.gov.uk")
    old = make_signatory(barnet, email="former@barnet.gov.uk")
    with scope(partnership=alpha):
        old.is_active = False
        old.save()
    gone = make_partner(
        alpha,
        OrganisationFactory(name="Gone Trust", data_protection_email="dpo@gone.org"),
        PartnerStatus.WITHDRAWN,
    )
    make_signatory(gone, email="ceo@gone.org")
    make_partner(
        alpha,
        OrganisationFactory(name="Invited Police", data_protection_email="dpo@police.uk"),
        PartnerStatus.INVITED,
    )


@pytest.fixture
def give_notice(client, django_capture_on_commit_callbacks):
    def run(partner, reason="We are merging with another council."):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url("withdraw", partner_id=partner.pk), {"reason": reason})

    return run


def test_an_administrator_gives_notice_and_the_partnership_is_told(
    client, alpha, alice, luton, partnership_contacts, give_notice, outbox
):
    client.force_login(alice)
    page = client.get(url("withdraw", partner_id=luton.pk))
    leaves = timezone.localdate() + timedelta(weeks=4)
    assert page.status_code == 200
    text = page_text(page)
    assert "The notice period is 4 weeks." in text
    assert f"takes effect on {leaves.day} {leaves:%B %Y}" in text
    for obligation in OBLIGATIONS:
        assert obligation in text

    response = give_notice(luton)

    assert response.status_code == 302
    assert "Luton Borough Council has given notice of withdrawal." in page_text(
        client.get(response["Location"])
    )
    partner = reload(luton)
    assert partner.status == PartnerStatus.WITHDRAWING
    assert partner.notice_given_on == timezone.localdate()
    assert partner.leaves_on == leaves
    assert partner.withdrawal_reason == "We are merging with another council."
    with scope(partnership=alpha):
        entry = AuditEntry.objects.get(action="partner.status_changed")
    assert entry.summary == "Luton Borough Council is now withdrawing"

    # One message each: nobody sees who else was told.
    assert sorted(m.to[0] for m in outbox) == sorted(
        [
            alice.email,
            "dpo@barnet.gov.uk",
            "raj@barnet.gov.uk",
            "dpo@luton.gov.uk",
            "jane@luton.gov.uk",
        ]
    )
    assert all(len(m.to) == 1 and not m.cc and not m.bcc for m in outbox)
    message = outbox[0]
    assert message.subject == (
        "Luton Borough Council has given notice to withdraw from Alpha Partnership"
    )
    assert f"The withdrawal takes effect on {leaves.day} {leaves:%B %Y}" in message.body
    assert "Reason given: We are merging with another council." in message.body
    html_body = html.unescape(message.alternatives[0][0])
    for obligation in OBLIGATIONS:
        assert obligation in message.body
        assert obligation in html_body


def test_the_notice_period_comes_from_the_partnerships_provider(
    client, alpha, alice, luton, give_notice, monkeypatch
):
    monkeypatch.setattr(services, "_notice_providers", [])
    services.register_notice_period(lambda partnership: timedelta(weeks=12))
    services.register_notice_period(lambda partnership: None)  # no say
    client.force_login(alice)

    assert "The notice period is 12 weeks." in page_text(
        client.get(url("withdraw", partner_id=luton.pk))
    )
    give_notice(luton)

    assert reload(luton).leaves_on == timezone.localdate() + timedelta(weeks=12)


def test_without_a_provider_the_notice_is_four_weeks(alpha, monkeypatch):
    monkeypatch.setattr(services, "_notice_providers", [])

    assert services.notice_period(alpha) == timedelta(weeks=4)


def test_the_organisations_own_signatory_may_give_notice(client, alpha, luton, give_notice):
    signatory = make_member(alpha, Role.SIGNATORY, organisation=luton.organisation).user
    client.force_login(signatory)

    assert give_notice(luton).status_code == 302
    assert reload(luton).status == PartnerStatus.WITHDRAWING


@pytest.mark.parametrize(
    "who",
    ["signatory of another organisation", "viewer of the same organisation", "steering group"],
)
def test_others_may_read_the_page_but_not_give_notice(
    client, alpha, luton, give_notice, outbox, who
):
    if who == "signatory of another organisation":
        member = make_member(alpha, Role.SIGNATORY)
    elif who == "viewer of the same organisation":
        member = make_member(alpha, Role.VIEWER, organisation=luton.organisation)
    else:
        member = make_member(alpha, Role.STEERING_GROUP, organisation=luton.organisation)
    client.force_login(member.user)

    page = client.get(url("withdraw", partner_id=luton.pk))
    assert page.status_code == 200
    assert "Only the partnership's administrators, or an authorised signatory acting for" in (
        page_text(page)
    )
    assert "<form" not in page.content.decode().split('id="main-content"')[1]

    assert give_notice(luton).status_code == 403
    assert reload(luton).status == PartnerStatus.ACTIVE
    assert outbox == []


def test_notice_needs_a_reason(client, alpha, alice, luton, give_notice, outbox):
    client.force_login(alice)

    response = give_notice(luton, reason="   ")

    assert response.status_code == 200
    assert field_error(response, "reason") == "Error: Enter the reason for withdrawing."
    assert reload(luton).status == PartnerStatus.ACTIVE
    assert outbox == []


def test_a_partner_that_is_not_active_cannot_give_notice_again(
    client, alpha, alice, luton, give_notice, outbox
):
    client.force_login(alice)
    give_notice(luton)
    outbox.clear()
    before = reload(luton).leaves_on

    response = give_notice(luton, reason="Again")

    assert response.status_code == 200
    assert "Luton Borough Council is withdrawing: only an active partner can give notice" in (
        page_text(response)
    )
    assert reload(luton).leaves_on == before
    assert outbox == []


def test_the_partner_page_shows_the_continuing_obligations_while_withdrawing(
    client, alpha, alice, bob, luton, give_notice
):
    client.force_login(alice)
    assert "Give notice of withdrawal" in page_text(client.get(url("partner", partner_id=luton.pk)))
    assert OBLIGATIONS[0] not in page_text(client.get(url("partner", partner_id=luton.pk)))
    give_notice(luton)
    client.force_login(bob)

    text = page_text(client.get(url("partner", partner_id=luton.pk)))

    assert "Obligations that continue after withdrawal" in text
    for obligation in OBLIGATIONS:
        assert obligation in text
    assert "Give notice of withdrawal" not in text


def test_the_sweep_completes_a_due_withdrawal_and_tells_the_partnership_once(
    client,
    alpha,
    alice,
    luton,
    partnership_contacts,
    give_notice,
    outbox,
    django_capture_on_commit_callbacks,
):
    client.force_login(alice)
    give_notice(luton)
    with scope(partnership=alpha):
        Partner.objects.filter(pk=luton.pk).update(leaves_on=timezone.localdate())
    facts_changed(Partner, luton.pk)
    outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert complete_due_withdrawals() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert complete_due_withdrawals() == 0

    partner = reload(luton)
    assert partner.status == PartnerStatus.WITHDRAWN
    recipients = [m.to for m in outbox]
    assert all(len(to) == 1 for to in recipients)
    told = [to[0] for to in recipients]
    assert len(told) == len(set(told))  # once each
    assert {m.subject for m in outbox} == {
        "Luton Borough Council has now withdrawn from Alpha Partnership"
    }
    message = outbox[0]
    # Luton is no longer active, but it is the one withdrawing: it hears too.
    assert "dpo@luton.gov.uk" in told and "raj@barnet.gov.uk" in told
    assert "dpo@gone.org" not in told and "dpo@police.uk" not in told
    for obligation in OBLIGATIONS:
        assert obligation in message.body
    text = page_text(client.get(url("partner", partner_id=luton.pk)))
    assert "Obligations that continue after withdrawal" in text


def test_a_withdrawal_recorded_on_the_status_page_tells_the_partnership_too(
    client, alpha, alice, luton, outbox, django_capture_on_commit_callbacks
):
    client.force_login(alice)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("partner_status", partner_id=luton.pk),
            {"status": "withdrawing", "reason": "Service decommissioned"},
        )

    assert reload(luton).status == PartnerStatus.WITHDRAWING
    assert {m.subject for m in outbox} == {
        "Luton Borough Council has given notice to withdraw from Alpha Partnership"
    }
    assert sorted(m.to[0] for m in outbox) == sorted(
        [alice.email, "dpo@luton.gov.uk", "jane@luton.gov.uk"]
    )


def test_an_invited_partner_dropped_is_not_announced(
    alpha, outbox, django_capture_on_commit_callbacks
):
    invited = make_partner(alpha, status=PartnerStatus.INVITED)

    with scope(partnership=alpha), django_capture_on_commit_callbacks(execute=True):
        services.change_partner_status(invited, PartnerStatus.WITHDRAWN)

    assert outbox == []
