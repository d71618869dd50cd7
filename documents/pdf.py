"""PDFs of frozen documents: rendered with WeasyPrint, sealed, stored once per signing state."""

from __future__ import annotations

import dataclasses
import datetime
import json
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from . import layout
from .models import FrozenDocument, RenderedPdf
from .seal import ensure_configured, seal
from .services import require_scope, sha256_of_bytes

# Part of every state key: raise it when the layout changes so PDFs are rendered afresh.
LAYOUT_VERSION = 1
TEMPLATE = "documents/pdf.html"


@dataclass(frozen=True)
class RevisionRow:
    version: str
    date: datetime.date
    author: str
    summary: str


@dataclass(frozen=True)
class SignatoryRow:
    organisation: str
    signatory: str
    position: str
    signed_on: datetime.date | None
    status: str  # shown when not signed, e.g. "Awaiting signature" or "Declined"


@dataclass(frozen=True)
class SigningEvent:
    at: datetime.datetime
    name: str
    position: str
    organisation: str
    ip_address: str
    outcome: str  # "Signed" or "Declined"


@dataclass(frozen=True)
class PdfContent:
    document: FrozenDocument
    lead_organisation: str
    status: str
    date_in_force: datetime.date | None
    revisions: tuple[RevisionRow, ...]
    signatories: tuple[SignatoryRow, ...]
    events: tuple[SigningEvent, ...]
    final: bool
    front_matter_html: str = ""  # trusted HTML (sanitise what people typed first)


def _plain(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return layout.utc_iso(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _rows(rows: tuple) -> list[dict[str, object]]:
    return [{k: _plain(v) for k, v in dataclasses.asdict(row).items()} for row in rows]


def state_key(content: PdfContent) -> str:
    """SHA-256 of everything the PDF shows, with the document's text stood for by its hash."""
    document = content.document
    state = {
        "layout": LAYOUT_VERSION,
        "document": {
            "sha256": document.sha256,
            "kind": document.kind,
            "title": document.title,
            "version_label": document.version_label,
            "frozen_at": _plain(document.frozen_at),
        },
        "lead_organisation": content.lead_organisation,
        "status": content.status,
        "date_in_force": _plain(content.date_in_force),
        "revisions": _rows(content.revisions),
        "signatories": _rows(content.signatories),
        "events": _rows(content.events),
        "final": content.final,
        "front_matter_html": content.front_matter_html,
    }
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_of_bytes(canonical.encode("utf-8"))


def _context(content: PdfContent) -> dict[str, object]:
    document = content.document
    body, headings = layout.number_headings(document.html)
    return {
        "content": content,
        "document": document,
        "kind": document.get_kind_display(),
        # Frozen HTML was sanitised before freezing; front matter is the caller's own HTML.
        "body": mark_safe(body),  # noqa: S308
        "front_matter": mark_safe(content.front_matter_html),  # noqa: S308
        "headings": headings,
        "date_in_force": layout.uk_date(content.date_in_force),
        "frozen_at": layout.uk_time(document.frozen_at),
        "revisions": [
            {**dataclasses.asdict(row), "date": layout.uk_date(row.date)}
            for row in content.revisions
        ],
        "signatories": [
            {
                **dataclasses.asdict(row),
                "shown": layout.uk_date(row.signed_on) if row.signed_on else row.status,
            }
            for row in content.signatories
        ],
        "events": [
            {
                **dataclasses.asdict(event),
                "utc": layout.utc_iso(event.at),
                "uk": layout.uk_time(event.at),
            }
            for event in content.events
        ],
        "footer": mark_safe(  # noqa: S308  (every character but letters and digits escaped)
            layout.css_string(f"{document.title} · Version {document.version_label}")
        ),
    }


def render_pdf(content: PdfContent) -> bytes:
    """The PDF, unsealed: cover, version control, contents, text, tables, certificate."""
    markup = render_to_string(TEMPLATE, _context(content))
    # Nothing outside the template is fetched: data: URLs only.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=markup, url_fetcher=fetcher).write_pdf(pdf_variant="pdf/ua-1")


def _file_name(content: PdfContent, state: str) -> str:
    document = content.document
    stem = slugify(f"{document.title} version {document.version_label}")[:120] or "document"
    return f"{stem}-{state[:12]}.pdf"


def stored_pdf(content: PdfContent) -> RenderedPdf:
    """The sealed PDF for this document and signing state, rendered and stored the first time.

    Call it inside the partnership's scope. Two concurrent calls store one row: the one that
    loses the race removes its file and returns the winner's.
    """
    document = content.document
    require_scope(document.partnership_id)
    state = state_key(content)
    existing = RenderedPdf.objects.filter(document=document, state=state).first()
    if existing is not None:
        return existing
    ensure_configured()
    data = seal(render_pdf(content))
    pdf = RenderedPdf(
        partnership_id=document.partnership_id,
        document=document,
        state=state,
        sha256=sha256_of_bytes(data),
        final=content.final,
        sealed=True,
    )
    pdf.file.save(_file_name(content, state), ContentFile(data), save=False)
    try:
        with transaction.atomic():
            pdf.save()
    except IntegrityError:
        pdf.file.delete(save=False)
        return RenderedPdf.objects.get(document=document, state=state)
    return pdf
