"""Two sweeps at once (two beat schedulers, or a sweep beside a slow one) on PostgreSQL, over
1,000 due rows each: every clock is acted on once and every e-mail arrives once, however the
two interleave."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from accord.kernel import clocks, outbox
from accord.kernel.models import Clock, OutboxMessage

from .conftest import needs_postgresql

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]

ROWS = 1000
KIND = "tests.two_sweeps"


def at_once(work: Callable[[], int], threads: int = 2) -> list[int]:
    """Run `work` in `threads` threads started together, each on its own connection."""
    start = threading.Barrier(threads)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            start.wait(timeout=30)
            results.append(work())
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    running = [threading.Thread(target=run) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in running), "a sweep did not finish"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def test_kind(monkeypatch) -> list[int]:
    """A clock kind of the test's own: acting records the clock's id."""
    acted: list[int] = []
    monkeypatch.setitem(clocks._kinds, KIND, None)  # removed again after the test

    @clocks.kind(KIND, model=Clock, due_for=lambda obj: None)
    def act(clock: Clock) -> str:
        acted.append(clock.pk)
        return "acted"

    return acted


def test_two_clock_sweeps_at_once_act_on_each_of_1000_due_rows_exactly_once(test_kind):
    now = timezone.now()
    Clock.objects.bulk_create(
        Clock(
            kind=KIND,
            partnership_id=1 + n % 10,
            subject=f"tests.thing:{n}",
            due_at=now - timedelta(seconds=ROWS - n),
        )
        for n in range(ROWS)
    )
    not_yet = Clock.objects.create(
        kind=KIND, subject="tests.thing:later", due_at=now + timedelta(hours=1)
    )

    counts = at_once(lambda: clocks.run_due(KIND))

    due = set(Clock.objects.filter(kind=KIND).exclude(pk=not_yet.pk).values_list("pk", flat=True))
    assert sum(counts) == ROWS
    assert len(test_kind) == ROWS
    assert Counter(test_kind).most_common(1)[0][1] == 1  # nobody acted on twice
    assert set(test_kind) == due
    assert not Clock.objects.filter(pk__in=due, done_at__isnull=True).exists()
    assert set(Clock.objects.filter(pk__in=due).values_list("outcome", flat=True)) == {"acted"}
    assert set(Clock.objects.filter(pk__in=due).values_list("attempts", flat=True)) == {1}
    assert Clock.objects.get(pk=not_yet.pk).done_at is None
    # Another sweep after both finds nothing left to do.
    assert clocks.run_due(KIND) == 0
    assert len(test_kind) == ROWS


def test_two_outbox_sweeps_at_once_deliver_each_of_1000_messages_exactly_once(mail_server):
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        OutboxMessage(
            partnership_id=1 + n % 10,
            to=[f"person{n}@example.gov.uk"],
            subject=f"Reminder {n}",
            text=f"Message {n}",
            next_attempt_at=now - timedelta(seconds=ROWS - n),
        )
        for n in range(ROWS)
    )
    ids = {str(pk) for pk in OutboxMessage.objects.values_list("pk", flat=True)}

    def sweep() -> int:
        sent = 0
        while done := outbox.deliver_due():  # 500 a call, as the periodic sweep does
            sent += done
        return sent

    counts = at_once(sweep)

    arrived = mail_server.ids()
    assert sum(counts) == ROWS
    assert set(arrived) == ids
    assert max(arrived.values()) == 1
    assert len(mail_server.received) == ROWS
    assert OutboxMessage.objects.filter(status=OutboxMessage.Status.SENT).count() == ROWS
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    assert outbox.deliver_due() == 0
    assert len(mail_server.received) == ROWS
