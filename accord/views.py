from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Max, Min
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from kombu import Connection

from .kernel.models import OutboxMessage, SweepRun

# How long /healthz/details waits for the broker to answer.
BROKER_PING_SECONDS = 1
# Brokers inside the application's own machine: nothing to reach.
LOCAL_BROKERS = ("filesystem", "memory")


@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """For load balancers and docker compose: 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return HttpResponse("ok", content_type="text/plain")


def broker_state(url: str | None = None) -> str:
    """The Celery broker's state: "ok" when it answers within a second, "unreachable" when it
    does not, "not configured" for the file-based broker (nothing to reach)."""
    url = url or settings.CELERY_BROKER_URL
    if url.split("://", 1)[0] in LOCAL_BROKERS:
        return "not configured"
    options = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "socket_connect_timeout": BROKER_PING_SECONDS,
        "socket_timeout": BROKER_PING_SECONDS,
    }
    try:
        with Connection(
            url, connect_timeout=BROKER_PING_SECONDS, transport_options=options
        ) as broker:
            # Connecting to Redis sends a PING; one try, bounded by the timeouts above.
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_PING_SECONDS)
    except Exception:
        return "unreachable"
    return "ok"


def _age_seconds(then: datetime | None, now: datetime) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds()))


def _iso(then: datetime | None) -> str | None:
    return None if then is None else then.astimezone(UTC).isoformat()


@never_cache
def health_details(request: HttpRequest) -> JsonResponse:
    """For monitoring: is the broker reachable, is e-mail waiting or failing, has the periodic
    sweep stopped (a stuck worker or beat)? States, counts and ages only, nothing secret. 200
    when the database answers, else 503; the load balancer's check stays /healthz.

    Each figure is one indexed query: the queued and the sending e-mails each have a partial
    index, and the sweep keeps one row a step."""
    now = timezone.now()
    report: dict[str, object] = {
        "database": "ok",
        "broker": None,
        "oldest_undelivered_email_at": None,
        "oldest_undelivered_email_age_seconds": None,
        "failed_emails": None,
        "last_sweep_at": None,
        "last_sweep_age_seconds": None,
        "sweep_interval_seconds": settings.SWEEP_INTERVAL_SECONDS,
    }
    try:
        oldest = [
            OutboxMessage.objects.filter(status=status).aggregate(oldest=Min("created_at"))[
                "oldest"
            ]
            for status in (OutboxMessage.Status.QUEUED, OutboxMessage.Status.SENDING)
        ]
        oldest_at = min((at for at in oldest if at is not None), default=None)
        failed = OutboxMessage.objects.filter(status=OutboxMessage.Status.FAILED).count()
        last_sweep = SweepRun.objects.aggregate(last=Max("finished_at"))["last"]
    except DatabaseError:
        report["database"] = "unavailable"
        report["broker"] = broker_state()
        return JsonResponse(report, status=503)
    report.update(
        {
            "broker": broker_state(),
            "oldest_undelivered_email_at": _iso(oldest_at),
            "oldest_undelivered_email_age_seconds": _age_seconds(oldest_at, now),
            "failed_emails": failed,
            "last_sweep_at": _iso(last_sweep),
            "last_sweep_age_seconds": _age_seconds(last_sweep, now),
        }
    )
    return JsonResponse(report)
