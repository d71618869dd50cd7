from django.apps import AppConfig


class AccordConfig(AppConfig):
    name = "accord"
    verbose_name = "Accord"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        # The sweep's own steps (the outbox's backstop) are registered with its tasks.
        from . import clocks, tasks  # noqa: F401

        post_migrate.connect(clocks.reconcile_new_kinds, sender=self, dispatch_uid="clocks")
