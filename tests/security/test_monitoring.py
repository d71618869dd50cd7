"""Monitoring answers anyone who asks (load balancers, uptime checks), so it tells states, counts
and ages, never an address, a password or an error's text."""

from __future__ import annotations

import socket

import pytest
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper

pytestmark = pytest.mark.django_db

DETAILS = "/healthz/details"


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_health_details_do_not_reveal_the_broker_s_address_or_password(client, settings):
    """An unreachable broker is reported as "unreachable": its URL, password and the error
    naming its host are not in the answer."""
    port = closed_port()
    settings.CELERY_BROKER_URL = f"redis://:broker-password-42@127.0.0.1:{port}/3"

    response = client.get(DETAILS)
    body = response.content.decode()

    assert response.json()["broker"] == "unreachable"
    assert "broker-password-42" not in body
    assert str(port) not in body
    assert "127.0.0.1" not in body
    assert "redis://" not in body


def test_health_details_do_not_reveal_the_database_error(client, settings, monkeypatch):
    """A database failure answers 503 with "unavailable", not the driver's message (which can
    name the server, the database and the user)."""
    settings.CELERY_BROKER_URL = "filesystem://"

    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "db.internal" failed for user "accord"')

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    response = client.get(DETAILS)

    assert response.status_code == 503
    assert response.json()["database"] == "unavailable"
    body = response.content.decode()
    assert "db.internal" not in body
    assert "for user" not in body
