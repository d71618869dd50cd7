"""PDFs of frozen documents: rendered with WeasyPrint, sealed, stored once per signing state."""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.text import slugify
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from . import layout
from .markup import sanitise_html
from .models import FrozenDocument, RenderedPdf, RevisionNote
from .seal import ensure_configured, seal
from .services import require_scope, sha256_of_bytes

# Part of every state key: raise it when the layout changes so PDFs are rendered afresh.
LAYOUT_VERSION = 2
TEMPLATE = "documents/pdf.html"
# The word for a refusal in SignatoryRow.status and SigningEvent.outcome.
DECLINED = "Declined"


@dataclass(frozen=True)
class RevisionRow:
    version: str
    date: datetime.date
    author: str
    summary: str


def noted_revisions(labels: dict[int, str]) -> tuple[RevisionRow, ...]:
    """The revision table's rows that are not versions (`RevisionNote`: "Reviewed, no
    change"), for the frozen documents given as {document id: version label}, oldest first."""
    notes = RevisionNote.objects.filter(document_id__in=list(labels)).order_by("on", "pk")
    return tuple(
        RevisionRow(version=labels[n.document_id], date=n.on, author=n.author, summary=n.summary)
        for n in notes
    )


@dataclass(frozen=True)
class SignatoryRow:
    organisation: str
    signatory: str
    position: str
    signed_on: datetime.date | None
    status: str  # shown when not signed, e.g. "Awaiting signature", "Declined", "Withdrawn"
    version: str = ""  # the version the signature was given on, such as "2.0"


@dataclass(frozen=True)
class SigningEvent:
    at: datetime.datetime
    name: str
    position: str
    organisation: str
    ip_address: str
    outcome: str  # "Signed" or "Declined"
    version: str = ""  # the version the answer was given on, such as "2.0"


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
    front_matter_html: str = ""  # sanitised again when shown (markup.sanitise_html)
    # For anyone, not only the partnership: no IP addresses and no declines, and the signers'
    # names only when `show_names` (the partnership's choice for its public page).
    public: bool = False
    show_names: bool = True
    # The signing figures in words, such as "31 of 34 partners asked have signed."
    signing_summary: str = ""
    # The cover: the partnership's name, the parties (an agreement's organisations) and when
    # the document ends, in words (such as "None: until terminated"); each left off if empty.
    partnership: str = ""
    parties: tuple[str, ...] = ()
    ends: str = ""
    # The text has its own version control section (an agreement's): the PDF adds none.
    version_control_in_text: bool = False


def shown_signatories(content: PdfContent) -> tuple[SignatoryRow, ...]:
    """The signatory rows the PDF shows: a public one leaves out declines (and names when
    they are hidden)."""
    if not content.public:
        return content.signatories
    return tuple(
        row if content.show_names else dataclasses.replace(row, signatory="")
        for row in content.signatories
        if row.status != DECLINED
    )


def shown_events(content: PdfContent) -> tuple[SigningEvent, ...]:
    """The certificate's events the PDF shows: a public one leaves out declines and IP
    addresses (and names when they are hidden)."""
    if not content.public:
        return content.events
    return tuple(
        dataclasses.replace(event, ip_address="", name=event.name if content.show_names else "")
        for event in content.events
        if event.outcome != DECLINED
    )


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
        "signatories": _rows(shown_signatories(content)),
        "events": _rows(shown_events(content)),
        "final": content.final,
        "front_matter_html": content.front_matter_html,
    }
    if content.public:
        # Only when set, so the members' PDFs stored before these fields keep their keys.
        state["public"] = {"show_names": content.show_names}
    if content.signing_summary:
        state["signing_summary"] = content.signing_summary
    for field in ("partnership", "parties", "ends", "version_control_in_text"):
        if getattr(content, field):
            state[field] = getattr(content, field)
    canonical = json.dumps(state, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return sha256_of_bytes(canonical.encode("utf-8"))


def _context(content: PdfContent) -> dict[str, object]:
    document = content.document
    body, headings = layout.number_headings(document.html)
    return {
        "content": content,
        "document": document,
        "kind": document.get_kind_display(),
        # Frozen HTML was sanitised when it was frozen; front matter is sanitised here.
        "body": mark_safe(body),  # noqa: S308
        "front_matter": mark_safe(sanitise_html(content.front_matter_html)),  # noqa: S308
        "public": content.public,
        "show_names": content.show_names or not content.public,
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
                "shown": _signed_on(row),
                "shown_version": row.version if row.signed_on else "",
            }
            for row in shown_signatories(content)
        ],
        "events": [
            {
                **dataclasses.asdict(event),
                "utc": layout.utc_iso(event.at),
                "uk": layout.uk_time(event.at),
                "uk_date": layout.uk_date(layout.uk_day(event.at)),
            }
            for event in shown_events(content)
        ],
        "footer": mark_safe(  # noqa: S308  (every character but letters and digits escaped)
            layout.css_string(f"{document.title} · Version {document.version_label}")
        ),
    }


def _signed_on(row: SignatoryRow) -> str:
    """The signatories table's last cell: the date signed (the version it was given on goes
    below it), or the status of a partner that has not signed (or has withdrawn)."""
    if not row.signed_on:
        return row.status
    return layout.uk_date(row.signed_on)


def html_to_pdf(markup: str) -> bytes:
    """Any of Accord's printed pages as a tagged PDF (PDF/UA). Nothing outside the markup is
    fetched: data: URLs only."""
    fetcher = URLFetcher(allowed_protocols={"data"})
    return HTML(string=markup, url_fetcher=fetcher).write_pdf(pdf_variant="pdf/ua-1")


def render_pdf(content: PdfContent) -> bytes:
    """The PDF, unsealed: cover, version control, contents, text, tables, certificate."""
    return html_to_pdf(render_to_string(TEMPLATE, _context(content)))


def _file_name(content: PdfContent, state: str) -> str:
    document = content.document
    stem = slugify(f"{document.title} version {document.version_label}")[:120] or "document"
    return f"{stem}-{state[:12]}.pdf"


def find_stored_pdf(content: PdfContent) -> RenderedPdf | None:
    """The PDF already stored for this document and state, or None; never renders one."""
    document = content.document
    require_scope(document.partnership_id)
    return RenderedPdf.objects.filter(document=document, state=state_key(content)).first()


def stored_pdf(content: PdfContent) -> RenderedPdf:
    """The sealed PDF for this document and signing state, rendered and stored the first time.

    Call it inside the partnership's scope. Two concurrent calls store one row: the one that
    loses the race removes its file and returns the winner's.
    """
    document = content.document
    existing = find_stored_pdf(content)
    if existing is not None:
        return existing
    state = state_key(content)
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


# False inside renders_on_demand(): state changes queue no PDF renders.
_queue_renders: ContextVar[bool] = ContextVar("documents_queue_renders", default=True)


def renders_queued() -> bool:
    """Whether state changes should queue PDF renders now (see renders_on_demand)."""
    return _queue_renders.get()


@contextmanager
def renders_on_demand() -> Iterator[None]:
    """Queue no PDF renders for the changes made in this block (bulk changes such as seeding
    the demo data): each PDF is rendered instead the first time someone downloads it."""
    token = _queue_renders.set(False)
    try:
        yield
    finally:
        _queue_renders.reset(token)
