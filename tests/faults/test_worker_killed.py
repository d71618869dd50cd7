"""The worker killed (SIGKILL) in the middle of delivering a batch of e-mails: nothing is lost
and at most one message, the one in flight at the kill, arrives twice. The message it held is
left "sending"; once its claim is stale the sweep run by a new worker sends it again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from accord.kernel import outbox
from accord.kernel.models import OutboxMessage
from accord.kernel.tasks import sweep

from .conftest import needs_postgresql, needs_redis_server
from .servers import wait_until

pytestmark = [needs_postgresql, needs_redis_server, pytest.mark.django_db(transaction=True)]

MESSAGES = 30
KILL_AFTER = 10
SECONDS_PER_MESSAGE = 0.3
Status = OutboxMessage.Status


def statuses() -> dict[str, int]:
    counts = dict.fromkeys(Status.values, 0)
    for status in OutboxMessage.objects.values_list("status", flat=True):
        counts[status] += 1
    return counts


@pytest.mark.parametrize("moment", ["between_messages", "while_the_server_takes_one"])
def test_worker_killed_mid_batch_loses_no_email_and_sends_at_most_the_one_in_flight_twice(
    alpha, mail_server, broker, start_worker, record_property, moment
):
    mail_server.slow(SECONDS_PER_MESSAGE)
    first = start_worker()
    with transaction.atomic(), scope(partnership=alpha):
        stored = [
            outbox.enqueue(
                to=[f"signatory{n}@example.gov.uk"],
                subject=f"Please sign the protocol ({n})",
                text=f"Message {n}",
            )
            for n in range(MESSAGES)
        ]
    ids = {str(message.pk) for message in stored}
    assert broker.queued() >= MESSAGES - 2  # a task a message (the worker has taken one)

    if moment == "while_the_server_takes_one":
        # The server has taken the next message and not yet said so: the worker never hears.
        mail_server.wait_for(KILL_AFTER + 1, timeout=60)
    else:
        mail_server.wait_for(KILL_AFTER, timeout=60)
        wait_until(
            lambda: OutboxMessage.objects.filter(status=Status.SENT).count() >= KILL_AFTER,
            10,
            "the worker did not record the messages sent",
            interval=0.01,
        )
    first.kill()
    at_kill = len(mail_server.received)
    in_flight = set(
        OutboxMessage.objects.filter(status=Status.SENDING).values_list("pk", flat=True)
    )
    left = statuses()
    assert at_kill < MESSAGES, "the batch finished before the kill"
    assert len(in_flight) <= 1, left
    assert left[Status.QUEUED] + left[Status.SENDING] > 0, left

    # Ten minutes later (STALE_CLAIM): the dead worker's claim has lapsed.
    OutboxMessage.objects.filter(status=Status.SENDING).update(
        claimed_at=timezone.now() - outbox.STALE_CLAIM - timedelta(seconds=1)
    )
    second = start_worker()
    sweep.delay()  # behind the delivery tasks still queued: it sends what the dead one held

    wait_until(
        lambda: statuses()[Status.SENT] == MESSAGES,
        120,
        f"not every message was sent (statuses {statuses()}; worker log:\n{second.log()[-3000:]})",
        interval=0.2,
    )
    arrived = mail_server.ids()
    duplicates = {pk: n for pk, n in arrived.items() if n > 1}
    record_property("received_before_kill", at_kill)
    record_property("duplicates", sum(n - 1 for n in duplicates.values()))
    print(
        f"\nWorker killed after {at_kill} of {MESSAGES} messages; in flight: "
        f"{sorted(in_flight)}; duplicates by X-Accord-Message: {duplicates or 'none'}"
    )

    assert set(arrived) == ids  # nothing lost
    assert sum(n - 1 for n in duplicates.values()) <= 1
    assert set(duplicates) <= {str(pk) for pk in in_flight}
    assert len(mail_server.received) == MESSAGES + len(duplicates)
    assert outbox.deliver_due() == 0
