"""Reading protocols: versions in force, who has signed, the text to freeze."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import Prefetch
from django.utils.html import escape

from documents.markup import render_markdown, sanitise_html
from signatories import signables
from tenancy.models import Partnership

from ..models import Protocol, ProtocolVersion, VersionStatus


def latest_version(protocol: Protocol) -> ProtocolVersion | None:
    return protocol.versions.order_by("-major", "-minor").first()


def in_force_version(protocol: Protocol) -> ProtocolVersion | None:
    """The version in force: the protocol's latest signed version (None when none is, or the
    protocol is retired). Uses the protocol's versions when the caller prefetched them."""
    if protocol.retired_at is not None:
        return None
    prefetched = getattr(protocol, "_prefetched_objects_cache", {}).get("versions")
    if prefetched is not None:
        signed = [v for v in prefetched if v.status == VersionStatus.SIGNED]
        version = max(signed, key=lambda v: (v.major, v.minor), default=None)
    else:
        version = (
            protocol.versions.filter(status=VersionStatus.SIGNED)
            .select_related("document", "carries_signatures_of")
            .order_by("-major", "-minor")
            .first()
        )
    if version is not None:
        version.protocol = protocol
    return version


def signature_source(version: ProtocolVersion) -> ProtocolVersion:
    """The version whose signatures count for this one: an issued minor version carries the
    signatures of the version its partners signed."""
    return version.carries_signatures_of or version


def signing_documents(version: ProtocolVersion) -> list[int]:
    """The frozen documents whose signatures count for the version: those of the version it
    carries (an issued minor version), then its own (partners who joined later sign it)."""
    own = [version.document_id] if version.document_id else []
    if version.carries_signatures_of_id:
        source = version.carries_signatures_of
        return [source.document_id, *own] if source.document_id else own
    return own


def partners_asked(version: ProtocolVersion):
    """The partners asked to sign the version (or the version it carries)."""
    return signables.partners_asked(signing_documents(version))


def signing_counts(versions: Iterable[ProtocolVersion]) -> dict[int, dict[str, int]]:
    """{version id: {"asked", "signed", "declined"}} for frozen versions, in a fixed number
    of queries whatever their number. Partners that have withdrawn count in none of them; a
    partner counts once, by its latest answer."""
    versions = [v for v in versions if v.document_id]
    carried = {v.carries_signatures_of_id for v in versions if v.carries_signatures_of_id}
    carried_documents = dict(
        ProtocolVersion.objects.filter(pk__in=carried).values_list("pk", "document_id")
        if carried
        else []
    )
    return signables.signing_counts(
        {
            v.pk: [carried_documents.get(v.carries_signatures_of_id), v.document_id]
            if v.carries_signatures_of_id
            else [v.document_id]
            for v in versions
        }
    )


def everyone_signed(version: ProtocolVersion) -> bool:
    """Every partner asked, except those that have since withdrawn, has signed."""
    return signables.everyone_signed(signing_documents(version))


def render_version_html(version: ProtocolVersion) -> str:
    """The version's text as one HTML document: each section's title and rendered body, in
    the sanitised spelling that freezing stores."""
    parts = [
        f"<h2>{escape(section.title)}</h2>\n{render_markdown(section.body)}"
        for section in version.sections.order_by("position", "id")
    ]
    return sanitise_html("\n".join(parts))


def add_months(day: date, months: int) -> date:
    """`months` calendar months after `day` (before, when negative), a month end kept within
    its month (31 January + 1 month is 28 or 29 February); beyond the calendar's ends, its
    first or last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def notice_period(partnership: Partnership) -> timedelta | None:
    """The withdrawal notice of the partnership's protocols in force (the longest); None
    when no protocol is in force, which leaves the default."""
    protocols = Protocol.objects.filter(
        partnership=partnership, retired_at__isnull=True
    ).prefetch_related(
        Prefetch("versions", queryset=ProtocolVersion.objects.filter(status=VersionStatus.SIGNED))
    )
    weeks = [p.notice_weeks for p in protocols if in_force_version(p) is not None]
    return timedelta(weeks=max(weeks)) if weeks else None
