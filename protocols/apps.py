from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "protocols"
    verbose_name = "Protocols"

    def ready(self) -> None:
        from . import registrations  # noqa: F401  (navigation, dashboard, signals)
