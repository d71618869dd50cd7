"""Signing by e-mailed link: asking partners, the signing page, signing and declining, links
that cannot be used, who has signed, and reminders."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from signatories import clocks as signatories_clocks
from signatories import services, signing, tables
from signatories.forms import SigningForm
from signatories.models import (
    AuthorisedSignatory,
    OrganisationDomain,
    Partner,
    PartnerStatus,
    RequestStatus,
    Signature,
    SignatureRequest,
)
from tenancy.models import AuditEntry

from .factories import (
    OrganisationFactory,
    facts_changed,
    make_document,
    make_partner,
    make_signatory,
    make_signature_request,
)
from .pages import field_error, page_text

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s\"'<>]+/sign/([A-Za-z0-9_-]+)/")


def audit(partnership, action: str) -> list[AuditEntry]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.filter(action=action).order_by("id"))


def signatures(partnership) -> list[Signature]:
    with scope(partnership=partnership):
        return list(Signature.objects.select_related("partner__organisation").order_by("pk"))


def reload(request: SignatureRequest) -> SignatureRequest:
    with scopes_disabled():
        return SignatureRequest.objects.get(pk=request.pk)


def tokens_in(message) -> tuple[str, str]:
    """The signing link's secret in the text body and in the HTML alternative."""
    (text_token,) = set(LINK.findall(message.body))
    html_body = message.alternatives[0][0]
    (html_token,) = set(LINK.findall(html.unescape(html_body)))
    return text_token, html_token


@pytest.fixture
def luton(alpha):
    return make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))


@pytest.fixture
def jane(luton):
    return make_signatory(
        luton, name="Jane Smith", position="Chief Executive", email="jane.smith@luton.gov.uk"
    )


@pytest.fixture
def document(alpha):
    return make_document(
        alpha,
        title="Bedfordshire Information Sharing Protocol",
        version_label="2.0",
        html="<h2>1. Purpose</h2><p>The partners share personal data lawfully and securely.</p>",
    )


@pytest.fixture
def ask(alice, django_capture_on_commit_callbacks):
    """Ask partners to sign a document as alice, e-mails delivered."""

    def run(document, *partners, **options):
        with (
            scope(partnership=document.partnership),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return signing.request_signatures(document, partners, by=alice, **options)

    return run


@pytest.fixture
def asked(ask, document, jane, outbox):
    """Luton asked to sign; returns (request, token from the e-mail)."""
    (request,) = ask(document, jane.partner)
    token, _ = tokens_in(outbox[-1])
    outbox.clear()
    return request, token


def sign_url(token: str) -> str:
    return reverse("signing:sign", kwargs={"token": token})


def answer(client, token, **data):
    form = {
        "name": "Jane Smith",
        "position": "Chief Executive",
        "confirmed": "on",
        "action": "sign",
        **data,
    }
    return client.post(sign_url(token), form, REMOTE_ADDR="203.0.113.9", **HEADERS)


HEADERS = {"HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 10.0) Firefox/128.0"}


# Asking partners to sign


def test_asking_sends_each_partner_an_email_with_its_own_link(ask, alpha, document, jane, outbox):
    barnet = make_partner(alpha, OrganisationFactory(name="Barnet Council"))
    make_signatory(barnet, name="Raj Patel", position="SIRO", email="raj@barnet.gov.uk")

    made = ask(document, jane.partner, barnet)

    assert len(made) == 2
    assert sorted(m.to[0] for m in outbox) == ["jane.smith@luton.gov.uk", "raj@barnet.gov.uk"]
    message = next(m for m in outbox if m.to == ["jane.smith@luton.gov.uk"])
    assert message.subject == (
        "Please sign Bedfordshire Information Sharing Protocol, version 2.0, "
        "for Luton Borough Council"
    )
    text_token, html_token = tokens_in(message)
    assert text_token == html_token
    assert len(text_token) >= 43  # 256 bits, URL-safe base64
    assert "Hello Jane Smith" in message.body
    assert "Information sharing protocol: Bedfordshire Information Sharing Protocol" in message.body
    assert document.sha256 in message.body
    request = next(r for r in made if r.partner == jane.partner)
    expires = timezone.localtime(request.expires_at).strftime("%-d %B %Y, %H:%M")
    assert f"Please answer by {expires} (UK time)" in message.body
    assert request.expires_at - request.sent_at == timedelta(days=30)
    # Only the secret's hash is stored.
    with scope(partnership=alpha):
        stored = SignatureRequest.objects.get(pk=request.pk)
        assert not SignatureRequest.objects.filter(token_hash=text_token).exists()
    assert stored.token_hash == signing.hash_token(text_token)
    assert stored.signatory == jane
    assert stored.status == RequestStatus.SENT
    assert [e.summary for e in audit(alpha, "signature.requested")] == [
        f"Asked Luton Borough Council to sign {document} (jane.smith@luton.gov.uk)",
        f"Asked Barnet Council to sign {document} (raj@barnet.gov.uk)",
    ]


def test_the_first_active_signatory_is_asked(ask, document, luton, outbox):
    old = make_signatory(luton, name="Former Chief", email="former@luton.gov.uk")
    make_signatory(luton, name="Second", email="second@luton.gov.uk")
    with scope(partnership=luton.partnership):
        old.is_active = False
        old.save()

    ask(document, luton)

    assert [m.to for m in outbox] == [["second@luton.gov.uk"]]


def test_a_partner_without_signatory_is_asked_through_its_data_protection_email(
    ask, alpha, document, outbox
):
    partner = make_partner(
        alpha,
        OrganisationFactory(name="Cranfield University", data_protection_email="dpo@cu.ac.uk"),
    )

    (request,) = ask(document, partner)

    assert request.signatory is None
    assert [m.to for m in outbox] == [["dpo@cu.ac.uk"]]
    assert "Please pass it to the person authorised to sign for Cranfield University" in (
        outbox[0].body
    )


def test_partners_with_no_address_at_all_are_listed_and_nothing_is_sent(
    ask, alpha, document, jane, outbox
):
    make_partner(alpha, OrganisationFactory(name="Nowhere Council", data_protection_email=""))
    nowhere = make_partner(
        alpha, OrganisationFactory(name="Silent Trust", data_protection_email="")
    )
    first = make_partner(alpha, OrganisationFactory(name="Quiet Police", data_protection_email=""))

    with pytest.raises(ValidationError) as caught:
        ask(document, jane.partner, nowhere, first)

    assert sorted(caught.value.messages) == [
        f"{name} has no authorised signatory whose address is confirmed and vouched for by it "
        "(on one of its domains, or belonging to someone verified for it), and no confirmed "
        "data protection e-mail address. Add an authorised signatory for it, or ask them to "
        "confirm their address from the e-mail they were sent."
        for name in ("Quiet Police", "Silent Trust")
    ]
    assert outbox == []
    with scope(partnership=alpha):
        assert not SignatureRequest.objects.exists()


@pytest.mark.parametrize("status", [PartnerStatus.INVITED, PartnerStatus.WITHDRAWING])
def test_only_active_partners_can_be_asked(ask, alpha, document, jane, outbox, status):
    leaving = make_partner(alpha, OrganisationFactory(name="Leaving Council"), status)
    make_signatory(leaving)

    with pytest.raises(ValidationError) as caught:
        ask(document, jane.partner, leaving)

    assert caught.value.messages == [
        f"Leaving Council is {status.label.lower()}: only active partners can be asked to sign."
    ]
    assert outbox == []


def test_a_partner_already_asked_is_not_asked_again(ask, document, jane, outbox):
    ask(document, jane.partner)
    outbox.clear()

    assert ask(document, jane.partner) == []
    assert outbox == []


def test_a_custom_subject_is_used(ask, document, jane, outbox):
    ask(document, jane.partner, subject="Please sign the protocol, version 2.0")

    assert outbox[0].subject == "Please sign the protocol, version 2.0"


# The signing page


def test_the_link_opens_the_document_with_its_fingerprint_and_the_form(
    client, alpha, asked, document
):
    request, token = asked

    response = client.get(sign_url(token))

    assert response.status_code == 200
    text = page_text(response)
    assert "Sign Bedfordshire Information Sharing Protocol, version 2.0" in text
    assert "Alpha Partnership asks Luton Borough Council to sign" in text
    assert "1. Purpose The partners share personal data lawfully and securely." in text
    assert document.sha256 in text
    assert "I confirm I am authorised to sign this on behalf of Luton Borough Council" in text
    content = response.content.decode()
    assert 'value="Jane Smith"' in content and 'value="Chief Executive"' in content
    assert 'name="action" value="sign"' in content and 'name="action" value="decline"' in content
    assert '<h2 class="govuk-heading-m" id="document-heading">' in content
    assert "<h2>1. Purpose</h2>" in content  # the document's own (sanitised) HTML
    opened = reload(request)
    assert opened.status == RequestStatus.OPENED
    assert opened.opened_at is not None
    assert len(audit(alpha, "signature.opened")) == 1

    client.get(sign_url(token))  # opening again changes nothing
    assert reload(request).opened_at == opened.opened_at
    assert len(audit(alpha, "signature.opened")) == 1


def test_signing_records_who_signed_what_and_when(
    client, alpha, asked, document, outbox, django_capture_on_commit_callbacks, monkeypatch
):
    request, token = asked
    received = []

    def record_answer(answered):
        # The document's owner hears of the answer inside the signing transaction.
        (latest,) = Signature.objects.filter(document=answered)
        received.append((Signature, latest.pk, answered.pk))

    monkeypatch.setattr(signing, "record_answer", record_answer)
    with django_capture_on_commit_callbacks(execute=True):
        response = answer(client, token)

    assert response.status_code == 302
    assert response["Location"].startswith("/signed/")
    (signature,) = signatures(alpha)
    assert signature.outcome == Signature.Outcome.SIGNED
    assert signature.name == "Jane Smith"
    assert signature.position == "Chief Executive"
    assert signature.email == "jane.smith@luton.gov.uk"
    assert signature.ip_address == "203.0.113.9"
    assert signature.user_agent == HEADERS["HTTP_USER_AGENT"]
    assert signature.sha256 == document.sha256
    assert signature.user is None
    assert signature.at.tzinfo is not None
    assert abs(signature.at - timezone.now()) < timedelta(minutes=1)
    assert received == [(Signature, signature.pk, document.pk)]

    stored = reload(request)
    assert stored.status == RequestStatus.SIGNED
    assert stored.responded_at == signature.at

    (entry,) = audit(alpha, "signature.signed")
    assert entry.summary == (
        f"Jane Smith (Chief Executive) signed {document} for Luton Borough Council"
    )
    assert entry.changes["sha256"] == [None, document.sha256]
    assert entry.organisation_name == "Luton Borough Council"

    (confirmation,) = outbox
    assert confirmation.to == ["jane.smith@luton.gov.uk"]
    assert confirmation.subject == (
        "You signed Bedfordshire Information Sharing Protocol, version 2.0, "
        "for Luton Borough Council"
    )
    assert document.sha256 in confirmation.body

    page = client.get(response["Location"])
    text = page_text(page)
    assert "You have signed" in text
    uk = timezone.localtime(signature.at).strftime("%-d %B %Y, %H:%M")
    assert f"Time {uk} (UK time)" in text
    assert document.sha256 in text
    assert "We have sent a confirmation to jane.smith@luton.gov.uk" in text


def test_the_signature_time_is_stored_in_utc(client, alpha, asked):
    _request, token = asked
    answer(client, token)

    (signature,) = signatures(alpha)

    assert signature.at.utcoffset() == timedelta(0)
    assert str(signature.at.tzinfo) == "UTC"


def test_the_ip_address_is_remote_addr_not_a_forwarded_header(client, alpha, asked, settings):
    _request, token = asked

    client.post(
        sign_url(token),
        {"name": "Jane Smith", "position": "CEO", "confirmed": "on", "action": "sign"},
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_FOR="6.6.6.6",
    )

    assert signatures(alpha)[0].ip_address == "198.51.100.7"


def test_a_forwarded_address_is_used_only_when_settings_trust_the_proxy(
    client, alpha, asked, settings
):
    settings.SIGNING_TRUST_X_FORWARDED_FOR = True
    _request, token = asked

    client.post(
        sign_url(token),
        {"name": "Jane Smith", "position": "CEO", "confirmed": "on", "action": "sign"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 192.0.2.44",
    )

    assert signatures(alpha)[0].ip_address == "192.0.2.44"


def test_a_long_user_agent_is_cut_to_500_characters(client, alpha, asked):
    _request, token = asked

    client.post(
        sign_url(token),
        {"name": "Jane Smith", "position": "CEO", "confirmed": "on", "action": "sign"},
        HTTP_USER_AGENT="A" * 2000,
    )

    assert signatures(alpha)[0].user_agent == "A" * 500


def test_signing_without_confirming_authority_is_a_field_error_and_records_nothing(
    client, alpha, asked, outbox
):
    request, token = asked

    response = answer(client, token, confirmed="")

    assert response.status_code == 200
    assert field_error(response, "confirmed") == (
        "Error: Confirm that you are authorised to sign for Luton Borough Council"
    )
    assert "There is a problem" in page_text(response)
    assert signatures(alpha) == []
    assert reload(request).status == RequestStatus.OPENED
    assert audit(alpha, "signature.signed") == []
    assert outbox == []


def test_the_service_refuses_unconfirmed_authority_by_field(alpha, asked):
    request, _token = asked

    with pytest.raises(ValidationError) as caught:
        signing.sign(
            request,
            name="Jane Smith",
            position="Chief Executive",
            confirmed=False,
            ip_address="203.0.113.9",
            user_agent="test",
        )

    assert caught.value.message_dict == {
        "confirmed": ["Confirm that you are authorised to sign for Luton Borough Council"]
    }
    assert signatures(alpha) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Error: Enter your full name."),
        ("position", "", "Error: Enter your position."),
        ("name", "x" * 5 * 1024 * 1024, "Error: Your full name must be 150 characters or fewer."),
    ],
    ids=["no name", "no position", "5 MB name"],
)
def test_bad_names_are_field_errors_not_failures(client, alpha, asked, field, value, message):
    _request, token = asked

    response = answer(client, token, **{field: value})

    assert response.status_code == 200
    assert field_error(response, field) == message
    assert signatures(alpha) == []


def test_declining_records_the_reason(
    client, alpha, asked, document, outbox, django_capture_on_commit_callbacks
):
    request, token = asked

    with django_capture_on_commit_callbacks(execute=True):
        response = answer(
            client,
            token,
            confirmed="",
            action="decline",
            reason="Our legal team has not reviewed section 4.",
        )

    assert response.status_code == 302
    (signature,) = signatures(alpha)
    assert signature.outcome == Signature.Outcome.DECLINED
    assert signature.reason == "Our legal team has not reviewed section 4."
    assert signature.sha256 == document.sha256
    assert reload(request).status == RequestStatus.DECLINED
    (entry,) = audit(alpha, "signature.declined")
    assert "declined to sign" in entry.summary
    assert outbox[0].subject.startswith("You declined to sign")
    assert "Reason for declining: Our legal team has not reviewed section 4." in outbox[0].body
    assert "You have declined to sign" in page_text(client.get(response["Location"]))


def test_declining_without_a_reason_is_a_field_error(client, alpha, asked):
    request, token = asked

    response = answer(client, token, action="decline", reason="  ")

    assert response.status_code == 200
    assert field_error(response, "reason") == "Error: Enter the reason for declining."
    assert '<a href="#id_reason">Enter the reason for declining.</a>' in response.content.decode()
    assert signatures(alpha) == []
    assert reload(request).status == RequestStatus.OPENED


def test_the_signing_page_puts_sign_after_its_fields_and_the_reason_with_decline(client, asked):
    _request, token = asked

    response = client.get(sign_url(token))

    content = response.content.decode()
    order = [
        'id="id_name"',
        'id="id_position"',
        'id="id_confirmed"',
        'value="sign"',
        ">If you decline</h3>",
        'id="id_reason"',
        'value="decline"',
    ]
    places = [content.index(marker) for marker in order]
    assert places == sorted(places)
    text = page_text(response)
    assert "Your reason for declining (optional)" not in text
    assert "Your reason for declining You must give a reason to decline." in text
    assert "It is shared with the lead organisation." in text
    reason = re.search(r"<textarea [^>]*>", content).group(0)
    assert 'class="govuk-textarea"' in reason
    assert "required" not in reason  # signing leaves it empty


def test_an_unknown_action_is_an_error_not_a_signature(client, alpha, asked):
    _request, token = asked

    response = answer(client, token, action="approve")

    assert response.status_code == 200
    assert "Choose Sign or Decline." in page_text(response)
    assert signatures(alpha) == []


# Links that cannot be used


@pytest.mark.parametrize(
    "token",
    ["nonsense", "x" * 43, "y" * 5000],
    ids=["short", "unknown", "very long"],
)
def test_an_unknown_link_explains_itself(client, asked, token):
    response = client.get(sign_url(token))

    assert response.status_code == 404
    assert "This signing link is not valid." in page_text(response)
    assert client.post(sign_url(token), {"action": "sign"}).status_code == 404


def test_an_altered_link_opens_nothing(client, alpha, asked):
    _request, token = asked
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")

    response = answer(client, altered)

    assert response.status_code == 404
    assert signatures(alpha) == []


def test_an_expired_link_explains_itself_and_records_nothing(client, alpha, asked):
    request, token = asked
    with scope(partnership=alpha):
        SignatureRequest.objects.filter(pk=request.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )

    response = client.get(sign_url(token))
    assert response.status_code == 410
    assert "This link expired on" in page_text(response)
    assert "Nothing has been recorded." in page_text(response)

    assert answer(client, token).status_code == 410
    assert signatures(alpha) == []
    with pytest.raises(ValidationError, match="This link expired on"):
        signing.sign(
            reload(request),
            name="Jane Smith",
            position="CEO",
            confirmed=True,
            ip_address=None,
            user_agent="",
        )


def test_a_replaced_link_says_so_and_the_new_one_works(
    client, alpha, alice, asked, outbox, django_capture_on_commit_callbacks
):
    request, old_token = asked

    with django_capture_on_commit_callbacks(execute=True):
        fresh = signing.reissue(request, by=alice)

    assert reload(request).status == RequestStatus.VOID
    assert fresh.status == RequestStatus.SENT
    (message,) = outbox
    assert message.subject.startswith("New link: please sign")
    assert "This link replaces the one sent to Luton Borough Council earlier" in message.body
    new_token, _ = tokens_in(message)
    assert new_token != old_token

    response = client.get(sign_url(old_token))
    assert response.status_code == 410
    assert "This link has been replaced by a newer one." in page_text(response)
    assert answer(client, old_token).status_code == 410
    assert signatures(alpha) == []

    assert answer(client, new_token).status_code == 302
    assert [s.request_id for s in signatures(alpha)] == [fresh.pk]
    assert len(audit(alpha, "signature.reissued")) == 1


def test_a_used_link_says_it_was_answered(client, alpha, asked):
    _request, token = asked
    answer(client, token)

    response = client.get(sign_url(token))

    assert response.status_code == 410
    assert "This request has already been answered: Luton Borough Council signed" in (
        page_text(response)
    )
    assert answer(client, token).status_code == 410
    assert len(signatures(alpha)) == 1


def test_a_superseded_version_is_not_signed(client, alpha, asked, document, monkeypatch):
    _request, token = asked
    monkeypatch.setattr(signing, "is_superseded", lambda doc: doc.pk == document.pk)

    response = client.get(sign_url(token))
    assert response.status_code == 410
    assert (
        "This version has been replaced by a newer one; you do not need to sign it."
        in page_text(response)
    )
    assert answer(client, token).status_code == 410
    assert signatures(alpha) == []


def test_a_withdrawn_partner_no_longer_signs(client, alpha, asked, jane):
    _request, token = asked
    with scope(partnership=alpha):
        Partner.objects.filter(pk=jane.partner.pk).update(status=PartnerStatus.WITHDRAWN)

    response = client.get(sign_url(token))

    assert response.status_code == 410
    assert "Luton Borough Council has withdrawn from the partnership" in page_text(response)


def test_a_link_answered_meanwhile_in_another_tab_is_not_answered_twice(client, alpha, asked):
    _request, token = asked
    client.get(sign_url(token))  # the page is open in one tab
    assert answer(client, token).status_code == 302  # signed in another

    response = answer(client, token, action="decline", reason="Changed my mind")

    assert response.status_code == 410
    assert [s.outcome for s in signatures(alpha)] == [Signature.Outcome.SIGNED]


# One answer per organisation and version


def test_a_signed_request_cannot_be_sent_again(alice, asked):
    request, token = asked
    signing.sign(
        request, name="Jane", position="CEO", confirmed=True, ip_address=None, user_agent=""
    )

    with pytest.raises(ValidationError, match="Luton Borough Council has already signed"):
        signing.reissue(reload(request), by=alice)


def test_signing_the_same_request_twice_is_refused(alpha, asked):
    request, _token = asked
    signing.sign(
        request, name="Jane", position="CEO", confirmed=True, ip_address=None, user_agent=""
    )

    with pytest.raises(ValidationError, match="This request has already been answered"):
        signing.sign(
            request, name="Jane", position="CEO", confirmed=True, ip_address=None, user_agent=""
        )
    assert len(signatures(alpha)) == 1


def test_a_second_signature_for_the_same_organisation_and_version_is_refused(
    alpha, asked, document, jane
):
    request, _token = asked
    signing.sign(
        request, name="Jane", position="CEO", confirmed=True, ip_address=None, user_agent=""
    )
    # Somehow a second live request exists for the same organisation and version.
    with scope(partnership=alpha):
        SignatureRequest.objects.filter(pk=request.pk).update(status=RequestStatus.VOID)
    second, _ = make_signature_request(jane.partner, document)

    with pytest.raises(ValidationError) as caught:
        signing.sign(
            second, name="Raj", position="SIRO", confirmed=True, ip_address=None, user_agent=""
        )

    assert caught.value.messages == ["Luton Borough Council has already signed this version."]
    assert len(signatures(alpha)) == 1
    assert reload(second).status == RequestStatus.SENT


# Who has signed


def test_signing_table_shows_where_each_partner_stands(alpha, ask, document):
    partners = [
        make_partner(alpha, OrganisationFactory(name=name, data_protection_email=f"dpo@{i}.org"))
        for i, name in enumerate(["A Council", "B Council", "C Council", "D Council", "E Council"])
    ]
    requests = {r.partner_id: r for r in ask(document, *partners[:4])}
    signing.mark_opened(requests[partners[1].pk])
    signing.sign(
        requests[partners[2].pk],
        name="Ann Lee",
        position="SIRO",
        confirmed=True,
        ip_address=None,
        user_agent="",
    )
    signing.decline(
        requests[partners[3].pk],
        name="Bo Ray",
        position="DPO",
        reason="Not yet",
        ip_address=None,
        user_agent="",
    )

    with scope(partnership=alpha):
        rows = tables.signing_table(document, partners)

    assert [(r.partner.organisation.name, r.status) for r in rows] == [
        ("A Council", "Sent"),
        ("B Council", "Opened"),
        ("C Council", "Signed"),
        ("D Council", "Declined"),
        ("E Council", "Not asked"),
    ]
    assert rows[1].opened_at is not None and rows[0].opened_at is None
    assert (rows[2].signer_name, rows[2].signer_position) == ("Ann Lee", "SIRO")
    assert rows[2].answered_at == rows[2].signature.at
    assert rows[3].signature.reason == "Not yet"
    assert rows[4].request is None and rows[4].sent_at is None and rows[4].signature is None
    assert [r.reminders_sent for r in rows] == [0, 0, 0, 0, 0]
    assert not any(r.expired for r in rows)


def test_signing_table_shows_the_live_request_after_a_new_link(alpha, alice, ask, document, jane):
    (first,) = ask(document, jane.partner)
    fresh = signing.reissue(first, by=alice)

    with scope(partnership=alpha):
        (row,) = tables.signing_table(document, [jane.partner])

    assert row.request == fresh
    assert row.status == "Sent"


def _table_queries(alpha, document, n: int) -> int:
    with scope(partnership=alpha):
        partners = Partner.objects.filter(organisation__name__startswith="Table ")
        with CaptureQueriesContext(connection) as queries:
            rows = tables.signing_table(document, partners)
            # What a page or PDF reads of each row.
            seen = [(str(r.partner.organisation), r.status, r.signer_name) for r in rows]
        assert len(seen) == n
    return len(queries)


def test_signing_table_runs_the_same_queries_for_2_and_40_partners(alpha, ask, document):
    def add(count: int, start: int) -> None:
        made = [
            make_partner(
                alpha,
                OrganisationFactory(name=f"Table {i:02d}", data_protection_email=f"d{i}@x.org"),
            )
            for i in range(start, start + count)
        ]
        requests = ask(document, *made[: count // 2])
        for request in requests[: len(requests) // 2]:
            signing.sign(
                request, name="N", position="P", confirmed=True, ip_address=None, user_agent=""
            )

    add(2, 0)
    few = _table_queries(alpha, document, 2)
    add(38, 2)
    many = _table_queries(alpha, document, 40)

    assert few == many == 2


def test_signatures_for_lists_signed_and_declined_in_time_order(alpha, ask, document):
    partners = [
        make_partner(alpha, OrganisationFactory(name=name, data_protection_email="d@x.org"))
        for name in ["First Council", "Second Council", "Third Council"]
    ]
    requests = ask(document, *partners)
    signing.decline(
        requests[1], name="B", position="P", reason="No", ip_address=None, user_agent=""
    )
    signing.sign(
        requests[0], name="A", position="P", confirmed=True, ip_address=None, user_agent=""
    )

    answers = tables.signatures_for(document)

    assert [(s.partner.organisation.name, s.outcome) for s in answers] == [
        ("Second Council", "declined"),
        ("First Council", "signed"),
    ]


# Reminders


def _backdate(request: SignatureRequest, days: float, **fields) -> None:
    with scopes_disabled():
        SignatureRequest.objects.filter(pk=request.pk).update(
            sent_at=timezone.now() - timedelta(days=days), **fields
        )
    facts_changed(SignatureRequest, request.pk)


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    def run() -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return signatories_clocks.send_due_reminders()

    return run


def test_a_due_request_is_reminded_once_with_a_link_that_works(client, alpha, asked, sweep, outbox):
    request, first_token = asked
    _backdate(request, 7.01)

    assert sweep() == 1

    (message,) = outbox
    assert message.to == ["jane.smith@luton.gov.uk"]
    assert message.subject.startswith("Reminder: please sign")
    reminder_token, html_token = tokens_in(message)
    assert reminder_token == html_token != first_token
    stored = reload(request)
    assert stored.reminders_sent == 1
    assert stored.last_reminded_at is not None
    (entry,) = audit(alpha, "signature.reminded")
    assert entry.summary.endswith("(reminder 1 of 3)")

    assert sweep() == 0  # not due again for another week
    assert len(outbox) == 1

    # Both links open the same request.
    assert client.get(sign_url(first_token)).status_code == 200
    assert answer(client, reminder_token).status_code == 302
    assert reload(request).status == RequestStatus.SIGNED


def test_a_request_that_is_not_due_is_not_reminded(asked, sweep, outbox):
    request, _token = asked
    _backdate(request, 6.9)

    assert sweep() == 0
    assert outbox == []


def test_reminders_follow_the_last_one_and_stop_at_the_maximum(asked, sweep, outbox):
    request, _token = asked
    _backdate(request, 30 - 1 / 24)  # still valid for an hour
    for n in range(1, 4):
        with scopes_disabled():
            SignatureRequest.objects.filter(pk=request.pk).update(
                last_reminded_at=timezone.now() - timedelta(days=8)
            )
        facts_changed(SignatureRequest, request.pk)
        assert sweep() == 1, f"reminder {n}"
        assert reload(request).reminders_sent == n
    with scopes_disabled():
        SignatureRequest.objects.filter(pk=request.pk).update(
            last_reminded_at=timezone.now() - timedelta(days=8)
        )
    facts_changed(SignatureRequest, request.pk)

    assert sweep() == 0
    # Three reminders to the partner (the lead is told after the last: test_signing_gaps).
    assert [m.to for m in outbox].count(["jane.smith@luton.gov.uk"]) == 3
    assert reload(request).reminders_sent == 3


def test_each_partners_schedule_is_its_own(ask, alpha, document, sweep, outbox):
    partners = [
        make_partner(
            alpha, OrganisationFactory(name=n, data_protection_email=f"{n[0].lower()}@x.org")
        )
        for n in ["Daily Council", "Weekly Council"]
    ]
    daily = ask(document, partners[0], remind_every_days=1, max_reminders=5)[0]
    weekly = ask(document, partners[1])[0]
    outbox.clear()
    _backdate(daily, 2)
    _backdate(weekly, 2)

    assert sweep() == 1
    assert [m.to for m in outbox] == [["d@x.org"]]
    assert reload(weekly).reminders_sent == 0


@pytest.mark.parametrize("state", ["signed", "declined", "void", "expired", "max reached"])
def test_answered_replaced_expired_or_exhausted_requests_are_not_reminded(
    alpha, alice, asked, sweep, outbox, state
):
    request, _token = asked
    if state == "signed":
        signing.sign(
            request, name="J", position="P", confirmed=True, ip_address=None, user_agent=""
        )
    elif state == "declined":
        signing.decline(
            request, name="J", position="P", reason="No", ip_address=None, user_agent=""
        )
    elif state == "void":
        fresh = signing.reissue(request, by=alice)
        with scopes_disabled():  # the fresh one is not due
            SignatureRequest.objects.filter(pk=fresh.pk).update(sent_at=timezone.now())
        outbox.clear()
    elif state == "expired":
        _backdate(request, 8, expires_at=timezone.now() - timedelta(seconds=1))
    else:
        _backdate(request, 8, reminders_sent=3)
    if state != "expired" and state != "max reached":
        _backdate(request, 8)

    assert sweep() == 0
    assert outbox == []
    assert audit(alpha, "signature.reminded") == []


def test_a_superseded_document_is_not_reminded(asked, document, sweep, outbox, monkeypatch):
    request, _token = asked
    _backdate(request, 8)
    monkeypatch.setattr(signing, "is_superseded", lambda doc: True)

    assert sweep() == 0
    assert outbox == []


def test_two_sweeps_at_once_send_each_reminder_once(alpha, asked, sweep, outbox):
    """The second sweep read the same due request before the first one moved its count."""
    request, _token = asked
    _backdate(request, 8)
    stale = (request.pk, request.reminders_sent)

    assert sweep() == 1
    # The other sweep acts on what it read earlier: the conditional update finds nothing.
    with scope(partnership=alpha):
        assert signing._remind(*stale, timezone.now()) is False
    assert len(outbox) == 1
    assert reload(request).reminders_sent == 1


def test_the_sweep_registers_the_reminder_step():
    from accord.kernel import sweeps

    assert sweeps.steps()["signing.reminders"] is signatories_clocks.send_due_reminders


def test_emails_are_sent_only_when_the_transaction_commits(alice, document, jane):
    mail.outbox.clear()
    with scope(partnership=document.partnership):
        signing.request_signatures(document, [jane.partner], by=alice)
    # Not committed in this test's transaction: nothing has gone yet.
    assert mail.outbox == []


# The signed page is shown again on reload


def test_the_signed_page_is_shown_again_on_reload(client, alpha, asked):
    _request, token = asked
    done = answer(client, token)["Location"]

    assert client.get(done).status_code == 200
    assert "You have signed" in page_text(client.get(done))


def test_the_signing_form_takes_its_limits_from_the_service():
    form = SigningForm(organisation="Luton Borough Council")

    assert form.fields["name"].max_length == signing.NAME_MAX_LENGTH
    assert form.fields["position"].max_length == signing.NAME_MAX_LENGTH
    assert form.fields["reason"].max_length == signing.REASON_MAX_LENGTH


# Signatories who leave or change address, and closing requests


def test_deactivating_the_signatory_sends_the_request_to_the_next_one(
    client, alpha, asked, jane, luton, outbox, django_capture_on_commit_callbacks
):
    request, old_token = asked
    raj = make_signatory(luton, name="Raj Patel", email="raj.patel@luton.gov.uk")

    with scope(partnership=alpha), django_capture_on_commit_callbacks(execute=True):
        services.set_signatory_active(jane, False)

    assert reload(request).status == RequestStatus.VOID
    (message,) = outbox
    assert message.to == ["raj.patel@luton.gov.uk"]
    new_token, _ = tokens_in(message)
    with scope(partnership=alpha):
        fresh = SignatureRequest.objects.get(status=RequestStatus.SENT)
    assert fresh.signatory == raj and fresh.email == "raj.patel@luton.gov.uk"
    assert client.get(sign_url(old_token)).status_code == 410
    assert answer(client, new_token, name="Raj Patel").status_code == 302
    assert len(audit(alpha, "signature.reissued")) == 1


def test_deactivating_the_only_signatory_voids_the_request(client, alpha, asked, jane, outbox):
    request, token = asked

    with scope(partnership=alpha):
        services.set_signatory_active(jane, False)

    assert reload(request).status == RequestStatus.VOID
    (entry,) = audit(alpha, "signature.voided")
    assert "Jane Smith no longer signs for Luton Borough Council" in entry.summary
    assert entry.changes["status"] == ["Sent", "Replaced by a new link"]
    assert client.get(sign_url(token)).status_code == 410
    assert answer(client, token).status_code == 410
    assert signatures(alpha) == []


def test_a_new_address_for_the_signatory_gets_a_new_link_and_the_old_one_stops(
    client, alpha, asked, jane, outbox, django_capture_on_commit_callbacks
):
    request, old_token = asked

    with scope(partnership=alpha), django_capture_on_commit_callbacks(execute=True):
        services.update_signatory(
            jane, name=jane.name, position=jane.position, email="jane@luton.example.org"
        )

    # The old link stops at once; the new address is asked to confirm itself first.
    assert reload(request).status == RequestStatus.VOID
    assert client.get(sign_url(old_token)).status_code == 410
    (confirmation,) = [m for m in outbox if m.to == ["jane@luton.example.org"]]
    assert "Confirm your address" in confirmation.subject
    confirm_path = re.search(r"/organisations/confirm-address/\S+/", confirmation.body).group(0)
    outbox.clear()

    # Luton vouches for the new address: it is on Luton's own domain.
    OrganisationDomain.objects.create(
        organisation=jane.partner.organisation, domain="luton.example.org"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(confirm_path).status_code == 200

    (message,) = outbox
    assert message.to == ["jane@luton.example.org"]
    assert client.get(sign_url(tokens_in(message)[0])).status_code == 200


def test_renaming_the_signatory_keeps_the_link(alpha, asked, jane, outbox):
    request, _token = asked

    with scope(partnership=alpha):
        services.update_signatory(jane, name="Jane Smith-Jones", position="CEO", email=jane.email)

    assert reload(request).status == RequestStatus.SENT


def test_a_request_to_an_inactive_signatory_cannot_be_answered_or_reminded(
    client, alpha, asked, jane, sweep, outbox
):
    request, token = asked
    with scope(partnership=alpha):  # deactivated behind the service's back
        AuthorisedSignatory.objects.filter(pk=jane.pk).update(is_active=False)
    _backdate(request, 8)

    response = client.get(sign_url(token))

    assert response.status_code == 410
    assert "no longer signs for Luton Borough Council" in page_text(response)
    assert answer(client, token).status_code == 410
    assert sweep() == 0
    assert outbox == []
    with scope(partnership=alpha):
        assert signing._remind(request.pk, 0, timezone.now()) is False


def test_close_requests_voids_only_the_unanswered_ones(ask, alpha, document, jane, outbox):
    barnet = make_partner(alpha, OrganisationFactory(name="Barnet Council"))
    make_signatory(barnet)
    croydon = make_partner(alpha, OrganisationFactory(name="Croydon Council"))
    make_signatory(croydon)
    luton_request, barnet_request, croydon_request = ask(document, jane.partner, barnet, croydon)
    signing.sign(
        luton_request, name="J", position="P", confirmed=True, ip_address=None, user_agent=""
    )
    signing.mark_opened(reload(barnet_request))

    assert signing.close_requests(document, "version 2.0 was superseded") == 2

    assert reload(luton_request).status == RequestStatus.SIGNED
    assert reload(barnet_request).status == RequestStatus.VOID
    assert reload(croydon_request).status == RequestStatus.VOID
    entries = audit(alpha, "signature.voided")
    assert len(entries) == 2
    assert all(e.summary.endswith("closed: version 2.0 was superseded") for e in entries)
    assert signing.close_requests(document, "again") == 0
