"""Is this PDF (or this text) one Accord issued? Looked up by SHA-256 across all partnerships.

The answer deliberately crosses tenants (`scopes_disabled`): whoever holds a document may ask
whether it is genuine without belonging to its partnership. Callers decide what to show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django_scopes import scopes_disabled

from tenancy.models import Partnership

from .models import FrozenDocument, RenderedPdf
from .services import sha256_of_bytes

__all__ = [
    "VerifyMatch",
    "find_all_by_sha256",
    "find_by_sha256",
    "normalise_sha256",
    "sha256_of_bytes",
]

_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class VerifyMatch:
    partnership: Partnership
    document: FrozenDocument
    pdf: RenderedPdf | None  # set when the hash is a PDF file's
    final: bool  # the PDF issued once every partner asked had signed


def normalise_sha256(value: str) -> str:
    """A SHA-256 as 64 lower-case hex digits; ValueError when it is not one."""
    digest = value.strip().lower()
    if not _HEX64.fullmatch(digest):
        raise ValueError("A SHA-256 fingerprint is 64 characters, 0-9 and a-f.")
    return digest


def find_all_by_sha256(sha256: str, *, limit: int = 10) -> list[VerifyMatch]:
    """What has this SHA-256: the PDF whose file has it, else the frozen texts that have it,
    newest first (at most `limit`); an empty list when nothing has it.

    Each version's fingerprint covers its identity (partnership, kind, reference, title and
    version), so a text fingerprint names one version. Versions frozen before it did could
    share one when their text was the same: all of them are returned, for the caller to show.
    """
    digest = normalise_sha256(sha256)
    with scopes_disabled():
        pdf = (
            RenderedPdf.objects.select_related("partnership", "document")
            .filter(sha256=digest)
            .order_by("created_at", "pk")
            .first()
        )
        if pdf is not None:
            return [VerifyMatch(pdf.partnership, pdf.document, pdf, pdf.final)]
        documents = (
            FrozenDocument.objects.select_related("partnership")
            .filter(sha256=digest)
            .order_by("-frozen_at", "-pk")[:limit]
        )
        return [VerifyMatch(document.partnership, document, None, False) for document in documents]


def find_by_sha256(sha256: str) -> VerifyMatch | None:
    """The PDF whose file has this SHA-256, else the newest frozen text that has it, else None
    (find_all_by_sha256 gives every frozen text that has it)."""
    matches = find_all_by_sha256(sha256, limit=1)
    return matches[0] if matches else None
