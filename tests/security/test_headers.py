"""Response headers: a Content-Security-Policy that stops injected script, a
Permissions-Policy that denies device features, and request ids that only Accord makes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_scopes import scope

from tenancy.models import AuditEntry

from ..factories import make_partner, make_signature_request

pytestmark = pytest.mark.django_db

ATTACKER_ID = "attacker-chosen-id-123"


def policy(response) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    header = response.headers.get("Content-Security-Policy", "")
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: sources for name, *sources in directives}


@pytest.fixture
def pages(client, alpha, alice):
    """A partnership page (signed in), a public signing page and the sign-in page."""
    _request, token = make_signature_request(make_partner(alpha))
    signing = client.get(reverse("signing:sign", kwargs={"token": token}))
    sign_in = client.get(reverse("account_login"))
    client.force_login(alice)
    partnership = client.get("/p/alpha/")
    responses = {"partnership": partnership, "signing": signing, "sign-in": sign_in}
    assert {name: r.status_code for name, r in responses.items()} == dict.fromkeys(responses, 200)
    return responses


def test_injected_inline_script_is_refused_by_the_content_security_policy(pages):
    """Markup that slips into a page cannot run inline script or style, load plugins, change
    the base address, post forms elsewhere or be framed by another site."""
    for name, response in pages.items():
        csp = policy(response)
        assert csp.get("script-src") == ["'self'"], name
        assert csp.get("style-src") == ["'self'"], name
        assert csp.get("default-src") == ["'self'"], name
        assert csp.get("object-src") == ["'none'"], name
        assert csp.get("base-uri") == ["'none'"], name
        assert csp.get("form-action") == ["'self'"], name
        assert csp.get("frame-ancestors") == ["'none'"], name
        assert "'unsafe-inline'" not in " ".join(sum(csp.values(), [])), name


def test_the_pages_need_no_inline_script_or_style_that_the_policy_would_block(pages):
    """The policy can be strict because the pages keep their scripts and styles in static
    files: no inline <script> (JSON data blocks aside), <style>, style= or on...= handlers."""
    for name, response in pages.items():
        html = response.content.decode()
        inline = [
            tag
            for tag in re.findall(r"<script\b[^>]*>", html)
            if "src=" not in tag and "application/json" not in tag
        ]
        assert inline == [], name
        assert re.findall(r"<style\b", html) == [], name
        assert re.findall(r"\sstyle=", html) == [], name
        assert re.findall(r"\son[a-z]+=", html) == [], name
        # htmx would otherwise add its indicator's <style> to the page.
        assert '"includeIndicatorStyles": false' in html, name


def test_a_script_on_a_page_cannot_use_camera_microphone_location_or_payment(pages):
    """Every page denies device and payment features through Permissions-Policy, to itself
    and to anything framed in it."""
    for name, response in pages.items():
        features = dict(
            item.strip().split("=", 1)
            for item in response.headers.get("Permissions-Policy", "").split(",")
            if item.strip()
        )
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert features.get(feature) == "()", (name, feature)


def test_a_request_id_chosen_by_the_client_never_reaches_the_audit_trail(client, alpha, alice):
    """A client's X-Request-ID is not taken as ours: the change it makes is recorded under an
    id Accord made, which is the one the response gives back."""
    client.force_login(alice)
    response = client.post(
        "/p/alpha/settings/",
        {"name": "Alpha Renamed", "description": ""},
        headers={"X-Request-ID": ATTACKER_ID},
    )

    assert response.status_code == 302
    with scope(partnership=alpha):
        entry = AuditEntry.objects.get(action="partnership.changed")
    assert entry.request_id != ATTACKER_ID
    assert ATTACKER_ID not in entry.request_id
    assert re.fullmatch(r"[0-9a-f]{32}", entry.request_id)
    assert response["X-Request-ID"] == entry.request_id


def test_each_request_gets_a_new_id_even_when_the_client_repeats_one(client, alpha, alice):
    """Two requests sent with the same X-Request-ID cannot be passed off as one request in
    the audit trail."""
    client.force_login(alice)
    for name in ("Alpha One", "Alpha Two"):
        client.post(
            "/p/alpha/settings/",
            {"name": name, "description": ""},
            headers={"X-Request-ID": ATTACKER_ID},
        )
    with scope(partnership=alpha):
        ids = list(
            AuditEntry.objects.filter(action="partnership.changed").values_list(
                "request_id", flat=True
            )
        )
    assert len(ids) == 2 and len(set(ids)) == 2
