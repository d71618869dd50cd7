"""Background work: tenant tasks, the periodic sweep and e-mail, run by a real Celery worker
consuming the Redis broker (a thread in this process, so it shares mail.outbox)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from celery import current_task
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.core import mail
from django.db import connections, transaction
from django.utils import timezone
from django_scopes import scope

from accord.celery import app as celery_app
from accord.kernel import sweeps
from accord.kernel.mail import send_templated_email
from accord.kernel.tasks import sweep
from signatories.models import Partner, PartnerStatus
from signatories.services import change_partner_status
from tenancy.models import AuditEntry
from tenancy.tasks import partnership_task

from .factories import OrganisationFactory, make_partner

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="a real Celery worker needs the Redis broker: set REDIS_URL",
)

# What the test task saw, keyed by the marker each call passes.
seen: dict[str, dict[str, Any]] = {}


@partnership_task("tests.list_partners")
def list_partners(partnership, marker: str) -> None:
    """A tenant task: it gets its partnership's scope from the id it was queued with."""
    seen[marker] = {
        "partnership": partnership.slug,
        "partners": sorted(Partner.objects.values_list("organisation__name", flat=True)),
        "by_worker": not current_task.request.is_eager
        and threading.current_thread() is not threading.main_thread(),
    }


@dataclass
class Finished:
    name: str
    state: str
    retval: Any


class Worker:
    """The running worker, and a way to wait for the tasks it finishes."""

    def __init__(self) -> None:
        self.finished: queue.Queue[Finished] = queue.Queue()

    def on_postrun(self, sender=None, task=None, state=None, retval=None, **kwargs) -> None:
        # Runs in the worker's thread: give its database connection back, so that the test
        # database can be flushed and dropped.
        connections.close_all()
        self.finished.put(Finished(task.name, state, retval))

    def wait_for(self, name: str, timeout: float = 20) -> Finished:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                done = self.finished.get(timeout=remaining)
            except queue.Empty:
                break
            if done.name == name:
                return done
        raise AssertionError(f"The worker did not finish {name} within {timeout} seconds.")


@pytest.fixture
def worker(transactional_db, settings):
    """A real worker on the Redis broker, with tasks no longer run inline."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()  # nothing left over from an earlier run
    seen.clear()
    running = Worker()
    task_postrun.connect(running.on_postrun, weak=False)
    try:
        with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield running
    finally:
        task_postrun.disconnect(running.on_postrun)


# Tenant tasks


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_partnership_task_runs_in_its_partnership_scope_after_commit(worker, alpha, beta):
    make_partner(beta, OrganisationFactory(name="Beta-only Council"))

    with transaction.atomic():
        make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
        list_partners.delay_on_commit(alpha.pk, "committed")
        time.sleep(0.5)
        assert "committed" not in seen  # not even queued before the commit

    done = worker.wait_for("tests.list_partners")
    assert done.state == "SUCCESS"
    assert seen["committed"] == {
        "partnership": "alpha",
        "partners": ["Luton Borough Council"],
        "by_worker": True,
    }


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_partnership_task_queued_in_a_rolled_back_transaction_never_runs(worker, alpha, beta):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
        list_partners.delay_on_commit(alpha.pk, "rolled back")
        raise RuntimeError("the change fails")
    # Tasks run in order: once this later one has run, the first would have too.
    list_partners.delay_on_commit(beta.pk, "later")

    assert worker.wait_for("tests.list_partners").state == "SUCCESS"
    assert "rolled back" not in seen
    assert seen["later"] == {"partnership": "beta", "partners": [], "by_worker": True}
    with scope(partnership=alpha):
        assert not Partner.objects.exists()


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_each_partnership_task_sees_only_its_own_partnership(worker, alpha, beta):
    make_partner(alpha, OrganisationFactory(name="Alpha Council"))
    make_partner(beta, OrganisationFactory(name="Beta Council"))

    list_partners.delay(alpha.pk, "alpha")
    list_partners.delay(beta.pk, "beta")

    worker.wait_for("tests.list_partners")
    worker.wait_for("tests.list_partners")
    assert seen["alpha"] == {
        "partnership": "alpha",
        "partners": ["Alpha Council"],
        "by_worker": True,
    }
    assert seen["beta"] == {"partnership": "beta", "partners": ["Beta Council"], "by_worker": True}


# The periodic sweep


def withdrawing(partnership, name: str, days_ago: int) -> Partner:
    partner = make_partner(partnership, OrganisationFactory(name=name))
    with scope(partnership=partnership):
        return change_partner_status(
            partner,
            PartnerStatus.WITHDRAWING,
            reason="Merged with a neighbour",
            notice_given_on=timezone.localdate() - timedelta(days=days_ago),
        )


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_sweep_run_by_the_worker_completes_due_withdrawals_once(worker, alpha, beta):
    due = withdrawing(alpha, "Due Council", days_ago=28)
    also_due = withdrawing(beta, "Also Due Council", days_ago=60)
    not_yet = withdrawing(alpha, "Not Yet Council", days_ago=3)

    sweep.delay()

    done = worker.wait_for("accord.sweep")
    assert done.state == "SUCCESS"
    assert done.retval["partners.complete_due_withdrawals"] == 2
    with scope(partnership=alpha):
        assert Partner.objects.get(pk=due.pk).status == PartnerStatus.WITHDRAWN
        assert Partner.objects.get(pk=not_yet.pk).status == PartnerStatus.WITHDRAWING
        entry = AuditEntry.objects.filter(action="partner.status_changed").first()
        assert entry.summary == "Due Council is now withdrawn"
        assert entry.actor_name == "Accord (automatic)"
    with scope(partnership=beta):
        assert Partner.objects.get(pk=also_due.pk).status == PartnerStatus.WITHDRAWN

    sweep.delay()

    assert worker.wait_for("accord.sweep").retval["partners.complete_due_withdrawals"] == 0
    with scope(partnership=alpha):
        assert AuditEntry.objects.filter(summary="Due Council is now withdrawn").count() == 1


# E-mail


def invitation_context(partnership) -> dict[str, Any]:
    return {
        "partnership": partnership,
        "link": "https://accord.example.org/invitations/abc123/",
        "invitation": {
            "full_name": "Dana Scully",
            "invited_by": {"full_name": "Alice Smith"},
            "organisation": "Luton Borough Council",
            "role_labels": ["Viewer", "Data protection officer"],
            "expires_at": timezone.now() + timedelta(days=14),
        },
    }


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_templated_email_is_delivered_by_the_worker(worker, alpha):
    send_templated_email(
        "invitation",
        ["dana@example.org", "dana@example.org", "dpo@example.org"],
        invitation_context(alpha),
    )

    assert worker.wait_for("accord.deliver_message").state == "SUCCESS"
    (message,) = mail.outbox
    assert message.subject == "You are invited to join Alpha Partnership on Accord"
    assert message.to == ["dana@example.org", "dpo@example.org"]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert "Hello Dana Scully," in message.body
    assert "Alice Smith has invited you to join Alpha Partnership" in message.body
    assert "https://accord.example.org/invitations/abc123/" in message.body
    assert "<" not in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert "<strong>Alpha Partnership</strong>" in html
    assert '<a href="https://accord.example.org/invitations/abc123/">' in html


@needs_redis
@pytest.mark.django_db(transaction=True)
def test_email_of_a_rolled_back_change_is_never_sent(worker, alpha):
    with pytest.raises(RuntimeError), transaction.atomic():
        send_templated_email("invitation", ["lost@example.org"], invitation_context(alpha))
        raise RuntimeError("the change fails")
    send_templated_email("invitation", ["kept@example.org"], invitation_context(alpha))

    worker.wait_for("accord.deliver_message")
    assert [m.to for m in mail.outbox] == [["kept@example.org"]]


# Without a worker


def test_beat_schedule_runs_the_sweep_regularly():
    entry = settings.CELERY_BEAT_SCHEDULE["sweep"]
    assert entry["task"] == "accord.sweep"
    assert 0 < entry["schedule"] <= 3600
    assert celery_app.conf.beat_schedule["sweep"]["task"] == "accord.sweep"
    assert "accord.sweep" in celery_app.tasks
    assert "accord.deliver_message" in celery_app.tasks


def test_sweep_steps_include_completing_withdrawals():
    assert "partners.complete_due_withdrawals" in sweeps.steps()


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.mark.django_db
def test_a_failing_sweep_step_does_not_stop_the_others(monkeypatch, alpha):
    ran = []

    def broken() -> int:
        raise RuntimeError("the mail server is down")

    def counting() -> int:
        ran.append("counting")
        return 3

    # Steps run in name order: the broken one first, then the others.
    monkeypatch.setitem(sweeps._steps, "aaa.broken", broken)
    monkeypatch.setitem(sweeps._steps, "zzz.counting", counting)
    due = withdrawing(alpha, "Due Council", days_ago=30)

    logged = Recorder()
    logging.getLogger("accord.kernel.sweeps").addHandler(logged)
    try:
        done = sweeps.run_all()
    finally:
        logging.getLogger("accord.kernel.sweeps").removeHandler(logged)

    assert done["aaa.broken"] == -1
    assert done["zzz.counting"] == 3
    assert done["partners.complete_due_withdrawals"] == 1
    assert ran == ["counting"]
    with scope(partnership=alpha):
        assert Partner.objects.get(pk=due.pk).status == PartnerStatus.WITHDRAWN
    (record,) = logged.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "Sweep step aaa.broken failed"
    assert str(record.exc_info[1]) == "the mail server is down"


@pytest.mark.django_db
def test_sweep_task_returns_what_each_step_did(alpha):
    withdrawing(alpha, "Due Council", days_ago=30)

    # Inline here (the default in tests): the same task beat queues every few minutes.
    result = sweep.delay().get()

    assert result["partners.complete_due_withdrawals"] == 1
