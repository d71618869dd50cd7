"""Signing in and out, password reset, two-factor authentication and throttling."""

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

import accord.settings as project_settings
from accounts.models import User

from .factories import PASSWORD, UserFactory, activate_totp, totp_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(committing_client):
    """Sign-in e-mails (codes, resets) go through the outbox once the request commits."""
    return committing_client


LOGIN = "/accounts/login/"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def sign_in(client, email, password=PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def test_sign_in_with_email_in_any_case(client):
    user = UserFactory(email="dana.price@example.org")
    response = sign_in(client, "Dana.Price@Example.org")
    assert response.status_code == 302
    assert response["Location"] == reverse("tenancy:choose")
    assert client.get(reverse("tenancy:choose")).context["user"] == user


def test_wrong_password_is_explained_on_the_form(client):
    UserFactory(email="dana@example.org")
    response = sign_in(client, "dana@example.org", "not-the-password")
    page = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in page
    assert "not correct" in page or "incorrect" in page.lower()
    assert "_auth_user_id" not in client.session


def test_repeated_failures_are_throttled_even_with_the_right_password(client):
    UserFactory(email="erin@example.org")
    for _ in range(5):
        sign_in(client, "erin@example.org", "wrong-password")
    response = sign_in(client, "erin@example.org")
    assert response.status_code != 302
    assert "Too many failed" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_signing_out_needs_a_post(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/accounts/logout/").status_code == 200
    assert "_auth_user_id" in client.session
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session


def test_there_is_no_open_sign_up(client):
    response = client.post(
        "/accounts/signup/",
        {
            "email": "new@example.org",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
        },
    )
    assert not User.objects.filter(email="new@example.org").exists()
    assert response.status_code == 200


def test_password_reset_by_email(client, outbox):
    user = UserFactory(email="frank@example.org")
    response = client.post("/accounts/password/reset/", {"email": "frank@example.org"})
    assert response.status_code == 302
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == ["frank@example.org"]
    assert message.subject == "[Accord] Reset your password"
    html = {mime: body for body, mime in message.alternatives}["text/html"]
    assert "Choose a new password" in html
    link = re.search(r"https?://\S+/accounts/password/reset/key/\S+", message.body).group(0)
    path = link.split("://", 1)[1].split("/", 1)[1]
    form_page = client.get("/" + path, follow=True)
    assert form_page.status_code == 200
    client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else "/" + path,
        {"password1": "a-brand-new-passphrase", "password2": "a-brand-new-passphrase"},
    )
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")


def test_two_factor_sign_in_asks_for_the_code(client):
    user = UserFactory(email="grace@example.org")
    secret = activate_totp(user)
    response = sign_in(client, "grace@example.org")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert "_auth_user_id" not in client.session
    assert wrong.status_code == 200
    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_recovery_codes_are_offered_after_setting_up_an_authenticator(client):
    user = UserFactory()
    activate_totp(user)
    client.force_login(user)
    page = client.get("/accounts/2fa/").content.decode()
    assert "Recovery codes" in page or "recovery codes" in page


def test_passwords_are_hashed_with_argon2():
    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    from django.contrib.auth.hashers import make_password
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=project_settings.PASSWORD_HASHERS):
        assert make_password("x" * 12).startswith("argon2$")


def test_profile_page_updates_name(client):
    user = UserFactory(full_name="Old Name")
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"full_name": "", "job_title": ""})
    assert "Enter your full name." in response.content.decode()
    client.post(reverse("accounts:profile"), {"full_name": "Harriet Jones", "job_title": "SIRO"})
    user.refresh_from_db()
    assert (user.full_name, user.job_title) == ("Harriet Jones", "SIRO")


def test_profile_page_shows_the_email_address_read_only(client):
    user = UserFactory(email="ivy@example.org")
    client.force_login(user)
    response = client.get(reverse("accounts:profile"))
    page = response.content.decode()
    assert "ivy@example.org" in page
    assert "ask the administrator of your partnership" in page
    assert 'name="email"' not in page
    client.post(
        reverse("accounts:profile"),
        {"full_name": "Ivy Chen", "job_title": "", "email": "other@example.org"},
    )
    user.refresh_from_db()
    assert (user.full_name, user.email) == ("Ivy Chen", "ivy@example.org")


SIGN_IN_CODE = re.compile(r"\b[A-Z]{4}-[A-Z]{4}\b")
REQUEST_CODE = "/accounts/login/code/"
CONFIRM_CODE = "/accounts/login/code/confirm/"


def emailed_code(message) -> str:
    return SIGN_IN_CODE.search(message.body).group(0)


def test_sign_in_page_offers_a_code_by_email(client):
    page = client.get(LOGIN).content.decode()
    assert f'href="{REQUEST_CODE}"' in page
    assert "Email me a sign-in code" in page


def test_sign_in_with_a_code_sent_by_email(client, outbox):
    user = UserFactory(email="jo@example.org")
    response = client.post(REQUEST_CODE, {"email": "Jo@Example.org"})
    assert response.status_code == 302
    assert response["Location"] == CONFIRM_CODE
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == ["jo@example.org"]
    assert message.subject == "[Accord] Your sign-in code"
    html = {mime: body for body, mime in message.alternatives}["text/html"]
    code = emailed_code(message)
    assert code in html
    assert "10 minutes" in message.body
    page = client.get(CONFIRM_CODE).content.decode()
    assert "Check your e-mail" in page
    assert "Sign-in code" in page
    assert "_auth_user_id" not in client.session
    response = client.post(CONFIRM_CODE, {"code": code.lower().replace("-", "")})
    assert response.status_code == 302
    assert response["Location"] == reverse("tenancy:choose")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_or_missing_sign_in_code_is_explained_on_the_form(client, outbox):
    UserFactory(email="kit@example.org")
    client.post(REQUEST_CODE, {"email": "kit@example.org"})
    blank = client.post(CONFIRM_CODE, {"code": ""}).content.decode()
    assert "There is a problem" in blank
    assert "Enter the sign-in code from the e-mail" in blank
    wrong = client.post(CONFIRM_CODE, {"code": "BBBB-BBBB"})
    assert wrong.status_code == 200
    assert "The code is not correct" in wrong.content.decode()
    assert "_auth_user_id" not in client.session


def test_code_request_form_explains_a_missing_or_malformed_address(client, outbox):
    blank = client.post(REQUEST_CODE, {"email": ""}).content.decode()
    assert "Enter your e-mail address" in blank
    malformed = client.post(REQUEST_CODE, {"email": "not an address"}).content.decode()
    assert "Enter an e-mail address in the correct format" in malformed
    assert outbox == []


def test_code_sign_in_asks_for_the_authenticator_code_next(client, outbox):
    user = UserFactory(email="lee@example.org")
    secret = activate_totp(user)
    client.post(REQUEST_CODE, {"email": "lee@example.org"})
    response = client.post(CONFIRM_CODE, {"code": emailed_code(outbox[0])})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert "_auth_user_id" not in client.session
    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code(secret)})
    assert right.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_throttled_sign_in_names_the_code_sign_in(client, outbox):
    user = UserFactory(email="max@example.org")
    for _ in range(5):
        sign_in(client, "max@example.org", "wrong-password")
    response = sign_in(client, "max@example.org")
    page = response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "Too many failed attempts to sign in with a password" in page
    assert "sign in now with a code sent to your e-mail address" in page
    assert f'href="{REQUEST_CODE}"' in page
    # The throttle on passwords does not block the code.
    client.post(REQUEST_CODE, {"email": "max@example.org"})
    client.post(CONFIRM_CODE, {"code": emailed_code(outbox[0])})
    assert client.session["_auth_user_id"] == str(user.pk)
