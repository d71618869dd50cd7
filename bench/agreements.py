"""Agreements figures: the register, its Excel and CSV exports and the data-flow map, with
10,000 ISAs among the large partnership's 300 organisations.

Seeded with bulk_create after the other pages are measured (so their figures stay as
before): agreements with mixed statuses and review dates spread over three years, two to
four parties each (mostly organisations of the same place, as local partnerships share),
a few data items each (some special category; some agreements have none yet), and for the
agreements that went for signature a frozen document with its signatures. The small
partnership gets 10 agreements: the small side of each query count.

Measured:
- the register's first page: queries at 10 rows vs 10,000 (must be equal) and its median
  latency beside a bare view running the same essential query (bench/bare.py);
- the Excel export of all 10,000 rows: time, and peak memory (tracemalloc peak of this
  process during the request and the reading of the file; and, in a fresh subprocess, the
  growth of the peak RSS across the export), aim under 256 MB; the CSV export likewise;
- the data-flow map: queries at 10 agreements vs 10,000 (equal) and its latency, for every
  organisation and for one.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from . import measure
from .seed import BATCH, FIRST_NAMES, LAST_NAMES

MANY = 10_000
FEW = 10
MEMORY_LIMIT_MB = 256
EXPORT_RUNS = 3
RATIO_TARGET = 1.5

STATUS_MIX = [
    ("active", 45),
    ("draft", 12),
    ("in_review", 8),
    ("for_signature", 7),
    ("expired", 12),
    ("terminated", 6),
    ("superseded", 10),
]
SENT = {"for_signature", "active", "expired", "terminated", "superseded"}
ARTICLE_6 = ["e", "e", "e", "ce", "c", "f", "a", "be", "de", "cef"]
CATEGORIES = [
    ("personal", 62),
    ("special", 22),
    ("criminal", 6),
    ("pseudonymised", 6),
    ("anonymised", 4),
]
PURPOSES = [
    "Hospital discharge",
    "Multi-agency safeguarding hub",
    "Supporting families",
    "Domestic abuse risk assessment (MARAC)",
    "Integrated care record",
    "School nursing",
    "Youth justice",
    "Adult social care assessments",
    "Housing and homelessness prevention",
    "Safe and well visits",
    "Population health analytics",
    "Anti-social behaviour case review",
    "Child protection conferences",
    "Mental health crisis care",
    "Continuing healthcare",
    "Missing children",
]
ITEMS = [
    "Name",
    "Date of birth",
    "Address",
    "NHS number",
    "Diagnosis",
    "Care plan",
    "Offending history",
    "School attendance",
    "Ethnicity",
    "Risk assessment",
]
ROLES = ["joint_controller", "joint_controller", "sole_controller", "recipient", "processor"]
PLACES = 14  # bench/seed.py names organisations after 14 places, in turn


def _weighted(rng: random.Random, mix: list[tuple[str, int]]) -> str:
    return rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]


# --- Seeding ------------------------------------------------------------------------------


def _parties(rng: random.Random, partners: list) -> list:
    """Two to four parties: the lead, then mostly organisations of its place."""
    lead_index = rng.randrange(len(partners))
    chosen = {lead_index}
    wanted = rng.choice([2, 2, 2, 3, 3, 4])
    while len(chosen) < wanted:
        if rng.random() < 0.75:
            # The seed gives organisation n the place n % 14, and partners follow that order.
            same_place = range(lead_index % PLACES, len(partners), PLACES)
            chosen.add(rng.choice(same_place))
        else:
            chosen.add(rng.randrange(len(partners)))
    return [partners[lead_index]] + [partners[i] for i in sorted(chosen - {lead_index})]


def seed_agreements(rng: random.Random, partnership, count: int, prefix: str) -> dict:
    """`count` agreements in the partnership, with parties, items, documents, signatures."""
    from agreements.models import Agreement, AgreementParty, DataItem
    from documents.models import FrozenDocument
    from signatories.models import Partner, Signature, SignatureRequest

    today = timezone.localdate()
    now = timezone.now()
    with scopes_disabled():
        partners = list(Partner.objects.filter(partnership=partnership).order_by("pk"))
        plans = []
        for i in range(count):
            status = _weighted(rng, STATUS_MIX)
            start = today - timedelta(days=rng.randint(0, 1400))
            plans.append(
                {
                    "status": status,
                    "parties": _parties(rng, partners),
                    "start": start,
                    "title": f"{rng.choice(PURPOSES)} ({i % 97 + 1})",
                    "reference": f"{prefix}-{2020 + i % 6}-{i:05d}",
                }
            )

        documents = FrozenDocument.objects.bulk_create(
            (
                FrozenDocument(
                    partnership=partnership,
                    kind=FrozenDocument.Kind.AGREEMENT,
                    title=plan["title"],
                    version_label="1.0",
                    html=f"<h1>{plan['title']}</h1>",
                    sha256=hashlib.sha256(plan["reference"].encode()).hexdigest(),
                    frozen_at=now - timedelta(days=rng.randint(30, 900)),
                )
                for plan in plans
                if plan["status"] in SENT
            ),
            batch_size=BATCH,
        )
        sent = iter(documents)
        agreements = []
        for plan in plans:
            document = next(sent) if plan["status"] in SENT else None
            plan["document"] = document
            article6 = rng.choice(ARTICLE_6)
            agreements.append(
                Agreement(
                    partnership=partnership,
                    title=plan["title"],
                    reference=plan["reference"],
                    lead=plan["parties"][0],
                    status=plan["status"],
                    start_date=plan["start"],
                    end_date=plan["start"] + timedelta(days=365 * rng.randint(1, 5)),
                    ongoing=rng.random() < 0.85,
                    review_date=today + timedelta(days=rng.randint(-200, 900)),
                    article6=article6,
                    article9="h" if rng.random() < 0.3 else "",
                    dpia_reference=f"DPIA-{rng.randint(100, 999)}",
                    retention_period="Six years after the last contact",
                    document=document,
                )
            )
        agreements = Agreement.objects.bulk_create(agreements, batch_size=BATCH)

        party_rows = []
        for agreement, plan in zip(agreements, plans, strict=True):
            for j, partner in enumerate(plan["parties"]):
                party_rows.append(
                    AgreementParty(
                        partnership=partnership,
                        agreement=agreement,
                        partner=partner,
                        role=ROLES[0] if j == 0 else rng.choice(ROLES),
                    )
                )
        party_rows = AgreementParty.objects.bulk_create(party_rows, batch_size=BATCH)
        by_agreement: dict[int, list] = {}
        for row in party_rows:
            by_agreement.setdefault(row.agreement_id, []).append(row)

        items = []
        for agreement in agreements:
            rows = by_agreement[agreement.pk]
            if rng.random() < 0.15:
                continue  # no data items yet: the map joins all its parties
            for position in range(rng.randint(1, 4)):
                source, target = rng.sample(rows, 2)
                category = _weighted(rng, CATEGORIES)
                items.append(
                    DataItem(
                        partnership=partnership,
                        agreement=agreement,
                        position=position,
                        item=rng.choice(ITEMS),
                        category=category,
                        special_category_type="health" if category == "special" else "",
                        data_subjects="Residents receiving services",
                        from_party=source,
                        to_party=target,
                        purpose=agreement.title,
                    )
                )
        DataItem.objects.bulk_create(items, batch_size=BATCH)

        requests, answers = [], []
        for plan in plans:
            document = plan["document"]
            if document is None:
                continue
            signers = plan["parties"]
            if plan["status"] == "for_signature":
                signers = signers[: rng.randint(0, len(signers) - 1)]
            for partner in signers:
                at = document.frozen_at + timedelta(hours=rng.randint(1, 24 * 40))
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
                request = SignatureRequest(
                    partnership=partnership,
                    document=document,
                    partner=partner,
                    email=f"signatory{partner.pk}@{partnership.slug}.example.org",
                    token_hash=hashlib.sha256(f"{document.pk}-{partner.pk}".encode()).hexdigest(),
                    status="signed",
                    sent_at=document.frozen_at,
                    expires_at=document.frozen_at + timedelta(days=60),
                    responded_at=at,
                )
                requests.append(request)
                answers.append((request, partner, document, at, name))
        SignatureRequest.objects.bulk_create(requests, batch_size=BATCH)
        Signature.objects.bulk_create(
            (
                Signature(
                    partnership=partnership,
                    document=document,
                    partner=partner,
                    request=request,
                    outcome="signed",
                    name=name,
                    position="Chief Executive",
                    email=request.email,
                    at=at,
                    sha256=document.sha256,
                )
                for request, partner, document, at, name in answers
            ),
            batch_size=BATCH,
        )
    return {
        "agreements": len(agreements),
        "organisations": len(partners),
        "parties": len(party_rows),
        "data_items": len(items),
        "special_items": sum(1 for item in items if item.category == "special"),
        "documents": len(documents),
        "signatures": len(answers),
        "statuses": {s: sum(1 for p in plans if p["status"] == s) for s, _ in STATUS_MIX},
    }


def seed(large, small, seed_value: int = 20250403) -> dict:
    rng = random.Random(seed_value)
    many = seed_agreements(rng, large, MANY, "ISA")
    few = seed_agreements(rng, small, FEW, "SML")
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"many": many, "few": few}


# --- Measuring ----------------------------------------------------------------------------


def _page_row(client: Client, title: str, small_url: str, large_url: str, bare_url, n, warmup):
    q_small = measure.capture(client, small_url)
    q_large = measure.capture(client, large_url)
    urls = {"app_small": small_url, "app_large": large_url}
    q_bare = None
    if bare_url:
        q_bare = measure.capture(client, bare_url)
        urls["bare_large"] = bare_url
    timings = measure.latencies(client, urls, n, warmup)
    row = {
        "page": title,
        "url_small": small_url,
        "url_large": large_url,
        "queries_small": q_small.count,
        "queries_large": q_large.count,
        "queries_verdict": "OK" if q_small.count == q_large.count else "DIFFERENT",
        "app_ms_small": timings["app_small"].median,
        "app_ms_large": timings["app_large"].median,
        "app_p90_ms_large": timings["app_large"].p90,
        "app_min_ms_large": timings["app_large"].minimum,
        "bytes_app_large": q_large.size,
        "queries_app_large_sql": q_large.queries,
        "growing_query_shapes": measure.growing_shapes(q_small.queries, q_large.queries),
    }
    if bare_url:
        ratio = timings["app_large"].median / timings["bare_large"].median
        row.update(
            {
                "bare_url_large": bare_url,
                "queries_bare": q_bare.count,
                "bare_ms_large": timings["bare_large"].median,
                "bare_min_ms_large": timings["bare_large"].minimum,
                "ratio": ratio,
                "ratio_verdict": "OK" if ratio <= RATIO_TARGET else "SLOW",
                "ratio_of_minimums": timings["app_large"].minimum / timings["bare_large"].minimum,
            }
        )
    return row


def _download(client: Client, url: str) -> tuple[int, int]:
    """GET a download and read all of it, chunk by chunk; (bytes, queries)."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} answered {response.status_code}, not 200")
        size = 0
        try:
            for chunk in response.streaming_content:
                size += len(chunk)
        finally:
            response.close()
    return size, len(ctx.captured_queries)


def export_figures(client: Client, url: str, rows: int, runs: int, check: Callable | None):
    """Median time of `runs` downloads, then one more under tracemalloc for its peak."""
    _download(client, url)  # warm-up: imports, caches
    times = []
    size = queries = 0
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter()
        size, queries = _download(client, url)
        times.append((time.perf_counter() - start) * 1000)
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        _download(client, url)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    peak_mb = peak / 2**20
    figures = {
        "url": url,
        "rows": rows,
        "runs": runs,
        "ms": statistics.median(times),
        "samples_ms": times,
        "bytes": size,
        "queries": queries,
        "tracemalloc_peak_mb": peak_mb,
        "limit_mb": MEMORY_LIMIT_MB,
        "verdict": "OK" if peak_mb < MEMORY_LIMIT_MB else "TOO MUCH",
    }
    if check is not None:
        figures["rows_in_file"] = check(client, url)
    return figures


def _xlsx_rows(client: Client, url: str) -> int:
    """The number of data rows in the downloaded workbook (the header left out)."""
    import io

    from openpyxl import load_workbook

    response = client.get(url)
    data = b"".join(response.streaming_content)
    response.close()
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    return sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))


def _csv_rows(client: Client, url: str) -> int:
    response = client.get(url)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    response.close()
    return len(text.splitlines()) - 1


RSS_CHILD = """
import json, os, sys
sys.path.insert(0, os.getcwd())


def peak_kb():
    # VmHWM: this address space's peak resident memory. Not ru_maxrss, which Linux carries
    # over from the parent across fork and exec (the bench's own, much larger, process).
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise OSError("no VmHWM in /proc/self/status")


from bench.runner import _settings_for_client, _setup_django
_setup_django(os.environ["BENCH_DATABASE_URL"])
from django.test import Client
from accounts.models import User
from bench.agreements import _download
with _settings_for_client():
    client = Client()
    client.force_login(User.objects.get(email=os.environ["BENCH_USER"]),
                       backend="django.contrib.auth.backends.ModelBackend")
    _download(client, os.environ["BENCH_WARM_URL"])  # imports and caches: the baseline
    before = peak_kb()
    size, _ = _download(client, os.environ["BENCH_URL"])
    after = peak_kb()
print(json.dumps({"before_kb": before, "after_kb": after, "bytes": size}))
"""


def rss_in_subprocess(bench_url: str, user_email: str, warm_url: str, url: str) -> dict:
    """A fresh Python process (Django and the app loaded, one small export made first)
    downloads the export: its peak resident memory (VmHWM, Linux) afterwards bounds what the
    whole process ever used, the export included; the growth over the peak before it is what
    the export added (often nothing: the export fits in memory the process already held)."""
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": bench_url,
        "BENCH_USER": user_email,
        "BENCH_WARM_URL": warm_url,
        "BENCH_URL": url,
    }
    try:
        out = subprocess.run(  # noqa: S603
            [sys.executable, "-c", RSS_CHILD],
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
            env=env,
            cwd=Path(__file__).resolve().parent.parent,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        return {"error": str(exc)[:500]}
    return {
        "baseline_mb": result["before_kb"] / 1024,
        "peak_mb": result["after_kb"] / 1024,
        "growth_mb": (result["after_kb"] - result["before_kb"]) / 1024,
    }


def _judge_rss(figures: dict) -> None:
    """The export also fails the memory bar if the fresh process's peak RSS passed it."""
    peak = (figures.get("rss") or {}).get("peak_mb")
    if peak is not None and peak >= MEMORY_LIMIT_MB:
        figures["verdict"] = "TOO MUCH"


def run(requester, large, small, *, bench_url: str, requests: int, warmup: int, say) -> dict:
    """Seed 10,000 agreements (and 10 in the small partnership), then take every figure."""
    start = time.perf_counter()
    seeded = seed(large, small)
    seed_s = time.perf_counter() - start
    many = seeded["many"]
    say(
        f"  Seeded in {seed_s:.1f} s: {many['agreements']} agreements among "
        f"{many['organisations']} organisations, {many['parties']} parties, "
        f"{many['data_items']} data items ({many['special_items']} special category), "
        f"{many['signatures']} signatures"
    )
    start = time.perf_counter()
    client = Client()
    client.force_login(requester, backend="django.contrib.auth.backends.ModelBackend")

    def url(name: str, partnership, query: str = "") -> str:
        path = reverse(f"agreements:{name}", kwargs={"partnership_slug": partnership.slug})
        return path + (f"?{query}" if query else "")

    register = _page_row(
        client,
        "Agreements register",
        url("register", small),
        url("register", large),
        f"/bench/{large.slug}/agreements/",
        requests,
        warmup,
    )
    say(
        f"  Register: {register['queries_small']}/{register['queries_large']} queries, "
        f"{register['app_ms_large']:.1f} ms app vs {register['bare_ms_large']:.1f} ms bare"
    )
    filtered = _page_row(
        client,
        "  filtered (active, Art. 6(1)(e), search)",
        url("register", small, "status=active&basis=e&q=care"),
        url("register", large, "status=active&basis=e&q=care"),
        None,
        requests,
        warmup,
    )

    xlsx = export_figures(
        client, url("register_xlsx", large), many["agreements"], EXPORT_RUNS, _xlsx_rows
    )
    xlsx["rss"] = rss_in_subprocess(
        bench_url, requester.email, url("register_xlsx", small), url("register_xlsx", large)
    )
    _judge_rss(xlsx)
    say(
        f"  Excel export of {xlsx['rows_in_file']} rows: {xlsx['ms']:.0f} ms, "
        f"{xlsx['bytes'] // 1024} KB, tracemalloc peak {xlsx['tracemalloc_peak_mb']:.1f} MB, "
        f"process peak RSS {_rss_text(xlsx)}"
    )
    csv = export_figures(
        client, url("register_csv", large), many["agreements"], EXPORT_RUNS, _csv_rows
    )
    csv["rss"] = rss_in_subprocess(
        bench_url, requester.email, url("register_csv", small), url("register_csv", large)
    )
    _judge_rss(csv)
    say(
        f"  CSV export of {csv['rows_in_file']} rows: {csv['ms']:.0f} ms, "
        f"tracemalloc peak {csv['tracemalloc_peak_mb']:.1f} MB, process peak RSS {_rss_text(csv)}"
    )

    flow_map = _page_row(
        client, "Data-flow map", url("map", small), url("map", large), None, requests, warmup
    )
    from signatories.models import Partner

    with scopes_disabled():
        hub = Partner.objects.filter(partnership=large).order_by("pk").first()
        hub_small = Partner.objects.filter(partnership=small).order_by("pk").first()
    one = _page_row(
        client,
        "  one organisation",
        url("map", small, f"organisation={hub_small.pk}"),
        url("map", large, f"organisation={hub.pk}"),
        None,
        requests,
        warmup,
    )
    shape = _map_shape(large)
    flow_map.update(shape)
    say(
        f"  Data-flow map: {flow_map['queries_small']}/{flow_map['queries_large']} queries, "
        f"{flow_map['app_ms_large']:.0f} ms for {shape['nodes']} organisations and "
        f"{shape['flows']} flows; {one['app_ms_large']:.0f} ms for one organisation"
    )
    return {
        "seeded": seeded,
        "pages": [register, filtered, flow_map, one],
        "xlsx": xlsx,
        "csv": csv,
        "ratio_target": RATIO_TARGET,
        "seconds": {"seed": round(seed_s, 2), "measure": round(time.perf_counter() - start, 2)},
    }


def _rss_text(figures: dict) -> str:
    rss = figures.get("rss") or {}
    if "peak_mb" not in rss:
        return f"not measured ({rss.get('error', 'no figures')})"
    return f"{rss['peak_mb']:.0f} MB (+{rss['growth_mb']:.1f} MB over the export)"


def _map_shape(partnership) -> dict:
    """How big the default map (every active agreement) is."""
    from django_scopes import scope

    from agreements import dataflow
    from agreements.models import Agreement

    with scope(partnership=partnership):
        flow_map = dataflow.build(Agreement.objects.filter(status="active"))
    return {
        "nodes": len(flow_map.nodes),
        "flows": len(flow_map.flows),
        "map_agreements": flow_map.agreements,
        "special_flows": flow_map.special_flows,
    }
