"""What the protocols' service functions share: locking, state checks and page addresses."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from documents.markup import MAX_BODY_CHARS
from signatories.models import Partner, PartnerStatus
from tenancy.models import Partnership

from ..models import LOCKED_MESSAGE, Protocol, ProtocolVersion, Section, VersionStatus
from ..transitions import (  # noqa: F401  (the names the services use)
    BASES,
    LIVE,
    REPLACEABLE,
    author_emails,
    protocol_retired,
    signed_predecessor,
    signed_predecessor_missing,
    steering_group_emails,
)

# A version more partners may be asked to sign: in force, or still out for signature.
ASKABLE = frozenset({VersionStatus.SIGNED, VersionStatus.FOR_SIGNATURE})


def ask_refusal(version: ProtocolVersion) -> str | None:
    """Why more partners cannot be asked to sign the version now, or None."""
    if version.protocol.retired_at is not None:
        return "This protocol has been retired and cannot change."
    if version.status not in ASKABLE or version.document_id is None:
        return (
            f"Version {version.number} is {version.get_status_display().lower()}: only the "
            "version in force, or one out for signature, can be signed by more partners."
        )
    return None


def locked_version(version: ProtocolVersion) -> ProtocolVersion:
    return (
        ProtocolVersion.objects.select_for_update(of=("self",))
        .select_related("protocol", "protocol__lead__organisation")
        .get(pk=version.pk)
    )


def require_status(version: ProtocolVersion, allowed: set[str], message: str) -> None:
    if version.status not in allowed:
        raise ValidationError(message)


def require_editable(version: ProtocolVersion) -> None:
    if not version.is_editable:
        raise ValidationError(LOCKED_MESSAGE)


def require_live(protocol: Protocol) -> None:
    if protocol.retired_at is not None:
        raise ValidationError("This protocol has been retired and cannot change.")


def require_active_lead(lead: Partner | None) -> None:
    if lead is None:
        raise ValidationError({"lead": "Choose the lead organisation."})
    if lead.status != PartnerStatus.ACTIVE:
        raise ValidationError({"lead": "The lead organisation must be an active partner."})


def link(name: str, partnership: Partnership, **kwargs: Any) -> str:
    return settings.SITE_URL + reverse(
        f"protocols:{name}", kwargs={"partnership_slug": partnership.slug, **kwargs}
    )


def public_pdf_link(protocol: Protocol) -> str:
    """Where anyone can download the protocol in force ("" without a public page)."""
    if not protocol.partnership.public_page_enabled:
        return ""
    return settings.SITE_URL + reverse(
        "public:protocol_pdf",
        kwargs={"slug": protocol.partnership.slug, "protocol_id": protocol.pk},
    )


def version_link(version: ProtocolVersion) -> str:
    return link(
        "version", version.partnership, protocol_id=version.protocol_id, version_id=version.pk
    )


def section_errors(title: str, body: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = "Enter the section's title."
    elif len(title) > Section._meta.get_field("title").max_length:
        errors["title"] = "The section's title must be 200 characters or fewer."
    if len(body) > MAX_BODY_CHARS:
        errors["body"] = (
            f"The section is too long: it has {len(body):,} characters and the most a section "
            f"can have is {MAX_BODY_CHARS:,}. Split it into several sections."
        )
    return errors
