"""Breach log figures: the register with 10,000 breaches in the large partnership, and the
sweep's selection of what is due among 100,000 open obligations.

Seeded with bulk_create after the agreements (so the other figures stay as before): breaches
detected over three years, numbered in order of detection within each partnership, each
involving its reporting organisation and up to three more (mostly of the same place, as
local partnerships share), with one obligation each partner to tell (detected + 48 hours),
one for the ICO (aware + 72 hours) and, when the risk is high, one for the individuals
(without undue delay). Most breaches are closed, every obligation done (some late, the ICO
not needed when the breach was not notifiable); about 2% were detected in the last four
days, with their clocks running and some past their deadline; about 3% are older and still
open (the individuals still to be told, or a partner never told: overdue). The small
partnership gets 10 breaches of the same mix: the small side of the query count.

Measured:
- the register's first page, seen by an administrator (who sees every breach): queries at
  10 breaches vs 10,000 (must be equal) and its median latency beside a bare view running
  the same query (bench/bare.py), aim App/bare <= 1.5; the same filtered to the overdue;
- the sweep over breach deadlines: 100,000 open clocks of the warning kind
  (breaches.clocks.WARNING) across 1,000 partnership ids, 1% due, seeded with one
  INSERT ... SELECT as bench/clocks.py seeds its signing reminders; the time of
  `due_now(WARNING)[:1000]` ids (and of the sweep's own selection), median of 20, aim at most
  0.2 s, with PostgreSQL's plan, which must use the partial index clock_due. The seeded
  clocks are deleted afterwards, so no later sweep acts on them.
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
from breaches.clocks import WARNING
from breaches.models import (
    Assessment,
    BreachReport,
    BreachStatus,
    Containment,
    Individuals,
    InvolvedPartner,
    Likelihood,
    Obligation,
    ObligationState,
    Recipient,
    Severity,
    View,
)
from breaches.services import ICO_HOURS, PARTNER_HOURS, WARNINGS
from signatories.models import Partner, PartnerStatus
from tenancy.models import Membership, Partnership

from . import clocks
from .agreements import PLACES, _page_row
from .seed import BATCH, FIRST_NAMES, LAST_NAMES

MANY = 10_000
FEW = 10
RATIO_TARGET = 1.5
RECENT_SHARE = 0.02  # detected in the last four days: clocks running
OLD_OPEN_SHARE = 0.03  # older and still open
CLOCK_ROWS = 100_000
CLOCK_PARTNERSHIPS = 1_000
CLOCK_DUE_SHARE = 0.01
SUBJECT_PREFIX = "bench.obligation:"

TITLES = [
    "Visit schedule e-mailed to the wrong care provider",
    "Referral list left on a shared drive open to all staff",
    "Laptop with unencrypted assessment notes stolen from a car",
    "Discharge letter posted to a former address",
    "Safeguarding minutes sent to an external distribution list",
    "Case file shown on screen during a public meeting",
    "Phishing e-mail gave access to a caseworker's mailbox",
    "Paper records found in a skip behind the depot",
    "Spreadsheet of pupils' needs attached to a newsletter",
    "Ransomware encrypted a file server at a partner",
    "Police report disclosed to the wrong family member",
    "Unredacted bundle sent in reply to a subject access request",
    "Body-worn camera footage uploaded to the wrong case",
    "Mobile telephone with client contacts lost on a bus",
]
HOW_FOUND = [
    "The recipient telephoned to say it was not for them.",
    "A member of staff noticed it during a routine check.",
    "The IT service desk saw unusual sign-ins.",
    "A member of the public handed the papers in.",
]
METHODS = ["Telephone call to the DPO", "E-mail to the DPO", "The ICO's online form"]
# Of closed breaches: how the assessment came out.
ASSESSMENTS = [
    (Assessment.NOT_NOTIFIABLE, 60),
    (Assessment.NOTIFIABLE, 32),
    (Assessment.HIGH_RISK, 8),
]


def _weighted(rng: random.Random, mix: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


# --- Seeding ------------------------------------------------------------------------------


def _involved(rng: random.Random, partners: list, reporting_index: int) -> list:
    """The reporting partner, then none to three more, mostly of its place."""
    chosen = {reporting_index}
    wanted = 1 + rng.choice([0, 1, 1, 1, 2, 2, 3])
    while len(chosen) < min(wanted, len(partners)):
        if rng.random() < 0.75:
            # The seed gives organisation n the place n % 14, and partners follow that order.
            chosen.add(rng.choice(range(reporting_index % PLACES, len(partners), PLACES)))
        else:
            chosen.add(rng.randrange(len(partners)))
    others = sorted(chosen - {reporting_index})
    return [partners[reporting_index]] + [partners[i] for i in others]


def _ages(rng: random.Random, count: int) -> list[tuple[str, timedelta]]:
    """(kind, time since detection) for each breach, oldest first: recent, old_open or
    closed, each kind at least once."""
    recent = max(1, round(count * RECENT_SHARE))
    old_open = max(1, round(count * OLD_OPEN_SHARE))
    plans = [("recent", timedelta(minutes=rng.randint(30, 96 * 60))) for _ in range(recent)]
    plans += [("old_open", timedelta(hours=rng.randint(5 * 24, 120 * 24))) for _ in range(old_open)]
    plans += [
        ("closed", timedelta(hours=rng.randint(5 * 24, 3 * 365 * 24)))
        for _ in range(count - recent - old_open)
    ]
    return sorted(plans, key=lambda plan: plan[1], reverse=True)


def _between(rng: random.Random, start, end):
    """A moment from `start` to `end` (`start` when the span is empty)."""
    span = max(0, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randint(0, span))


def _done(rng, obligation: Obligation, user_id: int, start, now, *, late_share=0.08) -> None:
    """Filed after `start` and by now: on time, or (a deadline passed) now and then late."""
    due = obligation.due_at
    if due < now and rng.random() < late_share:
        obligation.done_at = min(due + timedelta(minutes=rng.randint(20, 30 * 60)), now)
        obligation.state = ObligationState.LATE
        obligation.reason = "The DPO was on leave and the deputy was not told in time."
    else:
        obligation.done_at = _between(rng, start, min(due, now))
        obligation.state = ObligationState.ON_TIME
    obligation.done_by_id = user_id
    obligation.method = rng.choice(METHODS)


def _people(partnership: Partnership) -> tuple[dict[int, list[int]], int | None]:
    """The DPOs' user ids by organisation, and a fallback (an administrator's)."""
    dpos: dict[int, list[int]] = {}
    fallback = None
    for organisation_id, user_id, is_dpo, is_admin in Membership.objects.filter(
        partnership=partnership
    ).values_list("organisation_id", "user_id", "is_dpo", "is_administrator"):
        if is_dpo:
            dpos.setdefault(organisation_id, []).append(user_id)
        if is_admin and fallback is None:
            fallback = user_id
    return dpos, fallback


def seed_breaches(rng: random.Random, partnership: Partnership, count: int) -> dict:
    """`count` breaches in the partnership, with their involved partners and obligations."""
    now = timezone.now()
    with scopes_disabled():
        partners = list(
            Partner.objects.filter(partnership=partnership)
            .select_related("organisation")
            .order_by("pk")
        )
        active = [i for i, p in enumerate(partners) if p.status == PartnerStatus.ACTIVE]
        dpos, fallback = _people(partnership)
        plans, reports = [], []
        for number, (kind, age) in enumerate(_ages(rng, count), start=1):
            reporting_index = rng.choice(active or range(len(partners)))
            involved = _involved(rng, partners, reporting_index)
            reporting = involved[0]
            org = reporting.organisation
            reporter = rng.choice(dpos.get(org.pk) or [fallback])
            detected = now - age
            aware = detected + timedelta(minutes=rng.choice([0, 0, 0, 15, 90, 240]))
            closed = kind == "closed"
            assessment = (
                _weighted(rng, ASSESSMENTS)
                if closed or (kind == "old_open") or rng.random() < 0.4
                else Assessment.NOT_ASSESSED
            )
            if kind == "old_open" and assessment == Assessment.NOT_NOTIFIABLE:
                assessment = Assessment.HIGH_RISK  # what keeps it open: telling the people
            assessed = min(aware + timedelta(hours=rng.randint(2, 40)), now) if assessment else None
            # Now and then an older breach has a partner never told: overdue for days.
            never_told = (
                involved[-1].pk
                if kind == "old_open" and len(involved) > 1 and rng.random() < 0.5
                else None
            )
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            report = BreachReport(
                partnership=partnership,
                number=number,
                title=rng.choice(TITLES),
                status=BreachStatus.CLOSED if closed else BreachStatus.OPEN,
                reporting_partner=reporting,
                # Mostly the reporting organisation; now and then the protocol's lead.
                lead_partner=reporting if rng.random() < 0.7 else partners[0],
                reported_by_id=reporter,
                contact_name=name,
                contact_email=org.data_protection_email or "dpo@example.org",
                contact_phone="01234 567890",
                occurred_at=detected - timedelta(hours=rng.randint(0, 72)),
                detected_at=detected,
                aware_at=aware,
                what_happened=f"{rng.choice(TITLES)}. Records of {rng.randint(1, 400)} people.",
                how_found=rng.choice(HOW_FOUND),
                cyber_incident=rng.random() < 0.2,
                data_subject_categories="Adults receiving care and support",
                subjects_count=rng.randint(1, 400),
                subjects_estimated=rng.random() < 0.5,
                data_categories="Names, addresses, health information",
                records_count=rng.randint(1, 2000),
                special_category=rng.random() < 0.4,
                criminal_offence=rng.random() < 0.05,
                containment=Containment.CONTAINED if closed else rng.choice(list(Containment)),
                likelihood=rng.choice(list(Likelihood)) if assessment else "",
                severity=rng.choice(list(Severity)) if assessment else "",
                assessment=assessment,
                assessment_reason="Assessed against the ICO's guidance." if assessment else "",
                assessed_at=assessed,
                ico_decision=(
                    ""
                    if not assessment
                    else View.DO_NOT_NOTIFY
                    if assessment == Assessment.NOT_NOTIFIABLE
                    else View.NOTIFY
                ),
                ico_decided_at=assessed,
                ico_case_reference=(
                    f"IC-{rng.randint(100000, 999999)}-{rng.choice('ABCDEFGH')}{rng.randint(1, 9)}"
                    if assessment in (Assessment.NOTIFIABLE, Assessment.HIGH_RISK)
                    and (closed or age > timedelta(hours=ICO_HOURS))
                    else ""
                ),
                individuals=(
                    Individuals.TELL
                    if assessment == Assessment.HIGH_RISK
                    else Individuals.UNDECIDED
                ),
                closed_at=(
                    detected + min(timedelta(days=rng.randint(5, 60)), age - timedelta(hours=1))
                    if closed
                    else None
                ),
                closed_by_id=reporter if closed else None,
                created_at=detected + timedelta(minutes=rng.randint(5, 120)),
            )
            reports.append(report)
            plans.append(
                {
                    "kind": kind,
                    "involved": involved,
                    "reporter": reporter,
                    "never_told": never_told,
                }
            )
        reports = BreachReport.objects.bulk_create(reports, batch_size=BATCH)

        involved_rows = []
        for report, plan in zip(reports, plans, strict=True):
            for partner in plan["involved"]:
                row = InvolvedPartner(partnership=partnership, breach=report, partner=partner)
                told = plan["kind"] != "recent" or rng.random() < 0.6
                told = told and partner.pk != plan["never_told"]
                if told and partner.pk != report.reporting_partner_id:
                    row.acknowledged_at = _between(
                        rng, report.detected_at, min(report.detected_at + timedelta(hours=30), now)
                    )
                    row.acknowledged_by = f"DPO of {partner.organisation.name}"
                    if report.ico_decision:
                        row.view = report.ico_decision
                        row.view_at = row.acknowledged_at
                        row.view_by = row.acknowledged_by
                involved_rows.append(row)
        involved_rows = InvolvedPartner.objects.bulk_create(involved_rows, batch_size=BATCH)
        by_breach: dict[int, list[InvolvedPartner]] = {}
        for row in involved_rows:
            by_breach.setdefault(row.breach_id, []).append(row)

        obligations = []
        for report, plan in zip(reports, plans, strict=True):
            obligations += _obligations(rng, report, plan, by_breach[report.pk], now)
        Obligation.objects.bulk_create(obligations, batch_size=BATCH)
    open_ones = [o for o in obligations if o.state == ObligationState.DUE]
    overdue = {o.breach_id for o in open_ones if o.due_at is not None and o.due_at < now}
    return {
        "breaches": len(reports),
        "open": sum(1 for r in reports if r.status == BreachStatus.OPEN),
        "overdue": len(overdue),
        "involved": len(involved_rows),
        "obligations": len(obligations),
        "open_obligations": len(open_ones),
    }


def _obligations(rng, report: BreachReport, plan: dict, involved: list, now) -> list[Obligation]:
    """One obligation each involved partner other than the reporting one, one for the ICO,
    and one for the individuals when the risk is high; done as the breach's kind says."""
    kind, reporter = plan["kind"], plan["reporter"]
    rows = []
    for row in involved:
        if row.partner_id == report.reporting_partner_id:
            continue
        obligation = Obligation(
            partnership_id=report.partnership_id,
            breach=report,
            recipient=Recipient.PARTNER,
            involved=row,
            due_at=report.detected_at + timedelta(hours=PARTNER_HOURS),
        )
        if kind == "closed" or row.acknowledged_at is not None:
            _done(rng, obligation, reporter, report.detected_at, now)
        rows.append(obligation)
    ico = Obligation(
        partnership_id=report.partnership_id,
        breach=report,
        recipient=Recipient.ICO,
        due_at=report.aware_at + timedelta(hours=ICO_HOURS),
    )
    if report.assessment == Assessment.NOT_NOTIFIABLE:
        ico.state = ObligationState.NOT_NEEDED
        ico.done_at = report.assessed_at
        ico.done_by_id = reporter
        ico.reason = "Unlikely to result in a risk to people's rights and freedoms."
    elif report.ico_case_reference:
        _done(rng, ico, reporter, report.aware_at, now, late_share=0.05)
    rows.append(ico)
    if report.assessment == Assessment.HIGH_RISK:
        individuals = Obligation(
            partnership_id=report.partnership_id,
            breach=report,
            recipient=Recipient.INDIVIDUALS,
            due_at=None,
        )
        if kind == "closed":
            individuals.state = ObligationState.ON_TIME
            individuals.done_at = report.closed_at - timedelta(days=1)
            individuals.done_by_id = reporter
            individuals.method = "Letters to each person, followed by a telephone call"
        rows.append(individuals)
    for obligation in rows:
        if obligation.state == ObligationState.DUE and obligation.due_at is not None:
            _warned(obligation, now)
    return rows


def _warned(obligation: Obligation, now) -> None:
    """The warnings already sent, and the escalation, as the clocks would have left them."""
    sent = sum(1 for before in WARNINGS if obligation.due_at - before <= now)
    obligation.warnings_sent = sent
    if obligation.due_at <= now:
        obligation.warnings_sent = len(WARNINGS)
        obligation.escalated_at = obligation.due_at + timedelta(seconds=30)


def seed(large: Partnership, small: Partnership, seed_value: int = 20250405) -> dict:
    rng = random.Random(seed_value)
    many = seed_breaches(rng, large, MANY)
    few = seed_breaches(rng, small, FEW)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"many": many, "few": few}


# --- The sweep over breach deadlines --------------------------------------------------------


def seed_warning_clocks(rows: int = CLOCK_ROWS) -> dict:
    """`rows` open warning clocks, `CLOCK_DUE_SHARE` of them due (up to a week ago), the
    rest due over the next 60 days; one INSERT ... SELECT, then ANALYZE as autovacuum would."""
    due = int(rows * CLOCK_DUE_SHARE)
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
            [WARNING, CLOCK_PARTNERSHIPS, SUBJECT_PREFIX, due, rows],
        )
        cur.execute("ANALYZE accord_clock")
    return {"rows": rows, "due": due, "seconds": round(time.perf_counter() - started, 2)}


def delete_warning_clocks() -> int:
    with connection.cursor() as cur:
        cur.execute("DELETE FROM accord_clock WHERE subject LIKE %s", [SUBJECT_PREFIX + "%"])
        return cur.rowcount


# --- Running ------------------------------------------------------------------------------


def run(
    requester: User,
    large: Partnership,
    small: Partnership,
    *,
    requests: int,
    warmup: int,
    say: Callable[[str], None],
) -> dict:
    """Seed 10,000 breaches (and 10 in the small partnership), then take every figure."""
    start = time.perf_counter()
    seeded = seed(large, small)
    seed_s = time.perf_counter() - start
    many = seeded["many"]
    say(
        f"  Seeded in {seed_s:.1f} s: {many['breaches']} breaches ({many['open']} open, "
        f"{many['overdue']} overdue), {many['involved']} involved partners, "
        f"{many['obligations']} obligations ({many['open_obligations']} open)"
    )
    start = time.perf_counter()
    client = Client()
    client.force_login(requester, backend="django.contrib.auth.backends.ModelBackend")

    def url(partnership, query: str = "") -> str:
        path = reverse("breaches:register", kwargs={"partnership_slug": partnership.slug})
        return path + (f"?{query}" if query else "")

    register = _page_row(
        client,
        "Breach register",
        url(small),
        url(large),
        f"/bench/{large.slug}/breaches/",
        requests,
        warmup,
    )
    register["ratio_target"] = RATIO_TARGET
    say(
        f"  Register: {register['queries_small']}/{register['queries_large']} queries, "
        f"{register['app_ms_large']:.1f} ms app vs {register['bare_ms_large']:.1f} ms bare"
    )
    overdue = _page_row(
        client,
        "  filtered (overdue)",
        url(small, "status=overdue"),
        url(large, "status=overdue"),
        None,
        requests,
        warmup,
    )

    clock_seed = seed_warning_clocks()
    say(
        f"  Seeded {clock_seed['rows']:,} open warning clocks ({clock_seed['due']:,} due) over "
        f"{CLOCK_PARTNERSHIPS:,} partnership ids in {clock_seed['seconds']:.1f} s"
    )
    chosen = clocks.selection(WARNING)
    for name, part in chosen.items():
        say(
            f"  Selecting due warnings ({name}): {part['rows']} ids, median "
            f"{part['median_ms']:.1f} ms, first {part['first_ms']:.1f} ms; index clock_due: "
            f"{'yes' if part['uses_clock_due'] else 'NO'}"
        )
    deleted = delete_warning_clocks()
    return {
        "seeded": seeded,
        "pages": [register, overdue],
        "sweep": {
            "seeded": {
                **clock_seed,
                "partnerships": CLOCK_PARTNERSHIPS,
                "kind": WARNING,
                "deleted": deleted,
            },
            "selection": chosen,
            "limit_ms": clocks.SELECT_LIMIT_S * 1000,
        },
        "ratio_target": RATIO_TARGET,
        "seconds": {"seed": round(seed_s, 2), "measure": round(time.perf_counter() - start, 2)},
    }


def plans(figures: dict) -> str:
    return "\n\n".join(
        f"EXPLAIN ANALYZE (breach warnings, {name}):\n{part['plan']}"
        for name, part in figures["sweep"]["selection"].items()
    )


def failed(figures: dict) -> bool:
    """A register whose queries grow with the breaches, or a due selection off its index
    or over its time."""
    return any(p["queries_verdict"] != "OK" for p in figures["pages"]) or any(
        part["verdict"] != "OK" for part in figures["sweep"]["selection"].values()
    )
