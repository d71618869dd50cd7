"""Monitoring: /healthz for the load balancer, /healthz/details for whoever watches the broker,
the outbox and the sweep, and `manage.py due` for whoever is on call."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import OperationalError
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from accord.kernel import sweeps
from accord.kernel.models import Clock, OutboxMessage, SweepRun

from .factories import make_outbox_message
from .faults.servers import free_port, silent_port

pytestmark = pytest.mark.django_db

DETAILS = "/healthz/details"
Status = OutboxMessage.Status
FIELDS = {
    "database",
    "broker",
    "oldest_undelivered_email_at",
    "oldest_undelivered_email_age_seconds",
    "failed_emails",
    "last_sweep_at",
    "last_sweep_age_seconds",
    "sweep_interval_seconds",
}


def details(client) -> tuple[int, dict, float]:
    started = time.monotonic()
    response = client.get(DETAILS)
    took = time.monotonic() - started
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, response.json(), took


# /healthz/details


def test_details_report_every_figure_and_nothing_waiting(client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"

    status, report, _took = details(client)

    assert status == 200
    assert set(report) == FIELDS
    assert report["database"] == "ok"
    assert report["broker"] == "not configured"
    assert report["oldest_undelivered_email_at"] is None
    assert report["oldest_undelivered_email_age_seconds"] is None
    assert report["failed_emails"] == 0
    assert report["last_sweep_at"] is None
    assert report["last_sweep_age_seconds"] is None
    assert report["sweep_interval_seconds"] == settings.SWEEP_INTERVAL_SECONDS


def test_the_oldest_undelivered_email_is_the_oldest_queued_or_sending(client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    now = timezone.now()
    two_minutes_ago = now - timedelta(seconds=120)
    make_outbox_message(status=Status.QUEUED, created_at=two_minutes_ago, attempts=0)
    make_outbox_message(status=Status.SENDING, created_at=now - timedelta(seconds=60))
    # Delivered and failed e-mails are not waiting, however old.
    make_outbox_message(status=Status.SENT, created_at=now - timedelta(hours=5))
    make_outbox_message(status=Status.FAILED, created_at=now - timedelta(hours=4))
    make_outbox_message(status=Status.FAILED, created_at=now - timedelta(hours=3))

    _status, report, _took = details(client)

    assert 120 <= report["oldest_undelivered_email_age_seconds"] < 130
    assert datetime.fromisoformat(report["oldest_undelivered_email_at"]) == two_minutes_ago
    assert report["failed_emails"] == 2


def test_a_message_stuck_in_sending_counts_as_undelivered(client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    make_outbox_message(
        status=Status.SENDING, created_at=timezone.now() - timedelta(minutes=30), attempts=1
    )

    _status, report, _took = details(client)

    assert 30 * 60 <= report["oldest_undelivered_email_age_seconds"] < 30 * 60 + 10
    assert report["failed_emails"] == 0


def test_the_last_sweep_is_the_latest_step_to_finish(client, settings):
    settings.CELERY_BROKER_URL = "filesystem://"
    now = timezone.now()
    SweepRun.objects.create(step="outbox.deliver", finished_at=now - timedelta(seconds=30))
    SweepRun.objects.create(step="signing.reminders", finished_at=now - timedelta(hours=2))

    _status, report, _took = details(client)

    assert datetime.fromisoformat(report["last_sweep_at"]) == now - timedelta(seconds=30)
    assert 30 <= report["last_sweep_age_seconds"] < 40


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs the Redis broker (REDIS_URL)")
def test_a_broker_that_answers_is_reported_reachable(client, settings):
    settings.CELERY_BROKER_URL = settings.REDIS_URL

    status, report, _took = details(client)

    assert status == 200
    assert report["broker"] == "ok"


def test_a_broker_on_a_closed_port_is_reported_unreachable_at_once(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"

    status, report, took = details(client)

    assert status == 200  # the database answers: still healthy for the load balancer
    assert report["broker"] == "unreachable"
    assert took < 1


def test_a_broker_that_never_answers_is_reported_unreachable_within_the_second(client, settings):
    with silent_port() as port:
        settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{port}/0"
        status, report, took = details(client)

    assert status == 200
    assert report["broker"] == "unreachable"
    assert took < 2.5


def test_details_answer_503_when_the_database_does_not(client, settings, monkeypatch):
    settings.CELERY_BROKER_URL = "filesystem://"

    def refuse(*args, **kwargs):
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(CursorWrapper, "execute", refuse)
    status, report, _took = details(client)

    assert status == 503
    assert report["database"] == "unavailable"
    assert report["broker"] == "not configured"
    assert report["failed_emails"] is None


def test_the_load_balancer_check_is_unchanged(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"


# manage.py due


def due() -> list[str]:
    out = StringIO()
    call_command("due", stdout=out)
    return out.getvalue().splitlines()


def section(lines: list[str], title: str) -> list[str]:
    """The lines under the heading that starts with `title`, up to the blank line after it."""
    start = next(i for i, line in enumerate(lines) if line.startswith(title))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


def columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def test_due_lists_every_section_when_nothing_is_due(db):
    lines = due()

    assert lines[0].startswith("Due and stuck at ")
    assert "E-mails waiting past their next attempt: 0" in lines
    assert "E-mails being sent for more than 10 minutes: 0" in lines
    assert "E-mails not delivered: 0" in lines
    assert "Clocks due now: 0" in lines
    assert "Clocks overdue by more than 5 minutes: 0" in lines
    assert "Sweep steps, last run:" in lines


def test_due_lists_e_mails_waiting_and_held_too_long(db):
    now = timezone.now()
    late = make_outbox_message(
        status=Status.QUEUED,
        to=["late@example.org"],
        next_attempt_at=now - timedelta(minutes=20),
        attempts=2,
        last_error="",
    )
    make_outbox_message(  # its next try is later: not due
        status=Status.QUEUED, to=["later@example.org"], next_attempt_at=now + timedelta(hours=1)
    )
    held = make_outbox_message(
        status=Status.SENDING, to=["held@example.org"], claimed_at=now - timedelta(minutes=15)
    )
    make_outbox_message(  # being sent right now
        status=Status.SENDING, to=["busy@example.org"], claimed_at=now - timedelta(minutes=2)
    )

    lines = due()

    waiting = section(lines, "E-mails waiting past their next attempt")
    assert waiting[0] == "E-mails waiting past their next attempt: 1"
    assert columns(waiting[1])[:5] == ["id", "stored", "next attempt", "waiting", "tries"]
    row = columns(waiting[2])
    assert row[0] == str(late.pk)
    assert row[3] == "20 min"
    assert "late@example.org" in row
    assert not any("later@example.org" in line for line in lines)

    sending = section(lines, "E-mails being sent for more than 10 minutes")
    assert sending[0] == "E-mails being sent for more than 10 minutes: 1"
    assert columns(sending[2])[0] == str(held.pk)
    assert "15 min" in columns(sending[2])
    assert not any("busy@example.org" in line for line in lines)


def test_due_lists_the_ten_newest_failed_e_mails_with_their_reason(db):
    now = timezone.now()
    for n in range(12):
        make_outbox_message(
            to=[f"person{n}@example.org"],
            created_at=now - timedelta(hours=12 - n),
            last_error=f"Refused by the mail server: person{n}@example.org: 550 No such user",
        )

    failed = section(due(), "E-mails not delivered")

    assert failed[0] == "E-mails not delivered (the 10 newest shown): 12"
    rows = failed[2:]
    assert len(rows) == 10
    assert "person11@example.org" in rows[0]
    assert "550 No such user" in rows[0]
    assert not any("person1@example.org" in row for row in rows)


def test_due_lists_clocks_due_now_and_overdue(db):
    now = timezone.now()
    Clock.objects.create(
        kind="signing.reminder",
        subject="signatories.signaturerequest:7",
        due_at=now - timedelta(minutes=2),
    )
    Clock.objects.create(
        kind="agreements.expire",
        subject="agreements.agreement:3",
        due_at=now - timedelta(minutes=40),
    )
    Clock.objects.create(  # done: not listed
        kind="agreements.expire",
        subject="agreements.agreement:4",
        due_at=now - timedelta(hours=3),
        done_at=now - timedelta(hours=3),
    )
    Clock.objects.create(  # not due yet
        kind="agreements.expire", subject="agreements.agreement:5", due_at=now + timedelta(days=1)
    )

    lines = due()

    due_now = section(lines, "Clocks due now")
    assert due_now[0] == "Clocks due now: 1"
    assert columns(due_now[1]) == ["kind", "subject", "key", "due", "late by", "tries"]
    assert columns(due_now[2])[:2] == ["signing.reminder", "signatories.signaturerequest:7"]
    assert columns(due_now[2])[4] == "2 min"
    overdue = section(lines, "Clocks overdue by more than 5 minutes")
    assert overdue[0] == "Clocks overdue by more than 5 minutes: 1"
    assert columns(overdue[2])[:2] == ["agreements.expire", "agreements.agreement:3"]
    assert columns(overdue[2])[4] == "40 min"
    assert not any(
        "agreements.agreement:4" in line or "agreements.agreement:5" in line for line in lines
    )


def test_due_shows_each_sweep_step_s_last_run(db):
    now = timezone.now()
    SweepRun.objects.create(
        step="outbox.deliver", finished_at=now - timedelta(minutes=3), acted_on=4
    )
    SweepRun.objects.create(
        step="retired.step",
        finished_at=now - timedelta(days=2, hours=1),
        acted_on=-1,
        error="OperationalError: server closed the connection",
    )

    lines = due()
    sweep = lines[lines.index("Sweep steps, last run:") :]

    assert columns(sweep[1]) == ["step", "finished", "ago", "acted on", "error"]
    rows = {columns(line)[0]: columns(line) for line in sweep[2:]}
    assert rows["outbox.deliver"][2:4] == ["3 min", "4"]
    assert rows["retired.step"][2:] == [
        "2 d 1 h",
        "-1",
        "OperationalError: server closed the connection",
    ]
    for name in set(sweeps.steps()) - {"outbox.deliver"}:  # registered, not run yet
        assert rows[name][1:3] == ["never", "-"]
