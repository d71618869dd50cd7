"""`manage.py seed_demo`: the demo data, safe to run again.

Three steps in one transaction: the partnerships, organisations and people (signatories.demo),
each partnership's authorised signatories and protocol (protocols.demo), then the demo
information sharing agreements (agreements.demo) and breaches (breaches.demo). Each adds only
what is missing, so a second run changes nothing.

The e-mails the services send while seeding (approvals, signing requests, confirmations and
reminders: about 150, to invented people) go nowhere: they are delivered inline, as the
transaction commits, to Django's dummy backend instead of being queued for the worker, and
Celery's line for each is not logged. No PDF is rendered or queued (see protocols.demo).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.test.utils import override_settings

from accord.celery import app as celery_app
from agreements import demo as agreements_demo
from breaches import demo as breaches_demo
from protocols import demo as protocols_demo
from signatories import demo as signatories_demo

DUMMY_EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# Loggers that would print a line for each e-mail sent inline (and one warning about the
# filesystem broker having no host name).
NOISY_LOGGERS = ("celery.app.trace", "kombu.connection")


class Command(BaseCommand):
    help = (
        "Create the demo partnerships (Bedfordshire, Leicestershire, the Wider Eastern "
        "Information Stakeholder Forum and Leeds), their organisations, invented people for "
        "every role, authorised signatories and a protocol for each at a different stage of "
        "signing. Running it again adds only what is missing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            help="Password for every demo person (default: $DEMO_PASSWORD, else "
            f"{signatories_demo.DEFAULT_PASSWORD}). Existing demo people are given it if "
            "theirs differs.",
        )
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing unless something goes wrong."
        )

    def handle(
        self, *args: Any, password: str | None = None, quiet: bool = False, **options: Any
    ) -> None:
        password = password or os.environ.get("DEMO_PASSWORD") or signatories_demo.DEFAULT_PASSWORD
        try:
            with emails_dropped(), transaction.atomic():
                reports = [
                    signatories_demo.seed(password),
                    protocols_demo.seed(),
                    agreements_demo.seed(),
                    breaches_demo.seed(),
                ]
        except signatories_demo.InconsistentDemoData as exc:
            raise CommandError(str(exc)) from exc
        if not quiet:
            self.stdout.write(" ".join(r for r in reports if r) or "Demo data already in place.")
            self.stdout.write(protocols_demo.progress())
            self.stdout.write(agreements_demo.progress())
            self.stdout.write(breaches_demo.progress())
            self.stdout.write(signatories_demo.sign_in_table(password))


@contextmanager
def emails_dropped() -> Iterator[None]:
    """E-mails queued in this block are sent at once (when their transaction commits, inside
    the block) to the dummy backend, which discards them: none reaches the worker's queue."""
    eager = celery_app.conf.task_always_eager
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    levels = [logger.level for logger in loggers]
    celery_app.conf.task_always_eager = True
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with override_settings(EMAIL_BACKEND=DUMMY_EMAIL_BACKEND):
            yield
    finally:
        celery_app.conf.task_always_eager = eager
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
