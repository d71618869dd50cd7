"""Importing partners from a CSV file: read, check every row, then save all or nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django_scopes import scopes_disabled

from tenancy.models import Partnership

from .models import ICO_REFERENCE_PATTERN, Organisation, Partner, Sector, normalise_ico_reference
from .services import add_partner, create_organisation

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 2000
COLUMNS = {
    "name": "name",
    "organisation": "name",
    "ico reference": "ico_reference",
    "ico_reference": "ico_reference",
    "ico registration reference": "ico_reference",
    "dpo": "dpo_name",
    "data protection officer": "dpo_name",
    "e-mail": "data_protection_email",
    "email": "data_protection_email",
    "sector": "sector",
}
REQUIRED = {"name"}
_SECTORS = {**{s.value: s.value for s in Sector}, **{s.label.lower(): s.value for s in Sector}}


@dataclass
class Row:
    number: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    existing: Organisation | None = None

    @property
    def outcome(self) -> str:
        if self.errors:
            return "Cannot import"
        return f"Use existing record: {self.existing}" if self.existing else "New organisation"


@dataclass
class ImportPreview:
    rows: list[Row]

    @property
    def is_valid(self) -> bool:
        return bool(self.rows) and not any(row.errors for row in self.rows)

    @property
    def error_count(self) -> int:
        return sum(1 for row in self.rows if row.errors)


def digest(text: str) -> str:
    """Names one uploaded file's content, so a confirmation applies to the preview it saw."""
    return hashlib.sha256(text.encode()).hexdigest()


def decode(raw: bytes) -> str:
    if len(raw) > MAX_BYTES:
        raise ValidationError("The file is larger than 5 MB. Split it into smaller files.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # a NUL means a binary file (and the database refuses it)
            return text
        break
    raise ValidationError("The file could not be read as text. Save it as CSV (UTF-8).")


def _header_map(headers: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    unknown = []
    for header in headers:
        key = COLUMNS.get(header.strip().lower())
        if key is None:
            unknown.append(header.strip() or "(blank)")
        elif key in mapping.values():
            raise ValidationError(f"The column '{header.strip()}' appears twice.")
        else:
            mapping[header] = key
    if unknown:
        raise ValidationError(
            f"Unknown column{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}. "
            "Use: name, ICO reference, DPO, e-mail, sector."
        )
    missing = REQUIRED - set(mapping.values())
    if missing:
        raise ValidationError("The file needs a 'name' column.")
    return mapping


def read(text: str) -> ImportPreview:
    """Check every row against the partnership (in scope) and the organisation records."""
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        headers = reader.fieldnames
    except csv.Error as exc:
        raise ValidationError(f"The file is not a valid CSV file ({exc}).") from exc
    if not headers:
        raise ValidationError("The file is empty. It needs a header row and one row a partner.")
    mapping = _header_map(list(headers))
    rows: list[Row] = []
    try:
        for number, raw in enumerate(reader, start=2):
            if None in raw:
                rows.append(Row(number, {}, ["This row has more cells than the header row."]))
                continue
            values = {key: (raw.get(header) or "").strip() for header, key in mapping.items()}
            if not any(values.values()):
                continue
            rows.append(Row(number, values))
            if len(rows) > MAX_ROWS:
                raise ValidationError(f"The file has more than {MAX_ROWS} rows.")
    except csv.Error as exc:
        raise ValidationError(f"The file is not a valid CSV file ({exc}).") from exc
    if not rows:
        raise ValidationError("The file has a header row but no partners.")
    _check(rows)
    return ImportPreview(rows)


def _check(rows: list[Row]) -> None:
    seen_refs: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    refs = {normalise_ico_reference(r.values.get("ico_reference")) for r in rows} - {None}
    with scopes_disabled():
        by_ref = {o.ico_reference: o for o in Organisation.objects.filter(ico_reference__in=refs)}
    names = {r.values["name"].lower() for r in rows if r.values.get("name")}
    by_name: dict[str, list[Organisation]] = {}
    with scopes_disabled():
        for org in Organisation.objects.filter(name__in=[r.values.get("name") for r in rows]):
            if org.name.lower() in names:
                by_name.setdefault(org.name.lower(), []).append(org)
    partner_orgs = set(Partner.objects.values_list("organisation_id", flat=True))

    for row in rows:
        v = row.values
        name = v.get("name", "")
        if not name:
            row.errors.append("Enter the organisation's name.")
        elif len(name) > 200:
            row.errors.append("The name must be 200 characters or fewer.")
        ref = normalise_ico_reference(v.get("ico_reference"))
        if ref and not re.match(ICO_REFERENCE_PATTERN, ref):
            row.errors.append(
                f"'{v['ico_reference']}' is not an ICO registration reference "
                "(Z and 7 digits, or Z, a letter and 6 digits)."
            )
            ref = None
        if ref:
            if ref in seen_refs:
                row.errors.append(f"ICO reference {ref} is also on row {seen_refs[ref]}.")
            seen_refs.setdefault(ref, row.number)
            row.existing = by_ref.get(ref)
            if row.existing and name and row.existing.name.lower() != name.lower():
                row.errors.append(
                    f"ICO reference {ref} belongs to {row.existing.name}, not {name}."
                )
        elif name:
            matches = by_name.get(name.lower(), [])
            if len(matches) == 1:
                row.existing = matches[0]
        if name:
            if name.lower() in seen_names:
                row.errors.append(f"{name} is also on row {seen_names[name.lower()]}.")
            seen_names.setdefault(name.lower(), row.number)
        email = v.get("data_protection_email", "")
        if email:
            try:
                validate_email(email)
            except ValidationError:
                row.errors.append(f"'{email}' is not a valid e-mail address.")
        sector = v.get("sector", "")
        if sector and sector.lower() not in _SECTORS:
            row.errors.append(
                f"'{sector}' is not a sector. Use one of: {', '.join(s.label for s in Sector)}."
            )
        if row.existing and row.existing.pk in partner_orgs:
            row.errors.append(f"{row.existing.name} is already a partner.")
        if len(v.get("dpo_name", "")) > 150:
            row.errors.append("The DPO's name must be 150 characters or fewer.")


@transaction.atomic
def save(partnership: Partnership, preview: ImportPreview) -> list[Partner]:
    """Create the partners, or nothing at all."""
    if not preview.is_valid:
        raise ValidationError("Correct the errors in the file before importing.")
    partners = []
    for row in preview.rows:
        organisation = row.existing
        if organisation is None:
            v = row.values
            organisation = create_organisation(
                name=v["name"],
                ico_reference=normalise_ico_reference(v.get("ico_reference")),
                dpo_name=v.get("dpo_name", ""),
                data_protection_email=v.get("data_protection_email", ""),
                sector=_SECTORS.get(v.get("sector", "").lower(), Sector.OTHER),
            )
        partners.append(add_partner(partnership, organisation))
    return partners
