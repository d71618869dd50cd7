"""A quick pass over the essentials, also run on the embedded default (SQLite, no broker)."""

import pytest
from django.urls import reverse

from .factories import PASSWORD

pytestmark = [pytest.mark.smoke, pytest.mark.django_db]


def test_home_page_invites_sign_in(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "Sign in" in response.content.decode()


def test_health_check_answers(client):
    assert client.get("/healthz").content == b"ok"


def test_member_signs_in_and_sees_dashboard(client, alice, alpha):
    response = client.post(reverse("account_login"), {"login": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    page = client.get(reverse("tenancy:dashboard", kwargs={"partnership_slug": "alpha"}))
    assert page.status_code == 200
    assert "Alpha Partnership" in page.content.decode()


def test_non_member_gets_404(client, charlie, alpha):
    client.force_login(charlie)
    assert client.get("/p/alpha/").status_code == 404
