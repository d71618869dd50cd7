"""The table printed at the end, and the JSON kept in bench/results/."""

from __future__ import annotations

import json
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"
LATEST = RESULTS_DIR / "latest.json"

COLUMNS = [
    ("page", "Page", "<"),
    ("queries_small", "Queries@10", ">"),
    ("queries_large", "Queries@large", ">"),
    ("queries_verdict", "Same?", "<"),
    ("queries_bare", "Bare q", ">"),
    ("app_ms_small", "App ms@10", ">"),
    ("app_ms_large", "App ms@large", ">"),
    ("bare_ms_large", "Bare ms@large", ">"),
    ("ratio", "App/bare", ">"),
    ("ratio_verdict", "<=1.5?", "<"),
    ("ratio_of_minimums", "Min ratio", ">"),
    ("previous_ratio", "Prev ratio", ">"),
]


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


# The protocols figures: the signed PDF's build and download, then the signatories page.
PDF_COLUMNS = [
    ("measure", "Protocol PDF", "<"),
    ("pages", "Pages", ">"),
    ("app_ms", "App ms", ">"),
    ("bare_ms", "Bare ms", ">"),
    ("ratio", "App/bare", ">"),
    ("verdict", "Verdict", "<"),
    ("ratio_of_minimums", "Min ratio", ">"),
    ("cpu_ratio", "CPU ratio", ">"),
    ("previous_ratio", "Prev ratio", ">"),
    ("note", "Notes", "<"),
]
SIGNATORIES_COLUMNS = [
    ("page", "Page", "<"),
    ("queries_few", "Queries@{few}", ">"),
    ("queries_many", "Queries@{many}", ">"),
    ("queries_verdict", "Same?", "<"),
    ("ms_few", "App ms@{few}", ">"),
    ("ms_many", "App ms@{many}", ">"),
    ("p90_ms_many", "p90 ms@{many}", ">"),
    ("min_ms_many", "Min ms@{many}", ">"),
]


def table(rows: list[dict], columns: list[tuple[str, str, str]] = COLUMNS) -> str:
    cells = [[_cell(row.get(key)) for key, _, _ in columns] for row in rows]
    widths = [
        max(len(title), *(len(r[i]) for r in cells)) for i, (_, title, _) in enumerate(columns)
    ]

    def line(values):
        return "  ".join(
            f"{v:{align}{w}}" for v, w, (_, _, align) in zip(values, widths, columns, strict=True)
        )

    out = [line([title for _, title, _ in columns]), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


def protocols_tables(figures: dict) -> str:
    """The protocols figures as two tables: the PDF, then the signatories page."""
    build, download, page = figures["pdf_build"], figures["download"], figures["signatories_page"]
    phases = build["phases_ms"]
    pdf_rows = [
        {
            "measure": "Signed PDF build (assemble, render, seal, store)",
            "pages": build["pages"],
            "app_ms": build["app_ms"],
            "bare_ms": build["bare_ms"],
            "ratio": build["ratio"],
            "verdict": build["ratio_verdict"],
            "ratio_of_minimums": build["ratio_of_minimums"],
            "cpu_ratio": build["cpu_ratio"],
            "previous_ratio": build.get("previous_ratio"),
            "note": (
                f"median of {build['runs']}, new state each; render_pdf "
                f"{phases['render_pdf']:.0f} + seal {phases['seal']:.0f} + rest "
                f"{phases['other']:.0f} ms; {build['bytes'] // 1024} KB"
            ),
        },
        {
            "measure": "  the same vs raw WeasyPrint writing PDF/UA-1",
            "pages": build["pages"],
            "app_ms": build["app_ms"],
            "bare_ms": build["bare_ua_ms"],
            "ratio": build["ratio_ua"],
            "verdict": "OK" if build["ratio_ua"] <= build["ratio_target"] else "SLOW",
            "ratio_of_minimums": build["ratio_ua_of_minimums"],
            "cpu_ratio": build["cpu_ratio_ua"],
            "note": "like for like: bare also tags the PDF for accessibility, as the app does",
        },
        {
            "measure": "Repeat download (stored PDF)",
            "pages": build["pages"],
            "app_ms": download["ms"],
            "verdict": download["verdict"],
            "note": (
                f"median of {download['requests']}; {download['renders']} renders, "
                f"{download['new_stored_pdfs']} new stored PDFs, {download['queries']} "
                f"queries, same file: {'yes' if download['same_file_as_stored'] else 'NO'}"
            ),
        },
    ]
    sizes = {"few": page["partners_few"], "many": page["partners_many"]}
    columns = [(key, title.format(**sizes), align) for key, title, align in SIGNATORIES_COLUMNS]
    return table(pdf_rows, PDF_COLUMNS) + "\n\n" + table([page], columns)


# The agreements figures: register and map pages, then the exports.
AGREEMENT_PAGE_COLUMNS = [
    ("page", "Agreements page", "<"),
    ("queries_small", "Queries@10", ">"),
    ("queries_large", "Queries@10k", ">"),
    ("queries_verdict", "Same?", "<"),
    ("queries_bare", "Bare q", ">"),
    ("app_ms_small", "App ms@10", ">"),
    ("app_ms_large", "App ms@10k", ">"),
    ("bare_ms_large", "Bare ms@10k", ">"),
    ("ratio", "App/bare", ">"),
    ("ratio_verdict", "<=1.5?", "<"),
    ("ratio_of_minimums", "Min ratio", ">"),
    ("previous_ratio", "Prev ratio", ">"),
    ("note", "Notes", "<"),
]
EXPORT_COLUMNS = [
    ("export", "Register export", "<"),
    ("rows", "Rows", ">"),
    ("ms", "ms", ">"),
    ("kb", "KB", ">"),
    ("queries", "Queries", ">"),
    ("peak", "tracemalloc peak MB", ">"),
    ("rss_peak", "Process peak RSS MB", ">"),
    ("rss", "RSS growth MB", ">"),
    ("verdict", "<256 MB?", "<"),
]


def agreements_tables(figures: dict) -> str:
    """The agreements figures as two tables: the pages, then the exports."""
    pages = []
    for page in figures["pages"]:
        row = dict(page)
        if "nodes" in page:
            row["note"] = (
                f"{page['nodes']} organisations, {page['flows']} flows "
                f"({page['special_flows']} special) from {page['map_agreements']} active ISAs; "
                f"{page['bytes_app_large'] // 1024} KB"
            )
        else:
            row["note"] = f"{page['bytes_app_large'] // 1024} KB"
        pages.append(row)
    exports = []
    for key, title in (("xlsx", "Excel (openpyxl write-only)"), ("csv", "CSV (streamed)")):
        data = figures[key]
        rss = data.get("rss") or {}
        exports.append(
            {
                "export": title,
                "rows": data.get("rows_in_file", data["rows"]),
                "ms": data["ms"],
                "kb": data["bytes"] // 1024,
                "queries": data["queries"],
                "peak": data["tracemalloc_peak_mb"],
                "rss_peak": rss.get("peak_mb", rss.get("error", "")[:30] or None),
                "rss": rss.get("growth_mb"),
                "verdict": data["verdict"],
            }
        )
    return table(pages, AGREEMENT_PAGE_COLUMNS) + "\n\n" + table(exports, EXPORT_COLUMNS)


# The breach log's figures: the register, then the selection of due warnings.
BREACH_PAGE_COLUMNS = [("page", "Breach log page", "<"), *AGREEMENT_PAGE_COLUMNS[1:]]
SWEEP_COLUMNS = [
    ("measure", "Breach deadlines", "<"),
    ("figure", "Figure", ">"),
    ("target", "Target", ">"),
    ("verdict", "Verdict", "<"),
    ("note", "Notes", "<"),
]


def breaches_tables(figures: dict) -> str:
    """The breach log's figures as two tables: the register, then the due selection."""
    pages = [{**page, "note": f"{page['bytes_app_large'] // 1024} KB"} for page in figures["pages"]]
    sweep = figures["sweep"]
    rows = [
        {
            "measure": f"Select due warnings ({name})",
            "figure": f"{part['median_ms']:.1f} ms",
            "target": f"<= {sweep['limit_ms']:.0f} ms",
            "verdict": part["verdict"],
            "note": f"{part['rows']} of {sweep['seeded']['rows']:,} open rows; first "
            f"{part['first_ms']:.1f} ms, max {part['max_ms']:.1f} ms; clock_due: "
            f"{'yes' if part['uses_clock_due'] else 'no'}",
        }
        for name, part in sweep["selection"].items()
    ]
    return table(pages, BREACH_PAGE_COLUMNS) + "\n\n" + table(rows, SWEEP_COLUMNS)


REVIEW_PAGE_COLUMNS = [("page", "Reviews page", "<"), *AGREEMENT_PAGE_COLUMNS[1:]]


def reviews_table(figures: dict) -> str:
    pages = [{**page, "note": f"{page['bytes_app_large'] // 1024} KB"} for page in figures["pages"]]
    return table(pages, REVIEW_PAGE_COLUMNS)


def previous() -> dict | None:
    try:
        return json.loads(LATEST.read_text())
    except (OSError, ValueError):
        return None


def write(result: dict) -> list[Path]:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2) + "\n"
    stamped = RESULTS_DIR / f"run-{result['timestamp'].replace(':', '').replace('-', '')}.json"
    stamped.write_text(text)
    LATEST.write_text(text)
    return [LATEST, stamped]
