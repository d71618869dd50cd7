"""An agreement's life: review, signing, active, expiry, termination and new versions.

One function per change: each checks the change is allowed, writes the audit entry in the
same transaction and queues the e-mails it causes.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accord.kernel import clocks
from accord.kernel.context import service
from accord.kernel.mail import send_templated_email_each
from accord.kernel.queueing import queue_on_commit
from documents.models import FrozenDocument
from documents.pdf import renders_queued
from documents.services import freeze
from signatories.models import Partner, PartnerStatus, RequestStatus, Signature, SignatureRequest
from signatories.signing import SUPERSEDED, close_requests
from tenancy.audit import log_action
from tenancy.sweeps import in_partnership

from ..models import (
    EDIT_PERMISSION,
    Agreement,
    AgreementParty,
    AgreementSection,
    AgreementStatus,
    AgreementUserObjectPermission,
    DataItem,
)
from .common import LIVE_STATUSES, link, locked, party_emails, require_status, status_word
from .rendering import render_agreement_html, render_summary_sheet

BLOCKING = "blocking"
WARNING = "warning"
DEFAULT_REMIND_EVERY_DAYS = 7
DEFAULT_MAX_REMINDERS = 3
# Documents of agreements in these statuses are not to be signed any more.
NOT_SIGNING = frozenset(
    {
        AgreementStatus.DRAFT,
        AgreementStatus.IN_REVIEW,
        AgreementStatus.EXPIRED,
        AgreementStatus.TERMINATED,
        AgreementStatus.SUPERSEDED,
    }
)
# Fields a new version does not inherit: it starts its own life.
NOT_COPIED = {
    "id",
    "partnership",
    "status",
    "version",
    "previous",
    "created_at",
    "created_by",
    "change_summary",
    "submitted_at",
    "document",
    "sent_at",
    "signed_at",
    "ended_at",
    "termination_reason",
    "return_reason",
    "summary_sheet_html",
}


# --- Reading -------------------------------------------------------------------------------


def check(agreement: Agreement) -> list:
    """The rules' messages for the agreement (agreements.rules.check)."""
    from .. import rules

    return list(rules.check(agreement.facts()))


def blocking_messages(agreement: Agreement) -> list:
    return [m for m in check(agreement) if m.severity == BLOCKING]


def can_send_for_signature(agreement: Agreement) -> bool:
    from .. import rules

    return bool(rules.can_send_for_signature(agreement.facts()))


def party_partners(agreement: Agreement) -> list[Partner]:
    return [
        party.partner
        for party in agreement.parties.select_related("partner__organisation").order_by(
            "partner__organisation__name"
        )
    ]


def partners_asked(agreement: Agreement):
    if agreement.document_id is None:
        return Partner.objects.none()
    asked = SignatureRequest.objects.filter(document_id=agreement.document_id).exclude(
        status=RequestStatus.VOID
    )
    return Partner.objects.filter(pk__in=asked.values("partner")).select_related("organisation")


def everyone_signed(agreement: Agreement) -> bool:
    """Every party has signed the agreement's frozen document."""
    if agreement.document_id is None:
        return False
    parties = set(agreement.parties.values_list("partner_id", flat=True))
    signed = set(
        Signature.objects.filter(
            document_id=agreement.document_id, outcome=Signature.Outcome.SIGNED
        ).values_list("partner_id", flat=True)
    )
    return bool(parties) and parties <= signed


def is_superseded(document: FrozenDocument) -> bool:
    """Whether an agreement's frozen document is no longer to be signed: its agreement went
    back to draft, ended or was replaced (a check for signatories.signing)."""
    if document.kind != FrozenDocument.Kind.AGREEMENT:
        return False
    agreement = Agreement.objects.filter(document=document).only("status").first()
    return agreement is None or agreement.status in NOT_SIGNING


def live_next_version(agreement: Agreement) -> Agreement | None:
    """A newer version of the agreement still on its way (draft to signing)."""
    return (
        Agreement.objects.filter(previous=agreement, status__in=LIVE_STATUSES)
        .order_by("-version")
        .first()
    )


def _queue_pdf(agreement: Agreement) -> None:
    from ..tasks import render_pdf

    if agreement.document_id is not None and renders_queued():
        queue_on_commit(render_pdf, agreement.partnership_id, agreement.pk)


def _tell_parties(agreement: Agreement, template: str, **context: Any) -> int:
    return send_templated_email_each(
        template,
        party_emails(agreement),
        {
            "agreement": agreement,
            "partnership": agreement.partnership,
            "link": link("detail", agreement),
            **context,
        },
    )


def _status_change(agreement: Agreement, before: str) -> dict[str, list]:
    return {"status": [AgreementStatus(before).label, agreement.get_status_display()]}


# --- Review --------------------------------------------------------------------------------


@service
def submit_for_review(agreement: Agreement, *, by) -> Agreement:
    """A draft goes to review: the parties' editors and the steering group read it and
    comment; editing goes on until it is sent for signature."""
    agreement = locked(agreement)
    require_status(
        agreement,
        {AgreementStatus.DRAFT},
        f"This agreement is {status_word(agreement)}: only a draft can be sent for review.",
    )
    agreement.status = AgreementStatus.IN_REVIEW
    agreement.submitted_at = timezone.now()
    agreement.save(update_fields=["status", "submitted_at"])
    log_action(
        agreement.partnership,
        "agreement.submitted",
        f"Sent {agreement} for review",
        agreement,
        _status_change(agreement, AgreementStatus.DRAFT),
    )
    return agreement


@service
def return_to_draft(agreement: Agreement, *, reason: str = "", by) -> Agreement:
    """Back to draft from review, or from signing (the unanswered requests are closed and
    the frozen text will not be signed)."""
    agreement = locked(agreement)
    require_status(
        agreement,
        {AgreementStatus.IN_REVIEW, AgreementStatus.FOR_SIGNATURE},
        f"This agreement is {status_word(agreement)}: only an agreement in review or out for "
        "signature can go back to draft.",
    )
    before = agreement.status
    document = agreement.document
    agreement.status = AgreementStatus.DRAFT
    agreement.return_reason = (reason or "").strip()
    agreement.submitted_at = None
    agreement.document = None
    agreement.sent_at = None
    agreement.save(update_fields=["status", "return_reason", "submitted_at", "document", "sent_at"])
    if document is not None:
        close_requests(document, "the agreement went back to draft")
    log_action(
        agreement.partnership,
        "agreement.returned",
        f"Returned {agreement} to draft" + (f": {agreement.return_reason}" if reason else ""),
        agreement,
        {
            **_status_change(agreement, before),
            **({"reason": [None, agreement.return_reason]} if agreement.return_reason else {}),
        },
    )
    return agreement


# --- Signing -------------------------------------------------------------------------------


@service
def send_for_signature(agreement: Agreement, *, by) -> Agreement:
    """Freeze the agreement (its text, tick-box tables included) and ask every party to sign.

    Refused while the completeness check reports a blocking message. All or nothing: if a
    party cannot be asked (no signatory, no e-mail address), nothing is frozen or sent.
    """
    from signatories.signing import request_signatures

    agreement = locked(agreement)
    require_status(
        agreement,
        {AgreementStatus.IN_REVIEW},
        f"This agreement is {status_word(agreement)}: only an agreement in review can be sent "
        "for signature.",
    )
    blocking = blocking_messages(agreement)
    if blocking or not can_send_for_signature(agreement):
        raise ValidationError(
            ["Complete the agreement before sending it for signature:"]
            + [m.text for m in blocking],
            code="blocked",
        )
    partners = party_partners(agreement)
    inactive = [p for p in partners if p.status != PartnerStatus.ACTIVE]
    if inactive:
        raise ValidationError(
            [
                f"{p.organisation} is {p.get_status_display().lower()}: every party must be an "
                "active partner to sign."
                for p in inactive
            ]
        )
    document = freeze(
        agreement.partnership,
        kind=FrozenDocument.Kind.AGREEMENT,
        title=agreement.title,
        version_label=agreement.version_label,
        html=render_agreement_html(agreement),
        by=by,
    )
    agreement.summary_sheet_html = render_summary_sheet(agreement)
    agreement.document = document
    agreement.status = AgreementStatus.FOR_SIGNATURE
    agreement.sent_at = timezone.now()
    agreement.return_reason = ""
    agreement.save(
        update_fields=["summary_sheet_html", "document", "status", "sent_at", "return_reason"]
    )
    protocol = agreement.protocol
    request_signatures(
        document,
        partners,
        by=by,
        remind_every_days=protocol.remind_every_days if protocol else DEFAULT_REMIND_EVERY_DAYS,
        max_reminders=protocol.max_reminders if protocol else DEFAULT_MAX_REMINDERS,
        subject=f"Please sign the information sharing agreement {agreement.reference}: "
        f"{agreement.title}",
    )
    log_action(
        agreement.partnership,
        "agreement.sent",
        f"Sent {agreement} for signature to its {len(partners)} parties",
        agreement,
        {
            **_status_change(agreement, AgreementStatus.IN_REVIEW),
            "parties": [None, sorted(str(p.organisation) for p in partners)],
            "sha256": [None, document.sha256],
        },
    )
    _queue_pdf(agreement)
    return agreement


@service
def record_answer(document: FrozenDocument) -> Agreement | None:
    """A party signed or declined an agreement's document: once every party has signed, the
    agreement is active and replaces the version it amends. Raises ValidationError, undoing
    the answer, when the agreement is no longer out for signature."""
    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("partnership", "lead__organisation")
        .filter(document=document)
        .first()
    )
    if agreement is None:
        return None  # another kind of document
    if agreement.status != AgreementStatus.FOR_SIGNATURE:
        raise ValidationError(SUPERSEDED, code="unavailable")
    if everyone_signed(agreement):
        _activate(agreement)
    _queue_pdf(agreement)
    return agreement


def _activate(agreement: Agreement) -> None:
    now = timezone.now()
    agreement.status = AgreementStatus.ACTIVE
    agreement.signed_at = now
    fields = ["status", "signed_at"]
    if agreement.start_date is None:
        agreement.start_date = timezone.localdate()
        fields.append("start_date")
    agreement.save(update_fields=fields)
    log_action(
        agreement.partnership,
        "agreement.active",
        f"Every party has signed {agreement}: it is active",
        agreement,
        _status_change(agreement, AgreementStatus.FOR_SIGNATURE),
    )
    _tell_parties(agreement, "agreement_active")
    if agreement.previous_id is not None:
        previous = Agreement.objects.select_for_update(of=("self",)).get(pk=agreement.previous_id)
        if previous.status in (AgreementStatus.ACTIVE, AgreementStatus.FOR_SIGNATURE):
            _end(
                previous,
                AgreementStatus.SUPERSEDED,
                "agreement.superseded",
                f"{previous} was superseded by version {agreement.version_label}",
                f"version {previous.version_label} was superseded by version "
                f"{agreement.version_label}",
            )


def _end(agreement: Agreement, status: str, action: str, summary: str, why: str, **extra) -> None:
    before = agreement.status
    agreement.status = status
    agreement.ended_at = timezone.now()
    for name, value in extra.items():
        setattr(agreement, name, value)
    agreement.save(update_fields=["status", "ended_at", *extra])
    log_action(
        agreement.partnership,
        action,
        summary,
        agreement,
        {**_status_change(agreement, before), **{k: [None, v] for k, v in extra.items()}},
    )
    if agreement.document_id is not None:
        close_requests(agreement.document, why)


# --- Ending ----------------------------------------------------------------------------------


@service
def terminate(agreement: Agreement, *, reason: str, by) -> Agreement:
    """End an active agreement (or one out for signature) early, saying why; the parties are
    told."""
    agreement = locked(agreement)
    require_status(
        agreement,
        {AgreementStatus.ACTIVE, AgreementStatus.FOR_SIGNATURE},
        f"This agreement is {status_word(agreement)}: only an active agreement or one out for "
        "signature can be terminated.",
    )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for terminating the agreement."})
    _end(
        agreement,
        AgreementStatus.TERMINATED,
        "agreement.terminated",
        f"Terminated {agreement}: {reason}",
        "the agreement was terminated",
        termination_reason=reason,
    )
    _tell_parties(agreement, "agreement_terminated", reason=reason)
    return agreement


def _expire(pk: int, today) -> bool:
    moved = Agreement.objects.filter(
        pk=pk, status=AgreementStatus.ACTIVE, end_date__lt=today
    ).update(status=AgreementStatus.EXPIRED, ended_at=timezone.now())
    if not moved:
        return False  # expired by another sweep meanwhile, or changed
    agreement = Agreement.objects.select_related("partnership", "lead__organisation").get(pk=pk)
    log_action(
        agreement.partnership,
        "agreement.expired",
        f"{agreement} expired: its end date, {agreement.end_date:%d/%m/%Y}, has passed",
        agreement,
        {"status": [AgreementStatus.ACTIVE.label, AgreementStatus.EXPIRED.label]},
    )
    _tell_parties(agreement, "agreement_expired")
    return True


EXPIRY_CLOCK = "agreements.expiry"


def expiry_due(agreement: Agreement) -> datetime | None:
    """An active agreement expires as the day after its end date begins."""
    if agreement.status != AgreementStatus.ACTIVE or agreement.end_date is None:
        return None
    return clocks.start_of_day(agreement.end_date + timedelta(days=1))


@clocks.kind(
    EXPIRY_CLOCK,
    model=Agreement,
    due_for=expiry_due,
    candidates=lambda: Agreement.objects.filter(status=AgreementStatus.ACTIVE),
)
def _expire_when_due(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        return "expired" if _expire(clocks.subject_pk(clock), timezone.localdate()) else None


def expire_due() -> int:
    """Sweep step: active agreements whose end date has passed expire, and their parties are
    told, once (a conditional UPDATE decides, so two sweeps at once tell them once)."""
    return clocks.run_due(EXPIRY_CLOCK)


def agreement_changed(sender, instance: Agreement, **kwargs) -> None:
    if not kwargs.get("raw"):
        clocks.recompute(EXPIRY_CLOCK, instance)


# --- New versions --------------------------------------------------------------------------


@service
def new_version(agreement: Agreement, *, change_summary: str, by) -> Agreement:
    """Start a new version of an active agreement: a draft copy of everything (sections, data
    items, parties, legal basis) numbered one higher, which goes through review and signing
    again. The active version stays in force until the new one is signed."""
    agreement = locked(agreement)
    require_status(
        agreement,
        {AgreementStatus.ACTIVE},
        f"This agreement is {status_word(agreement)}: only an active agreement can have a new "
        "version.",
    )
    change_summary = (change_summary or "").strip()
    if not change_summary:
        raise ValidationError({"change_summary": "Say what the new version changes."})
    pending = live_next_version(agreement)
    if pending is not None:
        raise ValidationError(
            f"Version {pending.version_label} is already {status_word(pending)}: carry on with it."
        )
    values = {
        field.attname: getattr(agreement, field.attname)
        for field in Agreement._meta.concrete_fields
        if field.name not in NOT_COPIED
    }
    copy = Agreement.objects.create(
        **values,
        partnership=agreement.partnership,
        version=agreement.version + 1,
        previous=agreement,
        change_summary=change_summary,
        created_by=by,
    )
    copy.statutes.set(agreement.statutes.all())
    AgreementSection.objects.bulk_create(
        AgreementSection(
            partnership=agreement.partnership,
            agreement=copy,
            key=section.key,
            position=section.position,
            title=section.title,
            guidance=section.guidance,
            body=section.body,
            state=section.state,
        )
        for section in agreement.sections.order_by("position", "id")
    )
    parties = {}
    for party in agreement.parties.order_by("pk"):
        parties[party.pk] = AgreementParty.objects.create(
            partnership=agreement.partnership,
            agreement=copy,
            partner_id=party.partner_id,
            role=party.role,
        )
    DataItem.objects.bulk_create(
        DataItem(
            partnership=agreement.partnership,
            agreement=copy,
            position=item.position,
            item=item.item,
            category=item.category,
            special_category_type=item.special_category_type,
            data_subjects=item.data_subjects,
            from_party=parties[item.from_party_id],
            to_party=parties[item.to_party_id],
            purpose=item.purpose,
            necessity=item.necessity,
        )
        for item in agreement.data_items.order_by("position", "id")
    )
    for grant in AgreementUserObjectPermission.objects.filter(
        content_object=agreement, permission__codename=EDIT_PERMISSION
    ).select_related("user"):
        assign_perm(f"agreements.{EDIT_PERMISSION}", grant.user, copy)
    log_action(
        agreement.partnership,
        "agreement.version_created",
        f"Started version {copy.version_label} of {agreement.reference}: {change_summary}",
        copy,
        {
            "version": [agreement.version_label, copy.version_label],
            "change_summary": [None, change_summary],
        },
    )
    return copy


# --- Partners leaving --------------------------------------------------------------------------


@service
def party_withdrawn(partner: Partner) -> list[Agreement]:
    """A party left the partnership: agreements it had not yet signed go back to draft (their
    parties must change); active ones are noted in the audit trail for the lead to review."""
    touched = []
    agreements = (
        Agreement.objects.filter(parties__partner=partner)
        .filter(status__in=[AgreementStatus.FOR_SIGNATURE, AgreementStatus.ACTIVE])
        .select_related("partnership", "lead__organisation")
        .order_by("pk")
        .distinct()
    )
    for agreement in agreements:
        if agreement.status == AgreementStatus.FOR_SIGNATURE:
            return_to_draft(
                agreement,
                reason=f"{partner.organisation} has withdrawn from the partnership.",
                by=None,
            )
        else:
            log_action(
                agreement.partnership,
                "agreement.party_withdrawn",
                f"{partner.organisation}, a party to {agreement}, has withdrawn from the "
                "partnership: review the agreement",
                agreement,
                {"parties": [str(partner.organisation), None]},
            )
        touched.append(agreement)
    return touched
