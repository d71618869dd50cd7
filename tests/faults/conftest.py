from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest
from django.db import connection

from accord.celery import app as celery_app

from .servers import MailServer, RedisServer, WorkerProcess, database_url, point_celery_at

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="runs against PostgreSQL (set DATABASE_URL): concurrent sweeps and workers",
)

needs_redis_server = pytest.mark.skipif(
    shutil.which("redis-server") is None, reason="needs the redis-server program"
)


@pytest.fixture
def mail_server(settings) -> Iterator[MailServer]:
    """A real SMTP server, and Accord sending its e-mail to it."""
    with MailServer() as server:
        for name, value in server.django_settings().items():
            setattr(settings, name, value)
        yield server


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A redis-server of the test's own, that the test may stop and start."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def broker(redis_server, settings) -> Iterator[RedisServer]:
    """Tasks are published to the test's Redis (not run inline), as in production."""
    conf = celery_app.conf
    saved = conf.broker_url, conf.task_always_eager
    settings.CELERY_BROKER_URL = redis_server.url
    point_celery_at(celery_app, redis_server.url)
    conf.task_always_eager = False
    try:
        yield redis_server
    finally:
        point_celery_at(celery_app, saved[0])
        conf.task_always_eager = saved[1]


@pytest.fixture
def start_worker(transactional_db, broker, mail_server, tmp_path) -> Iterator[Callable]:
    """Start `celery -A accord worker` processes on the test's Redis, the test database and
    the test's mail server; every one is stopped before the database is flushed."""
    started: list[WorkerProcess] = []

    def start(**options) -> WorkerProcess:
        worker = WorkerProcess(
            broker_url=broker.url,
            database_url=database_url(connection.settings_dict),
            email_url=mail_server.url,
            log_dir=str(tmp_path),
            **options,
        )
        started.append(worker)
        return worker.start()

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()
