from . import converters  # noqa: F401  (registers <id:...> and <text:...> before any URLconf)
from .celery import app as celery_app

__all__ = ["celery_app"]
