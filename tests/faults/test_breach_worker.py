"""A breach's warning with a real Celery worker on a real Redis and a real SMTP server: due a
few seconds from now, it arrives at its time; with the worker killed (SIGKILL) before it and
another started after it, it still arrives, and only once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from accord.kernel.models import Clock
from accord.kernel.tasks import sweep
from breaches import clocks, services
from breaches.models import Obligation, Recipient
from tenancy.roles import Role

from ..factories import OrganisationFactory, make_member, make_partner
from .conftest import needs_postgresql, needs_redis_server
from .servers import wait_until

pytestmark = [needs_postgresql, needs_redis_server, pytest.mark.django_db(transaction=True)]

SECONDS_AHEAD = 6
SUBJECT = "to tell Essex Cares Ltd of breach BR-0001"


def warning_due_soon(alpha) -> float:
    """A breach whose partner deadline is an hour and a few seconds away, its 24- and 6-hour
    warnings already sent: the 1-hour warning falls due SECONDS_AHEAD from now. Returns when,
    as a Unix time."""
    reporting = make_partner(
        alpha,
        OrganisationFactory(
            name="Essex County Council", deputy_dpo_email="deputy@essex.gov.example"
        ),
    )
    other = make_partner(
        alpha,
        OrganisationFactory(
            name="Essex Cares Ltd",
            data_protection_email="ig@essexcares.example",
            data_protection_email_confirmed_at=timezone.now(),
        ),
    )
    dpo = make_member(alpha, Role.DPO, organisation=reporting.organisation).user
    due = timezone.now() + timedelta(hours=1, seconds=SECONDS_AHEAD)
    with transaction.atomic(), scope(partnership=alpha):
        breach = services.log_breach(
            alpha,
            by=dpo,
            values={
                "title": "Visit notes sent to the wrong provider",
                "contact_name": "Ann Lee",
                "contact_email": "ann.lee@essex.gov.example",
                "detected_at": due - timedelta(hours=48),
                "what_happened": "Notes for 14 adults went to the wrong provider.",
            },
            involved=[reporting, other],
        )
        partner = Obligation.objects.get(breach=breach, recipient=Recipient.PARTNER)
        partner.warnings_sent = 2
        partner.save()  # the clock moves to the 1-hour warning, queued for its exact time
    (row,) = Clock.objects.filter(
        kind=clocks.WARNING, done_at=None, subject__endswith=f":{partner.pk}"
    )
    assert row.due_at == due - timedelta(hours=1)
    return row.due_at.timestamp()


def warnings(mail_server) -> list:
    return [m for m in mail_server.received if SUBJECT in m.subject]


def test_a_warning_due_in_seconds_arrives_at_its_time(alpha, start_worker, mail_server):
    worker = start_worker()
    due = warning_due_soon(alpha)

    wait_until(
        lambda: len(warnings(mail_server)) >= 3,
        SECONDS_AHEAD + 60,
        f"the warning did not arrive; worker log:\n{worker.log()[-3000:]}",
        interval=0.1,
    )
    arrived = warnings(mail_server)
    assert sorted(m.to[0] for m in arrived)[0] == "ann.lee@essex.gov.example"
    assert min(m.at for m in arrived) >= due - 1  # not before its time (a second's slack)
    assert min(m.at for m in arrived) <= due + 30  # a task at its time, not the next sweep
    time.sleep(2)
    assert len(warnings(mail_server)) == 3  # the DPO, the contact point, the deputy: once each


def test_a_warning_arrives_once_when_the_worker_is_killed_before_it_and_another_starts(
    alpha, start_worker, mail_server
):
    first = start_worker()
    due = warning_due_soon(alpha)
    time.sleep(1)  # the worker has taken the task that waits for the time
    first.kill()
    time.sleep(max(0.0, due - time.time()) + 1)
    assert warnings(mail_server) == []  # nobody sent it: the worker that held it is dead

    second = start_worker()
    sweep.delay()  # the periodic sweep, as beat would send it within the minute

    wait_until(
        lambda: len(warnings(mail_server)) >= 3,
        60,
        f"the warning did not arrive; worker log:\n{second.log()[-3000:]}",
        interval=0.1,
    )
    sweep.delay()  # a second sweep finds nothing left to send
    time.sleep(3)
    arrived = warnings(mail_server)
    assert len(arrived) == 3
    assert len({m.to for m in arrived}) == 3
