"""System checks of the documents app."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning

from .seal import seal_files


def seal_files_present(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """documents.W001: outside development the seal's certificate and key must both exist,
    or every PDF download fails (development makes a self-signed pair when needed)."""
    if settings.DEBUG:
        return []
    missing = [str(path) for path in seal_files() if not path.exists()]
    if not missing:
        return []
    return [
        Warning(
            "The PDF seal's certificate or private key is missing: " + ", ".join(missing) + ".",
            hint="Set SEAL_CERTIFICATE_FILE and SEAL_KEY_FILE to the platform certificate and "
            "its key (`manage.py make_seal_certificate` makes a self-signed pair for trials).",
            id="documents.W001",
        )
    ]
