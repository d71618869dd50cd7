"""The partnership's legislation library: a copy of Accord's, kept by its drafters."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from accord.kernel.context import service
from tenancy.audit import created, diff, log_action, snapshot
from tenancy.models import Partnership

from ..content import LEGISLATION
from ..models import Legislation, LegislationLibrary

LEGISLATION_FIELDS = ["title", "year", "url", "note"]
LEGISLATION_COPIED = "legislation.copied"


def legislation_copied(partnership: Partnership) -> bool:
    """Whether the partnership has its own copy of Accord's legislation library yet."""
    return LegislationLibrary.objects.filter(partnership=partnership).exists()


@service
def ensure_legislation(partnership: Partnership) -> int:
    """Copy Accord's legislation library to the partnership, once. Returns how many rows."""
    if legislation_copied(partnership):
        return 0
    Partnership.objects.select_for_update().get(pk=partnership.pk)  # one copy at a time
    _library, made = LegislationLibrary.objects.get_or_create(partnership=partnership)
    if not made:
        return 0
    rows = Legislation.objects.bulk_create(
        [
            Legislation(
                partnership=partnership,
                title=statute.title,
                year=statute.year,
                url=statute.url,
                note=statute.note,
                sections=statute.sections,
            )
            for statute in LEGISLATION
        ],
        ignore_conflicts=True,
    )
    log_action(
        partnership,
        LEGISLATION_COPIED,
        f"Copied Accord's legislation library ({len(rows)} entries)",
    )
    return len(rows)


def _clean_legislation(values: dict[str, Any]) -> dict[str, Any]:
    values = {**values, "title": (values.get("title") or "").strip()}
    if not values["title"]:
        raise ValidationError({"title": "Enter the legislation's title."})
    clash = Legislation.objects.filter(title__iexact=values["title"])
    if values.get("pk"):
        clash = clash.exclude(pk=values["pk"])
    if clash.exists():
        raise ValidationError({"title": "The library already has legislation with this title."})
    values.pop("pk", None)
    return values


@service
def add_legislation(partnership: Partnership, *, by=None, **values: Any) -> Legislation:
    ensure_legislation(partnership)  # the partnership's own copy first, then its addition
    values = _clean_legislation(values)
    statute = Legislation(partnership=partnership, **values)
    statute.full_clean()
    statute.save()
    log_action(
        partnership,
        "legislation.added",
        f"Added {statute} to the legislation library",
        statute,
        created(statute, LEGISLATION_FIELDS),
    )
    return statute


@service
def update_legislation(statute: Legislation, *, by=None, **values: Any) -> Legislation:
    values = _clean_legislation({**values, "pk": statute.pk})
    before = snapshot(statute, LEGISLATION_FIELDS)
    for key, value in values.items():
        setattr(statute, key, value)
    statute.full_clean()
    statute.save()
    changes = diff(before, snapshot(statute, LEGISLATION_FIELDS))
    if changes:
        log_action(
            statute.partnership,
            "legislation.changed",
            f"Changed {statute} in the legislation library",
            statute,
            changes,
        )
    return statute


@service
def delete_legislation(statute: Legislation, *, by=None) -> None:
    before = snapshot(statute, LEGISLATION_FIELDS)
    log_action(
        statute.partnership,
        "legislation.removed",
        f"Removed {statute} from the legislation library",
        statute,
        {k: [v, None] for k, v in before.items() if v not in (None, "")},
    )
    statute.delete()
