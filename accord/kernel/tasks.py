"""Project-wide tasks: the periodic sweep and e-mail delivery."""

import logging

from celery import shared_task

from . import outbox, sweeps

logger = logging.getLogger(__name__)


@shared_task(name="accord.sweep")
def sweep() -> dict[str, int]:
    """Recompute everything that is due from stored state and act on it.

    Each app registers its own step (reminders, expiries, withdrawals taking effect). A step
    must be idempotent: running the sweep twice sends nothing twice.
    """
    return sweeps.run_all()


# Delivery of stored e-mails: one task a message, the sweep as the backstop.
deliver_message = outbox.deliver_message
sweeps.register("outbox.deliver")(outbox.deliver_due)
