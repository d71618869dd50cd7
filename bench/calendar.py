"""Calendar feed figures: the feed of a person in 20 partnerships, each with a few protocols,
agreements and breaches, must answer in under 200 ms (median), in the same number of queries
as the feed of a person in one.

Seeded with bulk_create in partnerships of its own (slugs calendar-bench-01 ...), so the other
figures stay as before: each partnership has 8 partner organisations and one person each, 2
protocols and 4 agreements in force with their review cycles (one in three with a feedback
round open), and 4 breaches as bench/breaches.py seeds them (one detected in the last four
days with its clocks running, one older still open, two closed). The person is an
administrator (who sees every breach) in half the partnerships and a DPO (who sees the
breaches their organisation is party to, through their grants) in the other half; beside
them, a person with the same roles in the first partnership only gives the small side of the
query count.

Measured through django.test.Client, as a calendar app fetches it (no sign-in): queries for
one partnership vs 20 (must be equal), median, p90 and fastest latency (--requests), the events and
bytes of the feed. `python -m bench --only calendar` takes only these figures, on a fresh
database.
"""

from __future__ import annotations

import json
import os
import platform
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import User
from agreements.models import Agreement, AgreementStatus
from breaches import access
from breaches.models import BreachReport, BreachStatus
from protocols.models import Protocol
from reviews.calendar import issue_address
from reviews.models import FeedbackRound, ReviewCycle
from signatories.models import Partner
from tenancy.models import Membership

from . import breaches, measure, seed

PARTNERSHIPS = 20
PARTNERS_EACH = 8
PROTOCOLS_EACH = 2
AGREEMENTS_EACH = 4
BREACHES_EACH = 4
LIMIT_MS = 200
SERIAL = 20_000  # organisation numbers beyond the other figures' (ICO references are unique)


def _documents(rng: random.Random, partnership, partners: list[Partner], n: int) -> int:
    """Protocols and agreements in force, with their review cycles and some feedback rounds
    (bulk_create: no signal makes the cycles, so they are made here)."""
    today = timezone.localdate()
    protocols = Protocol.objects.bulk_create(
        Protocol(
            partnership=partnership,
            title=f"{seed.PLACES[(n + i) % len(seed.PLACES)]} information sharing protocol",
            lead=partners[i % len(partners)],
            date_in_force=today - timedelta(days=rng.randint(30, 900)),
        )
        for i in range(PROTOCOLS_EACH)
    )
    agreements = Agreement.objects.bulk_create(
        Agreement(
            partnership=partnership,
            title=f"{rng.choice(breaches.TITLES).split(' ')[0]} sharing ({i + 1})",
            reference=f"ISA-{n:02d}-{i:03d}",
            lead=partners[i % len(partners)],
            status=AgreementStatus.ACTIVE,
            start_date=today - timedelta(days=rng.randint(30, 900)),
        )
        for i in range(AGREEMENTS_EACH)
    )
    cycles = []
    for document in [*protocols, *agreements]:
        adopted = document.date_in_force if isinstance(document, Protocol) else document.start_date
        due = today + timedelta(days=rng.randint(-40, 400))
        cycles.append(
            ReviewCycle(
                partnership=partnership,
                protocol=document if isinstance(document, Protocol) else None,
                agreement=document if isinstance(document, Agreement) else None,
                adopted_on=adopted,
                first_review_on=due,
                next_review_on=due,
            )
        )
    cycles = ReviewCycle.objects.bulk_create(cycles)
    FeedbackRound.objects.bulk_create(
        FeedbackRound(
            partnership=partnership,
            cycle=cycle,
            review_on=cycle.next_review_on,
            closes_on=cycle.next_review_on,
        )
        for cycle in cycles[::3]
    )
    return len(cycles)


def seed_calendar(seed_value: int = 20250501) -> tuple[User, User, dict]:
    """The person in 20 partnerships and the person in one, each with a calendar address."""
    rng = random.Random(seed_value)
    unusable = make_password(None)
    person = User.objects.create(
        email="calendar-person@bench.example.org", full_name="Cal Endar", password=unusable
    )
    solo = User.objects.create(
        email="calendar-solo@bench.example.org", full_name="Sol Oh", password=unusable
    )
    counts = {"partnerships": PARTNERSHIPS, "cycles": 0, "breaches": 0, "open_breaches": 0}
    for n in range(PARTNERSHIPS):
        made = seed.seed_partnership(
            rng,
            name=f"Calendar Bench Partnership {n + 1:02d}",
            slug=f"calendar-bench-{n + 1:02d}",
            partners=PARTNERS_EACH,
            people_per_partner=1,
            audit_entries=0,
            requester=person,
            serial=SERIAL + n * PARTNERS_EACH,
        )
        partnership = made.partnership
        with scopes_disabled(), transaction.atomic():
            partners = list(Partner.objects.filter(partnership=partnership).order_by("pk"))
            counts["cycles"] += _documents(rng, partnership, partners, n)
            breaches.seed_breaches(rng, partnership, BREACHES_EACH)
            mine = Membership.objects.get(partnership=partnership, user=person)
            if n == 0:
                Membership.objects.create(
                    partnership=partnership,
                    user=solo,
                    organisation_id=mine.organisation_id,
                    is_administrator=True,
                    is_steering_group=True,
                )
            if n % 2:
                # A DPO here, not an administrator: the breaches they may see, by grant.
                Membership.objects.filter(pk=mine.pk).update(is_administrator=False, is_dpo=True)
            found = BreachReport.objects.filter(partnership=partnership)
            for breach in found.filter(status=BreachStatus.OPEN):
                access.grant(breach)
            counts["breaches"] += found.count()
            counts["open_breaches"] += found.filter(status=BreachStatus.OPEN).count()
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return person, solo, counts


def run(*, requests: int, warmup: int, say: Callable[[str], None]) -> dict:
    """Seed the 20 partnerships, then time the feed of the person in them all."""
    started = time.perf_counter()
    person, solo, counts = seed_calendar()
    seed_s = time.perf_counter() - started
    say(
        f"  Seeded in {seed_s:.1f} s: {counts['partnerships']} partnerships, "
        f"{counts['cycles']} review cycles, {counts['breaches']} breaches "
        f"({counts['open_breaches']} open)"
    )
    started = time.perf_counter()
    client = Client()  # a calendar app: no sign-in, the address is the key

    def url(user: User) -> str:
        return reverse("calendar_feed", kwargs={"token": issue_address(user)})

    one, many = url(solo), url(person)
    q_one, q_many = measure.capture(client, one), measure.capture(client, many)
    timings = measure.latencies(client, {"one": one, "many": many}, requests, warmup)
    body = client.get(many).content
    median = timings["many"].median
    figures = {
        "seeded": counts,
        "queries_one": q_one.count,
        "queries_many": q_many.count,
        "queries_verdict": "OK" if q_one.count == q_many.count else "DIFFERENT",
        "queries_many_sql": q_many.queries,
        "growing_query_shapes": measure.growing_shapes(q_one.queries, q_many.queries),
        "ms_one": timings["one"].median,
        "ms_many": median,
        "p90_ms_many": timings["many"].p90,
        "min_ms_many": timings["many"].minimum,
        "events_many": body.count(b"BEGIN:VEVENT"),
        "alarms_many": body.count(b"BEGIN:VALARM"),
        "bytes_many": len(body),
        "limit_ms": LIMIT_MS,
        "verdict": "OK" if median < LIMIT_MS else "SLOW",
        "seconds": {"seed": round(seed_s, 2), "measure": round(time.perf_counter() - started, 2)},
    }
    say(
        f"  Feed of a person in {PARTNERSHIPS} partnerships: {figures['events_many']} events, "
        f"{q_one.count}/{q_many.count} queries (1 vs {PARTNERSHIPS} partnerships), median "
        f"{median:.1f} ms (p90 {figures['p90_ms_many']:.1f}, fastest "
        f"{figures['min_ms_many']:.1f}; one partnership {figures['ms_one']:.1f} ms)"
    )
    return figures


def table(figures: dict) -> str:
    rows = [
        ("Queries, 1 partnership / 20", f"{figures['queries_one']} / {figures['queries_many']}"),
        ("Same?", figures["queries_verdict"]),
        ("Events (alarms) in the feed", f"{figures['events_many']} ({figures['alarms_many']})"),
        ("Feed size", f"{figures['bytes_many']:,} bytes"),
        ("Median, 20 partnerships", f"{figures['ms_many']:.1f} ms"),
        ("p90 / fastest", f"{figures['p90_ms_many']:.1f} / {figures['min_ms_many']:.1f} ms"),
        ("Median, 1 partnership", f"{figures['ms_one']:.1f} ms"),
        ("Aim", f"< {figures['limit_ms']} ms: {figures['verdict']}"),
    ]
    width = max(len(label) for label, _ in rows)
    return "Calendar feed\n" + "\n".join(f"  {label:<{width}}  {value}" for label, value in rows)


def failed(figures: dict) -> bool:
    """Queries that grow with the partnerships, or a median over the limit."""
    return figures["queries_verdict"] != "OK" or figures["verdict"] != "OK"


def run_only(args, database_url: str, name: str, say: Callable[[str], None]) -> int:
    """`--only calendar`: these figures alone, on a fresh database `name` (Django is set up
    for it already; it connects on the first query), in their own file."""
    from django.core.management import call_command

    from . import database, report, runner

    started = time.perf_counter()
    say(f"Creating database {name}")
    database.create(database_url, name)
    try:
        call_command("migrate", interactive=False, verbosity=0)
        say(f"Calendar feed: a person in {PARTNERSHIPS} partnerships")
        with runner._settings_for_client():
            figures = run(requests=args.requests, warmup=args.warmup, say=say)
        pg_version = runner._postgres_version()
    finally:
        runner._close_connections()
        if args.keep_db:
            say(f"Kept database {name}")
        else:
            database.drop(database_url, name)
            say(f"Dropped database {name}")
    import django

    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    result = {
        "timestamp": stamp,
        "git_commit": runner._git_commit(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "cpus": os.cpu_count(),
        "load_average_1m": runner._load_average(),
        "requests": args.requests,
        "warmup": args.warmup,
        "seconds": {"total": round(time.perf_counter() - started, 2)},
        "calendar": figures,
    }
    report.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, default=str) + "\n"
    paths = [
        report.RESULTS_DIR / "calendar-latest.json",
        report.RESULTS_DIR / f"calendar-run-{stamp.replace(':', '').replace('-', '')}.json",
    ]
    for path in paths:
        path.write_text(text)
    say("")
    say(table(figures))
    written = ", ".join(map(str, paths))
    say(f"Total {result['seconds']['total']:.1f} s. Figures written to {written}")
    return 1 if failed(figures) else 0
