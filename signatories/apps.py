from django.apps import AppConfig


class SignatoriesConfig(AppConfig):
    name = "signatories"
    verbose_name = "Organisations and partners"

    def ready(self) -> None:
        from . import registrations  # noqa: F401
