from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The project's wiring, above every app: root URLs, the demo data, the Celery app."""

    name = "accord"
    label = "site"
    verbose_name = "Accord site"
