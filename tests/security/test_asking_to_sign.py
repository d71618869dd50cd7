"""Threats to asking more partners to sign a version in force: a forged request, a person
outside the lead organisation, and partners of another partnership."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client
from django_scopes import scopes_disabled

from protocols.models import VersionStatus
from signatories.models import SignatureRequest
from tenancy.roles import Role

from ..factories import make_member, make_partner, make_protocol, make_signatory
from ..pages import field_error
from ..test_protocols import approved, fresh, latest, version_url
from ..test_protocols_signing import partners_with_signatories, send, sign_all

pytestmark = pytest.mark.django_db


@pytest.fixture
def partners(alpha):
    return partners_with_signatories(alpha, 3)


@pytest.fixture
def manager(alpha, partners):
    return make_member(alpha, Role.ADMINISTRATOR, organisation=partners[0].organisation).user


@pytest.fixture
def signed(alpha, partners, manager):
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=partners[1].organisation)
    protocol = make_protocol(alpha, lead=partners[0], by=manager)
    version = send(approved(latest(protocol), manager, steering.user), partners, manager)
    sign_all(version, partners)
    version = fresh(version)
    assert version.status == VersionStatus.SIGNED
    return version


@pytest.fixture
def newcomer(alpha):
    (partner,) = partners_with_signatories(alpha, 1)
    return partner


def requests_made() -> int:
    """Signature requests in every partnership."""
    with scopes_disabled():
        return SignatureRequest.objects.count()


def test_a_forged_post_without_the_form_token_asks_nobody(signed, newcomer, manager):
    """Threat: another site makes the lead's browser post the form. Answer: the CSRF token is
    checked (403) and nobody is asked."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(manager)
    before = requests_made()

    response = browser.post(version_url("ask", signed), {"partners": [newcomer.pk]})

    assert response.status_code == 403
    assert requests_made() == before


def test_a_drafter_of_another_organisation_cannot_ask_partners_to_sign_for_the_lead(
    client, alpha, signed, partners, newcomer, django_capture_on_commit_callbacks
):
    """Threat: a member who may draft, but not for the lead organisation, sends the version
    to partners in its name. Answer: 403 from the view (the service refuses too), nothing sent."""
    drafter = make_member(alpha, Role.IG_OFFICER, organisation=partners[2].organisation).user
    client.force_login(drafter)
    before = requests_made()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(version_url("ask", signed), {"partners": [newcomer.pk]})

    assert response.status_code == 403
    assert requests_made() == before
    assert mail.outbox == []


def test_a_partner_of_another_partnership_posted_to_the_form_is_not_asked(
    client, beta, signed, manager
):
    """Threat: the lead posts the id of another partnership's partner, to send it a link to
    this partnership's document. Answer: the choice is refused on the form, nothing sent."""
    stranger = make_partner(beta)
    make_signatory(stranger)
    client.force_login(manager)
    before = requests_made()

    response = client.post(version_url("ask", signed), {"partners": [stranger.pk]})

    assert response.status_code == 200
    assert field_error(response, "partners") == (
        "Error: Choose only partners who have not signed this version."
    )
    assert requests_made() == before
