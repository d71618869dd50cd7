"""A document's signatories table and signing events as its PDF shows them."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone

from documents.models import FrozenDocument
from documents.pdf import SignatoryRow, SigningEvent

from .models import Partner
from .signing import signatures_for, signing_table


def pdf_signing_rows(
    document: FrozenDocument, partners: Iterable[Partner], *, not_asked: str = "Not asked"
) -> tuple[tuple[SignatoryRow, ...], tuple[SigningEvent, ...]]:
    """One row a partner (its signer, position, date signed or status) and every answer given,
    in time order. `not_asked` names the status of a partner not yet sent a link."""
    signatories = tuple(
        SignatoryRow(
            organisation=str(row.partner.organisation),
            signatory=row.signer_name or "",
            position=row.signer_position or "",
            signed_on=timezone.localdate(row.answered_at)
            if row.status == "Signed" and row.answered_at
            else None,
            status=not_asked if row.status == "Not asked" else row.status,
        )
        for row in signing_table(document, partners)
    )
    events = tuple(
        SigningEvent(
            at=signature.at,
            name=signature.name,
            position=signature.position,
            organisation=str(signature.partner.organisation),
            ip_address=signature.ip_address or "",
            outcome=signature.get_outcome_display(),
        )
        for signature in signatures_for(document)
    )
    return signatories, events
