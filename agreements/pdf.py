"""The PDF of an agreement: a cover naming the partnership and the parties, its frozen text
(summary sheet, version control and tick-box tables included), its version history and the
parties' signatures."""

from __future__ import annotations

from django.utils import timezone
from django.utils.text import slugify

from documents.models import RenderedPdf
from documents.pdf import PdfContent, RevisionRow, noted_revisions, stored_pdf
from signatories.pdf_rows import pdf_signing_rows

from .models import SIGNED_STATUSES, Agreement
from .services.lifecycle import everyone_signed, party_partners
from .services.rendering import end_wording, parties_of

# Statuses whose PDF is the final, signed one (no DRAFT watermark) once every party signed.


def revisions(agreement: Agreement) -> tuple[RevisionRow, ...]:
    """This version and the ones it amends, oldest first."""
    chain = []
    current: Agreement | None = agreement
    while current is not None and len(chain) < 100:
        chain.append(current)
        current = (
            Agreement.objects.select_related("created_by").filter(pk=current.previous_id).first()
            if current.previous_id
            else None
        )
    rows = []
    for version in reversed(chain):
        author = version.created_by
        rows.append(
            RevisionRow(
                version=version.version_label,
                date=timezone.localdate(version.sent_at or version.created_at),
                author=(author.full_name or author.email) if author else "",
                summary=version.change_summary or "First version.",
            )
        )
    shown = {v.document_id: v.version_label for v in chain if v.document_id is not None}
    return tuple(rows) + noted_revisions(shown)


def pdf_content(agreement: Agreement) -> PdfContent:
    """What the PDF of a frozen agreement shows now (signatures change it; text never does)."""
    if agreement.document_id is None:
        raise ValueError(f"{agreement} has not been frozen, so it has no PDF.")
    signatories, events = pdf_signing_rows(
        agreement.document, party_partners(agreement), not_asked="Awaiting signature"
    )
    final = agreement.status in SIGNED_STATUSES and everyone_signed(agreement)
    return PdfContent(
        document=agreement.document,
        lead_organisation=str(agreement.lead.organisation),
        status=agreement.get_status_display(),
        date_in_force=agreement.start_date if final else None,
        revisions=revisions(agreement),
        signatories=signatories,
        events=events,
        final=final,
        # Empty since the summary sheet is part of the frozen text; an agreement frozen before
        # then kept its sheet apart, and its PDF still shows it before the text.
        front_matter_html=agreement.summary_sheet_html,
        partnership=agreement.partnership.name,
        parties=tuple(str(party.partner.organisation) for party in parties_of(agreement)),
        ends=end_wording(agreement),
        version_control_in_text=True,
    )


def agreement_pdf(agreement: Agreement) -> RenderedPdf:
    """The stored PDF for the agreement's current signing state, rendered if it is not yet."""
    return stored_pdf(pdf_content(agreement))


def file_name(agreement: Agreement) -> str:
    """Such as "isa-2025-014-reablement-review-v1.0.pdf"."""
    stem = slugify(f"{agreement.reference} {agreement.title}")[:80] or "agreement"
    return f"{stem}-v{agreement.version_label}.pdf"
