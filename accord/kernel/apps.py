from django.apps import AppConfig
from django.db.models.signals import post_migrate


class KernelConfig(AppConfig):
    """What every app stands on: the outbox, the clocks, the sweep, request context, forms.

    Its label stays "accord", so its tables and migrations keep their names."""

    name = "accord.kernel"
    label = "accord"
    verbose_name = "Accord"

    def ready(self) -> None:
        # The sweep's own steps (the outbox's backstop) are registered with its tasks.
        from . import clocks, tasks  # noqa: F401

        post_migrate.connect(clocks.reconcile_new_kinds, sender=self, dispatch_uid="clocks")
