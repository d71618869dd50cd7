from .celery import app as celery_app
from .kernel import converters  # noqa: F401  (registers <id:...> and <text:...> before any URLconf)

__all__ = ["celery_app"]
