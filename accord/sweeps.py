"""The registry of steps the periodic sweep runs (see accord.tasks.sweep)."""

import logging
from collections.abc import Callable

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
        try:
            done[name] = step()
        except Exception:
            # One failing step must not stop the others; the next sweep tries again.
            logger.exception("Sweep step %s failed", name)
            done[name] = -1
    return done
