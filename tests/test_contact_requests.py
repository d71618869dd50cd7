"""A drafter asks a party for its missing contact details: the summary sheet and the task list
say what each party's record lacks, who can complete it and when it was last asked; the
button e-mails the organisation's verified people (or, while nobody is verified, its
confirmed data protection address) with the missing details and a link to the record, records
the request with an audit entry, and is not repeated within a day. Once the organisation's
people complete the record, the blocking message goes."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel.models import OutboxMessage
from agreements.contacts import ask_for_contacts
from agreements.models import AgreementParty, ContactRequest
from signatories.models import Affiliation, Organisation
from tenancy.roles import Role

from . import test_agreements as base
from .factories import UserFactory, first_signatory, make_member, verify
from .pages import messages_of, page_html, page_text
from .test_agreements import agreement_url, audit, form_values, section_url

pytestmark = pytest.mark.django_db

# The seed-002 agreement of test_agreements: ECC leads, Essex Cares the other party.
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer

BUTTON = "Ask Essex Cares Ltd to complete its record"
NOBODY = (
    "Accord knows nobody at Essex Cares Ltd who can complete its record: ask a partnership "
    "administrator to invite someone from it, or its DPO to confirm its data protection address."
)


@pytest.fixture
def client(committing_client):
    """Each request commits, so the e-mails it stores are delivered to mail.outbox."""
    return committing_client


@pytest.fixture
def lacking(ecl) -> Organisation:
    """Essex Cares' record, without its telephone number or DPO, and nobody verified for it
    yet (its signatory's link withdrawn): the tests say who is."""
    Organisation.objects.filter(pk=ecl.organisation_id).update(phone="", dpo_name="")
    Affiliation.objects.filter(organisation_id=ecl.organisation_id).delete()
    return Organisation.objects.get(pk=ecl.organisation_id)


@pytest.fixture
def dana(lacking):
    return _verified("Dana Scully", "dana@essexcares.example.org", lacking)


@pytest.fixture
def tom(lacking):
    return _verified("Tom Reid", "tom@essexcares.example.org", lacking)


def _verified(name: str, email: str, organisation: Organisation):
    user = UserFactory(full_name=name, email=email)
    verify(user, organisation)
    return user


def party(agreement, partner) -> AgreementParty:
    with scope(partnership=agreement.partnership):
        return AgreementParty.objects.get(agreement=agreement, partner=partner)


def ask_url(agreement, partner) -> str:
    return agreement_url("ask_for_details", agreement, party_id=party(agreement, partner).pk)


def press_ask(client, page_url: str):
    """Open the page and press the party's "Ask ... to complete its record" button."""
    markup = page_html(client.get(page_url))
    form = re.search(
        r'<form method="post" action="([^"]+)"[^>]*>((?:(?!</form>).)*?' + re.escape(BUTTON) + ")",
        markup,
        flags=re.S,
    )
    assert form, f"no “{BUTTON}” button on {page_url}"
    values = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form.group(2)))
    return client.post(html.unescape(form.group(1)), values)


def contacts_panel(response) -> str:
    """What the page says about the parties' missing contact details ("" when nothing)."""
    markup = response.content.decode()
    if 'id="party-contacts"' not in markup:
        return ""
    start = markup.rindex("<section", 0, markup.index('id="party-contacts"'))
    panel = markup[start : markup.index("</section>", start)]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", panel)).split())


def requests_made(agreement) -> list[ContactRequest]:
    with scope(partnership=agreement.partnership):
        return list(ContactRequest.objects.filter(agreement=agreement).select_related("asked_by"))


# --- What the pages say ----------------------------------------------------------------------


def test_the_summary_sheet_and_task_list_say_what_is_missing_and_who_can_supply_it(
    client, alpha, agreement, officer, dana, tom
):
    UserFactory(full_name="Pat Pending", email="pat@essexcares.example.org")  # not verified
    client.force_login(officer)

    for url in (section_url(agreement, "summary"), agreement_url("detail", agreement)):
        panel = contacts_panel(client.get(url))
        assert panel.startswith("Parties' missing contact details"), url
        assert (
            "Essex Cares Ltd Missing from its record Telephone number Data protection officer "
            "Who can complete it Its verified people on Accord: Dana Scully Tom Reid "
            "Last asked Not asked yet " + BUTTON
        ) in panel
        assert "Pat Pending" not in panel
        assert "Essex County Council" not in panel  # the lead's record lacks nothing


def test_a_reader_who_may_not_edit_sees_the_gaps_but_no_button(client, alpha, agreement, bob, dana):
    client.force_login(bob)

    panel = contacts_panel(client.get(section_url(agreement, "summary")))

    assert "Essex Cares Ltd Missing from its record Telephone number" in panel
    assert "Dana Scully" in panel
    assert BUTTON not in panel


# --- Asking ----------------------------------------------------------------------------------


def test_asking_emails_exactly_the_verified_people_with_the_missing_details_and_the_link(
    client, alpha, agreement, ecl, officer, lacking, dana, tom
):
    client.force_login(officer)

    response = press_ask(client, agreement_url("detail", agreement))

    assert response.status_code == 302
    assert response["Location"] == agreement_url("detail", agreement)
    assert messages_of(client.get(response["Location"])) == [
        "Essex Cares Ltd has been asked to complete its record: Accord has e-mailed Dana Scully "
        "and Tom Reid."
    ]
    assert sorted(m.to[0] for m in mail.outbox) == [
        "dana@essexcares.example.org",
        "tom@essexcares.example.org",
    ]
    assert all(len(m.to) == 1 for m in mail.outbox)  # nobody sees who else was asked
    message = mail.outbox[0]
    link = settings.SITE_URL + reverse("organisations:edit", kwargs={"organisation_id": lacking.pk})
    assert message.subject == (
        "Please complete Essex Cares Ltd's record on Accord for ISA-2023-004 Reablement review"
    )
    body = " ".join(message.body.split())
    assert f"{officer.full_name} ({officer.email}) of Essex County Council is drafting" in body
    assert '"Reablement review", in Alpha Partnership on Accord' in body
    assert "Essex Cares Ltd's record has no: - telephone number - data protection officer" in body
    assert "head office address" not in body
    assert link in message.body
    assert f'href="{link}"' in message.alternatives[0][0]

    (made,) = requests_made(agreement)
    assert (made.organisation_id, made.asked_by, made.recipient_list) == (
        lacking.pk,
        officer,
        ["Dana Scully", "Tom Reid"],
    )
    assert made.missing == ["telephone number", "data protection officer"]
    (entry,) = audit(alpha, "agreement.contacts_requested")
    assert entry.actor == officer
    assert entry.summary == (
        "Asked Essex Cares Ltd to complete its record for ISA-2023-004 Reablement review: it "
        "has no telephone number and data protection officer"
    )
    assert entry.changes["recipients"] == [None, ["Dana Scully", "Tom Reid"]]
    # The page now says when it was asked, and by whom.
    panel = contacts_panel(client.get(section_url(agreement, "summary")))
    assert f"Last asked {timezone.localtime(made.asked_at):%-d %B %Y, %H:%M}, by {officer}" in (
        panel
    )


def test_the_summary_sheets_button_comes_back_to_the_summary_sheet(
    client, agreement, officer, dana
):
    client.force_login(officer)

    response = press_ask(client, section_url(agreement, "summary"))

    assert response["Location"] == section_url(agreement, "summary")
    assert [m.to for m in mail.outbox] == [["dana@essexcares.example.org"]]


def test_the_drafter_is_not_emailed_about_their_own_organisation(
    client, alpha, agreement, ecc, officer
):
    Organisation.objects.filter(pk=ecc.organisation_id).update(phone="")
    client.force_login(officer)

    panel = contacts_panel(client.get(section_url(agreement, "summary")))
    client.post(ask_url(agreement, ecc), {"next": section_url(agreement, "summary")})

    assert "Its verified people on Accord: Ann Lee You" in panel
    assert "Complete Essex County Council's record" in panel
    assert [m.to for m in mail.outbox] == [[first_signatory(ecc).email]]  # Ann Lee, not them


def test_a_drafter_alone_verified_for_the_party_is_told_to_complete_it_themselves(
    client, alpha, agreement, ecc, officer
):
    Organisation.objects.filter(pk=ecc.organisation_id).update(phone="")
    Affiliation.objects.filter(organisation_id=ecc.organisation_id).exclude(user=officer).delete()
    client.force_login(officer)

    panel = contacts_panel(client.get(section_url(agreement, "summary")))
    response = client.post(ask_url(agreement, ecc), {"next": section_url(agreement, "summary")})

    assert "Complete Essex County Council's record" in panel
    assert "Ask Essex County Council" not in panel
    assert messages_of(client.get(response["Location"])) == [
        "You are the only person verified for Essex County Council on Accord: complete its "
        "record yourself."
    ]
    assert mail.outbox == [] and requests_made(agreement) == []


def test_asked_again_within_a_day_is_refused_with_when_it_may_be_asked_again(
    client, alpha, agreement, ecl, officer, dana
):
    client.force_login(officer)
    client.get(press_ask(client, section_url(agreement, "summary"))["Location"])
    (first,) = requests_made(agreement)
    sent = len(mail.outbox)

    response = client.post(ask_url(agreement, ecl), {"next": section_url(agreement, "summary")})

    asked = timezone.localtime(first.asked_at)
    again = asked + timedelta(hours=24)
    refusal = (
        f"Essex Cares Ltd was asked to complete its record at {asked:%H:%M} on "
        f"{asked.day} {asked:%B %Y} by {officer}: you can ask again from {again:%H:%M} on "
        f"{again.day} {again:%B %Y}."
    )
    page = client.get(response["Location"])
    assert messages_of(page) == [refusal]
    assert len(requests_made(agreement)) == 1 and len(mail.outbox) == sent
    assert BUTTON not in contacts_panel(page)
    assert refusal in contacts_panel(client.get(section_url(agreement, "summary")))

    # A day later it may be asked again.
    with scope(partnership=alpha):
        ContactRequest.objects.filter(pk=first.pk).update(
            asked_at=first.asked_at - timedelta(hours=24, minutes=1)
        )
    press_ask(client, section_url(agreement, "summary"))
    assert len(requests_made(agreement)) == 2 and len(mail.outbox) == sent + 1


def test_a_party_with_nobody_verified_is_asked_at_its_confirmed_data_protection_address(
    client, agreement, officer, lacking
):
    client.force_login(officer)

    panel = contacts_panel(client.get(section_url(agreement, "summary")))
    response = press_ask(client, section_url(agreement, "summary"))

    assert (
        "Nobody is verified for it on Accord yet, so its confirmed data protection address: "
        "dataprotection@example.org"
    ) in panel
    assert messages_of(client.get(response["Location"])) == [
        "Essex Cares Ltd has been asked to complete its record: Accord has e-mailed its data "
        "protection address, dataprotection@example.org."
    ]
    (message,) = mail.outbox
    assert message.to == ["dataprotection@example.org"]
    body = " ".join(message.body.split())
    assert (
        "If you have no account on Accord at this address, ask a colleague who has one, or ask "
        "the administrator of Alpha Partnership to invite you for Essex Cares Ltd"
    ) in body
    (made,) = requests_made(agreement)
    assert made.to_data_protection and made.recipient_list == ["dataprotection@example.org"]


def test_a_party_accord_knows_nobody_at_gets_the_clear_message(
    client, alpha, agreement, ecl, officer, lacking
):
    Organisation.objects.filter(pk=lacking.pk).update(data_protection_email_confirmed_at=None)
    client.force_login(officer)

    panel = contacts_panel(client.get(section_url(agreement, "summary")))
    response = client.post(ask_url(agreement, ecl), {"next": agreement_url("detail", agreement)})

    assert "Confirmed data protection e-mail" in panel
    assert BUTTON not in panel
    assert (
        "Accord knows nobody at Essex Cares Ltd who can complete its record: a partnership "
        "administrator can invite someone from it, or its DPO can confirm its data protection "
        "address."
    ) in panel
    assert response["Location"] == agreement_url("detail", agreement)
    assert messages_of(client.get(response["Location"])) == [NOBODY]
    assert mail.outbox == [] and requests_made(agreement) == []
    assert OutboxMessage.objects.count() == 0
    with scope(partnership=alpha), pytest.raises(ValidationError) as refused:
        ask_for_contacts(agreement, party(agreement, ecl), by=officer)
    assert refused.value.messages == [NOBODY]


def test_a_party_whose_record_lacks_nothing_is_not_asked(client, alpha, agreement, ecl, officer):
    verify(UserFactory(full_name="Dana Scully"), ecl.organisation)
    client.force_login(officer)

    assert contacts_panel(client.get(section_url(agreement, "summary"))) == ""
    response = client.post(ask_url(agreement, ecl))

    assert response["Location"] == section_url(agreement, "summary")
    assert messages_of(client.get(response["Location"])) == [
        "Essex Cares Ltd's record already gives every contact detail the summary sheet needs: "
        "there is nothing to ask for."
    ]
    assert mail.outbox == [] and requests_made(agreement) == []
    assert audit(alpha, "agreement.contacts_requested") == []


def test_once_its_people_complete_the_record_the_blocking_message_goes(
    client, alpha, agreement, officer, lacking, dana
):
    client.force_login(officer)
    press_ask(client, section_url(agreement, "summary"))
    link = re.search(r"http\S+/edit/", mail.outbox[0].body).group(0)
    blocking = "Essex Cares Ltd has no telephone number and data protection officer"
    assert blocking in page_text(client.get(agreement_url("detail", agreement)))

    # Dana follows the e-mailed link and completes the record.
    client.force_login(dana)
    edit = link.removeprefix(settings.SITE_URL)
    data = form_values(client.get(edit), containing="dpo_name")
    data.update(phone=["0333 013 5438"], dpo_name=["Ruth Okafor"])
    assert client.post(edit, data).status_code == 302

    client.force_login(officer)
    overview = client.get(agreement_url("detail", agreement))
    assert blocking not in page_text(overview)
    assert contacts_panel(overview) == ""
    assert contacts_panel(client.get(section_url(agreement, "summary"))) == ""


def test_a_named_editor_who_does_not_draft_cannot_ask(client, alpha, agreement, ecl, officer, dana):
    from agreements import services

    membership = make_member(alpha, Role.VIEWER, organisation=ecl.organisation)
    with scope(partnership=alpha):
        services.add_editor(agreement, membership, by=officer)
    client.force_login(membership.user)

    assert BUTTON not in contacts_panel(client.get(section_url(agreement, "summary")))
    assert client.post(ask_url(agreement, ecl)).status_code == 403
    assert requests_made(agreement) == []
