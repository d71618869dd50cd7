from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = "Agreements"

    def ready(self) -> None:
        from . import registrations  # noqa: F401  (navigation, dashboard, signals, sweep)
