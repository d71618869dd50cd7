"""Redis is an accelerator, never needed for correctness: with it stopped, signing in (and its
throttle), partnership pages, the verify page and forms that send e-mail keep working, and
publishing a task fails in a second or two instead of hanging; once Redis is back, tasks are
queued on it again.

Each test starts a real redis-server of its own, points at it every Redis the application
uses (the Celery broker, and any cache on Redis), and stops it with SIGTERM midway.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Iterator

import kombu.pools
import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django_scopes import scope
from kombu.exceptions import OperationalError
from kombu.utils.collections import eqhash

from accord.celery import app as celery_app
from accord.kernel import outbox
from accord.kernel.models import OutboxMessage
from reviews.models import FeedbackRequest
from tenancy.models import Invitation
from tenancy.roles import Role

from .factories import (
    PASSWORD,
    OrganisationFactory,
    UserFactory,
    make_document,
    make_member,
    make_partner,
)
from .faults.servers import RedisServer, free_port, silent_port
from .review_factories import protocol_in_force

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not settings.REDIS_URL or shutil.which("redis-server") is None,
        reason="needs redis-server and the Redis settings (REDIS_URL)",
    ),
]

LOGIN = "/accounts/login/"
# The longest a request may wait on a stopped or silent broker (the settings allow about 2 s).
FAIL_FAST_SECONDS = 5


def _take_pools_afresh() -> None:
    """Celery's next publish takes the connection pools of the broker configured now."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def publishing_to(settings, url: str) -> Iterator[None]:
    """Celery publishes to this broker (it reads its settings from Django's) over pools of its
    own, closed and forgotten afterwards; the suite's broker and its pools are left as they
    were."""
    previous = settings.CELERY_BROKER_URL
    settings.CELERY_BROKER_URL = url
    _take_pools_afresh()
    try:
        yield
    finally:
        with celery_app.connection_for_write(url) as connection:
            key = eqhash(connection)
        for group in (kombu.pools.producers, kombu.pools.connections):
            pool = dict.pop(group, key, None)
            if pool is not None:
                pool.force_close_all()
        settings.CELERY_BROKER_URL = previous
        _take_pools_afresh()


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def on_redis(redis_server, settings) -> Iterator[RedisServer]:
    """The application's Redis is the test's server, and tasks are published to it (not run
    inline), as in production."""
    settings.CACHES = {
        alias: {**conf, "LOCATION": redis_server.url} if "redis" in conf["BACKEND"] else conf
        for alias, conf in settings.CACHES.items()
    }
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    cache.clear()
    try:
        with publishing_to(settings, redis_server.url):
            yield redis_server
    finally:
        celery_app.conf.task_always_eager = eager


def queued_tasks(server: RedisServer) -> int:
    return server.client().llen(celery_app.conf.task_default_queue)


def sign_in(client, email: str, password: str = PASSWORD):
    return client.post(LOGIN, {"login": email, "password": password})


def test_signing_in_works_while_redis_is_down(client, on_redis):
    user = UserFactory(email="dana.price@example.org")
    assert sign_in(client, user.email).status_code == 302
    client.logout()

    on_redis.stop()

    assert client.get(LOGIN).status_code == 200
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert client.get(response["Location"]).context["user"] == user
    client.logout()

    on_redis.start()
    assert sign_in(client, user.email).status_code == 302


def test_failed_sign_ins_are_still_counted_and_throttled_while_redis_is_down(client, on_redis):
    UserFactory(email="erin@example.org")
    on_redis.stop()

    for _ in range(5):
        wrong = sign_in(client, "erin@example.org", "wrong-password")
        assert wrong.status_code == 200
        assert "There is a problem" in wrong.content.decode()
    response = sign_in(client, "erin@example.org")

    assert response.status_code == 200
    assert "Too many failed" in response.content.decode()
    assert "_auth_user_id" not in client.session

    on_redis.start()  # the count lives in the database, not in the Redis that went away
    assert "Too many failed" in sign_in(client, "erin@example.org").content.decode()


def test_partnership_pages_and_the_verify_page_work_while_redis_is_down(client, alpha, on_redis):
    viewer = make_member(alpha, Role.VIEWER).user
    document = make_document(alpha, title="Bedfordshire Protocol")
    client.force_login(viewer)
    on_redis.stop()

    dashboard = client.get("/p/alpha/")
    assert dashboard.status_code == 200
    assert "Alpha Partnership" in dashboard.content.decode()
    assert client.get("/p/alpha/protocols/").status_code == 200
    assert client.get("/verify/").status_code == 200
    checked = client.post("/verify/", {"sha256": document.sha256})
    assert checked.status_code == 200
    assert "Bedfordshire Protocol" in checked.content.decode()

    on_redis.start()
    assert client.get("/p/alpha/").status_code == 200


def test_an_invitation_is_saved_and_its_email_kept_while_redis_is_down(
    client, alpha, alice, on_redis, django_capture_on_commit_callbacks
):
    council = make_partner(alpha, OrganisationFactory(name="Luton Borough Council")).organisation
    client.force_login(alice)

    def invite(email: str):
        data = {
            "email": email,
            "full_name": "New Person",
            "organisation": council.pk,
            "roles": ["ig_officer"],
        }
        started = time.monotonic()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/p/alpha/people/invite/", data)
        return response, time.monotonic() - started

    on_redis.stop()
    response, took = invite("while.down@example.gov.uk")

    assert response.status_code == 302
    assert took < FAIL_FAST_SECONDS
    with scope(partnership=alpha):
        assert Invitation.objects.filter(email="while.down@example.gov.uk").exists()
    kept = OutboxMessage.objects.get(to=["while.down@example.gov.uk"])
    assert kept.status == OutboxMessage.Status.QUEUED

    on_redis.start()
    response, _ = invite("once.back@example.gov.uk")
    assert response.status_code == 302
    assert queued_tasks(on_redis) == 1  # its delivery is queued on Redis again
    # The sweep's backstop delivers the message stored while Redis was down.
    outbox.deliver_due()
    assert ["while.down@example.gov.uk"] in [message.to for message in mail.outbox]


def test_parties_are_asked_for_feedback_and_their_emails_kept_while_redis_is_down(
    client, alpha, on_redis, django_capture_on_commit_callbacks
):
    county = make_partner(
        alpha, OrganisationFactory(name="Essex County Council", data_protection_email="c@c.example")
    )
    _, cycle = protocol_in_force(alpha, lead=county)
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=county.organisation).user
    client.force_login(steering)
    on_redis.stop()

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/p/alpha/reviews/{cycle.pk}/feedback/")

    assert response.status_code == 302
    assert time.monotonic() - started < FAIL_FAST_SECONDS
    with scope(partnership=alpha):
        assert FeedbackRequest.objects.filter(partner=county).exists()
    kept = OutboxMessage.objects.get(to=["c@c.example"], template="review_feedback_request")
    assert kept.status == OutboxMessage.Status.QUEUED
    assert client.get(f"/p/alpha/reviews/{cycle.pk}/").status_code == 200

    on_redis.start()
    outbox.deliver_due()
    assert ["c@c.example"] in [message.to for message in mail.outbox]


@pytest.mark.parametrize("broker", ["stopped", "silent"])
def test_publishing_a_task_fails_fast_when_the_broker_is_stopped_or_silent(
    on_redis, settings, broker
):
    from accord.kernel.tasks import sweep

    outcome: list[BaseException | None] = []

    def publish() -> None:
        try:
            sweep.delay()
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)
        else:
            outcome.append(None)

    with contextlib.ExitStack() as stack:
        if broker == "stopped":
            on_redis.stop()
        else:
            port = stack.enter_context(silent_port())
            stack.enter_context(publishing_to(settings, f"redis://127.0.0.1:{port}/0"))
        # In a thread, so that a publish that hangs fails the test instead of stopping the run
        # (closing the silent server's connections then releases it).
        publisher = threading.Thread(target=publish, daemon=True)
        publisher.start()
        publisher.join(timeout=FAIL_FAST_SECONDS)
        assert not publisher.is_alive(), f"publishing waited over {FAIL_FAST_SECONDS} s"

    assert len(outcome) == 1
    assert isinstance(outcome[0], OperationalError)
