"""Online signing: asking partners to sign a frozen document, their answers and reminders.

Each state change is one function here. It checks the transition, writes the audit entry in
the same transaction and queues its e-mails, which are sent once the transaction commits.

Links carry a secret of 256 bits (`secrets.token_urlsafe(32)`); only its SHA-256 is stored.
A link is found again from its secret alone, across partnerships (`find_by_token`): the person
who opens it is not signed in, and the request it opens decides the partnership's scope.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import formats, timezone
from django_scopes import get_scope, scope, scopes_disabled

from accord.kernel import clocks
from accord.kernel.cadences import SIGNING_MAX_REMINDERS, SIGNING_REMINDER_EVERY_DAYS
from accord.kernel.context import acting
from accord.kernel.mail import send_templated_email, send_templated_email_each
from documents.models import FrozenDocument
from tenancy.audit import log_action
from tenancy.models import Partnership

from .affiliations import acts_for, vouched_addresses
from .models import (
    LIVE_STATUSES,
    AuthorisedSignatory,
    Partner,
    PartnerStatus,
    ReminderLink,
    RequestStatus,
    Signature,
    SignatureRequest,
)
from .signables import (
    SUPERSEDED,
    is_superseded,
    lead_emails,
    owner_of,
    record_answer,
    signing_counts,
)
from .tokens import TOKEN_MAX_LENGTH, hash_token, new_token

OPEN_STATUSES = (RequestStatus.SENT, RequestStatus.OPENED)
# The clock of a request's next reminder (registered in signatories.clocks).
REMINDER_CLOCK = "signing.reminder"
NAME_MAX_LENGTH = 150
REASON_MAX_LENGTH = 5000
USER_AGENT_MAX_LENGTH = 500

UNKNOWN_LINK = (
    "This signing link is not valid. Check you copied the whole link from the e-mail. If it "
    "still does not work, ask the person who sent it for a new one."
)
REPLACED = (
    "This link has been replaced by a newer one. Use the link in the most recent e-mail you "
    "were sent about this document."
)
# --- Helpers ------------------------------------------------------------------------------


def signing_link(token: str) -> str:
    return settings.SITE_URL + reverse("signing:sign", kwargs={"token": token})


def signed_copy_link(token: str) -> str:
    """The PDF of an answered request's document, as it now stands, for the signer: opened
    with one of the request's links' secrets, no account needed (see signing_views.copy)."""
    return settings.SITE_URL + reverse("signing:copy", kwargs={"token": token})


def uk_time(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


@contextmanager
def _scope_of(partnership: Partnership | int) -> Iterator[None]:
    """Enter the scope of the records' own partnership, refusing to switch from another one."""
    wanted = getattr(partnership, "pk", partnership)
    current = get_scope()
    if current.get("_enabled") and current.get("partnership") is not None:
        scoped = current["partnership"]
        if getattr(scoped, "pk", scoped) != wanted:
            raise RuntimeError("These records belong to another partnership than the scope's.")
        yield
        return
    with scope(partnership=partnership):
        yield


def _first_signatories(partner_ids: Iterable[int]) -> dict[int, AuthorisedSignatory]:
    """Each partner's first active authorised signatory whose address is confirmed and
    vouched for by its organisation (see affiliations.vouched_addresses), the earliest added."""
    candidates = list(
        AuthorisedSignatory.objects.filter(
            partner_id__in=list(partner_ids), is_active=True, confirmed_at__isnull=False
        )
        .select_related("partner")
        .order_by("created_at", "pk")
    )
    vouched = vouched_addresses((s.partner.organisation_id, s.email) for s in candidates)
    first: dict[int, AuthorisedSignatory] = {}
    for signatory in candidates:
        if (signatory.partner.organisation_id, signatory.email.lower()) in vouched:
            first.setdefault(signatory.partner_id, signatory)
    return first


def may_receive_links(signatory: AuthorisedSignatory) -> bool:
    """Whether signing links may go to this signatory: active, their address confirmed from
    itself, and vouched for by the organisation they sign for."""
    return (
        signatory.is_active
        and signatory.confirmed_at is not None
        and (signatory.partner.organisation_id, signatory.email.lower())
        in vouched_addresses([(signatory.partner.organisation_id, signatory.email)])
    )


def _no_address(partners: Iterable[Partner]) -> ValidationError:
    return ValidationError(
        [
            f"{p.organisation} has no authorised signatory whose address is confirmed and "
            "vouched for by it (on one of its domains, or belonging to someone verified for it), "
            "and no confirmed data protection e-mail address. Add an authorised signatory for "
            "it, or ask them to confirm their address from the e-mail they were sent."
            for p in partners
        ],
        code="no_address",
    )


def _send_request(request: SignatureRequest, token: str, *, subject: str = "", replaced=False):
    send_templated_email(
        "signature_request",
        [request.email],
        {
            "request": request,
            "partnership": request.partnership,
            "organisation": request.partner.organisation,
            "document": request.document,
            "signatory": request.signatory,
            "requested_by": request.requested_by,
            "link": signing_link(token),
            "expires_at": request.expires_at,
            "subject": subject,
            "replaced": replaced,
        },
    )


def tell_lead(name: str, request: SignatureRequest, context: dict | None = None) -> int:
    """E-mail the people who lead the request's document (signables.lead_emails), one message
    each, in the caller's transaction, with the e-mail template `name`. The template gets the
    request, its partner's organisation, the document, the partnership and `link`, the
    document's page in the partnership (the partner's page for a document no record owns),
    plus `context`. Returns how many were told."""
    found = owner_of(request.document)
    if found is not None:
        signable, owner = found
        link = signable.page_link(owner)
    else:
        link = settings.SITE_URL + reverse(
            "signatories:partner",
            kwargs={"partnership_slug": request.partnership.slug, "partner_id": request.partner_id},
        )
    return send_templated_email_each(
        name,
        lead_emails(request.document, requested_by=request.requested_by),
        {
            "request": request,
            "organisation": request.partner.organisation,
            "document": request.document,
            "partnership": request.partnership,
            "link": link,
            **(context or {}),
        },
    )


# --- Asking -------------------------------------------------------------------------------


def request_signatures(
    document: FrozenDocument,
    partners: Iterable[Partner],
    *,
    by,
    remind_every_days: int = SIGNING_REMINDER_EVERY_DAYS,
    max_reminders: int = SIGNING_MAX_REMINDERS,
    subject: str = "",
    again: bool = False,
) -> list[SignatureRequest]:
    """Ask each partner to sign `document` by an e-mailed link; returns the requests made.

    A partner with a live request for this document is skipped, except, when `again`, one
    that declined: its answer stays on record and it is asked once more. Each request goes to the
    partner's first active authorised signatory, else its organisation's data protection
    e-mail. Raises ValidationError, sending nothing, when a partner is not active or has
    neither address (one message per partner, naming it).
    """
    wanted = [p.pk for p in partners]
    if remind_every_days < 1:
        raise ValidationError("Reminders must be at least one day apart.")
    if max_reminders < 0:
        raise ValidationError("The number of reminders cannot be negative.")
    with _scope_of(document.partnership_id), transaction.atomic():
        found = Partner.objects.select_related("organisation", "partnership").in_bulk(wanted)
        missing = [pk for pk in wanted if pk not in found]
        if missing:
            raise ValidationError("Some of these partners are not in this partnership.")
        chosen = [found[pk] for pk in dict.fromkeys(wanted)]
        inactive = [p for p in chosen if p.status != PartnerStatus.ACTIVE]
        if inactive:
            raise ValidationError(
                [
                    f"{p.organisation} is {p.get_status_display().lower()}: only active "
                    "partners can be asked to sign."
                    for p in inactive
                ],
                code="inactive",
            )
        if is_superseded(document):
            raise ValidationError(
                "This version has been replaced by a newer one, so it cannot be sent for signing."
            )
        live = SignatureRequest.objects.filter(
            document=document, partner__in=chosen, status__in=LIVE_STATUSES
        )
        if again:
            for declined in live.filter(status=RequestStatus.DECLINED).select_for_update():
                _void(declined, "the partner is asked again after declining")
        asked = set(live.values_list("partner_id", flat=True))
        to_ask = [p for p in chosen if p.pk not in asked]
        signatories = _first_signatories(p.pk for p in to_ask)
        nowhere = [
            p
            for p in to_ask
            if p.pk not in signatories and not p.organisation.confirmed_data_protection_email
        ]
        if nowhere:
            raise _no_address(nowhere)

        now = timezone.now()
        made = []
        for partner in to_ask:
            signatory = signatories.get(partner.pk)
            token, token_hash = new_token()
            request = SignatureRequest(
                partnership=partner.partnership,
                document=document,
                partner=partner,
                signatory=signatory,
                email=signatory.email
                if signatory
                else partner.organisation.confirmed_data_protection_email,
                token_hash=token_hash,
                sent_at=now,
                expires_at=now + timedelta(days=settings.SIGNING_LINK_VALID_DAYS),
                remind_every_days=remind_every_days,
                max_reminders=max_reminders,
                requested_by=by,
            )
            try:
                with transaction.atomic():
                    request.save()
            except IntegrityError:
                continue  # asked by someone else at this very moment
            log_action(
                partner.partnership,
                "signature.requested",
                f"Asked {partner.organisation} to sign {document} ({request.email})",
                request,
                {
                    "document": [None, str(document)],
                    "email": [None, request.email],
                    "expires_at": [None, request.expires_at],
                },
            )
            _send_request(request, token, subject=subject)
            made.append(request)
        return made


def reissue(
    request: SignatureRequest, *, by, signatory: AuthorisedSignatory | None = None
) -> SignatureRequest:
    """Replace an unanswered request (its link expired or not) by a fresh one with a new
    link; the old link stops.

    Sent to `signatory` if given, else the request's signatory while active, else the
    partner's first active signatory, else its data protection e-mail. The reminders already
    sent count towards the fresh request's maximum, so the partner is never reminded more than
    `max_reminders` times in all; the next one falls due a cadence after the new link.
    """
    with _scope_of(request.partnership_id), transaction.atomic():
        old = (
            SignatureRequest.objects.select_for_update(of=("self",))
            .select_related(
                "partnership", "document__partnership", "partner__organisation", "signatory"
            )
            .get(pk=request.pk)
        )
        organisation = old.partner.organisation
        if old.status == RequestStatus.VOID:
            raise ValidationError("This request has already been replaced by a newer one.")
        if old.status not in OPEN_STATUSES:
            raise ValidationError(
                f"{organisation} has already {old.get_status_display().lower()} "
                f"{old.document}: there is nothing to send again."
            )
        if old.partner.status != PartnerStatus.ACTIVE:
            raise ValidationError(
                f"{organisation} is {old.partner.get_status_display().lower()}: only active "
                "partners can be asked to sign."
            )
        if is_superseded(old.document):
            raise ValidationError(
                "This version has been replaced by a newer one, so it cannot be sent again."
            )
        if signatory is not None:
            if signatory.partner_id != old.partner_id or not signatory.is_active:
                raise ValidationError(
                    f"{signatory.name} is not an active authorised signatory of {organisation}."
                )
            if signatory.confirmed_at is None:
                raise ValidationError(
                    f"{signatory.name} has not yet confirmed {signatory.email}: no link goes "
                    "there until they do."
                )
            if not may_receive_links(signatory):
                raise ValidationError(
                    f"{organisation} has not vouched for {signatory.email}: no link goes there "
                    "until the address is on one of its domains or belongs to someone verified "
                    "for it."
                )
        elif old.signatory is not None and may_receive_links(old.signatory):
            signatory = old.signatory
        else:
            signatory = _first_signatories([old.partner_id]).get(old.partner_id)
        email = signatory.email if signatory else organisation.confirmed_data_protection_email
        if not email:
            raise _no_address([old.partner])

        old.status = RequestStatus.VOID
        old.save(update_fields=["status"])
        now = timezone.now()
        token, token_hash = new_token()
        fresh = SignatureRequest.objects.create(
            partnership=old.partnership,
            document=old.document,
            partner=old.partner,
            signatory=signatory,
            email=email,
            token_hash=token_hash,
            sent_at=now,
            expires_at=now + timedelta(days=settings.SIGNING_LINK_VALID_DAYS),
            remind_every_days=old.remind_every_days,
            max_reminders=old.max_reminders,
            reminders_sent=old.reminders_sent,
            last_reminded_at=old.last_reminded_at,
            requested_by=by or old.requested_by,
        )
        log_action(
            old.partnership,
            "signature.reissued",
            f"Sent {organisation} a new link to sign {old.document} ({email}); "
            "the previous link no longer works",
            fresh,
            {"email": [old.email, email], "replaces": [None, f"request {old.pk}"]},
        )
        _send_request(fresh, token, replaced=True)
        return fresh


def _void(request: SignatureRequest, why: str) -> None:
    """Stop an open request's links (call it with the request locked, in a transaction)."""
    before = request.get_status_display()
    request.status = RequestStatus.VOID
    request.save(update_fields=["status"])
    log_action(
        request.partnership,
        "signature.voided",
        f"The request to {request.partner.organisation} to sign {request.document} was "
        f"closed: {why}",
        request,
        {"status": [before, request.get_status_display()], "reason": [None, why]},
    )


def close_requests(document: FrozenDocument, reason: str) -> int:
    """Void every unanswered (sent or opened) request to sign `document`, one audit entry
    each, saying `reason`; their links stop working. Returns how many were closed."""
    with _scope_of(document.partnership_id), transaction.atomic():
        requests = list(
            SignatureRequest.objects.select_for_update(of=("self",))
            .select_related("partnership", "document", "partner__organisation")
            .filter(document=document, status__in=OPEN_STATUSES)
            .order_by("pk")
        )
        for request in requests:
            _void(request, reason)
        return len(requests)


def readdress_requests(signatory: AuthorisedSignatory, *, by=None) -> list[SignatureRequest]:
    """The unanswered requests addressed to `signatory`, who has just been deactivated or given
    a new e-mail address: each is sent again with a new link, to the signatory at the new
    address if still active, else to the partner's next active signatory. Where no one can be
    asked (no active signatory left, the partner not active, the document replaced), the
    request is voided. Every old link stops working. Returns the new requests."""
    with _scope_of(signatory.partnership_id), transaction.atomic():
        signatory = AuthorisedSignatory.objects.get(pk=signatory.pk)
        requests = list(
            SignatureRequest.objects.select_for_update(of=("self",))
            .select_related("partnership", "document__partnership", "partner__organisation")
            .filter(signatory=signatory, status__in=OPEN_STATUSES)
            .order_by("pk")
        )
        fresh = []
        for request in requests:
            if may_receive_links(signatory):
                successor = signatory
            else:
                successor = _first_signatories([request.partner_id]).get(request.partner_id)
            if successor is not None:
                try:
                    fresh.append(reissue(request, by=by, signatory=successor))
                    continue
                except ValidationError:
                    pass  # the partner or the document can no longer be signed: void it
            _void(
                request,
                f"{signatory.name} no longer signs for {request.partner.organisation}"
                if not signatory.is_active
                else f"{signatory.name}'s e-mail address changed; the request is sent again "
                "once the new address is confirmed",
            )
        return fresh


def ask_again_once_confirmed(signatory: AuthorisedSignatory) -> list[SignatureRequest]:
    """The signatory has just confirmed a new address: the requests that were closed while it
    waited (sent to their old address, still within their link's life, nobody asked since) are
    sent again to whoever now signs first for the partner."""
    with _scope_of(signatory.partnership_id), transaction.atomic():
        held = (
            SignatureRequest.objects.filter(
                signatory=signatory, status=RequestStatus.VOID, expires_at__gt=timezone.now()
            )
            .exclude(email__iexact=signatory.email)
            .select_related("document", "partner", "requested_by")
            .order_by("pk")
        )
        made: list[SignatureRequest] = []
        for request in held:
            if SignatureRequest.objects.filter(
                document=request.document, partner=request.partner, status__in=LIVE_STATUSES
            ).exists():
                continue
            try:
                made += request_signatures(
                    request.document,
                    [request.partner],
                    by=request.requested_by,
                    remind_every_days=request.remind_every_days,
                    max_reminders=request.max_reminders,
                )
            except ValidationError:
                continue  # the partner left or the version was replaced meanwhile
        return made


# --- Opening a link -----------------------------------------------------------------------


def find_by_token(token: str) -> SignatureRequest | None:
    """The request a link's secret opens, from any partnership (the visitor is not signed in,
    so no scope can be known before the request is found)."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    digest = hash_token(token)
    with scopes_disabled():
        requests = SignatureRequest.objects.select_related(
            "partnership", "document__partnership", "partner__organisation", "signatory"
        )
        return (
            requests.filter(token_hash=digest).first()
            or requests.filter(reminder_links__token_hash=digest).first()
        )


def problem_with(request: SignatureRequest) -> str | None:
    """Why the request cannot be answered now, in plain words; None when it can."""
    organisation = request.partner.organisation
    if request.status == RequestStatus.VOID:
        return REPLACED
    if request.status in (RequestStatus.SIGNED, RequestStatus.DECLINED):
        verb = "signed" if request.status == RequestStatus.SIGNED else "declined to sign"
        when = f" on {uk_time(request.responded_at)}" if request.responded_at else ""
        return (
            f"This request has already been answered: {organisation} {verb} this "
            f"document{when}. There is nothing more to do."
        )
    if is_superseded(request.document):
        return SUPERSEDED
    if request.partner.status == PartnerStatus.WITHDRAWN:
        return f"{organisation} has withdrawn from the partnership, so it no longer signs."
    if request.signatory is not None and not request.signatory.is_active:
        return (
            f"This link was sent to an authorised signatory who no longer signs for "
            f"{organisation}. Ask the person who sent it for a new one."
        )
    if request.expires_at <= timezone.now():
        return (
            f"This link expired on {uk_time(request.expires_at)}. Ask the person who sent it "
            "for a new one."
        )
    return None


def mark_opened(request: SignatureRequest) -> None:
    """The first time a request is opened: SENT becomes OPENED, with the time."""
    if request.status != RequestStatus.SENT:
        return
    with _scope_of(request.partnership_id), transaction.atomic():
        now = timezone.now()
        opened = SignatureRequest.objects.filter(pk=request.pk, status=RequestStatus.SENT).update(
            status=RequestStatus.OPENED, opened_at=now
        )
        if opened:
            request.status, request.opened_at = RequestStatus.OPENED, now
            log_action(
                request.partnership,
                "signature.opened",
                f"{request.partner.organisation} opened the request to sign {request.document}",
                request,
                {"status": [RequestStatus.SENT.label, RequestStatus.OPENED.label]},
            )


def open_by_token(token: str) -> tuple[SignatureRequest | None, str | None]:
    """The request behind a link and, if it cannot be answered, why (plain English).

    Crosses partnerships to find it (see find_by_token). Returns (None, problem) for a link
    that opens nothing, (request, problem) for one that cannot be used any more, and
    (request, None) for one that can, marking it opened the first time.
    """
    request = find_by_token(token)
    if request is None:
        return None, UNKNOWN_LINK
    problem = problem_with(request)
    if problem:
        return request, problem
    mark_opened(request)
    return request, None


# --- Answering ----------------------------------------------------------------------------

ANSWERED_STATUSES = (RequestStatus.SIGNED, RequestStatus.DECLINED)


@dataclass(frozen=True)
class SigningProgress:
    """How far the signing of a document has gone, as told to the person who just answered:
    the partners asked (not withdrawn since), how many have signed and declined (each by its
    latest answer), and whether the document belongs to a record that has a PDF."""

    asked: int
    signed: int
    declined: int
    has_pdf: bool

    @property
    def complete(self) -> bool:
        return self.asked > 0 and self.signed >= self.asked


def signing_progress(document: FrozenDocument) -> SigningProgress:
    """Where the signing of `document` stands, over every document whose signatures count for
    its record (signables.Signable.documents). Runs inside its partnership's scope."""
    found = owner_of(document)
    documents = found[0].documents(found[1]) if found is not None else [document.pk]
    counts = signing_counts({document.pk: documents}).get(document.pk, {})
    return SigningProgress(
        asked=counts.get("asked", 0),
        signed=counts.get("signed", 0),
        declined=counts.get("declined", 0),
        has_pdf=found is not None,
    )


def _plain_ip(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def _check_answer(
    outcome: str, organisation, *, name: str, position: str, confirmed: bool, reason: str
) -> None:
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "Enter your full name."
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = f"Your full name must be {NAME_MAX_LENGTH} characters or fewer."
    if not position:
        errors["position"] = "Enter your position."
    elif len(position) > NAME_MAX_LENGTH:
        errors["position"] = f"Your position must be {NAME_MAX_LENGTH} characters or fewer."
    if outcome == Signature.Outcome.SIGNED and confirmed is not True:
        errors["confirmed"] = f"Confirm that you are authorised to sign for {organisation}"
    if outcome == Signature.Outcome.DECLINED:
        if not reason:
            errors["reason"] = "Enter the reason for declining."
        elif len(reason) > REASON_MAX_LENGTH:
            errors["reason"] = f"The reason must be {REASON_MAX_LENGTH} characters or fewer."
    if errors:
        raise ValidationError(errors)


def _answer(
    request: SignatureRequest,
    outcome: str,
    *,
    name: str,
    position: str,
    confirmed: bool,
    reason: str,
    ip_address: str | None,
    user_agent: str | None,
    user,
    copy_token: str | None,
) -> Signature:
    name = " ".join((name or "").split())
    position = " ".join((position or "").split())
    reason = (reason or "").strip()
    with _scope_of(request.partnership_id), transaction.atomic():
        locked = (
            SignatureRequest.objects.select_for_update(of=("self",))
            .select_related(
                "partnership", "document__partnership", "partner__organisation", "signatory"
            )
            .get(pk=request.pk)
        )
        organisation = locked.partner.organisation
        problem = problem_with(locked)
        if problem:
            raise ValidationError(problem, code="unavailable")
        if user is not None and (refusal := why_not_sign_in_app(user, locked.partner)):
            raise PermissionDenied(refusal)
        _check_answer(
            outcome, organisation, name=name, position=position, confirmed=confirmed, reason=reason
        )
        now = timezone.now()
        signature = Signature(
            partnership=locked.partnership,
            document=locked.document,
            partner=locked.partner,
            request=locked,
            outcome=outcome,
            name=name,
            position=position,
            email=user.email if user is not None else locked.email,
            reason=reason if outcome == Signature.Outcome.DECLINED else "",
            at=now,
            ip_address=_plain_ip(ip_address),
            user_agent=(user_agent or "").replace("\x00", "")[:USER_AGENT_MAX_LENGTH],
            sha256=locked.document.sha256,
            user=user,
        )
        try:
            with transaction.atomic():
                signature.save()
        except IntegrityError as exc:
            earlier = Signature.objects.filter(
                document=locked.document, partner=locked.partner
            ).first()
            verb = (
                "declined" if earlier and earlier.outcome == earlier.Outcome.DECLINED else "signed"
            )
            raise ValidationError(
                f"{organisation} has already {verb} this version.", code="answered"
            ) from exc
        before = locked.get_status_display()
        locked.status = (
            RequestStatus.SIGNED if outcome == Signature.Outcome.SIGNED else RequestStatus.DECLINED
        )
        locked.responded_at = now
        locked.save(update_fields=["status", "responded_at"])
        # One more link to the request, e-mailed with the confirmation (only its hash is kept,
        # like every link's): once a request is answered, each of its links opens the
        # confirmation again and the document's PDF as it now stands (signing_views.done, copy).
        copy_token = copy_token or new_token()[0]
        ReminderLink.objects.create(
            partnership=locked.partnership, request=locked, token_hash=hash_token(copy_token)
        )
        who = {"organisation": organisation} | ({"user": user} if user is not None else {})
        with acting(**who):
            if outcome == Signature.Outcome.SIGNED:
                summary = f"{name} ({position}) signed {locked.document} for {organisation}"
            else:
                summary = (
                    f"{name} ({position}) declined to sign {locked.document} for {organisation}"
                )
            log_action(
                locked.partnership,
                f"signature.{outcome}",
                summary,
                locked,
                {
                    "status": [before, locked.get_status_display()],
                    "name": [None, name],
                    "position": [None, position],
                    "email": [None, signature.email],
                    "sha256": [None, signature.sha256],
                    **({"reason": [None, signature.reason]} if signature.reason else {}),
                },
            )
        progress = signing_progress(locked.document)
        send_templated_email(
            "signature_confirmation",
            [signature.email],
            {
                "signature": signature,
                "partnership": locked.partnership,
                "organisation": organisation,
                "document": locked.document,
                "signed": outcome == Signature.Outcome.SIGNED,
                "progress": progress,
                "copy_link": signed_copy_link(copy_token) if progress.has_pdf else "",
            },
        )
        if outcome == Signature.Outcome.DECLINED:
            tell_lead("signature_declined", locked, {"signature": signature})
        record_answer(locked.document)
    request.status, request.responded_at = locked.status, locked.responded_at
    return signature


def why_not_sign_in_app(user, partner: Partner) -> str | None:
    """Why a signed-in person may not answer for `partner`; None when they may. They must be
    verified for its organisation and be one of its active authorised signatories by that
    same, confirmed e-mail address."""
    organisation = partner.organisation
    if not acts_for(user, organisation):
        return (
            f"You can sign for {organisation} once your link to it has been verified. "
            "See Your organisations."
        )
    if not AuthorisedSignatory.objects.filter(
        partner=partner, is_active=True, confirmed_at__isnull=False, email__iexact=user.email
    ).exists():
        return (
            f"You are not an authorised signatory of {organisation} in this partnership by your "
            f"address {user.email}, or that address has not been confirmed. Ask an "
            "administrator to add you as its authorised signatory."
        )
    return None


def sign(
    request: SignatureRequest,
    *,
    name: str,
    position: str,
    confirmed: bool,
    ip_address: str | None,
    user_agent: str | None,
    user=None,
    copy_token: str | None = None,
) -> Signature:
    """Record that the partner signs the request's document. ValidationError by field
    (name, position, confirmed) or, when the request cannot be answered, without a field.

    `copy_token` (a fresh secret from tokens.new_token) becomes a further link to the request,
    e-mailed with the confirmation for the signer to open it again and download the PDF; one
    is made when not given."""
    return _answer(
        request,
        Signature.Outcome.SIGNED,
        name=name,
        position=position,
        confirmed=confirmed,
        reason="",
        ip_address=ip_address,
        user_agent=user_agent,
        user=user,
        copy_token=copy_token,
    )


def decline(
    request: SignatureRequest,
    *,
    name: str,
    position: str,
    reason: str,
    ip_address: str | None,
    user_agent: str | None,
    user=None,
    copy_token: str | None = None,
) -> Signature:
    """Record that the partner declines to sign, with its reason (see sign). The people who
    lead the document are told, with the reason (signables.lead_emails)."""
    return _answer(
        request,
        Signature.Outcome.DECLINED,
        name=name,
        position=position,
        confirmed=False,
        reason=reason,
        ip_address=ip_address,
        user_agent=user_agent,
        user=user,
        copy_token=copy_token,
    )


# --- Reminders ----------------------------------------------------------------------------


def remind_when_due(request: SignatureRequest) -> bool:
    """Send the request's next reminder (its clock says it is due: see signatories.clocks).
    The count moves by a conditional UPDATE, so two sweeps at once send each reminder once;
    each reminder carries a new link, and earlier ones still work."""
    with _scope_of(request.partnership_id), transaction.atomic():
        sent = _remind(request.pk, request.reminders_sent, timezone.now())
        if sent:
            request.refresh_from_db(fields=["reminders_sent", "last_reminded_at"])
            clocks.recompute(REMINDER_CLOCK, request)
        return sent


def remind_now(request: SignatureRequest) -> bool:
    """Send the request's next reminder at once, due or not (the sweep sends them when due).

    False when none can be sent: the request is answered, replaced or expired, its document
    superseded, or every reminder allowed has been sent.
    """
    with _scope_of(request.partnership_id), transaction.atomic():
        count = (
            SignatureRequest.objects.filter(
                pk=request.pk, status__in=OPEN_STATUSES, reminders_sent__lt=F("max_reminders")
            )
            .values_list("reminders_sent", flat=True)
            .first()
        )
        if count is None or not _remind(request.pk, count, timezone.now()):
            return False
        request.refresh_from_db(fields=["reminders_sent", "last_reminded_at"])
        clocks.recompute(REMINDER_CLOCK, request)
    return True


def _remind(pk: int, count: int, now: datetime) -> bool:
    request = (
        SignatureRequest.objects.select_related(
            "partnership", "document__partnership", "partner__organisation", "signatory"
        )
        .filter(pk=pk)
        .first()
    )
    if request is None or problem_with(request):
        return False
    moved = SignatureRequest.objects.filter(
        pk=pk, status__in=OPEN_STATUSES, reminders_sent=count
    ).update(reminders_sent=count + 1, last_reminded_at=now)
    if not moved:
        return False  # reminded by another sweep meanwhile, or answered
    token, token_hash = new_token()
    ReminderLink.objects.create(
        partnership=request.partnership, request=request, token_hash=token_hash
    )
    organisation = request.partner.organisation
    log_action(
        request.partnership,
        "signature.reminded",
        f"Reminded {organisation} to sign {request.document} "
        f"(reminder {count + 1} of {request.max_reminders})",
        request,
        {"reminders_sent": [count, count + 1]},
    )
    send_templated_email(
        "signature_reminder",
        [request.email],
        {
            "request": request,
            "partnership": request.partnership,
            "organisation": organisation,
            "document": request.document,
            "signatory": request.signatory,
            "link": signing_link(token),
            "expires_at": request.expires_at,
            "number": count + 1,
        },
    )
    if count + 1 >= request.max_reminders:
        # The last reminder allowed has gone and still no answer: the lead takes over (once,
        # as the count moves past here once).
        request.reminders_sent, request.last_reminded_at = count + 1, now
        tell_lead("signature_reminders_exhausted", request)
    return True


# --- Signing tasks of an organisation -----------------------------------------------------


def open_requests_for(organisation) -> list[SignatureRequest]:
    """The unanswered requests of the current partnership's partner for `organisation`, newest
    first (one query). Those of a superseded version are listed too: opening one says so."""
    return list(
        SignatureRequest.objects.filter(
            partner__organisation=organisation, status__in=OPEN_STATUSES
        )
        .select_related("document", "partner__organisation")
        .order_by("-sent_at", "-pk")
    )


def open_request_count(organisation) -> int:
    """How many unanswered, unexpired requests await `organisation` (one query)."""
    return SignatureRequest.objects.filter(
        partner__organisation=organisation,
        status__in=OPEN_STATUSES,
        expires_at__gt=timezone.now(),
    ).count()
