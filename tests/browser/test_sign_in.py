"""Signing in with e-mail, password and a code from an authenticator app."""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.core.cache import cache
from django.test import Client
from playwright.sync_api import expect

from ..factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def current_code(secret: str) -> str:
    """What the person's authenticator app shows now. Near the end of a period, wait for the
    next one so that the code is still current when the server checks it."""
    period = mfa_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 5:
        time.sleep(left + 0.2)
    return format_hotp_value(hotp_value(secret, int(time.time()) // period))


def test_sign_in_with_authenticator_code_reaches_partnerships(journey, alice):
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)

    page = journey.visit("/")
    journey.click(page.get_by_role("button", name="Sign in"))
    page.get_by_label(re.compile(r"e-?mail", re.I)).fill(alice.email)
    page.get_by_label(re.compile(r"^password", re.I)).fill(PASSWORD)
    journey.click(page.get_by_role("button", name=re.compile(r"^sign in$", re.I)))

    # The password alone is not enough: the code comes next.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        re.compile(r"two-factor|authenticat|code", re.I)
    )
    page.get_by_label(re.compile(r"code", re.I)).fill(current_code(secret))
    journey.click(page.get_by_role("button", name=re.compile(r"^(sign in|continue)$", re.I)))

    expect(page.get_by_role("heading", level=1, name="Your partnerships")).to_be_visible()
    expect(page.get_by_role("link", name="Alpha Partnership")).to_be_visible()
    expect(page.get_by_role("link", name="Sign out")).to_be_visible()


def test_sign_in_with_a_code_by_email_after_being_throttled(
    journey, alice, mailoutbox, live_server
):
    cache.clear()
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)

    # Someone else's wrong passwords have throttled Alice's address (on this site's host name,
    # which is part of the throttle's key).
    someone_else = Client(HTTP_HOST=urlsplit(live_server.url).netloc)
    for _ in range(5):
        someone_else.post("/accounts/login/", {"login": alice.email, "password": "a-guess"})

    page = journey.visit("/accounts/login/")
    page.get_by_label(re.compile(r"e-?mail", re.I)).fill(alice.email)
    page.get_by_label(re.compile(r"^password", re.I)).fill(PASSWORD)
    journey.click(page.get_by_role("button", name=re.compile(r"^sign in$", re.I)))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Too many failed attempts to sign in with a password")

    journey.click(page.get_by_role("link", name="Email me a sign-in code"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in with a code sent by e-mail")
    page.get_by_label("E-mail address").fill(alice.email)
    journey.click(page.get_by_role("button", name="Email me a sign-in code"))

    expect(page.get_by_role("heading", level=1)).to_have_text("Check your e-mail")
    assert len(mailoutbox) == 1
    code = re.search(r"\b[A-Z]{4}-[A-Z]{4}\b", mailoutbox[0].body).group(0)
    page.get_by_label("Sign-in code").fill(code)
    journey.click(page.get_by_role("button", name="Continue"))

    # The e-mailed code stands in for the password, not for the authenticator app.
    expect(page).to_have_url(re.compile(r"/accounts/2fa/authenticate/"))
    page.get_by_label(re.compile(r"code", re.I)).fill(current_code(secret))
    journey.click(page.get_by_role("button", name=re.compile(r"^(sign in|continue)$", re.I)))

    expect(page.get_by_role("heading", level=1, name="Your partnerships")).to_be_visible()
    expect(page.get_by_role("link", name="Alpha Partnership")).to_be_visible()
