"""Review dashboard figures: 10,000 protocols and agreements in force in the large partnership
(10 in the small one), each with its review cycle, about a tenth with a feedback round open
(every active partner asked, some answered) and most with reviews held.

Seeded with bulk_create (no signals: the cycles are written as the services would leave
them): protocols in force for up to five years, reviewed every 12, 24 or 36 months, their next
dates spread from 6 months overdue to a year ahead so every status shows.

Measured: the dashboard's first page, seen by a steering group member: queries at 10 vs 10,000
(must be equal) and its median latency beside a bare view running the same query
(bench/bare.py `reviews`), aim App/bare <= 1.5.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import User
from protocols.models import Protocol
from protocols.services import add_months
from reviews.models import (
    FeedbackRequest,
    FeedbackRound,
    Outcome,
    Review,
    ReviewCycle,
)
from signatories.models import Partner, PartnerStatus
from tenancy.models import Partnership

from .breaches import _page_row
from .seed import BATCH

MANY = 10_000
FEW = 10
RATIO_TARGET = 1.5
ROUND_SHARE = 0.1
ASKED_PER_ROUND = 8


def seed_cycles(rng: random.Random, partnership: Partnership, count: int) -> dict:
    today = timezone.localdate()
    with scopes_disabled():
        partners = list(
            Partner.objects.filter(partnership=partnership, status=PartnerStatus.ACTIVE)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        protocols = Protocol.objects.bulk_create(
            [
                Protocol(
                    partnership=partnership,
                    title=f"Information sharing protocol {n:05d}",
                    lead_id=rng.choice(partners),
                    date_in_force=today - timedelta(days=rng.randint(200, 5 * 365)),
                )
                for n in range(count)
            ],
            batch_size=BATCH,
        )
        cycles = []
        for protocol in protocols:
            cadence = rng.choice([12, 12, 24, 36])
            next_on = today + timedelta(days=rng.randint(-180, 365))
            last = add_months(next_on, -cadence)
            cycles.append(
                ReviewCycle(
                    partnership=partnership,
                    protocol=protocol,
                    cadence_months=cadence,
                    adopted_on=protocol.date_in_force,
                    first_review_on=add_months(protocol.date_in_force, 6),
                    last_reviewed_on=last if last > protocol.date_in_force else None,
                    next_review_on=next_on,
                )
            )
        cycles = ReviewCycle.objects.bulk_create(cycles, batch_size=BATCH)
        reviews = [
            Review(
                partnership=partnership,
                cycle=c,
                due_on=c.last_reviewed_on,
                held_on=c.last_reviewed_on,
                attendees="The steering group",
                decision="Still serves the partnership.",
                outcome=rng.choice(list(Outcome.values)[:3]),
            )
            for c in cycles
            if c.last_reviewed_on
        ]
        Review.objects.bulk_create(reviews, batch_size=BATCH)
        chosen = [c for c in cycles if rng.random() < ROUND_SHARE] or cycles[:1]
        rounds = FeedbackRound.objects.bulk_create(
            [
                FeedbackRound(
                    partnership=partnership,
                    cycle=c,
                    review_on=c.next_review_on,
                    closes_on=c.next_review_on,
                )
                for c in chosen
            ],
            batch_size=BATCH,
        )
        requests = []
        for r in rounds:
            for partner_id in rng.sample(partners, min(ASKED_PER_ROUND, len(partners))):
                requests.append(
                    FeedbackRequest(
                        partnership=partnership,
                        round=r,
                        partner_id=partner_id,
                        token_hash=f"{r.pk:08d}{partner_id:08d}".ljust(64, "0"),
                        answered_at=timezone.now() if rng.random() < 0.5 else None,
                    )
                )
        FeedbackRequest.objects.bulk_create(requests, batch_size=BATCH)
    return {"cycles": len(cycles), "reviews": len(reviews), "rounds": len(rounds)}


def run(
    requester: User,
    large: Partnership,
    small: Partnership,
    *,
    requests: int,
    warmup: int,
    say: Callable[[str], None],
) -> dict:
    start = time.perf_counter()
    rng = random.Random(20261202)
    many = seed_cycles(rng, large, MANY)
    few = seed_cycles(rng, small, FEW)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # as autovacuum would after so many rows
    seed_s = time.perf_counter() - start
    say(
        f"  Seeded in {seed_s:.1f} s: {many['cycles']} cycles, {many['reviews']} reviews held, "
        f"{many['rounds']} feedback rounds open"
    )
    client = Client()
    client.force_login(requester, backend="django.contrib.auth.backends.ModelBackend")

    def url(partnership) -> str:
        return reverse("reviews:dashboard", kwargs={"partnership_slug": partnership.slug})

    dashboard = _page_row(
        client,
        "Review dashboard",
        url(small),
        url(large),
        f"/bench/{large.slug}/reviews/",
        requests,
        warmup,
    )
    dashboard["ratio_target"] = RATIO_TARGET
    say(
        f"  Dashboard: {dashboard['queries_small']}/{dashboard['queries_large']} queries, "
        f"{dashboard['app_ms_large']:.1f} ms app vs {dashboard['bare_ms_large']:.1f} ms bare "
        f"({dashboard['ratio']:.2f}x)"
    )
    return {
        "seeded": {"many": many, "few": few},
        "pages": [dashboard],
        "seconds": {"seed": seed_s},
    }
