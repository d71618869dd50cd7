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


def queue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Publish `task` once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(lambda: queue_now(task, *args, **kwargs))
