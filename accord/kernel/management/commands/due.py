"""`manage.py due`: what is due and what is stuck, as plain text for whoever is on call.

E-mails waiting past their next attempt or held by a worker for too long, e-mails that were not
delivered and why, clocks that are due or overdue, and when each step of the periodic sweep
last finished. A long list under "overdue" or an old sweep means the worker or the scheduler
(beat) has stopped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from accord.kernel import sweeps
from accord.kernel.models import Clock, OutboxMessage, SweepRun

Status = OutboxMessage.Status
# A message claimed longer ago than this belongs to a worker that died while sending.
SENDING_TOO_LONG = timedelta(minutes=10)
# A clock still open this long after its time has not been acted on by the sweep.
CLOCK_OVERDUE = timedelta(minutes=5)
FAILED_SHOWN = 10
# Longer lists are cut, with how many more there are.
ROWS_SHOWN = 50


def duration(delta: timedelta) -> str:
    """A short, human length of time: "45 s", "12 min", "3 h 5 min", "2 d 4 h"."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def when(moment: datetime | None) -> str:
    """A time in UK time, to the minute."""
    if moment is None:
        return "never"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Rows under their headers, each column as wide as its widest cell, indented by two."""
    cells = [[str(cell) for cell in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in cells
    ]


def shorten(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class Command(BaseCommand):
    help = (
        "Lists what is due and what is stuck: e-mails waiting, being sent too long or not "
        "delivered, clocks due and overdue, and each sweep step's last run."
    )

    def handle(self, *args: object, **options: object) -> None:
        now = timezone.now()
        lines = [f"Due and stuck at {when(now)} (UK time)", ""]
        lines += self._waiting(now)
        lines += self._sending(now)
        lines += self._failed()
        lines += self._clocks(now)
        lines += self._sweep(now)
        self.stdout.write("\n".join(lines).rstrip())

    def _section(self, title: str, count: int, headers: Sequence[str], rows: list) -> list[str]:
        lines = [f"{title}: {count}"]
        if rows:
            lines += table(headers, rows)
            if count > len(rows):
                lines.append(f"  and {count - len(rows)} more")
        return [*lines, ""]

    def _waiting(self, now: datetime) -> list[str]:
        waiting = OutboxMessage.objects.filter(status=Status.QUEUED, next_attempt_at__lte=now)
        rows = [
            (
                m.pk,
                when(m.created_at),
                when(m.next_attempt_at),
                duration(now - m.next_attempt_at),
                m.attempts,
                ", ".join(m.to),
                shorten(m.subject),
            )
            for m in waiting.order_by("next_attempt_at", "pk")[:ROWS_SHOWN]
        ]
        headers = ("id", "stored", "next attempt", "waiting", "tries", "to", "subject")
        return self._section(
            "E-mails waiting past their next attempt", waiting.count(), headers, rows
        )

    def _sending(self, now: datetime) -> list[str]:
        held = OutboxMessage.objects.filter(
            status=Status.SENDING, claimed_at__lt=now - SENDING_TOO_LONG
        )
        rows = [
            (
                m.pk,
                when(m.created_at),
                when(m.claimed_at),
                duration(now - m.claimed_at),
                m.attempts,
                ", ".join(m.to),
                shorten(m.subject),
            )
            for m in held.order_by("claimed_at", "pk")[:ROWS_SHOWN]
        ]
        headers = ("id", "stored", "claimed", "held", "tries", "to", "subject")
        return self._section(
            "E-mails being sent for more than 10 minutes", held.count(), headers, rows
        )

    def _failed(self) -> list[str]:
        failed = OutboxMessage.objects.filter(status=Status.FAILED)
        count = failed.count()
        rows = [
            (
                m.pk,
                when(m.created_at),
                m.attempts,
                ", ".join(m.to),
                shorten(m.subject, 40),
                shorten(m.last_error or "no reason recorded", 80),
            )
            for m in failed.order_by("-created_at", "-pk")[:FAILED_SHOWN]
        ]
        title = "E-mails not delivered"
        if count > FAILED_SHOWN:
            title += f" (the {FAILED_SHOWN} newest shown)"
        headers = ("id", "stored", "tries", "to", "subject", "reason")
        lines = [f"{title}: {count}"]
        if rows:
            lines += table(headers, rows)
        return [*lines, ""]

    def _clocks(self, now: datetime) -> list[str]:
        open_clocks = Clock.objects.filter(done_at__isnull=True)
        headers = ("kind", "subject", "key", "due", "late by", "tries")

        def rows(clocks) -> list:
            return [
                (
                    c.kind,
                    c.subject,
                    c.key or "-",
                    when(c.due_at),
                    duration(now - c.due_at),
                    c.attempts,
                )
                for c in clocks.order_by("due_at", "pk")[:ROWS_SHOWN]
            ]

        due = open_clocks.filter(due_at__lte=now, due_at__gte=now - CLOCK_OVERDUE)
        overdue = open_clocks.filter(due_at__lt=now - CLOCK_OVERDUE)
        return [
            *self._section("Clocks due now", due.count(), headers, rows(due)),
            *self._section(
                "Clocks overdue by more than 5 minutes", overdue.count(), headers, rows(overdue)
            ),
        ]

    def _sweep(self, now: datetime) -> list[str]:
        runs = {run.step: run for run in SweepRun.objects.all()}
        names = sorted(set(runs) | set(sweeps.steps()))
        rows = []
        for name in names:
            run = runs.get(name)
            if run is None:
                rows.append((name, "never", "-", "-", ""))
                continue
            rows.append(
                (
                    name,
                    when(run.finished_at),
                    duration(now - run.finished_at),
                    run.acted_on,
                    shorten(run.error, 80),
                )
            )
        lines = ["Sweep steps, last run:"]
        if rows:
            lines += table(("step", "finished", "ago", "acted on", "error"), rows)
        else:
            lines.append("  none registered and none run")
        return lines
