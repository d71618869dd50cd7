"""Background work for protocols: each task takes ids and enters the partnership's scope."""

from __future__ import annotations

from tenancy.models import Partnership
from tenancy.tasks import partnership_task


@partnership_task(name="protocols.render_pdf")
def render_pdf(partnership: Partnership, version_id: int, public: bool = False) -> str:
    """Render (or find) the PDF for the version's current signing state; returns its SHA-256.

    `public`: the copy for the partnership's public page (see pdf.pdf_content)."""
    from .models import ProtocolVersion
    from .pdf import version_pdf

    version = ProtocolVersion.objects.select_related("protocol__lead__organisation").get(
        pk=version_id
    )
    if version.document_id is None:
        return ""
    return version_pdf(version, public=public).sha256
