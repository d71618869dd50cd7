"""A document's signatories table and signing events as its PDF shows them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.utils import timezone

from documents.models import FrozenDocument
from documents.pdf import SignatoryRow, SigningEvent

from .models import Partner
from .tables import signatures_for, signing_table


def pdf_signing_rows(
    documents: FrozenDocument | Sequence[FrozenDocument],
    partners: Iterable[Partner],
    *,
    not_asked: str = "Not asked",
) -> tuple[tuple[SignatoryRow, ...], tuple[SigningEvent, ...]]:
    """One row a partner (its signer, position, date signed and the version it signed, or
    its status) and every answer given, in time order, each with the version it was given
    on. `documents`: a document, or those whose signatures count together (the version an
    issued minor version carries, then its own), as for `signing_table`. `not_asked` names
    the status of a partner not yet sent a link."""
    signatories = []
    for row in signing_table(documents, partners):
        signed = row.status == "Signed" and row.signature is not None
        signatories.append(
            SignatoryRow(
                organisation=str(row.partner.organisation),
                signatory=row.signer_name or "",
                position=row.signer_position or "",
                signed_on=timezone.localdate(row.signature.at) if signed else None,
                status=not_asked if row.status == "Not asked" else row.status,
                version=row.signature.document.version_label if signed else "",
            )
        )
    events = tuple(
        SigningEvent(
            at=signature.at,
            name=signature.name,
            position=signature.position,
            organisation=str(signature.partner.organisation),
            ip_address=signature.ip_address or "",
            outcome=signature.get_outcome_display(),
            version=signature.document.version_label,
        )
        for signature in signatures_for(documents)
    )
    return tuple(signatories), events
