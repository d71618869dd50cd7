"""The base for tenant tasks: they take ids and enter the partnership's scope themselves."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from celery import shared_task

from .sweeps import in_partnership


def partnership_task(name: str, **options: Any) -> Callable:
    """Turn `func(partnership, *ids)` into a Celery task called as `task(partnership_id, *ids)`.

    Queue it with `accord.kernel.queueing.queue_on_commit(task, ...)` so it runs only once the
    caller's change is saved, and a down broker is logged rather than raised.
    """

    def decorator(func: Callable) -> Any:
        @shared_task(name=name, **options)
        @functools.wraps(func)
        def run(partnership_id: int, *args: Any, **kwargs: Any) -> Any:
            with in_partnership(partnership_id) as partnership:
                return func(partnership, *args, **kwargs)

        return run

    return decorator
