"""A protocol's life: started from the model, approved, signed or issued, replaced, retired.

Every change of a version's status is a transition declared in `protocols.transitions` and
made by `VERSIONS.perform`, which checks the caller and the state, audits and queues the
e-mail; the functions here add what each transition carries (timestamps, freezing, asking
partners to sign).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from accord.kernel.context import service
from accord.kernel.mail import send_templated_email_each
from documents.models import FrozenDocument
from documents.services import freeze
from signatories import signables
from signatories.models import AuthorisedSignatory, Partner, PartnerStatus
from signatories.signing import close_requests, request_signatures
from tenancy.audit import created, diff, log_action, snapshot
from tenancy.lifecycle import require
from tenancy.models import Partnership

from ..content import model_sections
from ..models import Protocol, ProtocolVersion, Section, VersionStatus
from ..permissions import may_draft, may_retire, may_send
from ..transitions import VERSIONS
from .common import (
    BASES,
    LIVE,
    REPLACEABLE,
    ask_refusal,
    public_pdf_link,
    require_active_lead,
    require_live,
    signed_predecessor,
    version_link,
)
from .legislation import ensure_legislation
from .queries import (
    everyone_signed,
    latest_version,
    render_version_html,
    signature_source,
    signing_documents,
)

KIND = FrozenDocument.Kind.PROTOCOL
SETTINGS_FIELDS = [
    "title",
    "lead",
    "purposes",
    "date_in_force",
    "notice_weeks",
    "review_months",
    "remind_every_days",
    "max_reminders",
]


# --- Protocols ---------------------------------------------------------------------------


@service
def create_from_model(partnership: Partnership, *, title: str, lead: Partner, by) -> Protocol:
    """A new protocol whose version 1.0 is a draft of Accord's model protocol."""
    require(by, partnership.pk, may_draft)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Enter the protocol's title."})
    require_active_lead(lead)
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
    require(by, protocol.partnership_id, may_draft)
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    require_live(protocol)
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"Not a protocol setting: {', '.join(sorted(unknown))}")
    if "title" in values:
        values["title"] = (values["title"] or "").strip()
        if not values["title"]:
            raise ValidationError({"title": "Enter the protocol's title."})
    if "lead" in values and values["lead"] != protocol.lead:
        require_active_lead(values["lead"])
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
    require(by, protocol.partnership_id, may_retire)
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    require_live(protocol)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for retiring the protocol."})
    versions = (
        ProtocolVersion.objects.select_for_update(of=("self",))
        .select_related("document", "protocol__lead__organisation", "partnership")
        .filter(protocol=protocol, status__in=LIVE)
        .order_by("major", "minor")
    )
    for version in versions:
        _end(
            version,
            "retire",
            f"{version} was retired with the protocol",
            "the protocol was retired",
        )
    protocol.retired_at = timezone.now()
    protocol.retirement_reason = reason
    protocol.save(update_fields=["retired_at", "retirement_reason"])
    log_action(
        protocol.partnership,
        "protocol.retired",
        f"Retired the protocol “{protocol.title}”: {reason}",
        protocol,
        {"retired_at": [None, protocol.retired_at], "reason": [None, reason]},
    )
    return protocol


# --- Approval ------------------------------------------------------------------------------


def _mail_context(version: ProtocolVersion, by=None, **extra: Any) -> dict[str, Any]:
    return {
        "version": version,
        "protocol": version.protocol,
        "by": by,
        "link": version_link(version),
        **extra,
    }


@service
def submit_for_approval(version: ProtocolVersion, *, by) -> ProtocolVersion:
    def apply(v: ProtocolVersion) -> None:
        if not v.sections.exists():
            raise ValidationError("Add at least one section before sending it for approval.")
        v.submitted_at = timezone.now()

    return VERSIONS.perform(
        version,
        "submit",
        by=by,
        apply=apply,
        summary=lambda v: f"Sent {v} to the steering group for approval",
        context=_mail_context(version, by),
    )


@service
def approve(version: ProtocolVersion, *, by) -> ProtocolVersion:
    """The steering group approves a version sent to it (not the version's author)."""

    def apply(v: ProtocolVersion) -> None:
        v.approved_at = timezone.now()
        v.approved_by = by
        v.return_reason = ""

    return VERSIONS.perform(
        version,
        "approve",
        by=by,
        apply=apply,
        summary=lambda v: f"Approved {v}",
        context=_mail_context(version, by),
    )


@service
def return_to_draft(version: ProtocolVersion, *, reason: str, by) -> ProtocolVersion:
    """The steering group sends a version back for more work, saying why."""
    reason = (reason or "").strip()

    def apply(v: ProtocolVersion) -> None:
        if not reason:
            raise ValidationError({"reason": "Enter what needs to change before it is approved."})
        v.submitted_at = v.approved_at = v.approved_by = None
        v.return_reason = reason

    return VERSIONS.perform(
        version,
        "return",
        by=by,
        apply=apply,
        summary=lambda v: f"Returned {v} to draft: {reason}",
        changes={"reason": [None, reason]},
        context=_mail_context(version, by, reason=reason),
    )


# --- Signing and issuing -------------------------------------------------------------------


def _freeze(version: ProtocolVersion, by) -> FrozenDocument:
    return freeze(
        version.partnership,
        kind=KIND,
        title=version.protocol.title,
        version_label=version.number,
        html=render_version_html(version),
        by=by,
    )


def _active_partners(partners: Iterable[Partner]) -> list[Partner]:
    partners = list(partners)
    if not partners:
        raise ValidationError({"partners": "Choose at least one partner to sign."})
    inactive = [p for p in partners if p.status != PartnerStatus.ACTIVE]
    if inactive:
        names = ", ".join(str(p.organisation) for p in inactive)
        raise ValidationError({"partners": f"Only active partners can sign: {names}."})
    return partners


@service
def send_for_signature(
    version: ProtocolVersion, partners: Iterable[Partner], *, by
) -> ProtocolVersion:
    """Freeze an approved version and ask each chosen partner to sign it.

    All or nothing: if any partner cannot be asked (no signatory, no e-mail address),
    nothing is frozen and nothing is sent.
    """
    chosen: list[Partner] = []
    frozen: list[FrozenDocument] = []

    def apply(v: ProtocolVersion) -> None:
        chosen.extend(_active_partners(partners))
        frozen.append(_freeze(v, by))
        v.document = frozen[0]
        v.sent_at = timezone.now()

    version = VERSIONS.perform(
        version,
        "send",
        by=by,
        apply=apply,
        summary=lambda v: (
            f"Sent {v} for signature to {len(chosen)} partner{'s' if len(chosen) != 1 else ''}"
        ),
        changes=lambda v: {
            "partners": [None, sorted(str(p.organisation) for p in chosen)],
            "sha256": [None, v.document.sha256],
        },
    )
    # Only one version collects signatures: earlier ones still out for signature stop.
    _supersede_earlier(version, {VersionStatus.FOR_SIGNATURE})
    protocol = version.protocol
    request_signatures(
        version.document,
        chosen,
        by=by,
        remind_every_days=protocol.remind_every_days,
        max_reminders=protocol.max_reminders,
        subject=f"Please sign {protocol.title}, version {version.number}",
    )
    signables.queue_pdf(KIND, version)
    return version


@service
def ask_to_sign(version: ProtocolVersion, partners: Iterable[Partner], *, by) -> ProtocolVersion:
    """Ask partners to sign the version in force (or still out for signature) without
    sending it to everyone again: a partner that joined later accedes to it, and one that
    declined can be asked again after a conversation (both answers are kept)."""
    version = VERSIONS.lock(version)
    require(by, version.partnership_id, lambda m: may_send(m, version.protocol))
    if why := ask_refusal(version):
        raise ValidationError(why)
    chosen = _active_partners(partners)
    answers = signables.current_answers(signing_documents(version))
    for partner in chosen:
        answer = answers.get(partner.pk)
        if answer is not None and answer.outcome == answer.Outcome.SIGNED:
            raise ValidationError(
                {"partners": f"{partner.organisation} has already signed version {version.number}."}
            )
    protocol = version.protocol
    request_signatures(
        version.document,
        chosen,
        by=by,
        remind_every_days=protocol.remind_every_days,
        max_reminders=protocol.max_reminders,
        subject=f"Please sign {protocol.title}, version {version.number}",
        again=True,
    )
    log_action(
        version.partnership,
        "protocol.version_asked",
        f"Asked {', '.join(str(p.organisation) for p in chosen)} to sign {version}",
        version,
        {"partners": [None, sorted(str(p.organisation) for p in chosen)]},
    )
    return version


def _end(version: ProtocolVersion, transition: str, summary: str, why: str) -> None:
    """Move a version nobody signs any more to superseded or retired, audited; the
    unanswered requests to sign it are closed, so their links stop working."""
    VERSIONS.perform(version, transition, by=None, summary=summary, locked=True)
    if version.document_id is not None:
        close_requests(version.document, why)


def _supersede_earlier(
    version: ProtocolVersion, statuses: Iterable[str] = REPLACEABLE
) -> list[ProtocolVersion]:
    """Supersede the protocol's versions numbered below `version` that are in `statuses`."""
    earlier = [
        v
        for v in ProtocolVersion.objects.select_for_update(of=("self",))
        .select_related("document", "protocol__lead__organisation", "partnership")
        .filter(protocol_id=version.protocol_id, status__in=list(statuses))
        .exclude(pk=version.pk)
        .order_by("major", "minor")
        if (v.major, v.minor) < (version.major, version.minor)
    ]
    for old in earlier:
        _end(
            old,
            "supersede",
            f"{old} was superseded by version {version.number}",
            f"version {old.number} was superseded by version {version.number}",
        )
    return earlier


@service
def issue_minor_version(version: ProtocolVersion, *, by) -> ProtocolVersion:
    """An approved minor version takes effect without signing again: it is frozen, carries
    the signatures of the version it amends, and every active partner's signatories are told.
    """
    bases: list[ProtocolVersion] = []

    def apply(v: ProtocolVersion) -> None:
        base = signed_predecessor(v)
        bases.append(base)
        v.document = _freeze(v, by)
        v.issued_at = v.signed_at = timezone.now()
        v.carries_signatures_of = signature_source(base)

    version = VERSIONS.perform(
        version,
        "issue",
        by=by,
        apply=apply,
        summary=lambda v: f"Issued {v} as a minor amendment of version {bases[0].number}",
        changes=lambda v: {"sha256": [None, v.document.sha256]},
    )
    _supersede_earlier(version)
    recipients = AuthorisedSignatory.objects.filter(
        is_active=True, partner__status=PartnerStatus.ACTIVE
    ).values_list("email", flat=True)
    send_templated_email_each(
        "protocol_minor_version",
        recipients,
        {
            "version": version,
            "protocol": version.protocol,
            "base": bases[0],
            "partnership": version.partnership,
            "link": public_pdf_link(version.protocol),
        },
    )
    signables.queue_pdf(KIND, version)
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
        version = VERSIONS.lock(ProtocolVersion(pk=pk))
        if complete_if_signed(version):
            signables.queue_pdf(KIND, version)
            done.append(version)
    return done


def complete_if_signed(version: ProtocolVersion) -> bool:
    """A version out for signature that every partner asked (and not withdrawn) has signed
    becomes signed: in force from today if it was not already (its review cycle starts), earlier
    versions superseded. Call it with the version locked. False when it is not complete."""
    if version.status != VersionStatus.FOR_SIGNATURE or not everyone_signed(version):
        return False
    protocol = Protocol.objects.select_for_update().get(pk=version.protocol_id)
    before = snapshot(protocol, ["date_in_force"])
    protocol.date_in_force = protocol.date_in_force or timezone.localdate()
    # Saving it starts the protocol's review cycle (reviews), which sets its next review.
    protocol.save(update_fields=["date_in_force"])
    version.protocol = protocol

    def apply(v: ProtocolVersion) -> None:
        v.signed_at = timezone.now()

    VERSIONS.perform(
        version,
        "complete",
        by=None,
        apply=apply,
        locked=True,
        summary=lambda v: f"Every partner asked has signed {v}",
        changes=diff(before, snapshot(protocol, ["date_in_force"])),
    )
    _supersede_earlier(version)
    return True


# --- New versions --------------------------------------------------------------------------


@service
def new_version(protocol: Protocol, *, major: bool, change_summary: str, by) -> ProtocolVersion:
    """Start a draft from the latest version: major (x+1.0, signed again) or minor (x.y+1)."""
    require(by, protocol.partnership_id, may_draft)
    protocol = Protocol.objects.select_for_update().get(pk=protocol.pk)
    require_live(protocol)
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
