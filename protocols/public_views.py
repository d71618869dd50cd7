"""The partnership's public page: no sign-in, so these views enter the tenant scope
themselves, and only for partnerships that chose to publish."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django_scopes import scope

from signatories.models import Signature
from tenancy.models import Partnership

from .models import Protocol, ProtocolVersion, VersionStatus
from .pdf import file_name, version_pdf
from .services import signature_source


def _published(slug: str) -> Partnership:
    partnership = Partnership.objects.filter(slug=slug, public_page_enabled=True).first()
    if partnership is None:
        raise Http404("No such page.")
    return partnership


def _in_force(protocol: Protocol) -> ProtocolVersion | None:
    version = (
        protocol.versions.filter(status=VersionStatus.SIGNED)
        .select_related("document", "carries_signatures_of")
        .order_by("-major", "-minor")
        .first()
    )
    if version is not None:
        version.protocol = protocol
    return version


def partnership_page(request, slug: str):
    partnership = _published(slug)
    with scope(partnership=partnership):
        entries = []
        for protocol in Protocol.objects.filter(retired_at__isnull=True).select_related(
            "lead__organisation"
        ):
            version = _in_force(protocol)
            if version is None:
                continue
            signed = Signature.objects.filter(
                document_id=signature_source(version).document_id,
                outcome=Signature.Outcome.SIGNED,
            ).select_related("partner__organisation")
            entries.append(
                {
                    "protocol": protocol,
                    "version": version,
                    "signatures": sorted(signed, key=lambda s: s.partner.organisation.name),
                }
            )
        return render(
            request,
            "protocols/public.html",
            {
                "published": partnership,
                "entries": entries,
                "show_names": partnership.public_signatory_names,
            },
        )


def protocol_pdf(request, slug: str, protocol_id: int):
    partnership = _published(slug)
    with scope(partnership=partnership):
        protocol = get_object_or_404(
            Protocol.objects.select_related("lead__organisation"),
            pk=protocol_id,
            retired_at__isnull=True,
        )
        version = _in_force(protocol)
        if version is None:
            raise Http404("This protocol is not in force.")
        stored = version_pdf(version)
        return FileResponse(
            stored.file.open("rb"),
            as_attachment=True,
            filename=file_name(version),
            content_type="application/pdf",
        )
