"""Accord's Celery application.

With REDIS_URL set, Redis is the broker. Without it, kombu's filesystem transport under
var/celery stands in, so `make run` needs nothing installed: its worker (with the beat
scheduler embedded) consumes the same folder the web process writes to.
"""

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")

app = Celery("accord", task_cls="celery.contrib.django.task:DjangoTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _prepare_filesystem_broker() -> None:
    """Kombu's filesystem transport needs its folders before the first message."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            os.makedirs(options[key], exist_ok=True)


_prepare_filesystem_broker()
