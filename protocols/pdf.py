"""The PDF of a protocol version: its frozen text, revision table and signatories."""

from __future__ import annotations

from django.utils import timezone
from django.utils.text import slugify

from documents.models import RenderedPdf
from documents.pdf import PdfContent, RevisionRow, noted_revisions, stored_pdf
from signatories.pdf_rows import pdf_signing_rows
from signatories.tables import signing_summary

from .models import ProtocolVersion, VersionStatus
from .services import everyone_signed, partners_asked, signature_source, signing_counts


def revisions(version: ProtocolVersion) -> tuple[RevisionRow, ...]:
    """Every version up to this one that says what it changed, oldest first."""
    rows = []
    earlier = (
        ProtocolVersion.objects.filter(protocol_id=version.protocol_id)
        .select_related("author")
        .order_by("major", "minor")
    )
    shown = {}
    for v in earlier:
        if (v.major, v.minor) > (version.major, version.minor):
            continue
        if v.document_id is not None:
            shown[v.document_id] = v.number
        if not v.change_summary:
            continue
        when = v.approved_at or v.created_at
        rows.append(
            RevisionRow(
                version=v.number,
                date=timezone.localdate(when),
                author=(v.author.full_name or v.author.email) if v.author else "",
                summary=v.change_summary,
            )
        )
    return tuple(rows) + noted_revisions(shown)


def pdf_content(version: ProtocolVersion, *, public: bool = False) -> PdfContent:
    """What the PDF of a frozen version shows now (signatures change it; text never does).

    `public`: the copy anyone may download from the partnership's public page, without IP
    addresses or declines, naming the signers only if the partnership publishes names.
    """
    if version.document_id is None:
        raise ValueError(f"{version} has not been frozen, so it has no PDF.")
    source = signature_source(version)
    partners = list(partners_asked(version))
    # The signatures of the version it carries (an issued minor version), then its own.
    documents = (
        [source.document, version.document] if source.pk != version.pk else [version.document]
    )
    signatories, events = pdf_signing_rows(documents, partners)
    counts = signing_counts([version]).get(version.pk)
    protocol = version.protocol
    return PdfContent(
        document=version.document,
        lead_organisation=str(protocol.lead.organisation),
        status=version.get_status_display(),
        date_in_force=protocol.date_in_force if version.status == VersionStatus.SIGNED else None,
        revisions=revisions(version),
        signatories=signatories,
        events=events,
        final=version.status == VersionStatus.SIGNED and everyone_signed(version),
        public=public,
        show_names=protocol.partnership.public_signatory_names if public else True,
        signing_summary=signing_summary(counts, declines=not public),
        partnership=protocol.partnership.name,
    )


def version_pdf(version: ProtocolVersion, *, public: bool = False) -> RenderedPdf:
    """The stored PDF for the version's current signing state, rendered if it is not yet."""
    return stored_pdf(pdf_content(version, public=public))


def file_name(version: ProtocolVersion) -> str:
    """Such as "bedfordshire-isp-v2.0.pdf"."""
    stem = slugify(version.protocol.title)[:80] or "protocol"
    return f"{stem}-v{version.number}.pdf"
