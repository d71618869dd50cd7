from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews and monitoring"

    def ready(self) -> None:
        from . import monitoring_clocks, registrations  # noqa: F401
