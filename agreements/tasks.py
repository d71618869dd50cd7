"""Background work for agreements: each task takes ids and enters the partnership's scope."""

from __future__ import annotations

from tenancy.models import Partnership
from tenancy.tasks import partnership_task


@partnership_task(name="agreements.render_pdf")
def render_pdf(partnership: Partnership, agreement_id: int) -> str:
    """Render (or find) the PDF for the agreement's current signing state; its SHA-256."""
    from .models import Agreement
    from .pdf import agreement_pdf

    agreement = Agreement.objects.select_related("lead__organisation", "document").get(
        pk=agreement_id
    )
    if agreement.document_id is None:
        return ""
    return agreement_pdf(agreement).sha256
