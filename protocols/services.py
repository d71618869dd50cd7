"""State changes of protocols, their versions and sections.

One function per change: each checks that the change is allowed, writes the audit entry in
the same transaction and queues the e-mails it causes.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from accord.kernel.context import service
from accord.kernel.mail import send_templated_email, send_templated_email_each
from accord.kernel.queueing import queue_on_commit
from documents.markup import MAX_BODY_CHARS, render_markdown, sanitise_html
from documents.pdf import renders_queued
from documents.services import freeze
from signatories.models import (
    AuthorisedSignatory,
    Partner,
    PartnerStatus,
    RequestStatus,
    Signature,
    SignatureRequest,
)
from signatories.signing import SUPERSEDED, close_requests
from tenancy.audit import created, diff, log_action, snapshot
from tenancy.models import AuditEntry, Membership, Partnership

from .content import LEGISLATION, model_sections
from .models import (
    LOCKED_MESSAGE,
    Legislation,
    Protocol,
    ProtocolVersion,
    Section,
    VersionStatus,
)

SETTINGS_FIELDS = [
    "title",
    "lead",
    "purposes",
    "date_in_force",
    "notice_weeks",
    "review_months",
    "next_review_on",
    "remind_every_days",
    "max_reminders",
]
LEGISLATION_FIELDS = ["title", "year", "url", "note"]
LEGISLATION_COPIED = "legislation.copied"
# Versions a new version may start from, and versions a newly signed one replaces.
BASES = {VersionStatus.APPROVED, VersionStatus.FOR_SIGNATURE, VersionStatus.SIGNED}
REPLACEABLE = BASES
LIVE = {
    VersionStatus.DRAFT,
    VersionStatus.FOR_APPROVAL,
    VersionStatus.APPROVED,
    VersionStatus.FOR_SIGNATURE,
    VersionStatus.SIGNED,
}


# --- Reading ---------------------------------------------------------------------------------


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


def partners_asked(version: ProtocolVersion):
    """The partners asked to sign the version's document (or the one it carries)."""
    source = signature_source(version)
    if source.document_id is None:
        return Partner.objects.none()
    asked = SignatureRequest.objects.filter(document_id=source.document_id).exclude(
        status=RequestStatus.VOID
    )
    return Partner.objects.filter(pk__in=asked.values("partner")).select_related("organisation")


def signing_counts(versions: Iterable[ProtocolVersion]) -> dict[int, dict[str, int]]:
    """{version id: {"asked", "signed", "declined"}} for frozen versions, in three queries
    whatever their number. Partners that have withdrawn count in none of them."""
    versions = [v for v in versions if v.document_id]
    carried = {v.carries_signatures_of_id for v in versions if v.carries_signatures_of_id}
    carried_documents = dict(
        ProtocolVersion.objects.filter(pk__in=carried).values_list("pk", "document_id")
        if carried
        else []
    )
    document_of = {
        v.pk: carried_documents.get(v.carries_signatures_of_id)
        if v.carries_signatures_of_id
        else v.document_id
        for v in versions
    }
    documents = {d for d in document_of.values() if d}
    if not documents:
        return {}
    asked = dict(
        SignatureRequest.objects.filter(document_id__in=documents)
        .exclude(status=RequestStatus.VOID)
        .exclude(partner__status=PartnerStatus.WITHDRAWN)
        .order_by()
        .values("document_id")
        .annotate(n=Count("partner", distinct=True))
        .values_list("document_id", "n")
    )
    answers: dict[tuple[int, str], int] = {
        (row["document_id"], row["outcome"]): row["n"]
        for row in Signature.objects.filter(document_id__in=documents)
        .exclude(partner__status=PartnerStatus.WITHDRAWN)
        .order_by()
        .values("document_id", "outcome")
        .annotate(n=Count("id"))
    }
    return {
        pk: {
            "asked": asked.get(document, 0),
            "signed": answers.get((document, Signature.Outcome.SIGNED), 0),
            "declined": answers.get((document, Signature.Outcome.DECLINED), 0),
        }
        for pk, document in document_of.items()
    }


def everyone_signed(version: ProtocolVersion) -> bool:
    """Every partner asked, except those that have since withdrawn, has signed."""
    source = signature_source(version)
    if source.document_id is None:
        return False
    asked = set(
        partners_asked(version).exclude(status=PartnerStatus.WITHDRAWN).values_list("pk", flat=True)
    )
    signed = set(
        Signature.objects.filter(
            document_id=source.document_id, outcome=Signature.Outcome.SIGNED
        ).values_list("partner_id", flat=True)
    )
    return bool(asked) and asked <= signed


def render_version_html(version: ProtocolVersion) -> str:
    """The version's text as one HTML document: each section's title and rendered body, in
    the sanitised spelling that freezing stores."""
    parts = [
        f"<h2>{escape(section.title)}</h2>\n{render_markdown(section.body)}"
        for section in version.sections.order_by("position", "id")
    ]
    return sanitise_html("\n".join(parts))


def add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
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


def is_superseded(document) -> bool:
    """Whether a frozen document belongs to a version nobody should sign any more."""
    return ProtocolVersion.objects.filter(
        document=document, status__in=[VersionStatus.SUPERSEDED, VersionStatus.RETIRED]
    ).exists()


# --- Helpers -----------------------------------------------------------------------------


def _locked(version: ProtocolVersion) -> ProtocolVersion:
    return (
        ProtocolVersion.objects.select_for_update(of=("self",))
        .select_related("protocol", "protocol__lead__organisation")
        .get(pk=version.pk)
    )


def _require_status(version: ProtocolVersion, allowed: set[str], message: str) -> None:
    if version.status not in allowed:
        raise ValidationError(message)


def _require_editable(version: ProtocolVersion) -> None:
    if not version.is_editable:
        raise ValidationError(LOCKED_MESSAGE)


def _require_live(protocol: Protocol) -> None:
    if protocol.retired_at is not None:
        raise ValidationError("This protocol has been retired and cannot change.")


def _require_active_lead(lead: Partner | None) -> None:
    if lead is None:
        raise ValidationError({"lead": "Choose the lead organisation."})
    if lead.status != PartnerStatus.ACTIVE:
        raise ValidationError({"lead": "The lead organisation must be an active partner."})


def _link(name: str, partnership: Partnership, **kwargs: Any) -> str:
    from django.conf import settings

    return settings.SITE_URL + reverse(
        f"protocols:{name}", kwargs={"partnership_slug": partnership.slug, **kwargs}
    )


def _public_pdf_link(protocol: Protocol) -> str:
    """Where anyone can download the protocol in force ("" without a public page)."""
    from django.conf import settings

    if not protocol.partnership.public_page_enabled:
        return ""
    return settings.SITE_URL + reverse(
        "public:protocol_pdf",
        kwargs={"slug": protocol.partnership.slug, "protocol_id": protocol.pk},
    )


def _version_link(version: ProtocolVersion) -> str:
    return _link(
        "version", version.partnership, protocol_id=version.protocol_id, version_id=version.pk
    )


def _section_errors(title: str, body: str) -> dict[str, str]:
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


def _queue_pdf(version: ProtocolVersion) -> None:
    from .tasks import render_pdf

    if not renders_queued():
        return
    queue_on_commit(render_pdf, version.partnership_id, version.pk)
    if version.status == VersionStatus.SIGNED and version.partnership.public_page_enabled:
        # In force and published: anyone may ask for the public PDF, so have it ready.
        queue_on_commit(render_pdf, version.partnership_id, version.pk, public=True)


# --- The legislation library -------------------------------------------------------------------


def legislation_copied(partnership: Partnership) -> bool:
    """Whether the partnership has its own copy of Accord's legislation library yet."""
    return AuditEntry.objects.filter(partnership=partnership, action=LEGISLATION_COPIED).exists()


@service
def ensure_legislation(partnership: Partnership) -> int:
    """Copy Accord's legislation library to the partnership, once. Returns how many rows."""
    if AuditEntry.objects.filter(action=LEGISLATION_COPIED).exists():
        return 0
    Partnership.objects.select_for_update().get(pk=partnership.pk)  # one copy at a time
    if AuditEntry.objects.filter(action=LEGISLATION_COPIED).exists():
        return 0
    rows = Legislation.objects.bulk_create(
        [
            Legislation(
                partnership=partnership,
                title=statute.title,
                year=statute.year,
                url=statute.url,
                note=statute.note,
            )
            for statute in LEGISLATION
        ],
        ignore_conflicts=True,
    )
    log_action(
        partnership,
        LEGISLATION_COPIED,
        f"Copied Accord's legislation library ({len(rows)} entries)",
    )
    return len(rows)


def _clean_legislation(values: dict[str, Any]) -> dict[str, Any]:
    values = {**values, "title": (values.get("title") or "").strip()}
    if not values["title"]:
        raise ValidationError({"title": "Enter the legislation's title."})
    clash = Legislation.objects.filter(title__iexact=values["title"])
    if values.get("pk"):
        clash = clash.exclude(pk=values["pk"])
    if clash.exists():
        raise ValidationError({"title": "The library already has legislation with this title."})
    values.pop("pk", None)
    return values


@service
def add_legislation(partnership: Partnership, *, by=None, **values: Any) -> Legislation:
    ensure_legislation(partnership)  # the partnership's own copy first, then its addition
    values = _clean_legislation(values)
    statute = Legislation(partnership=partnership, **values)
    statute.full_clean()
    statute.save()
    log_action(
        partnership,
        "legislation.added",
        f"Added {statute} to the legislation library",
        statute,
        created(statute, LEGISLATION_FIELDS),
    )
    return statute


@service
def update_legislation(statute: Legislation, *, by=None, **values: Any) -> Legislation:
    values = _clean_legislation({**values, "pk": statute.pk})
    before = snapshot(statute, LEGISLATION_FIELDS)
    for key, value in values.items():
        setattr(statute, key, value)
    statute.full_clean()
    statute.save()
    changes = diff(before, snapshot(statute, LEGISLATION_FIELDS))
    if changes:
        log_action(
            statute.partnership,
            "legislation.changed",
            f"Changed {statute} in the legislation library",
            statute,
            changes,
        )
    return statute


@service
def delete_legislation(statute: Legislation, *, by=None) -> None:
    before = snapshot(statute, LEGISLATION_FIELDS)
    log_action(
        statute.partnership,
        "legislation.removed",
        f"Removed {statute} from the legislation library",
        statute,
        {k: [v, None] for k, v in before.items() if v not in (None, "")},
    )
    statute.delete()


# --- Protocols -------------------------------------------------------------------------------


@service
def create_from_model(partnership: Partnership, *, title: str, lead: Partner, by) -> Protocol:
    """A new protocol whose version 1.0 is a draft of Accord's model protocol."""
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Enter the protocol's title."})
    _require_active_lead(lead)
    protocol = Protocol(partnership=partnership, title=title, lead=lead)
    protocol.full_clean()
    protocol.save()
    version = ProtocolVersion.objects.create(
        partnership=partnership,
        protocol=protocol,
        major=1,
        minor=0,
        author=by,
        change_summary="First version, drafted from Accord's model protocol.",
    )
    sections = model_sections(
        partnership=partnership.name,
        lead=str(lead.organisation),
        notice_weeks=protocol.notice_weeks,
        review_months=protocol.review_months,
    )
    Section.objects.bulk_create(
        Section(
            partnership=partnership,
            version=version,
            position=position,
            title=section.title,
            body=section.body,
        )
        for position, section in enumerate(sections, start=1)
    )
    ensure_legislation(partnership)
    log_action(
        partnership,
        "protocol.created",
        f"Started the protocol “{title}” from the model protocol",
        protocol,
        created(protocol, ["title", "lead"]),
    )
    return protocol


@service
def update_settings(protocol: Protocol, *, by=None, **values: Any) -> Protocol:
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    _require_live(protocol)
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a protocol setting: {', '.join(sorted(unknown))}")
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
        if not values["title"]:
            raise ValidationError({"title": "Enter the protocol's title."})
    if "lead" in values and values["lead"] != protocol.lead:
        _require_active_lead(values["lead"])
    before = snapshot(protocol, SETTINGS_FIELDS)
    for key, value in values.items():
        setattr(protocol, key, value)
    protocol.full_clean()
    protocol.save()
    changes = diff(before, snapshot(protocol, SETTINGS_FIELDS))
    if changes:
        log_action(
            protocol.partnership,
            "protocol.changed",
            f"Changed the settings of “{protocol.title}”",
            protocol,
            changes,
        )
    return protocol


@service
def retire(protocol: Protocol, *, reason: str, by) -> Protocol:
    """The steering group retires a protocol: it stops being in force and nobody signs it."""
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    _require_live(protocol)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for retiring the protocol."})
    protocol.retired_at = timezone.now()
    protocol.retirement_reason = reason
    protocol.save(update_fields=["retired_at", "retirement_reason"])
    versions = (
        ProtocolVersion.objects.select_for_update(of=("self",))
        .select_related("document")
        .filter(protocol=protocol, status__in=LIVE)
        .order_by("major", "minor")
    )
    for version in versions:
        version.protocol = protocol
        _end_version(
            version,
            VersionStatus.RETIRED,
            "protocol.version_retired",
            f"{version} was retired with the protocol",
            "the protocol was retired",
        )
    log_action(
        protocol.partnership,
        "protocol.retired",
        f"Retired the protocol “{protocol.title}”: {reason}",
        protocol,
        {"retired_at": [None, protocol.retired_at], "reason": [None, reason]},
    )
    return protocol


# --- Sections ----------------------------------------------------------------------------------


@service
def add_section(version: ProtocolVersion, *, title: str, body: str, by=None) -> Section:
    version = _locked(version)
    _require_editable(version)
    title, body = (title or "").strip(), body or ""
    errors = _section_errors(title, body)
    if errors:
        raise ValidationError(errors)
    last = version.sections.aggregate(last=Max("position"))["last"] or 0
    section = Section.objects.create(
        partnership=version.partnership,
        version=version,
        position=last + 1,
        title=title,
        body=body,
    )
    log_action(
        version.partnership,
        "protocol.section_added",
        f"Added the section “{title}” to {version}",
        section,
        {"title": [None, title]},
    )
    return section


@service
def update_section(section: Section, *, title: str, body: str, by=None) -> Section:
    version = _locked(section.version)
    _require_editable(version)
    title, body = (title or "").strip(), body or ""
    errors = _section_errors(title, body)
    if errors:
        raise ValidationError(errors)
    section = Section.objects.select_for_update().get(pk=section.pk)
    before = {"title": section.title, "body": section.body}
    section.title, section.body = title, body
    section.save()
    changes = diff(before, {"title": title, "body": body})
    if "body" in changes:
        # The text itself can be long: the compare page shows what changed in it.
        changes["body"] = [f"{len(before['body']):,} characters", f"{len(body):,} characters"]
    if changes:
        log_action(
            version.partnership,
            "protocol.section_changed",
            f"Changed the section “{title}” of {version}",
            section,
            changes,
        )
    return section


def _renumber(ordered: list[Section]) -> None:
    for position, section in enumerate(ordered, start=1):
        section.position = position
    Section.objects.bulk_update(ordered, ["position"])


@service
def delete_section(section: Section, *, by=None) -> None:
    version = _locked(section.version)
    _require_editable(version)
    title = section.title
    log_action(
        version.partnership,
        "protocol.section_removed",
        f"Removed the section “{title}” from {version}",
        section,
        {"title": [title, None]},
    )
    section.delete()
    _renumber(list(version.sections.order_by("position", "id")))


@service
def move_section(section: Section, direction: str, *, by=None) -> Section:
    """Swap a section with the one above ("up") or below ("down")."""
    version = _locked(section.version)
    _require_editable(version)
    if direction not in ("up", "down"):
        raise ValidationError("Choose to move the section up or down.")
    ordered = list(version.sections.order_by("position", "id"))
    index = next(i for i, s in enumerate(ordered) if s.pk == section.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        raise ValidationError(
            f"“{section.title}” is already the {'first' if direction == 'up' else 'last'} section."
        )
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(ordered)
    log_action(
        version.partnership,
        "protocol.section_moved",
        f"Moved the section “{section.title}” {direction} in {version}",
        section,
        {"position": [index + 1, other + 1]},
    )
    return ordered[other]


# --- Approval ----------------------------------------------------------------------------------


def _steering_group_emails() -> list[str]:
    return list(
        Membership.objects.filter(is_steering_group=True).values_list("user__email", flat=True)
    )


@service
def submit_for_approval(version: ProtocolVersion, *, by) -> ProtocolVersion:
    version = _locked(version)
    _require_live(version.protocol)
    _require_status(
        version,
        {VersionStatus.DRAFT},
        f"Version {version.number} is {version.get_status_display().lower()}: only a draft "
        "can be sent for approval.",
    )
    if not version.sections.exists():
        raise ValidationError("Add at least one section before sending it for approval.")
    version.status = VersionStatus.FOR_APPROVAL
    version.submitted_at = timezone.now()
    version.save()
    log_action(
        version.partnership,
        "protocol.version_submitted",
        f"Sent {version} to the steering group for approval",
        version,
        {"status": [VersionStatus.DRAFT.label, version.get_status_display()]},
    )
    send_templated_email_each(
        "protocol_for_approval",
        _steering_group_emails(),
        {
            "version": version,
            "protocol": version.protocol,
            "by": by,
            "link": _version_link(version),
        },
    )
    return version


@service
def approve(version: ProtocolVersion, *, by) -> ProtocolVersion:
    """The steering group approves a version sent to it."""
    version = _locked(version)
    _require_live(version.protocol)
    _require_status(
        version,
        {VersionStatus.FOR_APPROVAL},
        f"Version {version.number} is {version.get_status_display().lower()}: only a version "
        "sent for approval can be approved.",
    )
    version.status = VersionStatus.APPROVED
    version.approved_at = timezone.now()
    version.approved_by = by
    version.return_reason = ""
    version.save()
    log_action(
        version.partnership,
        "protocol.version_approved",
        f"Approved {version}",
        version,
        {"status": [VersionStatus.FOR_APPROVAL.label, version.get_status_display()]},
    )
    if version.author and version.author.email:
        send_templated_email(
            "protocol_approved",
            [version.author.email],
            {"version": version, "protocol": version.protocol, "link": _version_link(version)},
        )
    return version


@service
def return_to_draft(version: ProtocolVersion, *, reason: str, by) -> ProtocolVersion:
    """The steering group sends a version back for more work, saying why."""
    version = _locked(version)
    _require_live(version.protocol)
    _require_status(
        version,
        {VersionStatus.FOR_APPROVAL, VersionStatus.APPROVED},
        f"Version {version.number} is {version.get_status_display().lower()}: only a version "
        "waiting for approval, or approved and not yet sent, can be returned to draft.",
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter what needs to change before it is approved."})
    before = version.get_status_display()
    version.status = VersionStatus.DRAFT
    version.submitted_at = version.approved_at = version.approved_by = None
    version.return_reason = reason
    version.save()
    log_action(
        version.partnership,
        "protocol.version_returned",
        f"Returned {version} to draft: {reason}",
        version,
        {"status": [before, version.get_status_display()], "reason": [None, reason]},
    )
    if version.author and version.author.email:
        send_templated_email(
            "protocol_returned",
            [version.author.email],
            {
                "version": version,
                "protocol": version.protocol,
                "reason": reason,
                "link": _version_link(version),
            },
        )
    return version


# --- Signing and issuing -----------------------------------------------------------------------


def _freeze(version: ProtocolVersion, by):
    return freeze(
        version.partnership,
        kind="protocol",
        title=version.protocol.title,
        version_label=version.number,
        html=render_version_html(version),
        by=by,
    )


@service
def send_for_signature(
    version: ProtocolVersion, partners: Iterable[Partner], *, by
) -> ProtocolVersion:
    """Freeze an approved version and ask each chosen partner to sign it.

    All or nothing: if any partner cannot be asked (no signatory, no e-mail address),
    nothing is frozen and nothing is sent.
    """
    from signatories.signing import request_signatures

    version = _locked(version)
    protocol = version.protocol
    _require_live(protocol)
    _require_status(
        version,
        {VersionStatus.APPROVED},
        f"Version {version.number} is {version.get_status_display().lower()}: only an "
        "approved version can be sent for signature.",
    )
    partners = list(partners)
    if not partners:
        raise ValidationError({"partners": "Choose at least one partner to sign."})
    inactive = [p for p in partners if p.status != PartnerStatus.ACTIVE]
    if inactive:
        names = ", ".join(str(p.organisation) for p in inactive)
        raise ValidationError({"partners": f"Only active partners can sign: {names}."})
    document = _freeze(version, by)
    version.document = document
    version.status = VersionStatus.FOR_SIGNATURE
    version.sent_at = timezone.now()
    version.save()
    # Only one version collects signatures: earlier ones still out for signature stop.
    _supersede_earlier(version, {VersionStatus.FOR_SIGNATURE})
    request_signatures(
        document,
        partners,
        by=by,
        remind_every_days=protocol.remind_every_days,
        max_reminders=protocol.max_reminders,
        subject=f"Please sign {protocol.title}, version {version.number}",
    )
    log_action(
        version.partnership,
        "protocol.version_sent",
        f"Sent {version} for signature to {len(partners)} "
        f"partner{'s' if len(partners) != 1 else ''}",
        version,
        {
            "status": [VersionStatus.APPROVED.label, version.get_status_display()],
            "partners": [None, sorted(str(p.organisation) for p in partners)],
            "sha256": [None, document.sha256],
        },
    )
    _queue_pdf(version)
    return version


def signed_predecessor(version: ProtocolVersion) -> ProtocolVersion | None:
    """The signed version of the same major number that a minor version would replace."""
    return (
        ProtocolVersion.objects.filter(
            protocol_id=version.protocol_id,
            major=version.major,
            minor__lt=version.minor,
            status=VersionStatus.SIGNED,
        )
        .order_by("-minor")
        .first()
    )


def _end_version(
    version: ProtocolVersion, status: str, action: str, summary: str, why: str
) -> None:
    """Move a version nobody signs any more to `status` (superseded or retired), audited;
    the unanswered requests to sign it are closed, so their links stop working."""
    before = version.get_status_display()
    version.status = status
    version.save(update_fields=["status"])
    log_action(
        version.partnership,
        action,
        summary,
        version,
        {"status": [before, version.get_status_display()]},
    )
    if version.document_id is not None:
        close_requests(version.document, why)


def _supersede_earlier(
    version: ProtocolVersion, statuses: Iterable[str] = REPLACEABLE
) -> list[ProtocolVersion]:
    """Supersede the protocol's versions numbered below `version` that are in `statuses`."""
    earlier = [
        v
        for v in ProtocolVersion.objects.select_for_update(of=("self",))
        .select_related("document")
        .filter(protocol_id=version.protocol_id, status__in=list(statuses))
        .exclude(pk=version.pk)
        .order_by("major", "minor")
        if (v.major, v.minor) < (version.major, version.minor)
    ]
    for old in earlier:
        _end_version(
            old,
            VersionStatus.SUPERSEDED,
            "protocol.version_superseded",
            f"{old} was superseded by version {version.number}",
            f"version {old.number} was superseded by version {version.number}",
        )
    return earlier


@service
def issue_minor_version(version: ProtocolVersion, *, by) -> ProtocolVersion:
    """An approved minor version takes effect without signing again: it is frozen, carries
    the signatures of the version it amends, and every active partner's signatories are told.
    """
    version = _locked(version)
    protocol = version.protocol
    _require_live(protocol)
    _require_status(
        version,
        {VersionStatus.APPROVED},
        f"Version {version.number} is {version.get_status_display().lower()}: only an "
        "approved version can be issued.",
    )
    if version.minor == 0:
        raise ValidationError(
            "A major version changes what partners agreed to: send it for signature."
        )
    base = signed_predecessor(version)
    if base is None:
        raise ValidationError(
            f"No version {version.major}.x has been signed by every partner yet, so there are "
            "no signatures to carry forward: send this version for signature instead."
        )
    document = _freeze(version, by)
    now = timezone.now()
    version.document = document
    version.status = VersionStatus.SIGNED
    version.issued_at = version.signed_at = now
    version.carries_signatures_of = signature_source(base)
    version.save()
    _supersede_earlier(version)
    log_action(
        version.partnership,
        "protocol.version_issued",
        f"Issued {version} as a minor amendment of version {base.number}",
        version,
        {
            "status": [VersionStatus.APPROVED.label, version.get_status_display()],
            "sha256": [None, document.sha256],
        },
    )
    recipients = AuthorisedSignatory.objects.filter(
        is_active=True, partner__status=PartnerStatus.ACTIVE
    ).values_list("email", flat=True)
    send_templated_email_each(
        "protocol_minor_version",
        recipients,
        {
            "version": version,
            "protocol": protocol,
            "base": base,
            "partnership": version.partnership,
            "link": _public_pdf_link(protocol),
        },
    )
    _queue_pdf(version)
    return version


@service
def record_answer(document) -> ProtocolVersion | None:
    """A partner signed or declined a protocol's document: re-render its PDF, and once every
    partner asked has signed, the version is signed and replaces the one before it.

    Raises ValidationError, undoing the answer, when the version was superseded or retired
    meanwhile (after the signing page checked, before the answer was saved).
    """
    version = (
        ProtocolVersion.objects.select_for_update(of=("self",))
        .select_related("protocol")
        .filter(document=document)
        .first()
    )
    if version is None:
        return None  # another kind of document
    if version.status in (VersionStatus.SUPERSEDED, VersionStatus.RETIRED):
        raise ValidationError(SUPERSEDED, code="unavailable")
    _complete_if_signed(version)
    _queue_pdf(version)
    return version


@service
def complete_signed_versions() -> list[ProtocolVersion]:
    """Versions out for signature in the current partnership that every partner still asked
    has signed (one that had not has withdrawn since): each becomes signed, as it would have
    on the last signature. Returns them."""
    done = []
    pending = (
        ProtocolVersion.objects.filter(status=VersionStatus.FOR_SIGNATURE)
        .order_by("protocol_id", "major", "minor")
        .values_list("pk", flat=True)
    )
    for pk in list(pending):
        version = (
            ProtocolVersion.objects.select_for_update(of=("self",))
            .select_related("protocol")
            .get(pk=pk)
        )
        if _complete_if_signed(version):
            _queue_pdf(version)
            done.append(version)
    return done


def _complete_if_signed(version: ProtocolVersion) -> bool:
    """A version out for signature that every partner asked (and not withdrawn) has signed
    becomes signed: in force from today if it was not already, next review set, earlier
    versions superseded. Call it with the version locked. False when it is not complete."""
    if version.status != VersionStatus.FOR_SIGNATURE or not everyone_signed(version):
        return False
    now = timezone.now()
    version.status = VersionStatus.SIGNED
    version.signed_at = now
    version.save(update_fields=["status", "signed_at"])
    protocol = Protocol.objects.select_for_update().get(pk=version.protocol_id)
    before = snapshot(protocol, ["date_in_force", "next_review_on"])
    today = timezone.localdate()
    protocol.date_in_force = protocol.date_in_force or today
    protocol.next_review_on = add_months(today, protocol.review_months)
    protocol.save(update_fields=["date_in_force", "next_review_on"])
    log_action(
        version.partnership,
        "protocol.version_signed",
        f"Every partner asked has signed {version}",
        version,
        {
            "status": [VersionStatus.FOR_SIGNATURE.label, version.get_status_display()],
            **diff(before, snapshot(protocol, ["date_in_force", "next_review_on"])),
        },
    )
    _supersede_earlier(version)
    return True


# --- New versions ------------------------------------------------------------------------------


@service
def new_version(protocol: Protocol, *, major: bool, change_summary: str, by) -> ProtocolVersion:
    """Start a draft from the latest version: major (x+1.0, signed again) or minor (x.y+1)."""
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    _require_live(protocol)
    latest = latest_version(protocol)
    if latest is None or latest.status not in BASES:
        state = latest.get_status_display().lower() if latest else "missing"
        raise ValidationError(
            f"Version {latest.number if latest else ''} is {state}: a new version can only "
            "start from an approved, sent or signed version. Edit the current draft instead."
        )
    change_summary = (change_summary or "").strip()
    if not change_summary:
        raise ValidationError({"change_summary": "Say what this version changes."})
    number = (latest.major + 1, 0) if major else (latest.major, latest.minor + 1)
    version = ProtocolVersion.objects.create(
        partnership=protocol.partnership,
        protocol=protocol,
        major=number[0],
        minor=number[1],
        author=by,
        change_summary=change_summary,
    )
    Section.objects.bulk_create(
        Section(
            partnership=protocol.partnership,
            version=version,
            position=section.position,
            title=section.title,
            body=section.body,
        )
        for section in latest.sections.order_by("position", "id")
    )
    log_action(
        protocol.partnership,
        "protocol.version_created",
        f"Started {version} ({'major' if major else 'minor'} change) from version {latest.number}",
        version,
        {"version": [latest.number, version.number], "change_summary": [None, change_summary]},
    )
    return version
