"""Signing inside Accord: a signatory's tasks and signing signed in, sending a new link, and
the partner's authorised signatories."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from signatories import signing
from signatories.models import AuthorisedSignatory, RequestStatus, Signature, SignatureRequest
from signatories.services import set_signatory_active
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .factories import (
    OrganisationFactory,
    make_document,
    make_member,
    make_partner,
    make_signatory,
    make_signature_request,
)
from .pages import field_error, page_text

pytestmark = pytest.mark.django_db


def url(name: str, **kwargs) -> str:
    return reverse(f"signatories:{name}", kwargs={"partnership_slug": "alpha", **kwargs})


def audit(partnership, action: str) -> list[AuditEntry]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.filter(action=action).order_by("id"))


@pytest.fixture
def luton(alpha):
    return make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))


@pytest.fixture
def sam(alpha, luton):
    """An authorised signatory acting for Luton, signed in to Accord."""
    sam = make_member(alpha, Role.SIGNATORY, organisation=luton.organisation).user
    make_signatory(luton, name=sam.full_name, email=sam.email)
    return sam


@pytest.fixture
def document(alpha):
    return make_document(alpha, title="Bedfordshire Protocol", version_label="3.1")


# A signatory's tasks


def test_the_tasks_page_lists_what_awaits_the_members_organisation(
    client, alpha, luton, sam, document
):
    make_signature_request(luton, document)
    other = make_partner(alpha, OrganisationFactory(name="Barnet Council"))
    make_signature_request(other, make_document(alpha, title="Not for Luton"))
    client.force_login(sam)

    response = client.get(url("tasks"))

    assert response.status_code == 200
    text = page_text(response)
    assert "Your signing tasks" in text
    assert "Bedfordshire Protocol, version 3.1" in text
    assert "Read and sign" in text
    assert "Not for Luton" not in text


def test_the_tasks_page_says_when_there_is_nothing_to_sign(client, sam):
    client.force_login(sam)

    assert "There is nothing for Luton Borough Council to sign at the moment." in page_text(
        client.get(url("tasks"))
    )


def test_a_signatory_signs_in_the_app_and_is_recorded_as_the_signer(
    client, alpha, luton, sam, document, outbox, django_capture_on_commit_callbacks
):
    request, _token = make_signature_request(luton, document)
    client.force_login(sam)

    page = client.get(url("sign", request_id=request.pk))
    assert page.status_code == 200
    assert "I confirm I am authorised to sign this on behalf of Luton Borough Council" in (
        page_text(page)
    )
    assert f'value="{sam.full_name}"' in page.content.decode()
    with scopes_disabled():
        assert SignatureRequest.objects.get(pk=request.pk).status == RequestStatus.OPENED

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("sign", request_id=request.pk),
            {"name": sam.full_name, "position": "SIRO", "confirmed": "on", "action": "sign"},
            REMOTE_ADDR="192.0.2.10",
        )

    assert response.status_code == 302
    with scope(partnership=alpha):
        signature = Signature.objects.get()
    assert signature.user == sam
    assert signature.email == sam.email
    assert signature.ip_address == "192.0.2.10"
    (entry,) = audit(alpha, "signature.signed")
    assert entry.actor == sam
    assert [m.to for m in outbox] == [[sam.email]]
    done = client.get(response["Location"])
    assert "You have signed" in page_text(done)
    assert "Back to your signing tasks" in page_text(done)


def test_a_signatory_cannot_open_another_organisations_request(client, alpha, sam, document):
    other = make_partner(alpha, OrganisationFactory(name="Barnet Council"))
    request, _token = make_signature_request(other, document)
    client.force_login(sam)

    assert client.get(url("sign", request_id=request.pk)).status_code == 404
    response = client.post(
        url("sign", request_id=request.pk),
        {"name": "X", "position": "Y", "confirmed": "on", "action": "sign"},
    )
    assert response.status_code == 404
    with scope(partnership=alpha):
        assert not Signature.objects.exists()


def test_an_answered_request_cannot_be_signed_again_in_the_app(client, alpha, luton, sam):
    request, _token = make_signature_request(luton)
    signing.sign(request, name="A", position="B", confirmed=True, ip_address=None, user_agent="")
    client.force_login(sam)

    response = client.get(url("sign", request_id=request.pk))

    assert response.status_code == 410
    assert "already been answered" in page_text(response)


def test_only_signatories_see_the_signing_pages(client, alpha, luton, bob):
    client.force_login(bob)

    assert client.get(url("tasks")).status_code == 403


def test_signing_is_in_the_navigation_of_signatories_only(client, sam, bob):
    client.force_login(sam)
    assert f'href="{url("tasks")}"' in client.get(url("tasks")).content.decode()
    client.force_login(bob)
    assert f'href="{url("tasks")}"' not in client.get(url("partners")).content.decode()


def test_the_dashboard_counts_a_signatorys_open_tasks(client, alpha, luton, sam, document):
    make_signature_request(luton, document)
    make_signature_request(luton, make_document(alpha, title="Another"))
    expired, _ = make_signature_request(luton, make_document(alpha, title="Old"))
    with scope(partnership=alpha):
        SignatureRequest.objects.filter(pk=expired.pk).update(expires_at=timezone.now())
    client.force_login(sam)

    text = page_text(client.get(reverse("tenancy:dashboard", kwargs={"partnership_slug": "alpha"})))

    assert "2 Signing tasks" in text


# Sending a new link


def test_an_administrator_sends_a_new_link(
    client, alpha, alice, luton, document, outbox, django_capture_on_commit_callbacks
):
    make_signatory(luton, name="Jane Smith", email="jane@luton.gov.uk")
    request, _token = make_signature_request(luton, document, email="old@luton.gov.uk")
    client.force_login(alice)

    partner_page = client.get(url("partner", partner_id=luton.pk))
    assert "Waiting to be signed" in page_text(partner_page)
    assert "Send a new link" in page_text(partner_page)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("resend", request_id=request.pk))

    assert response.status_code == 302
    assert response["Location"] == url("partner", partner_id=luton.pk)
    assert "A new link has been sent to jane@luton.gov.uk. The previous link no longer works." in (
        page_text(client.get(response["Location"]))
    )
    assert [m.to for m in outbox] == [["jane@luton.gov.uk"]]
    with scope(partnership=alpha):
        assert SignatureRequest.objects.get(pk=request.pk).status == RequestStatus.VOID
    assert len(audit(alpha, "signature.reissued")) == 1


def test_a_new_link_goes_back_only_to_a_page_of_the_partnership(
    client, alpha, alice, luton, document
):
    make_signatory(luton)
    request, _token = make_signature_request(luton, document)
    client.force_login(alice)

    response = client.post(url("resend", request_id=request.pk), {"next": url("tasks")})
    assert response["Location"] == url("tasks")

    with scope(partnership=alpha):
        fresh = SignatureRequest.objects.get(status=RequestStatus.SENT)
    response = client.post(url("resend", request_id=fresh.pk), {"next": "https://evil.example/"})
    assert response["Location"] == url("partner", partner_id=luton.pk)


def test_a_new_link_for_an_answered_request_is_refused_with_a_message(
    client, alpha, alice, luton, outbox
):
    request, _token = make_signature_request(luton)
    signing.sign(request, name="A", position="B", confirmed=True, ip_address=None, user_agent="")
    client.force_login(alice)

    response = client.post(url("resend", request_id=request.pk), follow=True)

    assert "Luton Borough Council has already signed" in page_text(response)
    assert outbox == []


def test_only_administrators_send_new_links(client, alpha, bob, luton):
    request, _token = make_signature_request(luton)
    client.force_login(bob)

    assert client.post(url("resend", request_id=request.pk)).status_code == 403
    assert client.get(url("resend", request_id=request.pk)).status_code == 403


# Authorised signatories of a partner


def test_an_administrator_adds_an_authorised_signatory(client, alpha, alice, luton):
    client.force_login(alice)

    response = client.post(
        url("signatories", partner_id=luton.pk),
        {
            "name": "Jane Smith",
            "position": "Senior Information Risk Owner",
            "email": "J@Luton.gov.uk",
        },
    )

    assert response.status_code == 302
    with scope(partnership=alpha):
        (signatory,) = AuthorisedSignatory.objects.all()
    assert (signatory.name, signatory.position, signatory.email) == (
        "Jane Smith",
        "Senior Information Risk Owner",
        "j@luton.gov.uk",
    )
    (entry,) = audit(alpha, "signatory.created")
    assert "Jane Smith" in entry.summary
    text = page_text(client.get(response["Location"]))
    assert "Jane Smith is now an authorised signatory of Luton Borough Council." in text
    assert "j@luton.gov.uk" in text
    partner_page = page_text(client.get(url("partner", partner_id=luton.pk)))
    assert "Jane Smith, Senior Information Risk Owner (j@luton.gov.uk)" in partner_page


def test_a_position_not_in_the_list_is_typed_in(client, alpha, alice, luton):
    client.force_login(alice)

    response = client.post(
        url("signatories", partner_id=luton.pk),
        {"name": "Raj Patel", "position": "Other", "email": "raj@luton.gov.uk"},
    )
    assert response.status_code == 200
    assert field_error(response, "other_position") == "Error: Enter the position."

    client.post(
        url("signatories", partner_id=luton.pk),
        {
            "name": "Raj Patel",
            "position": "Other",
            "other_position": "Director of Children's Services",
            "email": "raj@luton.gov.uk",
        },
    )
    with scope(partnership=alpha):
        assert AuthorisedSignatory.objects.get().position == "Director of Children's Services"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": ""}, "name", "Error: Enter the signatory's full name."),
        (
            {"email": "not an address"},
            "email",
            "Error: Enter an e-mail address like name@example.gov.uk.",
        ),
        ({"position": "Pope"}, "position", None),
        ({"name": "x" * 200}, "name", "Error: The name must be 150 characters or fewer."),
    ],
    ids=["no name", "bad e-mail", "unknown position", "long name"],
)
def test_bad_signatory_details_are_field_errors(client, alpha, alice, luton, data, field, message):
    client.force_login(alice)
    form = {"name": "Jane Smith", "position": "Chief Executive", "email": "j@l.gov.uk", **data}

    response = client.post(url("signatories", partner_id=luton.pk), form)

    assert response.status_code == 200
    assert field_error(response, field).startswith(message or "Error: ")
    with scope(partnership=alpha):
        assert not AuthorisedSignatory.objects.exists()


def test_the_same_active_signatory_is_not_added_twice(client, alpha, alice, luton):
    make_signatory(luton, email="jane@luton.gov.uk")
    client.force_login(alice)

    response = client.post(
        url("signatories", partner_id=luton.pk),
        {"name": "Jane", "position": "Chief Executive", "email": "Jane@luton.gov.uk"},
    )

    assert field_error(response, "email") == (
        "Error: jane@luton.gov.uk is already an authorised signatory of Luton Borough Council."
    )


def test_an_administrator_changes_and_deactivates_a_signatory(client, alpha, alice, luton):
    jane = make_signatory(luton, name="Jane Smith", position="Vice Chancellor", email="j@l.gov.uk")
    client.force_login(alice)
    page = client.get(url("signatory", partner_id=luton.pk, signatory_id=jane.pk))
    assert page.status_code == 200
    content = page.content.decode()
    assert 'value="Vice Chancellor"' in content  # a position not in the list shows as Other

    response = client.post(
        url("signatory", partner_id=luton.pk, signatory_id=jane.pk),
        {"name": "Jane Smith-Jones", "position": "Chief Executive", "email": "j@l.gov.uk"},
    )
    assert response.status_code == 302
    (entry,) = audit(alpha, "signatory.changed")
    assert entry.changes["name"] == ["Jane Smith", "Jane Smith-Jones"]
    assert entry.changes["position"] == ["Vice Chancellor", "Chief Executive"]

    client.post(
        url("signatory", partner_id=luton.pk, signatory_id=jane.pk), {"action": "deactivate"}
    )
    with scope(partnership=alpha):
        assert AuthorisedSignatory.objects.get(pk=jane.pk).is_active is False
    assert len(audit(alpha, "signatory.deactivated")) == 1
    partner_page = page_text(client.get(url("partner", partner_id=luton.pk)))
    assert "Jane Smith-Jones is no longer an authorised signatory." in partner_page
    assert "Jane Smith-Jones, Chief Executive (j@l.gov.uk)" not in partner_page

    client.post(
        url("signatory", partner_id=luton.pk, signatory_id=jane.pk), {"action": "reactivate"}
    )
    with scope(partnership=alpha):
        assert AuthorisedSignatory.objects.get(pk=jane.pk).is_active is True


def test_a_signatory_is_found_only_through_its_own_partner(client, alpha, alice, luton):
    other = make_partner(alpha)
    jane = make_signatory(other)
    client.force_login(alice)

    assert (
        client.get(url("signatory", partner_id=luton.pk, signatory_id=jane.pk)).status_code == 404
    )


def test_a_deactivated_signatory_is_not_asked_to_sign(alpha, alice, luton, document):
    jane = make_signatory(luton, email="jane@luton.gov.uk")
    raj = make_signatory(luton, email="raj@luton.gov.uk")
    with scope(partnership=alpha):
        set_signatory_active(jane, False)
        (request,) = signing.request_signatures(document, [luton], by=alice)

    assert request.signatory == raj


def test_the_tasks_page_runs_the_same_queries_for_2_and_20_requests(client, alpha, luton, sam):
    def add(count: int) -> None:
        for _ in range(count):
            request, _ = make_signature_request(luton, make_document(alpha))
            signing.sign(
                make_signature_request(luton, make_document(alpha))[0],
                name="A",
                position="B",
                confirmed=True,
                ip_address=None,
                user_agent="",
            )
            assert request.status == RequestStatus.SENT

    client.force_login(sam)
    add(2)
    client.get(url("tasks"))  # warm up caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url("tasks")).status_code == 200
    add(18)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("tasks"))
    assert page_text(response).count("Read and sign") == 20

    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)
