"""The partnership's ISA templates: the default one, copied from Accord's, and its edits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.kernel.context import service
from documents.markup import MAX_BODY_CHARS
from tenancy.audit import log_action
from tenancy.models import Partnership

from ..models import AgreementTemplate, TemplateSection
from ..templates_content import DEFAULT_SECTIONS, DEFAULT_TEMPLATE_NAME

TITLE_MAX = TemplateSection._meta.get_field("title").max_length


def default_template(partnership: Partnership) -> AgreementTemplate | None:
    return AgreementTemplate.objects.filter(is_default=True).first()


@dataclass(frozen=True)
class UnsavedSections:
    rows: tuple[TemplateSection, ...]

    def order_by(self, *fields: str) -> list[TemplateSection]:
        """The rows in their template order (as the saved sections' manager gives them)."""
        return list(self.rows)

    def all(self) -> list[TemplateSection]:
        return list(self.rows)


@dataclass(frozen=True)
class UnsavedTemplate:
    """Accord's template as the partnership's default starts, before anything is saved: read
    like an AgreementTemplate (name, version, sections)."""

    name: str
    version: int
    sections: UnsavedSections
    dpia_for_special_category: bool = True


def accords_template(partnership: Partnership) -> UnsavedTemplate:
    """Accord's template as ensure_default_template would copy it, saving nothing."""
    return UnsavedTemplate(
        name=DEFAULT_TEMPLATE_NAME,
        version=1,
        sections=UnsavedSections(
            tuple(
                TemplateSection(
                    partnership=partnership,
                    key=section.key,
                    position=position,
                    title=section.title,
                    guidance=section.guidance,
                    body=section.body,
                )
                for position, section in enumerate(DEFAULT_SECTIONS, start=1)
            )
        ),
    )


def template_to_show(partnership: Partnership) -> AgreementTemplate | UnsavedTemplate:
    """The partnership's default template, or Accord's while it has none: what the template
    page shows. Reading it saves nothing."""
    return default_template(partnership) or accords_template(partnership)


@service
def ensure_default_template(partnership: Partnership, *, by=None) -> AgreementTemplate:
    """The partnership's default template, copied from Accord's the first time it is needed."""
    existing = default_template(partnership)
    if existing is not None:
        return existing
    Partnership.objects.select_for_update().get(pk=partnership.pk)  # one copy at a time
    existing = default_template(partnership)
    if existing is not None:
        return existing
    template = AgreementTemplate.objects.create(
        partnership=partnership, name=DEFAULT_TEMPLATE_NAME, version=1, is_default=True
    )
    TemplateSection.objects.bulk_create(
        TemplateSection(
            partnership=partnership,
            template=template,
            key=section.key,
            position=position,
            title=section.title,
            guidance=section.guidance,
            body=section.body,
        )
        for position, section in enumerate(DEFAULT_SECTIONS, start=1)
    )
    log_action(
        partnership,
        "agreement_template.created",
        f"Copied Accord's information sharing agreement template ({len(DEFAULT_SECTIONS)} "
        "sections)",
        template,
        {"name": [None, template.name], "version": [None, template.version]},
    )
    return template


def _clean_sections(
    sections: list[TemplateSection], values: dict[str, dict[str, str]]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    for section in sections:
        given = values.get(section.key, {})
        title = (given.get("title") or "").strip()
        if not title:
            errors[f"{section.key}-title"] = f"Enter a title for the section “{section.title}”."
        elif len(title) > TITLE_MAX:
            errors[f"{section.key}-title"] = (
                f"A section's title must be {TITLE_MAX} characters or fewer."
            )
        for part in ("guidance", "body"):
            if len(given.get(part) or "") > MAX_BODY_CHARS:
                errors[f"{section.key}-{part}"] = (
                    f"This is too long: the most it can have is {MAX_BODY_CHARS:,} characters."
                )
    return errors


@service
def update_template(
    template: AgreementTemplate,
    *,
    name: str,
    sections: dict[str, dict[str, Any]],
    by,
    dpia_for_special_category: bool | None = None,
) -> AgreementTemplate:
    """Save the template's name and its sections' titles, guidance and default wording; a
    change raises its version. Agreements already started from it keep their own copy."""
    template = AgreementTemplate.objects.select_for_update().get(pk=template.pk)
    rows = list(template.sections.order_by("position", "id"))
    name = (name or "").strip()
    errors = _clean_sections(rows, sections)
    if not name:
        errors["name"] = "Enter the template's name."
    if errors:
        raise ValidationError(errors)
    changed = []
    for row in rows:
        given = sections.get(row.key, {})
        new = {
            "title": given.get("title", row.title).strip(),
            "guidance": given.get("guidance", row.guidance),
            "body": given.get("body", row.body),
        }
        if any(getattr(row, field) != value for field, value in new.items()):
            for field, value in new.items():
                setattr(row, field, value)
            changed.append(row)
    dpia_before = template.dpia_for_special_category
    if dpia_for_special_category is None:
        dpia_for_special_category = dpia_before
    if not changed and name == template.name and dpia_for_special_category == dpia_before:
        return template
    TemplateSection.objects.bulk_update(changed, ["title", "guidance", "body"])
    before = template.version
    template.name = name
    template.dpia_for_special_category = dpia_for_special_category
    template.version += 1
    template.updated_at = timezone.now()
    template.updated_by = by
    template.save()
    log_action(
        template.partnership,
        "agreement_template.changed",
        f"Changed the agreement template “{template.name}” (now version {template.version})",
        template,
        {
            "version": [before, template.version],
            "sections": [None, [row.title for row in changed]],
            **(
                {"dpia_for_special_category": [dpia_before, dpia_for_special_category]}
                if dpia_for_special_category != dpia_before
                else {}
            ),
        },
    )
    return template


def _differs(
    template: AgreementTemplate | UnsavedTemplate,
    name: str,
    sections: dict[str, dict[str, Any]],
    dpia_for_special_category: bool | None = None,
) -> bool:
    """Whether saving `name` and `sections` would change the template (as update_template
    compares them)."""
    if (name or "").strip() != template.name:
        return True
    if dpia_for_special_category not in (None, template.dpia_for_special_category):
        return True
    for row in template.sections.order_by("position", "id"):
        given = sections.get(row.key, {})
        if (
            (given.get("title", row.title) or "").strip() != row.title
            or given.get("guidance", row.guidance) != row.guidance
            or given.get("body", row.body) != row.body
        ):
            return True
    return False


@service
def save_default_template(
    partnership: Partnership,
    *,
    name: str,
    sections: dict[str, dict[str, Any]],
    by,
    dpia_for_special_category: bool | None = None,
) -> AgreementTemplate | UnsavedTemplate:
    """Save the template page: the partnership's default template changed as
    update_template changes it, copied from Accord's first if it has none yet. Nothing is
    copied when the page is saved unchanged; nothing at all when it is refused."""
    template = default_template(partnership)
    if template is None:
        if not _differs(accords_template(partnership), name, sections, dpia_for_special_category):
            return accords_template(partnership)
        template = ensure_default_template(partnership, by=by)
    return update_template(
        template,
        name=name,
        sections=sections,
        by=by,
        dpia_for_special_category=dpia_for_special_category,
    )
