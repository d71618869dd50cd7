"""Threats to accounts: the site administration's sign-in, the sign-in address, lockout."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache

from ..factories import PASSWORD, UserFactory, activate_totp, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(committing_client):
    """Sign-in e-mails (codes, resets) go through the outbox once the request commits."""
    return committing_client


LOGIN = "/accounts/login/"
ADMIN = "/admin/"
ADMIN_LOGIN = "/admin/login/"
MFA = "/accounts/2fa/authenticate/"
REQUEST_CODE = "/accounts/login/code/"
CONFIRM_CODE = "/accounts/login/code/confirm/"
SIGN_IN_CODE = re.compile(r"\b[A-Z]{4}-[A-Z]{4}\b")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def emailed_code(message) -> str:
    return SIGN_IN_CODE.search(message.body).group(0)


# The site administration's sign-in


def test_admin_sign_in_page_sends_people_to_the_sign_in_with_two_factor_authentication(client):
    """Django admin's own password form skips throttling and two-factor: it is not shown."""
    response = client.get(ADMIN_LOGIN + "?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == LOGIN + "?next=%2Fadmin%2F"
    anonymous = client.get(ADMIN, follow=True)
    assert anonymous.redirect_chain[-1][0] == LOGIN + "?next=%2Fadmin%2F"
    assert 'name="username"' not in anonymous.content.decode()


def test_password_posted_to_the_admin_sign_in_signs_nobody_in(client):
    """A staff password posted to /admin/login/ would skip the code: it signs nobody in."""
    staff = UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    activate_totp(staff)
    response = client.post(
        ADMIN_LOGIN, {"username": staff.email, "password": PASSWORD, "next": ADMIN}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)
    assert not signed_in(client)
    assert client.get(ADMIN).status_code == 302


def test_staff_with_an_authenticator_reach_the_admin_only_after_its_code(client):
    """A staff password alone does not open the site administration: the code is asked first."""
    staff = UserFactory(email="root@example.org", is_staff=True, is_superuser=True)
    secret = activate_totp(staff)
    response = client.post(LOGIN + "?next=/admin/", {"login": staff.email, "password": PASSWORD})
    assert response["Location"] == MFA
    assert not signed_in(client)
    assert client.get(ADMIN)["Location"].startswith(ADMIN_LOGIN)
    response = client.post(MFA, {"code": totp_code(secret)})
    assert response["Location"] == ADMIN
    assert client.get(ADMIN).status_code == 200


def test_admin_sign_in_page_refuses_a_member_who_is_not_staff(client):
    """A signed-in member who is not staff is told no, not shown another sign-in form."""
    client.force_login(UserFactory())
    assert client.get(ADMIN_LOGIN).status_code == 403


# The sign-in address


@pytest.mark.parametrize("method", ["get", "post"])
def test_member_cannot_change_their_sign_in_address_to_one_never_proven(client, method):
    """An unproven address would name its author in the audit trail: the page is not there."""
    user = UserFactory(email="nia@example.org")
    client.force_login(user)
    data = {"action_add": "", "email": "someone.else@example.org"} if method == "post" else {}
    response = getattr(client, method)("/accounts/email/", data)
    assert response.status_code == 404
    user.refresh_from_db()
    assert user.email == "nia@example.org"
    assert not EmailAddress.objects.filter(email="someone.else@example.org").exists()


# Lockout by anyone who knows an address


def test_failed_passwords_from_anyone_do_not_lock_a_signatory_out(client, outbox):
    """Five wrong passwords throttle the address; the owner still signs in with an e-mailed code."""
    owner = UserFactory(email="signatory@example.org")
    attacker = client.__class__()
    for _ in range(5):
        attacker.post(LOGIN, {"login": owner.email, "password": "guess"})
    refused = client.post(LOGIN, {"login": owner.email, "password": PASSWORD})
    page = refused.content.decode()
    assert not signed_in(client)
    assert "sign in now with a code sent to your e-mail address" in page
    assert f'href="{REQUEST_CODE}"' in page
    client.post(REQUEST_CODE, {"email": owner.email})
    response = client.post(CONFIRM_CODE, {"code": emailed_code(outbox[-1])})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_sign_in_code_does_not_skip_two_factor_authentication(client, outbox):
    """An e-mailed code replaces the password, not the authenticator: its code is asked next."""
    user = UserFactory(email="owen@example.org")
    secret = activate_totp(user)
    client.post(REQUEST_CODE, {"email": user.email})
    response = client.post(CONFIRM_CODE, {"code": emailed_code(outbox[-1])})
    assert response["Location"] == MFA
    assert not signed_in(client)
    assert client.get("/partnerships/").status_code == 302
    client.post(MFA, {"code": totp_code(secret)})
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_in_code_works_only_in_the_browser_that_asked_for_it(client, outbox):
    """A code requested by someone else cannot be used from another browser, even the owner's."""
    user = UserFactory(email="pat@example.org")
    requester = client.__class__()
    requester.post(REQUEST_CODE, {"email": user.email})
    response = client.post(CONFIRM_CODE, {"code": emailed_code(outbox[-1])})
    assert response.status_code == 302
    assert response["Location"] == REQUEST_CODE
    assert not signed_in(client)


def test_sign_in_code_cannot_be_guessed(client, outbox):
    """Three wrong codes end the attempt: the right code is refused afterwards."""
    user = UserFactory(email="quinn@example.org")
    client.post(REQUEST_CODE, {"email": user.email})
    code = emailed_code(outbox[-1])
    for _ in range(3):
        client.post(CONFIRM_CODE, {"code": "BBBB-BBBB"})
    response = client.post(CONFIRM_CODE, {"code": code})
    assert response["Location"] == REQUEST_CODE
    assert not signed_in(client)


def test_code_requests_cannot_flood_a_mailbox(client, outbox):
    """Asking again and again for an address's codes is throttled, with a clear message."""
    user = UserFactory(email="ray@example.org")
    for _ in range(3):
        client.__class__().post(REQUEST_CODE, {"email": user.email})
    response = client.post(REQUEST_CODE, {"email": user.email})
    assert response.status_code == 200
    assert "You have asked for too many sign-in codes" in response.content.decode()
    assert len(outbox) == 3


def test_code_request_does_not_reveal_who_has_an_account(client, outbox):
    """The page after a request is the same for an unknown address, whose mail says so."""
    known = client.post(REQUEST_CODE, {"email": UserFactory().email}, follow=True)
    unknown = client.__class__().post(REQUEST_CODE, {"email": "nobody@example.org"}, follow=True)
    assert known.redirect_chain[-1][0] == unknown.redirect_chain[-1][0] == CONFIRM_CODE
    assert "If nobody@example.org belongs to an Accord account" in unknown.content.decode()
    assert outbox[-1].to == ["nobody@example.org"]
    assert "there is no account with this address" in outbox[-1].body
    assert not SIGN_IN_CODE.search(outbox[-1].body)


def test_the_accounts_root_leads_to_the_profile_not_to_a_missing_page(client):
    """With the e-mail page gone, /accounts/ leads a signed-in person to their profile."""
    from .. import factories

    client.force_login(factories.UserFactory())
    response = client.get("/accounts/")
    assert response.status_code == 302
    assert response["Location"] == "/account/"
