from django.apps import AppConfig
from django.core import checks


class DocumentsConfig(AppConfig):
    name = "documents"
    verbose_name = "Documents"

    def ready(self) -> None:
        from . import registrations  # noqa: F401  (audit labels)
        from .checks import seal_files_present

        checks.register(seal_files_present, checks.Tags.security)
