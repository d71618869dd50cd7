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
from documents.models import FrozenDocument
from documents.services import freeze
from signatories import signables
from signatories.models import Partner, PartnerStatus
from signatories.signing import close_requests, request_signatures
from tenancy.audit import log_action
from tenancy.sweeps import in_partnership

from .. import rules
from ..models import (
    EDIT_PERMISSION,
    SIGNING_STATUSES,
    Agreement,
    AgreementParty,
    AgreementSection,
    AgreementStatus,
    AgreementUserObjectPermission,
    DataItem,
)
from ..transitions import AGREEMENTS
from .common import (
    LIVE_STATUSES,
    link,
    locked,
    membership_of,
    party_emails,
    require_lead_drafter,
    require_status,
    status_word,
)
from .rendering import render_agreement_html

BLOCKING = "blocking"
WARNING = "warning"
DEFAULT_REMIND_EVERY_DAYS = 7
DEFAULT_MAX_REMINDERS = 3
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
    return list(rules.check(agreement.facts()))


def blocking_messages(agreement: Agreement) -> list:
    return [m for m in check(agreement) if m.severity == BLOCKING]


def can_send_for_signature(agreement: Agreement) -> bool:
    return bool(rules.can_send_for_signature(agreement.facts()))


def party_partners(agreement: Agreement) -> list[Partner]:
    return [
        party.partner
        for party in agreement.parties.select_related("partner__organisation").order_by(
            "partner__organisation__name"
        )
    ]


def partners_asked(agreement: Agreement):
    return signables.partners_asked([agreement.document_id])


def everyone_signed(agreement: Agreement) -> bool:
    """Every party has signed the agreement's frozen document."""
    return signables.everyone_signed(
        [agreement.document_id], agreement.parties.values_list("partner_id", flat=True)
    )


def open_for_signing(agreement: Agreement | None) -> bool:
    """Whether an agreement's frozen document is still its text: out for signature or
    active (not gone back to draft, ended or replaced)."""
    return agreement is not None and agreement.status in SIGNING_STATUSES


def live_next_version(agreement: Agreement) -> Agreement | None:
    """A newer version of the agreement still on its way (draft to signing)."""
    return (
        Agreement.objects.filter(previous=agreement, status__in=LIVE_STATUSES)
        .order_by("-version")
        .first()
    )


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


# --- Review --------------------------------------------------------------------------------


@service
def submit_for_review(agreement: Agreement, *, by) -> Agreement:
    """A draft goes to review: the parties' editors and the steering group read it and
    comment; editing goes on until it is sent for signature."""

    def apply(a: Agreement) -> None:
        a.submitted_at = timezone.now()

    return AGREEMENTS.perform(
        agreement, "submit", by=by, apply=apply, summary=lambda a: f"Sent {a} for review"
    )


@service
def return_to_draft(agreement: Agreement, *, reason: str = "", by) -> Agreement:
    """Back to draft from review, or from signing (the unanswered requests are closed and
    the frozen text will not be signed)."""
    reason = (reason or "").strip()
    documents = []

    def apply(a: Agreement) -> None:
        documents.append(a.document)
        a.return_reason = reason
        a.submitted_at = None
        a.document = None
        a.sent_at = None

    agreement = AGREEMENTS.perform(
        agreement,
        "return",
        by=by,
        apply=apply,
        summary=lambda a: f"Returned {a} to draft" + (f": {reason}" if reason else ""),
        changes={"reason": [None, reason]} if reason else None,
    )
    if documents[0] is not None:
        close_requests(documents[0], "the agreement went back to draft")
    return agreement


# --- Signing -------------------------------------------------------------------------------


@service
def send_for_signature(agreement: Agreement, *, by) -> Agreement:
    """Freeze the agreement (its text, summary sheet and tick-box tables included) and ask
    every party to sign.

    Refused while the completeness check reports a blocking message. All or nothing: if a
    party cannot be asked (no signatory, no e-mail address), nothing is frozen or sent.
    """
    partners: list[Partner] = []

    def apply(a: Agreement) -> None:
        blocking = blocking_messages(a)
        if blocking or not can_send_for_signature(a):
            raise ValidationError(
                ["Complete the agreement before sending it for signature:"]
                + [m.text for m in blocking],
                code="blocked",
            )
        partners.extend(party_partners(a))
        inactive = [p for p in partners if p.status != PartnerStatus.ACTIVE]
        if inactive:
            raise ValidationError(
                [
                    f"{p.organisation} is {p.get_status_display().lower()}: every party must "
                    "be an active partner to sign."
                    for p in inactive
                ]
            )
        a.document = freeze(
            a.partnership,
            kind=FrozenDocument.Kind.AGREEMENT,
            title=a.title,
            version_label=a.version_label,
            html=render_agreement_html(a),
            by=by,
            reference=a.reference,
        )
        # The summary sheet is the text's first section now, signed with it: nothing apart.
        a.summary_sheet_html = ""
        a.sent_at = timezone.now()
        a.return_reason = ""

    agreement = AGREEMENTS.perform(
        agreement,
        "send",
        by=by,
        apply=apply,
        summary=lambda a: f"Sent {a} for signature to its {len(partners)} parties",
        changes=lambda a: {
            "parties": [None, sorted(str(p.organisation) for p in partners)],
            "sha256": [None, a.document.sha256],
        },
    )
    protocol = agreement.protocol
    request_signatures(
        agreement.document,
        partners,
        by=by,
        remind_every_days=protocol.remind_every_days if protocol else DEFAULT_REMIND_EVERY_DAYS,
        max_reminders=protocol.max_reminders if protocol else DEFAULT_MAX_REMINDERS,
        subject=f"Please sign the information sharing agreement {agreement.reference}: "
        f"{agreement.title}",
    )
    signables.queue_pdf(FrozenDocument.Kind.AGREEMENT, agreement)
    return agreement


def activate_if_signed(agreement: Agreement) -> None:
    """After each answer (the agreement locked): once every party has signed, the agreement
    is active and replaces the version it amends."""
    if agreement.status != AgreementStatus.FOR_SIGNATURE:
        raise ValidationError(signables.SUPERSEDED, code="unavailable")
    if not everyone_signed(agreement):
        return

    def apply(a: Agreement) -> None:
        a.signed_at = timezone.now()
        if a.start_date is None:
            a.start_date = timezone.localdate()

    AGREEMENTS.perform(
        agreement,
        "activate",
        by=None,
        locked=True,
        apply=apply,
        summary=lambda a: f"Every party has signed {a}: it is active",
    )
    if agreement.previous_id is not None:
        previous = AGREEMENTS.lock(Agreement(pk=agreement.previous_id))
        if previous.status in (AgreementStatus.ACTIVE, AgreementStatus.FOR_SIGNATURE):
            _end(
                previous,
                "supersede",
                f"{previous} was superseded by version {agreement.version_label}",
                f"version {previous.version_label} was superseded by version "
                f"{agreement.version_label}",
            )


def _end(agreement: Agreement, transition: str, summary: str, why: str, **extra: Any) -> None:
    """End an agreement (superseded, terminated, expired); the unanswered requests to sign it
    are closed, so their links stop working."""

    def apply(a: Agreement) -> None:
        a.ended_at = timezone.now()
        for name, value in extra.items():
            setattr(a, name, value)

    AGREEMENTS.perform(
        agreement,
        transition,
        by=None,
        locked=True,
        apply=apply,
        summary=summary,
        changes={k: [None, v] for k, v in extra.items()},
    )
    if agreement.document_id is not None:
        close_requests(agreement.document, why)


# --- Ending ----------------------------------------------------------------------------------


@service
def terminate(agreement: Agreement, *, reason: str, by) -> Agreement:
    """End an active agreement (or one out for signature) early, saying why; the parties are
    told."""
    reason = (reason or "").strip()
    documents = []

    def apply(a: Agreement) -> None:
        if not reason:
            raise ValidationError({"reason": "Enter the reason for terminating the agreement."})
        documents.append(a.document)
        a.ended_at = timezone.now()
        a.termination_reason = reason

    agreement = AGREEMENTS.perform(
        agreement,
        "terminate",
        by=by,
        apply=apply,
        summary=lambda a: f"Terminated {a}: {reason}",
        changes={"termination_reason": [None, reason]},
        context={"reason": reason},
    )
    if documents[0] is not None:
        close_requests(documents[0], "the agreement was terminated")
    return agreement


def _expire(pk: int, today) -> bool:
    agreement = AGREEMENTS.lock(Agreement(pk=pk))
    if agreement.status != AgreementStatus.ACTIVE or not (
        agreement.end_date and agreement.end_date < today
    ):
        return False  # expired by another sweep meanwhile, or changed

    def apply(a: Agreement) -> None:
        a.ended_at = timezone.now()

    AGREEMENTS.perform(
        agreement,
        "expire",
        by=None,
        locked=True,
        apply=apply,
        summary=lambda a: f"{a} expired: its end date, {a.end_date:%d/%m/%Y}, has passed",
    )
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
    if by is not None:
        require_lead_drafter(membership_of(by), agreement)
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
