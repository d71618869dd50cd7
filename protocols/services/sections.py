"""A draft version's sections: added, changed, moved and removed while it is a draft."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Max

from accord.kernel.context import service
from tenancy.audit import diff, log_action

from ..models import ProtocolVersion, Section
from .common import locked_version, require_editable, section_errors


@service
def add_section(version: ProtocolVersion, *, title: str, body: str, by=None) -> Section:
    version = locked_version(version)
    require_editable(version)
    title, body = (title or "").strip(), body or ""
    errors = section_errors(title, body)
    if errors:
        raise ValidationError(errors)
    last = version.sections.aggregate(last=Max("position"))["last"] or 0
    section = Section.objects.create(
        partnership=version.partnership,
        version=version,
        position=last + 1,
        title=title,
        body=body,
    )
    log_action(
        version.partnership,
        "protocol.section_added",
        f"Added the section “{title}” to {version}",
        section,
        {"title": [None, title]},
    )
    return section


@service
def update_section(section: Section, *, title: str, body: str, by=None) -> Section:
    version = locked_version(section.version)
    require_editable(version)
    title, body = (title or "").strip(), body or ""
    errors = section_errors(title, body)
    if errors:
        raise ValidationError(errors)
    section = Section.objects.select_for_update().get(pk=section.pk)
    before = {"title": section.title, "body": section.body}
    section.title, section.body = title, body
    section.save()
    changes = diff(before, {"title": title, "body": body})
    if "body" in changes:
        # The text itself can be long: the compare page shows what changed in it.
        changes["body"] = [f"{len(before['body']):,} characters", f"{len(body):,} characters"]
    if changes:
        log_action(
            version.partnership,
            "protocol.section_changed",
            f"Changed the section “{title}” of {version}",
            section,
            changes,
        )
    return section


def _renumber(ordered: list[Section]) -> None:
    for position, section in enumerate(ordered, start=1):
        section.position = position
    Section.objects.bulk_update(ordered, ["position"])


@service
def delete_section(section: Section, *, by=None) -> None:
    version = locked_version(section.version)
    require_editable(version)
    title = section.title
    log_action(
        version.partnership,
        "protocol.section_removed",
        f"Removed the section “{title}” from {version}",
        section,
        {"title": [title, None]},
    )
    section.delete()
    _renumber(list(version.sections.order_by("position", "id")))


@service
def move_section(section: Section, direction: str, *, by=None) -> Section:
    """Swap a section with the one above ("up") or below ("down")."""
    version = locked_version(section.version)
    require_editable(version)
    if direction not in ("up", "down"):
        raise ValidationError("Choose to move the section up or down.")
    ordered = list(version.sections.order_by("position", "id"))
    index = next(i for i, s in enumerate(ordered) if s.pk == section.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        raise ValidationError(
            f"“{section.title}” is already the {'first' if direction == 'up' else 'last'} section."
        )
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(ordered)
    log_action(
        version.partnership,
        "protocol.section_moved",
        f"Moved the section “{section.title}” {direction} in {version}",
        section,
        {"position": [index + 1, other + 1]},
    )
    return ordered[other]
