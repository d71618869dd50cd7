"""Project-wide tasks: the periodic sweep and e-mail delivery."""

import logging

from celery import shared_task

from . import sweeps
from .mail import deliver

logger = logging.getLogger(__name__)


@shared_task(name="accord.sweep")
def sweep() -> dict[str, int]:
    """Recompute everything that is due from stored state and act on it.

    Each app registers its own step (reminders, expiries, withdrawals taking effect). A step
    must be idempotent: running the sweep twice sends nothing twice.
    """
    return sweeps.run_all()


@shared_task(name="accord.send_email", autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_email(message: dict) -> None:
    deliver(message)
