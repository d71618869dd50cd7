"""One clock engine for everything due at a time.

Each kind of timed thing (a signing reminder, a link expiring, a withdrawal taking effect, an
agreement expiring; next the breach deadlines and reviews) registers here once:

- `due_for(obj)`: when it is next due, computed from the object's stored facts (None: never);
- `act(clock)`: what to do when it is, returning a few words for the record (None when the
  facts say nothing is to be done after all: the row is closed, and not counted as acted).

`recompute(kind, obj)` keeps the one open row of that kind for the object in step with its
facts: call it whenever a fact changes (apps connect it to the model's post_save). Each app
registers a sweep step per kind calling `run_due(kind)`: it selects the due rows by index
(`due_now`), claims each with a
conditional UPDATE, and in one transaction marks it done and acts, so two sweeps at once act
once, a worker dying mid-act leaves the claim to lapse (LEASE) and the act's changes rolled
back, and a failing act is released for the next sweep. A row due before the next sweep is
also queued as a task at its exact time (`run_clocks`, for minute precision); the rows stay
the truth, and that task only runs the same selection early.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django_scopes import scopes_disabled

from .models import Clock
from .queueing import queue_at_on_commit

logger = logging.getLogger(__name__)

# A claim older than this belongs to a worker that died while acting.
LEASE = timedelta(minutes=10)
BATCH = 1000


@dataclass(frozen=True)
class ClockKind:
    name: str
    model: type[models.Model]
    due_for: Callable[[Any], datetime | None]
    act: Callable[[Clock], str | None]
    partnership_of: Callable[[Any], int | None]
    candidates: Callable[[], QuerySet] | None


_kinds: dict[str, ClockKind] = {}


def kind(
    name: str,
    *,
    model: type[models.Model],
    due_for: Callable[[Any], datetime | None],
    partnership_of: Callable[[Any], int | None] = lambda obj: getattr(obj, "partnership_id", None),
    candidates: Callable[[], QuerySet] | None = None,
) -> Callable[[Callable[[Clock], str | None]], Callable[[Clock], str | None]]:
    """Register a kind of clock by its act. `candidates()` lists every object that may need
    one (all partnerships): `reconcile` gives each its row, on the engine's first migration."""

    def decorator(act: Callable[[Clock], str | None]) -> Callable[[Clock], str | None]:
        _kinds[name] = ClockKind(name, model, due_for, act, partnership_of, candidates)
        return act

    return decorator


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day`, UK time: a date's clock falls due as the day begins."""
    return timezone.make_aware(datetime.combine(day, time.min))


def kinds() -> dict[str, ClockKind]:
    return dict(_kinds)


def subject_of(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def subject_pk(clock: Clock) -> int:
    return int(clock.subject.rsplit(":", 1)[1])


def recompute(name: str, obj: models.Model, *, key: str = "") -> Clock | None:
    """Bring the object's open clock of this kind in line with its facts (in the caller's
    transaction): moved when the due time changed, closed as not needed when it is None."""
    spec = _kinds[name]
    due = spec.due_for(obj)
    subject = subject_of(obj)
    open_rows = Clock.objects.filter(kind=name, subject=subject, key=key, done_at__isnull=True)
    if due is None:
        open_rows.update(done_at=timezone.now(), outcome="no longer due")
        return None
    current = open_rows.first()
    if current is not None:
        if current.due_at != due:
            open_rows.update(due_at=due, claimed_at=None)
            current.due_at = due
            _sooner_than_the_sweep(name, due)
        return current
    try:
        with transaction.atomic():
            made = Clock.objects.create(
                kind=name,
                subject=subject,
                key=key,
                due_at=due,
                partnership_id=spec.partnership_of(obj),
            )
    except IntegrityError:  # made by a concurrent recompute of the same facts
        return open_rows.first()
    _sooner_than_the_sweep(name, due)
    return made


def _sooner_than_the_sweep(name: str, due: datetime) -> None:
    """A row due before the next sweep is also run at its exact time."""
    now = timezone.now()
    if now < due <= now + timedelta(seconds=settings.SWEEP_INTERVAL_SECONDS):
        queue_at_on_commit(run_clocks, due, name)


@shared_task(name="accord.run_clocks")
def run_clocks(name: str) -> int:
    """Run one kind's due rows now (queued for the exact time of a row due between sweeps)."""
    return run_due(name) if name in _kinds else 0


def due_now(name: str, now: datetime | None = None) -> QuerySet:
    """The open rows of a kind due by `now`, earliest first: one index range scan."""
    now = now or timezone.now()
    return Clock.objects.filter(kind=name, done_at__isnull=True, due_at__lte=now).order_by("due_at")


def _claim(pk: int, now: datetime) -> bool:
    return bool(
        Clock.objects.filter(pk=pk, done_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )


def run_due(name: str, now: datetime | None = None, limit: int = BATCH) -> int:
    """Sweep step for one kind: act once on each row due. Returns how many were acted on."""
    spec = _kinds[name]
    now = now or timezone.now()
    ids = list(
        due_now(name, now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - LEASE))
        .values_list("pk", flat=True)[:limit]
    )
    acted = 0
    for pk in ids:
        if not _claim(pk, now):
            continue  # another sweep has it
        try:
            with transaction.atomic():
                clock = Clock.objects.select_for_update().get(pk=pk)
                if clock.done_at is not None:
                    continue
                Clock.objects.filter(pk=pk).update(done_at=timezone.now())
                outcome = spec.act(clock)
                Clock.objects.filter(pk=pk).update(outcome=(outcome or "nothing to do")[:200])
        except Exception:
            logger.exception("Clock %s (%s) failed; the next sweep tries again", pk, name)
            Clock.objects.filter(pk=pk, done_at__isnull=True).update(claimed_at=None)
            continue
        acted += outcome is not None
    return acted


def reconcile(name: str) -> int:
    """Recompute the clock of every candidate of a kind (crossing partnerships: the rows are
    the engine's, not a tenant's). Returns how many objects were looked at."""
    spec = _kinds[name]
    if spec.candidates is None:
        return 0
    seen = 0
    with scopes_disabled():
        for obj in spec.candidates().iterator(chunk_size=500):
            with transaction.atomic():
                recompute(name, obj)
            seen += 1
    return seen


def reconcile_new_kinds(**kwargs: Any) -> None:
    """post_migrate: a kind with no row at all yet (a deployment that predates it) has its
    rows made from the stored facts, so nothing that was due before is forgotten."""
    for name in _kinds:
        if not Clock.objects.filter(kind=name).exists():
            reconcile(name)
