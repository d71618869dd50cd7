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


def table(rows: list[dict]) -> str:
    cells = [[_cell(row.get(key)) for key, _, _ in COLUMNS] for row in rows]
    widths = [
        max(len(title), *(len(r[i]) for r in cells)) for i, (_, title, _) in enumerate(COLUMNS)
    ]

    def line(values):
        return "  ".join(
            f"{v:{align}{w}}" for v, w, (_, _, align) in zip(values, widths, COLUMNS, strict=True)
        )

    out = [line([title for _, title, _ in COLUMNS]), line(["-" * w for w in widths])]
    out += [line(r) for r in cells]
    return "\n".join(out)


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
