"""The registry of steps the periodic sweep runs (see accord.kernel.tasks.sweep).

Every step acts only on what it claims (a conditional update), so two sweeps at once, or a
sweep beside a task doing the same work, act on each thing once. When each step last
finished is kept (SweepRun) for monitoring: `/healthz/details` and `manage.py due`.
"""

import logging
from collections.abc import Callable

from django.utils import timezone

from .models import SweepRun

logger = logging.getLogger(__name__)

_steps: dict[str, Callable[[], int]] = {}


def register(name: str) -> Callable[[Callable[[], int]], Callable[[], int]]:
    """Register a sweep step: a callable returning how many things it acted on."""

    def decorator(func: Callable[[], int]) -> Callable[[], int]:
        _steps[name] = func
        return func

    return decorator


def steps() -> dict[str, Callable[[], int]]:
    return dict(_steps)


def run_all() -> dict[str, int]:
    done: dict[str, int] = {}
    for name, step in sorted(_steps.items()):
        error = ""
        try:
            done[name] = step()
        except Exception as exc:
            # One failing step must not stop the others; the next sweep tries again.
            logger.exception("Sweep step %s failed", name)
            done[name] = -1
            error = f"{type(exc).__name__}: {exc}"[:500]
        try:
            SweepRun.objects.update_or_create(
                step=name,
                defaults={"finished_at": timezone.now(), "acted_on": done[name], "error": error},
            )
        except Exception:  # monitoring must not stop the work it watches
            logger.exception("Could not record the sweep step %s", name)
    return done
