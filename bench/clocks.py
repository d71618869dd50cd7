"""Clocks and outbox figures: what the periodic sweep costs and how soon a reminder goes out.

Measured:
- selecting what is due: 100,000 open Clock rows of the signing reminder kind across 1,000
  partnership ids, 1% due now; the time of `clocks.due_now(kind)[:1000]` ids (and of the
  sweep's own selection, which also skips rows claimed by another sweep), aim at most 0.2 s,
  with PostgreSQL's plan (EXPLAIN ANALYZE), which must use the partial index clock_due;
- the outbox's delivery rate to a local SMTP server (aiosmtpd in this process): 500 messages
  through one `deliver_due()` (the sweep's way: one connection), and 100 through
  `deliver(pk)` one by one (the task's way: a connection a message);
- a reminder due at T reaching the mail server by T + 60 s with a real worker and beat
  (`celery -A accord worker -B` as a subprocess on a redis-server of its own) sweeping every
  SWEEP_INTERVAL_SECONDS: one reminder due just after the worker starts, and one due a second
  after beat sent a sweep (the worst moment, less that second: it waits for the next sweep).

The seeded clock rows are deleted before the worker starts, and e-mails queued by earlier
parts of the benchmark are held back (moved a year on), so the worker's sweeps see only the
reminders measured here.
"""

from __future__ import annotations

import hashlib
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django_scopes import scopes_disabled

from accord.celery import app as celery_app
from accord.kernel import clocks, outbox
from accord.kernel.models import Clock, OutboxMessage
from tests.faults.servers import (
    MailServer,
    RedisServer,
    WorkerProcess,
    point_celery_at,
    wait_until,
)

from . import report

ROWS = 100_000
PARTNERSHIPS = 1_000
DUE_SHARE = 0.01
SELECTIONS = 20
SELECT_LIMIT_S = 0.2
BATCH_MESSAGES = 500
ONE_BY_ONE_MESSAGES = 100
REMINDER_DEADLINE_S = 60
SUBJECT_PREFIX = "bench.request:"
Status = OutboxMessage.Status


def _kind() -> str:
    from signatories.clocks import REMINDER

    return REMINDER


# --- Selecting what is due ---------------------------------------------------------------


def seed_clocks(kind: str, rows: int = ROWS) -> dict:
    """`rows` open clocks of `kind`, `DUE_SHARE` of them due (up to a week ago), the rest due
    over the next 60 days; one INSERT ... SELECT, then ANALYZE as autovacuum would."""
    due = int(rows * DUE_SHARE)
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO accord_clock
                (kind, partnership_id, subject, key, due_at, outcome, attempts, created_at)
            SELECT %s, 1 + n %% %s, %s || n, '',
                   CASE WHEN n < %s THEN now() - (n * interval '10 minutes')
                        ELSE now() + interval '1 minute' + (n * interval '51 seconds') END,
                   '', 0, now()
            FROM generate_series(0, %s - 1) AS n
            """,
            [kind, PARTNERSHIPS, SUBJECT_PREFIX, due, rows],
        )
        cur.execute("ANALYZE accord_clock")
    return {"rows": rows, "due": due, "seconds": round(time.perf_counter() - started, 2)}


def _timed(select: Callable[[], list], runs: int) -> dict:
    times = []
    found = 0
    for _ in range(runs):
        started = time.perf_counter()
        found = len(select())
        times.append(time.perf_counter() - started)
    return {
        "rows": found,
        "first_ms": round(times[0] * 1000, 2),
        "median_ms": round(statistics.median(times) * 1000, 2),
        "max_ms": round(max(times) * 1000, 2),
        "runs": runs,
    }


def _sweep_selection(kind: str, now: datetime):
    """What run_due selects: due, and not claimed by another sweep (or the claim lapsed)."""
    from django.db.models import Q

    return (
        clocks.due_now(kind, now)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - clocks.LEASE))
        .values_list("pk", flat=True)[: clocks.BATCH]
    )


def selection(kind: str) -> dict:
    now = timezone.now()
    due_now = clocks.due_now(kind, now).values_list("pk", flat=True)[:1000]
    sweep = _sweep_selection(kind, now)
    figures = {}
    for name, query in (("due_now", due_now), ("sweep", sweep)):
        timing = _timed(lambda q=query: list(q.all()), SELECTIONS)
        plan = query.explain(analyze=True, buffers=True)
        uses_index = "clock_due" in plan and "Seq Scan" not in plan
        figures[name] = {
            **timing,
            "sql": str(query.query),
            "plan": plan,
            "uses_clock_due": uses_index,
            "verdict": "OK"
            if uses_index and timing["median_ms"] <= SELECT_LIMIT_S * 1000
            else ("SLOW" if uses_index else "NO INDEX"),
        }
    return figures


def delete_seeded_clocks() -> int:
    with connection.cursor() as cur:
        cur.execute("DELETE FROM accord_clock WHERE subject LIKE %s", [SUBJECT_PREFIX + "%"])
        return cur.rowcount


# --- The outbox's delivery rate --------------------------------------------------------------


def hold_back_queued_mail() -> int:
    """E-mails queued by earlier parts of the benchmark wait a year: not measured here."""
    return OutboxMessage.objects.filter(status=Status.QUEUED).update(
        next_attempt_at=timezone.now() + timedelta(days=365)
    )


def _messages(count: int, label: str) -> list[int]:
    text = (
        "Hello Jane Smith,\n\nThis is a reminder to sign the Bedfordshire information sharing "
        "protocol, version 2.0, for Luton Borough Council.\n\n" + "Lorem ipsum dolor sit. " * 40
    )
    html = "<p>" + text.replace("\n\n", "</p><p>") + "</p>" + "<p>Footer</p>" * 20
    now = timezone.now() - timedelta(seconds=1)
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            template="signature_reminder",
            to=[f"{label}{n}@example.gov.uk"],
            subject=f"Reminder: please sign the protocol ({label} {n})",
            text=text,
            html=html,
            next_attempt_at=now,
        )
        for n in range(count)
    )
    return [row.pk for row in rows]


def delivery_rate(server: MailServer) -> dict:
    figures = {}
    with override_settings(**server.django_settings()):
        ids = _messages(BATCH_MESSAGES, "batch")
        server.clear()
        started = time.perf_counter()
        sent = outbox.deliver_due(limit=BATCH_MESSAGES)
        took = time.perf_counter() - started
        arrived = server.ids()
        figures["batch"] = {
            "messages": BATCH_MESSAGES,
            "sent": sent,
            "seconds": round(took, 3),
            "per_second": round(sent / took, 1),
            "arrived_once": set(arrived) == {str(pk) for pk in ids} and max(arrived.values()) == 1,
        }
        ids = _messages(ONE_BY_ONE_MESSAGES, "single")
        server.clear()
        started = time.perf_counter()
        sent = sum(outbox.deliver(pk) for pk in ids)
        took = time.perf_counter() - started
        arrived = server.ids()
        figures["one_by_one"] = {
            "messages": ONE_BY_ONE_MESSAGES,
            "sent": sent,
            "seconds": round(took, 3),
            "per_second": round(sent / took, 1),
            "arrived_once": set(arrived) == {str(pk) for pk in ids} and max(arrived.values()) == 1,
        }
    for part in figures.values():
        part["verdict"] = (
            "OK"
            if part["arrived_once"] and part["sent"] == part["messages"]
            else ("LOST OR DOUBLED")
        )
    return figures


# --- A reminder sent by a real worker ---------------------------------------------------------


def _reminder_subject():
    """A partnership and a frozen document that reminders can be about."""
    from documents.models import FrozenDocument
    from tenancy.models import Partnership

    partnership = Partnership.objects.create(name="Reminder Bench Partnership", slug="bench-rem")
    html = "<h2>1. Purpose</h2><p>The partners share information lawfully.</p>"
    document = FrozenDocument.objects.create(
        partnership=partnership,
        kind="protocol",
        title="Bedfordshire Information Sharing Protocol",
        version_label="2.0",
        html=html,
        sha256=hashlib.sha256(html.encode()).hexdigest(),
    )
    return partnership, document


def _request_due_at(subject, due: datetime, email: str):
    """A partner's signature request whose next reminder is due at `due` (its clock is made
    when it is saved)."""
    from signatories.models import Organisation, Partner, PartnerStatus, SignatureRequest

    partnership, document = subject
    organisation = Organisation.objects.create(name=f"Council of {email}")
    partner = Partner.objects.create(
        partnership=partnership, organisation=organisation, status=PartnerStatus.ACTIVE
    )
    request = SignatureRequest(
        partnership=partnership, document=document, partner=partner, email=email
    )
    request.sent_at = due - timedelta(days=request.remind_every_days)
    request.expires_at = due + timedelta(days=30)
    request.token_hash = hashlib.sha256(email.encode()).hexdigest()
    request.save()
    clock = Clock.objects.get(kind=_kind(), subject=f"signatories.signaturerequest:{request.pk}")
    return request, clock.due_at


def _sweeps_sent(worker: WorkerProcess) -> int:
    return worker.log().count("Sending due task sweep (accord.sweep)")


def reminder_latency(bench_url: str, interval: int, say) -> dict:
    """Start a worker with beat; time two reminders from due to the mail server."""
    own_redis = shutil.which("redis-server") is not None
    if not own_redis and not settings.REDIS_URL:
        return {"skipped": "needs redis-server (or REDIS_URL) for the worker's broker"}
    redis_server = RedisServer().start() if own_redis else None
    broker_url = redis_server.url if redis_server else settings.REDIS_URL
    log_dir = tempfile.mkdtemp(prefix="accord-bench-worker-")
    # The reminders' exact-time tasks go to the worker's broker, as a web process's would.
    previous_broker = celery_app.conf.broker_url
    point_celery_at(celery_app, broker_url)
    try:
        with MailServer() as server, scopes_disabled():
            subject = _reminder_subject()
            worker = WorkerProcess(
                broker_url=broker_url,
                database_url=bench_url,
                email_url=server.url,
                beat=True,
                env={"SWEEP_INTERVAL_SECONDS": str(interval)},
                log_dir=log_dir,
            )
            started = time.time()
            worker.start()
            ready_s = time.time() - started
            try:
                # Due a moment from now: the first sweep comes an interval after beat starts.
                early, early_due = _request_due_at(
                    subject, timezone.now() + timedelta(seconds=3), "early@luton.example.gov.uk"
                )
                wait_until(
                    lambda: _sweeps_sent(worker) >= 1,
                    interval + 30,
                    "beat sent no sweep",
                    interval=0.05,
                )
                # Due a second after beat sent that sweep: it waits for the next one.
                late, late_due = _request_due_at(
                    subject, timezone.now() + timedelta(seconds=1), "late@luton.example.gov.uk"
                )
                say(f"  Worker ready in {ready_s:.1f} s; waiting for the next sweep")
                arrivals = wait_until(
                    lambda: _arrivals(server, [early.email, late.email]),
                    interval + 60,
                    f"the reminders did not arrive (worker log:\n{worker.log()[-3000:]})",
                    interval=0.05,
                )
                sweeps = _sweeps_sent(worker)
            finally:
                worker.stop()
    finally:
        point_celery_at(celery_app, previous_broker)
        if redis_server is not None:
            redis_server.stop()
        shutil.rmtree(log_dir, ignore_errors=True)
    figures = {
        "sweep_interval_s": interval,
        "configured_interval_s": settings.SWEEP_INTERVAL_SECONDS,
        "deadline_s": REMINDER_DEADLINE_S,
        "worker_ready_s": round(ready_s, 1),
        "sweeps_sent": sweeps,
        "broker": "own redis-server" if redis_server else "REDIS_URL",
    }
    for name, due, address in (
        ("due_after_start", early_due, early.email),
        ("due_just_after_a_sweep", late_due, late.email),
    ):
        latency = arrivals[address] - due.timestamp()
        figures[name] = {
            "latency_s": round(latency, 2),
            "verdict": "OK" if latency <= REMINDER_DEADLINE_S else "LATE",
        }
    return figures


def _arrivals(server: MailServer, addresses: list[str]) -> dict[str, float] | None:
    first: dict[str, float] = {}
    for received in server.received:
        for address in received.to:
            first.setdefault(address, received.at)
    if all(address in first for address in addresses):
        return first
    return None


# --- Running and reporting --------------------------------------------------------------------


def run(*, bench_url: str, sweep_interval: int | None, say) -> dict:
    kind = _kind()
    started = time.perf_counter()
    seeded = seed_clocks(kind)
    say(
        f"  Seeded {seeded['rows']:,} clocks ({seeded['due']:,} due) over {PARTNERSHIPS:,} "
        f"partnership ids in {seeded['seconds']:.1f} s"
    )
    chosen = selection(kind)
    for name, part in chosen.items():
        say(
            f"  Selecting what is due ({name}): {part['rows']} ids, median "
            f"{part['median_ms']:.1f} ms, first {part['first_ms']:.1f} ms; index clock_due: "
            f"{'yes' if part['uses_clock_due'] else 'NO'}"
        )
    deleted = delete_seeded_clocks()
    held = hold_back_queued_mail()
    with MailServer() as server:
        rate = delivery_rate(server)
    say(
        f"  Outbox: {rate['batch']['per_second']:.0f} messages/s through deliver_due "
        f"({BATCH_MESSAGES} messages), {rate['one_by_one']['per_second']:.0f}/s one by one "
        f"({ONE_BY_ONE_MESSAGES}); {held} earlier e-mails held back"
    )
    interval = sweep_interval or settings.SWEEP_INTERVAL_SECONDS
    say(f"  A reminder with a real worker and beat sweeping every {interval} s")
    latency = reminder_latency(bench_url, interval, say)
    if "skipped" not in latency:
        say(
            f"  Reminder latency: {latency['due_after_start']['latency_s']:.1f} s (due after "
            f"the worker started), {latency['due_just_after_a_sweep']['latency_s']:.1f} s "
            f"(due 1 s after a sweep began: the worst moment, less that second); deadline "
            f"{REMINDER_DEADLINE_S} s"
        )
    return {
        "seeded": {**seeded, "partnerships": PARTNERSHIPS, "kind": kind, "deleted": deleted},
        "selection": chosen,
        "delivery": {**rate, "held_back": held},
        "reminder": latency,
        "seconds": round(time.perf_counter() - started, 2),
    }


COLUMNS = [
    ("measure", "Clocks and outbox", "<"),
    ("figure", "Figure", ">"),
    ("target", "Target", ">"),
    ("verdict", "Verdict", "<"),
    ("note", "Notes", "<"),
]


def table(figures: dict) -> str:
    rows = []
    for name, part in figures["selection"].items():
        rows.append(
            {
                "measure": f"Select due clocks ({name})",
                "figure": f"{part['median_ms']:.1f} ms",
                "target": f"<= {SELECT_LIMIT_S * 1000:.0f} ms",
                "verdict": part["verdict"],
                "note": f"{part['rows']} of {figures['seeded']['rows']:,} rows; max "
                f"{part['max_ms']:.1f} ms; clock_due: {'yes' if part['uses_clock_due'] else 'no'}",
            }
        )
    for name, title in (("batch", "deliver_due()"), ("one_by_one", "deliver(pk) each")):
        part = figures["delivery"][name]
        rows.append(
            {
                "measure": f"Outbox to SMTP, {title}",
                "figure": f"{part['per_second']:.0f} msg/s",
                "verdict": part["verdict"],
                "note": f"{part['sent']} in {part['seconds']:.2f} s",
            }
        )
    reminder = figures["reminder"]
    if "skipped" in reminder:
        rows.append(
            {"measure": "Reminder latency", "verdict": "SKIPPED", "note": reminder["skipped"]}
        )
    else:
        for name, title in (
            ("due_after_start", "Reminder latency (due after start)"),
            ("due_just_after_a_sweep", "Reminder latency (worst moment)"),
        ):
            part = reminder[name]
            rows.append(
                {
                    "measure": title,
                    "figure": f"{part['latency_s']:.1f} s",
                    "target": f"<= {reminder['deadline_s']} s",
                    "verdict": part["verdict"],
                    "note": f"sweep every {reminder['sweep_interval_s']} s (configured "
                    f"{reminder['configured_interval_s']} s)",
                }
            )
    return report.table(rows, COLUMNS)


def plans(figures: dict) -> str:
    return "\n\n".join(
        f"EXPLAIN ANALYZE ({name}):\n{part['plan']}" for name, part in figures["selection"].items()
    )


def failed(figures: dict) -> bool:
    verdicts = [part["verdict"] for part in figures["selection"].values()]
    verdicts += [figures["delivery"][k]["verdict"] for k in ("batch", "one_by_one")]
    reminder = figures["reminder"]
    if "skipped" not in reminder:
        verdicts += [reminder[k]["verdict"] for k in ("due_after_start", "due_just_after_a_sweep")]
    return any(v != "OK" for v in verdicts)
