from django.apps import AppConfig


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Partnerships"

    def ready(self) -> None:
        from . import dashboard, registrations  # noqa: F401  (cards and navigation)
