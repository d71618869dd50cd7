"""Orchestration: a throwaway database, seed, measure, report, drop."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

from . import database, report

LARGE = {"partners": 300, "people_per_partner": 20, "audit_entries": 50_000}
SMALL = {"partners": 10, "people_per_partner": 1, "audit_entries": 10}
RATIO_TARGET = 1.5
# (key, title, app path below /p/<slug>/, bare path below /bench/<slug>/)
PAGES = [
    ("dashboard", "Dashboard", "", ""),
    ("partners", "Partner list", "partners/", "partners/"),
    ("audit", "Audit log", "audit/", "audit/"),
]


def _say(message: str) -> None:
    print(message, flush=True)


def _load_average() -> float | None:
    """Other work on the machine skews latency: kept with the figures to judge a run by."""
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _git_commit() -> str | None:
    try:
        out = subprocess.run(  # noqa: S603
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def _arguments(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--requests", type=int, default=30, help="timed requests a page")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests first")
    parser.add_argument(
        "--pdf-runs", type=int, default=5, help="timed signed-PDF builds (seconds each)"
    )
    parser.add_argument(
        "--no-protocols",
        action="store_true",
        help="skip the protocols figures (the 40-page signed PDF and its pages)",
    )
    parser.add_argument(
        "--no-agreements",
        action="store_true",
        help="skip the agreements figures (10,000 ISAs: register, exports, data-flow map)",
    )
    parser.add_argument(
        "--no-breaches",
        action="store_true",
        help="skip the breach log figures (10,000 breaches: register; 100,000 open obligations: "
        "due selection)",
    )
    parser.add_argument(
        "--no-reviews",
        action="store_true",
        help="skip the review dashboard figures (10,000 protocols in force)",
    )
    parser.add_argument(
        "--no-calendar",
        action="store_true",
        help="skip the calendar feed figures (a person in 20 partnerships)",
    )
    parser.add_argument(
        "--no-clocks",
        action="store_true",
        help="skip the clocks and outbox figures (due selection, delivery rate, reminder latency)",
    )
    parser.add_argument(
        "--only",
        choices=["clocks", "calendar"],
        help="take only these figures (on a fresh database, without the seeded partnerships)",
    )
    parser.add_argument(
        "--sweep-interval",
        type=int,
        default=None,
        help="seconds between the real worker's sweeps (default SWEEP_INTERVAL_SECONDS)",
    )
    parser.add_argument(
        "--keep-db", action="store_true", help="leave the accord_bench database in place afterwards"
    )
    return parser.parse_args(argv)


def _setup_django(bench_url: str) -> None:
    # Before settings are read: the bench database, production-like DEBUG off.
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    import django

    django.setup()
    # WhiteNoise looks for collected static files, which the benchmark does not need.
    warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)


def _settings_for_client():
    from django.conf import settings
    from django.test import override_settings

    return override_settings(
        ROOT_URLCONF="bench.urls",
        DEBUG=False,
        ALLOWED_HOSTS=["testserver"],
        SECURE_SSL_REDIRECT=False,
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )


def _measure(requester, large, small, requests: int, warmup: int) -> list[dict]:
    from django.test import Client

    from . import measure

    client = Client()
    client.force_login(requester, backend="django.contrib.auth.backends.ModelBackend")
    rows = []
    for key, title, app_path, bare_path in PAGES:
        app_small = f"/p/{small.slug}/{app_path}"
        app_large = f"/p/{large.slug}/{app_path}"
        bare_large = f"/bench/{large.slug}/{bare_path}"
        q_small = measure.capture(client, app_small)
        q_large = measure.capture(client, app_large)
        q_bare = measure.capture(client, bare_large)
        timings = measure.latencies(
            client,
            {"app_small": app_small, "app_large": app_large, "bare_large": bare_large},
            requests,
            warmup,
        )
        ratio = timings["app_large"].median / timings["bare_large"].median
        same = q_small.count == q_large.count
        row = {
            "page": title,
            "key": key,
            "url_large": app_large,
            "bare_url_large": bare_large,
            "queries_small": q_small.count,
            "queries_large": q_large.count,
            "queries_verdict": "OK" if same else "DIFFERENT",
            "queries_bare": q_bare.count,
            "app_ms_small": timings["app_small"].median,
            "app_ms_large": timings["app_large"].median,
            "bare_ms_large": timings["bare_large"].median,
            "app_p90_ms_large": timings["app_large"].p90,
            "bare_p90_ms_large": timings["bare_large"].p90,
            "ratio": ratio,
            "ratio_verdict": "OK" if ratio <= RATIO_TARGET else "SLOW",
            # Fastest of each: less swayed by other work on the machine than the median.
            "app_min_ms_large": timings["app_large"].minimum,
            "bare_min_ms_large": timings["bare_large"].minimum,
            "ratio_of_minimums": timings["app_large"].minimum / timings["bare_large"].minimum,
            "bytes_app_large": q_large.size,
            "bytes_bare_large": q_bare.size,
            "queries_app_large_sql": q_large.queries,
            "growing_query_shapes": measure.growing_shapes(q_small.queries, q_large.queries),
        }
        rows.append(row)
        _say(
            f"  {title}: {q_small.count}/{q_large.count} queries, "
            f"{row['app_ms_large']:.1f} ms app vs {row['bare_ms_large']:.1f} ms bare"
        )
    return rows


def _close_connections() -> None:
    """Let go of the bench database (even when Django never got as far as connecting)."""
    with contextlib.suppress(Exception):
        from django.db import connections

        connections.close_all()


def _postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        return cur.fetchone()[0]


def _clocks_only(args, database_url: str) -> int:
    """`--only clocks`: the clocks and outbox figures on a fresh database, in their own file."""
    import json

    started = time.perf_counter()
    name = f"{database.BENCH_DB_NAME}_clocks"  # beside a full run's, not in its way
    bench_url = database.bench_url(database_url, name)
    _say(f"Creating database {name}")
    database.create(database_url, name)
    try:
        _setup_django(bench_url)
        from django.core.management import call_command

        from . import clocks

        call_command("migrate", interactive=False, verbosity=0)
        _say("Clocks and outbox")
        figures = clocks.run(bench_url=bench_url, sweep_interval=args.sweep_interval, say=_say)
        pg_version = _postgres_version()
    finally:
        _close_connections()
        if args.keep_db:
            _say(f"Kept database {name}")
        else:
            database.drop(database_url, name)
            _say(f"Dropped database {name}")
    import django

    stamp = datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    result = {
        "timestamp": stamp,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "cpus": os.cpu_count(),
        "load_average_1m": _load_average(),
        "seconds": {"total": round(time.perf_counter() - started, 2)},
        "clocks": figures,
    }
    report.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    paths = [
        report.RESULTS_DIR / "clocks-latest.json",
        report.RESULTS_DIR / f"clocks-run-{stamp.replace(':', '').replace('-', '')}.json",
    ]
    for path in paths:
        path.write_text(text)
    _say("")
    _say(clocks.table(figures))
    _say("")
    _say(clocks.plans(figures))
    _say(
        f"Total {result['seconds']['total']:.1f} s. Figures written to "
        + ", ".join(map(str, paths))
    )
    return 1 if clocks.failed(figures) else 0


def _calendar_only(args, database_url: str) -> int:
    """`--only calendar`: the calendar feed's figures on a fresh database (bench/calendar.py)."""
    name = f"{database.BENCH_DB_NAME}_calendar"
    _setup_django(database.bench_url(database_url, name))  # no connection until migrate
    from . import calendar

    return calendar.run_only(args, database_url, name, say=_say)


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.only == "calendar" and os.environ.get("DATABASE_URL"):
        return _calendar_only(args, os.environ["DATABASE_URL"])
    if args.only == "clocks":
        database_url = os.environ.get("DATABASE_URL", "")
        if not database_url:
            _say(
                "Set DATABASE_URL to the PostgreSQL server (the benchmark makes its own database)."
            )
            return 2
        return _clocks_only(args, database_url)
    started = time.perf_counter()
    load_start = _load_average()
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        _say("Set DATABASE_URL to the PostgreSQL server (the benchmark makes its own database).")
        return 2
    bench_url = database.bench_url(database_url)
    _say(f"Creating database {database.BENCH_DB_NAME}")
    database.create(database_url)
    try:
        _setup_django(bench_url)
        from django.core.management import call_command

        from . import seed

        t = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        migrate_s = time.perf_counter() - t
        _say(f"Migrated in {migrate_s:.1f} s; seeding")
        t = time.perf_counter()
        requester, large, small = seed.seed(LARGE, SMALL)
        seed_s = time.perf_counter() - t
        _say(
            f"Seeded in {seed_s:.1f} s: large {large.partners} partners, {large.people} "
            f"people, {large.audit_entries} audit entries; small {small.partners} partners, "
            f"{small.people} people, {small.audit_entries} audit entries"
        )
        _say(f"Measuring ({args.warmup} warm-ups, median of {args.requests} requests a page)")
        with _settings_for_client():
            t = time.perf_counter()
            rows = _measure(
                requester, large.partnership, small.partnership, args.requests, args.warmup
            )
            measure_s = time.perf_counter() - t
            figures = None
            if not args.no_protocols:
                from . import protocols

                _say(
                    f"Protocols: a protocol of about 40 pages signed by {protocols.MANY} "
                    f"partners in the large partnership (signed PDF: median of {args.pdf_runs})"
                )
                with protocols.pdf_files():
                    figures = protocols.run(
                        requester,
                        large.partnership,
                        pdf_runs=args.pdf_runs,
                        requests=args.requests,
                        warmup=args.warmup,
                        say=_say,
                    )
            agreement_figures = None
            if not args.no_agreements:
                from . import agreements

                _say(
                    f"Agreements: {agreements.MANY} ISAs among the large partnership's "
                    f"organisations ({agreements.FEW} in the small one)"
                )
                agreement_figures = agreements.run(
                    requester,
                    large.partnership,
                    small.partnership,
                    bench_url=bench_url,
                    requests=args.requests,
                    warmup=args.warmup,
                    say=_say,
                )
            breach_figures = None
            if not args.no_breaches:
                from . import breaches

                _say(
                    f"Breaches: {breaches.MANY} breaches in the large partnership "
                    f"({breaches.FEW} in the small one), then {breaches.CLOCK_ROWS:,} open "
                    "obligations' warning clocks"
                )
                breach_figures = breaches.run(
                    requester,
                    large.partnership,
                    small.partnership,
                    requests=args.requests,
                    warmup=args.warmup,
                    say=_say,
                )
            review_figures = None
            if not args.no_reviews:
                from . import reviews

                _say(
                    f"Reviews: {reviews.MANY} protocols in force in the large partnership "
                    f"({reviews.FEW} in the small one), each with its review cycle"
                )
                review_figures = reviews.run(
                    requester,
                    large.partnership,
                    small.partnership,
                    requests=args.requests,
                    warmup=args.warmup,
                    say=_say,
                )
            calendar_figures = None
            if not args.no_calendar:
                from . import calendar

                _say("Calendar feed: a person in 20 partnerships")
                calendar_figures = calendar.run(
                    requests=args.requests, warmup=args.warmup, say=_say
                )
            clock_figures = None
            if not args.no_clocks:
                from . import clocks

                _say("Clocks and outbox: due selection, delivery rate, reminder latency")
                clock_figures = clocks.run(
                    bench_url=bench_url, sweep_interval=args.sweep_interval, say=_say
                )
        pg_version = _postgres_version()
    finally:
        _close_connections()
        if args.keep_db:
            _say(f"Kept database {database.BENCH_DB_NAME}")
        else:
            database.drop(database_url)
            _say(f"Dropped database {database.BENCH_DB_NAME}")

    import django

    before = report.previous()
    previous_ratios = {p["key"]: p["ratio"] for p in (before or {}).get("pages", [])}
    for row in rows:
        row["previous_ratio"] = previous_ratios.get(row["key"])
    if figures is not None:
        before_build = ((before or {}).get("protocols") or {}).get("pdf_build") or {}
        figures["pdf_build"]["previous_ratio"] = before_build.get("ratio")
    if agreement_figures is not None:
        before_pages = ((before or {}).get("agreements") or {}).get("pages") or []
        before_ratios = {p["page"]: p.get("ratio") for p in before_pages}
        for page in agreement_figures["pages"]:
            page["previous_ratio"] = before_ratios.get(page["page"])
    if breach_figures is not None:
        before_pages = ((before or {}).get("breaches") or {}).get("pages") or []
        before_ratios = {p["page"]: p.get("ratio") for p in before_pages}
        for page in breach_figures["pages"]:
            page["previous_ratio"] = before_ratios.get(page["page"])
    result = {
        "timestamp": datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "previous_timestamp": (before or {}).get("timestamp"),
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg_version,
        "cpus": os.cpu_count(),
        "load_average_1m": {"start": load_start, "end": _load_average()},
        "requests": args.requests,
        "warmup": args.warmup,
        "ratio_target": RATIO_TARGET,
        "large": LARGE,
        "small": SMALL,
        "seconds": {
            "migrate": round(migrate_s, 2),
            "seed": round(seed_s, 2),
            "measure": round(measure_s, 2),
            **(
                {
                    "protocols_seed": figures["seconds"]["seed"],
                    "protocols_measure": figures["seconds"]["measure"],
                }
                if figures
                else {}
            ),
            **(
                {
                    "agreements_seed": agreement_figures["seconds"]["seed"],
                    "agreements_measure": agreement_figures["seconds"]["measure"],
                }
                if agreement_figures
                else {}
            ),
            **(
                {
                    "breaches_seed": breach_figures["seconds"]["seed"],
                    "breaches_measure": breach_figures["seconds"]["measure"],
                }
                if breach_figures
                else {}
            ),
            **({"clocks": clock_figures["seconds"]} if clock_figures else {}),
            "total": round(time.perf_counter() - started, 2),
        },
        "pages": rows,
        "protocols": figures,
        "agreements": agreement_figures,
        "breaches": breach_figures,
        "reviews": review_figures,
        "calendar": calendar_figures,
        "clocks": clock_figures,
    }
    paths = report.write(result)
    _say("")
    _say(report.table(rows))
    _say("")
    for row in rows:
        if row["queries_verdict"] != "OK":
            _say(
                f"N+1 suspected on {row['page']}: {row['queries_small']} queries at 10 rows, "
                f"{row['queries_large']} at large. Queries whose number differs "
                "(shape, times at 10 rows, times at large):"
            )
            for sql, n_small, n_large in row["growing_query_shapes"]:
                _say(f"  {n_small} -> {n_large} x {sql[:400]}")
    if figures is not None:
        _say(report.protocols_tables(figures))
        _say("")
        page, download, build = (
            figures["signatories_page"],
            figures["download"],
            figures["pdf_build"],
        )
        if page["queries_verdict"] != "OK":
            _say(
                f"N+1 suspected on {page['page']}: {page['queries_few']} queries at "
                f"{page['partners_few']} partners, {page['queries_many']} at "
                f"{page['partners_many']}. Queries whose number differs:"
            )
            for sql, n_few, n_many in page["growing_query_shapes"]:
                _say(f"  {n_few} -> {n_many} x {sql[:400]}")
        if download["verdict"] != "OK":
            _say(
                f"The repeat download was not served from storage: {download['renders']} "
                f"renders, {download['new_stored_pdfs']} new stored PDFs."
            )
        _say(
            f"Signed PDF: {build['sections']} sections, {build['signatories']} signatories, "
            f"{build['signing_events']} signing events; App = the render task (content "
            "assembly + stored_pdf: render, seal, store) for a new state each run, Bare = "
            "weasyprint.HTML(string=html).write_pdf() on the same HTML (next row: with "
            'pdf_variant="pdf/ua-1", as the app writes it); aim App/bare <= '
            f"{build['ratio_target']} (CPU ratio: the same in this process's CPU time, "
            "steadier on a busy machine). First build (cold): "
            f"{build['first_build_ms']:.0f} ms."
        )
    if agreement_figures is not None:
        _say(report.agreements_tables(agreement_figures))
        _say("")
        for page in agreement_figures["pages"]:
            if page["queries_verdict"] != "OK":
                _say(
                    f"N+1 suspected on {page['page'].strip()}: {page['queries_small']} queries "
                    f"small, {page['queries_large']} large. Queries whose number differs:"
                )
                for sql, n_small, n_large in page["growing_query_shapes"]:
                    _say(f"  {n_small} -> {n_large} x {sql[:400]}")
        seeded = agreement_figures["seeded"]["many"]
        _say(
            f"Agreements: {seeded['agreements']} ISAs, {seeded['organisations']} organisations, "
            f"{seeded['data_items']} data items; register queries at {agreements.FEW} rows vs "
            f"{agreements.MANY}; App/bare against a bare view with the same annotated query "
            f"(aim <= {agreement_figures['ratio_target']}); exports: median of "
            f"{agreements.EXPORT_RUNS} downloads read to the end, then tracemalloc's peak over "
            "one more, and the peak resident memory of a fresh process making one (aim < "
            f"{agreements.MEMORY_LIMIT_MB} MB)."
        )
    if breach_figures is not None:
        from . import breaches

        _say(report.breaches_tables(breach_figures))
        _say("")
        for page in breach_figures["pages"]:
            if page["queries_verdict"] != "OK":
                _say(
                    f"N+1 suspected on {page['page'].strip()}: {page['queries_small']} queries "
                    f"small, {page['queries_large']} large. Queries whose number differs:"
                )
                for sql, n_small, n_large in page["growing_query_shapes"]:
                    _say(f"  {n_small} -> {n_large} x {sql[:400]}")
        _say(breaches.plans(breach_figures))
        _say("")
        seeded = breach_figures["seeded"]["many"]
        _say(
            f"Breaches: {seeded['breaches']} ({seeded['open']} open, {seeded['overdue']} "
            f"overdue), {seeded['obligations']} obligations; register queries at "
            f"{breaches.FEW} breaches vs {breaches.MANY}, as an administrator; App/bare against "
            "a bare view with the same annotated query (aim <= "
            f"{breach_figures['ratio_target']}); due warnings: median of "
            f"{breach_figures['sweep']['selection']['due_now']['runs']} selections among "
            f"{breaches.CLOCK_ROWS:,} open clocks."
        )
        _say("")
    if review_figures is not None:
        _say(report.reviews_table(review_figures))
        _say("")
    if calendar_figures is not None:
        _say(calendar.table(calendar_figures))
        _say("")
    if clock_figures is not None:
        from . import clocks

        _say(clocks.table(clock_figures))
        _say("")
        _say(clocks.plans(clock_figures))
        _say("")
    load = result["load_average_1m"]
    _say(
        f"Latency: median of {args.requests} requests; App/bare = app ms / bare ms on the "
        "large partnership (Min ratio: the same of the fastest requests). "
        f"Load average (1 min): {load['start']} at start, "
        f"{load['end']} at end (other work on the machine inflates both)."
    )
    _say(
        f"Total {result['seconds']['total']:.1f} s. Figures written to "
        + ", ".join(
            str(p.relative_to(Path.cwd())) if p.is_relative_to(Path.cwd()) else str(p)
            for p in paths
        )
    )
    failed = any(r["queries_verdict"] != "OK" for r in rows)
    if figures is not None:
        failed = failed or figures["signatories_page"]["queries_verdict"] != "OK"
        failed = failed or figures["download"]["verdict"] != "OK"
    if agreement_figures is not None:
        failed = failed or any(p["queries_verdict"] != "OK" for p in agreement_figures["pages"])
        failed = failed or any(agreement_figures[k]["verdict"] != "OK" for k in ("xlsx", "csv"))
    if breach_figures is not None:
        failed = failed or breaches.failed(breach_figures)
    if review_figures is not None:
        failed = failed or any(p["queries_verdict"] != "OK" for p in review_figures["pages"])
    if calendar_figures is not None:
        failed = failed or calendar.failed(calendar_figures)
    if clock_figures is not None:
        from . import clocks

        failed = failed or clocks.failed(clock_figures)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
