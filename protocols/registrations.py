"""What this app adds to the partnership's navigation, dashboard and audit log, and how it
hears about signatures."""

from __future__ import annotations

from django_scopes import scope

from documents.models import RenderedPdf
from signatories import signables
from signatories.models import Partner, PartnerStatus
from signatories.services import register_notice_period
from signatories.signals import partner_status_changed
from tenancy import dashboard, navigation
from tenancy.audit import describe_actions
from tenancy.roles import Perm

from .models import Protocol, ProtocolVersion, VersionStatus
from .pdf import version_pdf
from .services import (
    KIND,
    complete_if_signed,
    complete_signed_versions,
    notice_period,
    signing_documents,
)
from .services.common import version_link

navigation.register("Protocols", "protocols:list", Perm.VIEW, 10)
dashboard.register(
    "Protocols",
    lambda partnership, membership: Protocol.objects.filter(retired_at__isnull=True).count(),
    "protocols:list",
    Perm.VIEW,
    5,
)
register_notice_period(notice_period)


def _version_of(document, lock: bool) -> ProtocolVersion | None:
    versions = ProtocolVersion.objects.select_related(
        "protocol__lead__organisation", "partnership", "carries_signatures_of"
    ).filter(document=document)
    return (versions.select_for_update(of=("self",)) if lock else versions).first()


def _version(pk: int) -> ProtocolVersion | None:
    return (
        ProtocolVersion.objects.select_related("protocol__lead__organisation", "partnership")
        .filter(pk=pk)
        .first()
    )


def _pdfs(version: ProtocolVersion) -> list[RenderedPdf]:
    pdfs = [version_pdf(version)]
    if version.status == VersionStatus.SIGNED and version.partnership.public_page_enabled:
        # In force and published: anyone may ask for the public PDF, so have it ready.
        pdfs.append(version_pdf(version, public=True))
    return pdfs


def _open_for_signing(version: ProtocolVersion | None) -> bool:
    """Out for signature, or in force (partners joining later sign it); not replaced."""
    return version is None or version.status not in (
        VersionStatus.SUPERSEDED,
        VersionStatus.RETIRED,
    )


# Versions are signed while out for signature, and once in force by partners joining later.
signables.register(
    signables.Signable(
        kind=KIND,
        owner_of=_version_of,
        get=_version,
        open_for_signing=_open_for_signing,
        answered=complete_if_signed,
        render=_pdfs,
        lead=lambda v: v.protocol.lead,
        page_link=version_link,
        documents=signing_documents,
    )
)


def _partner_status_changed(sender, partner: Partner, old: str, new: str, **kwargs) -> None:
    """A partner that withdraws no longer has to sign: versions it alone held up complete."""
    if new == PartnerStatus.WITHDRAWN:
        with scope(partnership=partner.partnership):
            complete_signed_versions()


partner_status_changed.connect(
    _partner_status_changed, sender=Partner, dispatch_uid="protocols.partner_status_changed"
)

describe_actions(
    {
        "protocol.created": "Protocol started",
        "protocol.changed": "Protocol settings changed",
        "protocol.retired": "Protocol retired",
        "protocol.section_added": "Protocol section added",
        "protocol.section_changed": "Protocol section changed",
        "protocol.section_removed": "Protocol section removed",
        "protocol.section_moved": "Protocol section moved",
        "protocol.version_created": "Protocol version started",
        "protocol.version_submitted": "Protocol version sent for approval",
        "protocol.version_approved": "Protocol version approved",
        "protocol.version_returned": "Protocol version returned to draft",
        "protocol.version_sent": "Protocol version sent for signature",
        "protocol.version_asked": "More partners asked to sign a protocol version",
        "protocol.version_signed": "Protocol version signed by every partner",
        "protocol.version_issued": "Protocol minor version issued",
        "protocol.version_superseded": "Protocol version superseded",
        "protocol.version_retired": "Protocol version retired",
        "legislation.copied": "Legislation library copied",
        "legislation.added": "Legislation added",
        "legislation.changed": "Legislation changed",
        "legislation.removed": "Legislation removed",
    }
)
