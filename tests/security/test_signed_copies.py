"""Threats to the signer's confirmation page and signed copy, reached without an account by a
secret in the address: guessing it, using another partner's link, keeping it after a request
was replaced, or reading it from a copy of the database."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from signatories import signing
from signatories.models import ReminderLink, SignatureRequest
from signatories.tokens import new_token

from ..factories import OrganisationFactory, make_document, make_partner, make_signature_request

pytestmark = pytest.mark.django_db


def confirmation(token: str) -> str:
    return reverse("signing:done", kwargs={"token": token})


def copy(token: str) -> str:
    return reverse("signing:copy", kwargs={"token": token})


def answered(request: SignatureRequest, **options) -> None:
    signing.decline(
        request,
        name="Jane Smith",
        position="Chief Executive",
        reason="Not this year.",
        ip_address=None,
        user_agent="",
        **options,
    )


@pytest.fixture
def document(alpha):
    return make_document(alpha)


def test_a_guessed_secret_opens_no_confirmation_and_no_pdf(client, alpha, document):
    """Someone tries secrets at random: every one answers 404, saying nothing of any request."""
    request, _token = make_signature_request(make_partner(alpha), document)
    answered(request)
    guess, _ = new_token()

    for address in (confirmation(guess), copy(guess), confirmation("x" * 200)):
        assert client.get(address).status_code == 404


def test_another_partners_unanswered_link_opens_neither_its_confirmation_nor_its_pdf(
    client, alpha, document
):
    """A stranger holds a partner's signing link it has not used: no confirmation, no PDF."""
    luton = make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
    bedford = make_partner(alpha, OrganisationFactory(name="Bedford Borough Council"))
    signed, _token = make_signature_request(luton, document)
    answered(signed)
    _unanswered, strangers = make_signature_request(bedford, document)

    assert client.get(confirmation(strangers)).status_code == 404
    assert client.get(copy(strangers)).status_code == 404


def test_a_link_of_a_request_replaced_since_opens_nothing(client, alpha, alice, document):
    """A partner asked again after declining: the old request's links open nothing more."""
    partner = make_partner(
        alpha, OrganisationFactory(name="Luton Borough Council", data_protection_email="dp@l.org")
    )
    old, token = make_signature_request(partner, document)
    answered(old)
    assert client.get(confirmation(token)).status_code == 200

    with scope(partnership=alpha):
        signing.request_signatures(document, [partner], by=alice, again=True)

    assert client.get(confirmation(token)).status_code == 404
    assert client.get(copy(token)).status_code == 404


def test_a_copy_of_the_database_holds_no_confirmation_secret(alpha, document):
    """Only the SHA-256 of the secret e-mailed with the confirmation is stored."""
    request, _token = make_signature_request(make_partner(alpha), document)
    secret, _ = new_token()

    answered(request, copy_token=secret)

    with scopes_disabled():
        hashes = list(ReminderLink.objects.filter(request=request).values_list("token_hash"))
        stored = SignatureRequest.objects.filter(pk=request.pk).values().get()
    assert hashes == [(hashlib.sha256(secret.encode()).hexdigest(),)]
    assert secret not in str(stored)
