from django.apps import AppConfig


class BreachesConfig(AppConfig):
    name = "breaches"
    verbose_name = "Personal data breaches"

    def ready(self) -> None:
        from . import registrations  # noqa: F401
