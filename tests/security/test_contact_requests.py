"""Asking a party to complete its organisation record: only the agreement's drafters who may
edit it can ask, only inside their partnership and only about the agreement's own parties;
Accord alone chooses who is e-mailed (the organisation's verified people or its confirmed data
protection address), never the drafter; and what the drafter controls is escaped in the
e-mail."""

from __future__ import annotations

import pytest
from django.core import mail
from django_scopes import scope

from accord.kernel.models import OutboxMessage
from agreements.models import Agreement, AgreementParty, ContactRequest
from signatories.models import Affiliation, Organisation
from tenancy.roles import Role

from .. import test_agreements as base
from ..factories import UserFactory, make_agreement, make_member, make_partner, verify
from ..test_agreements import agreement_url, section_url

pytestmark = pytest.mark.django_db

# The seed-002 agreement of test_agreements: ECC leads, Essex Cares the other party.
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer

DANA = "dana@essexcares.example.org"


@pytest.fixture
def client(committing_client):
    """Each request commits, so any e-mail it stores is delivered to mail.outbox."""
    return committing_client


@pytest.fixture
def lacking(ecl) -> Organisation:
    """Essex Cares' record without a telephone number; Dana alone verified for it."""
    Organisation.objects.filter(pk=ecl.organisation_id).update(phone="")
    Affiliation.objects.filter(organisation_id=ecl.organisation_id).delete()
    verify(UserFactory(full_name="Dana Scully", email=DANA), ecl.organisation)
    return Organisation.objects.get(pk=ecl.organisation_id)


def ask_url(agreement, partner) -> str:
    with scope(partnership=agreement.partnership):
        party = AgreementParty.objects.get(agreement=agreement, partner=partner)
    return agreement_url("ask_for_details", agreement, party_id=party.pk)


def nothing_asked(partnership) -> bool:
    with scope(partnership=partnership):
        made = ContactRequest.objects.exists()
    return not made and not OutboxMessage.objects.exists() and mail.outbox == []


def test_a_viewer_cannot_make_accord_email_another_organisation(
    client, alpha, agreement, ecl, bob, lacking
):
    """A viewer posts the ask form: 403, nothing recorded or sent."""
    client.force_login(bob)

    assert client.post(ask_url(agreement, ecl)).status_code == 403
    assert nothing_asked(alpha)


def test_a_drafter_who_may_not_edit_the_agreement_cannot_ask(
    client, alpha, agreement, ecl, lacking
):
    """An IG officer of another party, not named an editor: 403, nothing recorded or sent."""
    other = make_member(alpha, Role.IG_OFFICER, organisation=ecl.organisation).user
    client.force_login(other)

    assert client.post(ask_url(agreement, ecl)).status_code == 403
    assert nothing_asked(alpha)


def test_a_frozen_agreement_cannot_be_used_to_send_requests(
    client, alpha, agreement, ecl, officer, lacking
):
    """Once the agreement can no longer change, asking is refused with 403."""
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=agreement.pk).update(status="active")
    client.force_login(officer)

    assert client.post(ask_url(agreement, ecl)).status_code == 403
    assert nothing_asked(alpha)


def test_another_partnerships_member_cannot_reach_the_ask_form(
    client, alpha, agreement, ecl, charlie, lacking
):
    """A member of Beta posts to Alpha's agreement: 404, nothing recorded or sent."""
    client.force_login(charlie)

    assert client.post(ask_url(agreement, ecl)).status_code == 404
    assert nothing_asked(alpha)


def test_a_party_of_another_agreement_cannot_be_asked_through_this_one(
    client, alpha, agreement, ecc, officer, lacking
):
    """A party id of another agreement under this agreement's address: 404, nothing sent."""
    stranger = make_partner(alpha)
    Organisation.objects.filter(pk=stranger.organisation_id).update(
        data_protection_email="dpo@stranger.example.org"
    )
    other = make_agreement(alpha, lead=ecc, others=[stranger], reference="ISA-9", by=officer)
    with scope(partnership=alpha):
        foreign = AgreementParty.objects.get(agreement=other, partner=stranger)
    client.force_login(officer)

    url = agreement_url("ask_for_details", agreement, party_id=foreign.pk)
    assert client.post(url).status_code == 404
    assert nothing_asked(alpha)


def test_the_drafter_cannot_choose_who_is_emailed(client, alpha, agreement, ecl, officer, lacking):
    """Extra fields naming addresses are ignored: only the verified people are e-mailed."""
    client.force_login(officer)

    response = client.post(
        ask_url(agreement, ecl),
        {
            "next": section_url(agreement, "summary"),
            "to": "attacker@evil.example",
            "email": "attacker@evil.example",
            "recipients": "attacker@evil.example",
            "cc": "attacker@evil.example",
        },
    )

    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[DANA]]
    assert all(not m.cc and not m.bcc for m in mail.outbox)
    assert not OutboxMessage.objects.filter(to__icontains="evil").exists()
    with scope(partnership=alpha):
        assert list(ContactRequest.objects.values_list("recipients", flat=True)) == ["Dana Scully"]


def test_the_next_address_cannot_send_the_drafter_elsewhere(
    client, agreement, ecl, officer, lacking
):
    """A `next` outside the summary sheet and the task list is ignored: back to the summary."""
    client.force_login(officer)

    response = client.post(ask_url(agreement, ecl), {"next": "https://evil.example/phish"})

    assert response["Location"] == section_url(agreement, "summary")


def test_a_get_asks_nobody(client, alpha, agreement, ecl, officer, lacking):
    """Following a link to the address changes nothing: 405."""
    client.force_login(officer)

    assert client.get(ask_url(agreement, ecl)).status_code == 405
    assert nothing_asked(alpha)


def test_markup_in_the_agreement_and_the_drafters_name_is_escaped_in_the_email(
    client, alpha, agreement, ecl, officer, lacking
):
    """A title or name holding HTML reaches the e-mail as text, never as markup."""
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=agreement.pk).update(
            title='Review <script>alert("x")</script><a href="https://evil.example">click</a>'
        )
    officer.full_name = "Ann <img src=x onerror=alert(1)>"
    officer.save(update_fields=["full_name"])
    client.force_login(officer)

    client.post(ask_url(agreement, ecl))

    (message,) = mail.outbox
    markup = message.alternatives[0][0]
    assert "<script>" not in markup and "<img" not in markup
    assert 'href="https://evil.example"' not in markup
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in markup
    assert "Ann &lt;img src=x onerror=alert(1)&gt;" in markup
    # The plain text and the subject carry the words as typed, which no mail reader runs.
    assert '<script>alert("x")</script>' in message.subject
