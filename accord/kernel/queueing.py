"""Queueing a task once the caller's change is saved, without a down broker ever turning that
saved change into an error: the failure is logged, and the stored state lets the sweep (or the
next request) pick the work up again."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def queue_now(task: Any, *args: Any, **kwargs: Any) -> bool:
    """Publish `task` at once; False (logged) when the broker cannot be reached."""
    try:
        task.delay(*args, **kwargs)
    except Exception:  # a broker outage delays the work; it must not fail the request
        logger.warning(
            "Could not queue %s%r; it waits for the sweep", task.name, args, exc_info=True
        )
        return False
    return True


def queue_at_on_commit(task: Any, eta: Any, *args: Any) -> None:
    """Publish `task(*args)` to run at `eta`, once the current transaction commits; a down
    broker is logged (whatever it was for must not depend on it: the sweep is the truth)."""

    def publish() -> None:
        try:
            task.apply_async(args=args, eta=eta)
        except Exception:
            logger.warning("Could not queue %s%r for %s", task.name, args, eta, exc_info=True)

    transaction.on_commit(publish)


def queue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Publish `task` once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: queue_now(task, *args, **kwargs))
