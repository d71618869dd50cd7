"""What this app adds to the partnership's navigation, dashboard and audit log, and how it
hears about signatures."""

from __future__ import annotations

from django_scopes import scope

from signatories.models import Partner, PartnerStatus
from signatories.services import register_notice_period
from signatories.signals import partner_status_changed, signature_recorded
from signatories.signing import register_superseded_check
from tenancy import dashboard, navigation
from tenancy.audit import describe_actions
from tenancy.roles import Perm

from .models import Protocol
from .services import complete_signed_versions, is_superseded, notice_period, record_answer

navigation.register("Protocols", "protocols:list", Perm.VIEW, 10)
dashboard.register(
    "Protocols",
    lambda partnership: Protocol.objects.filter(retired_at__isnull=True).count(),
    "protocols:list",
    Perm.VIEW,
    5,
)
register_superseded_check(is_superseded)
register_notice_period(notice_period)


def _signature_recorded(sender, signature, document, **kwargs) -> None:
    with scope(partnership=document.partnership):
        record_answer(document)


signature_recorded.connect(_signature_recorded, dispatch_uid="protocols.signature_recorded")


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
