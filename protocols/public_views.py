"""The partnership's public page: no sign-in, so these views enter the tenant scope
themselves, and only for partnerships that chose to publish."""

from __future__ import annotations

from collections import defaultdict

from django.core.cache import cache
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_scopes import scope

from documents.pdf import find_stored_pdf, state_key
from signatories.models import PartnerStatus, Signature
from signatories.signables import queue_pdf
from tenancy.models import Partnership

from .models import Protocol, ProtocolVersion, VersionStatus
from .pdf import file_name, pdf_content
from .services import in_force_version, signature_source

# While a public PDF is being rendered, further visitors queue no other render for this long.
RENDER_QUEUED_SECONDS = 60


def _published(slug: str) -> Partnership:
    partnership = Partnership.objects.filter(slug=slug, public_page_enabled=True).first()
    if partnership is None:
        raise Http404("No such page.")
    return partnership


def _live_protocols():
    """Protocols not retired, each with its signed versions prefetched (see in_force_version)."""
    signed = ProtocolVersion.objects.filter(status=VersionStatus.SIGNED).select_related(
        "document", "carries_signatures_of"
    )
    return (
        Protocol.objects.filter(retired_at__isnull=True)
        .select_related("lead__organisation")
        .prefetch_related(Prefetch("versions", queryset=signed))
    )


def partnership_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The protocols in force and who signed them: the same number of queries whatever the
    number of protocols. Partners that have withdrawn are not listed."""
    partnership = _published(slug)
    with scope(partnership=partnership):
        in_force = [(p, v) for p in _live_protocols() if (v := in_force_version(p)) is not None]
        source_of = {v.pk: signature_source(v).document_id for _, v in in_force}
        by_document: dict[int, list[Signature]] = defaultdict(list)
        signatures = (
            Signature.objects.filter(
                document_id__in=set(source_of.values()), outcome=Signature.Outcome.SIGNED
            )
            .exclude(partner__status=PartnerStatus.WITHDRAWN)
            .select_related("partner__organisation")
            .order_by("partner__organisation__name", "pk")
        )
        for signature in signatures:
            by_document[signature.document_id].append(signature)
        entries = [
            {"protocol": p, "version": v, "signatures": by_document[source_of[v.pk]]}
            for p, v in in_force
        ]
        return render(
            request,
            "protocols/public.html",
            {
                "published": partnership,
                "entries": entries,
                "show_names": partnership.public_signatory_names,
            },
        )


def _queue_render(version: ProtocolVersion, state: str) -> None:
    """Queue the render of the public PDF for this state, once a minute at most however many
    people ask."""
    key = f"protocols:public-pdf-queued:{version.pk}:{state}"
    try:
        first = cache.add(key, 1, timeout=RENDER_QUEUED_SECONDS)
    except Exception:  # a cache outage must not stop the PDF being made
        first = True
    if first:
        queue_pdf(version.document.kind, version)


def protocol_pdf(request: HttpRequest, slug: str, protocol_id: int) -> HttpResponse:
    """The public PDF of the version in force, from storage. Anonymous visitors never make
    the server render one: when it is not stored yet, its render is queued and they are asked
    to try again shortly (202)."""
    partnership = _published(slug)
    with scope(partnership=partnership):
        protocol = get_object_or_404(
            Protocol.objects.select_related("lead__organisation"),
            pk=protocol_id,
            retired_at__isnull=True,
        )
        version = in_force_version(protocol)
        if version is None:
            raise Http404("This protocol is not in force.")
        content = pdf_content(version, public=True)
        stored = find_stored_pdf(content)
        if stored is None:
            _queue_render(version, state_key(content))
            response = render(
                request,
                "protocols/pdf_preparing.html",
                {"published": partnership, "protocol": protocol, "version": version},
                status=202,
            )
            response["Retry-After"] = str(RENDER_QUEUED_SECONDS)
            return response
        return FileResponse(
            stored.file.open("rb"),
            as_attachment=True,
            filename=file_name(version),
            content_type="application/pdf",
        )
