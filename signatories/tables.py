"""A document's signatories table: where each partner's signature stands, every answer it
gave (with the version it was given on) and the sentence that sums the figures up."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from documents.models import FrozenDocument

from .models import (
    LIVE_STATUSES,
    Partner,
    PartnerStatus,
    RequestStatus,
    Signature,
    SignatureRequest,
)
from .signing import OPEN_STATUSES, _scope_of

WITHDRAWN = "Withdrawn"
# An unanswered request whose link has run out: nobody can answer it until sent a new link.
LINK_EXPIRED = "Link expired"


@dataclass(frozen=True)
class SigningRow:
    partner: Partner
    # "Not asked", "Sent", "Opened", "Link expired" (unanswered, send a new link), "Signed",
    # "Declined" or "Withdrawn" (the partner has left: it counts in no figure, whatever it
    # answered).
    status: str
    sent_at: datetime | None
    opened_at: datetime | None
    answered_at: datetime | None  # when the answer that counts was given (Signature.at)
    signer_name: str
    signer_position: str
    reminders_sent: int
    request: SignatureRequest | None  # the latest live request over the documents
    signature: Signature | None  # the answer that counts: the partner's latest
    # Every answer the partner gave over the documents, earliest first; each one's
    # `document.version_label` is the version it was given on.
    answers: tuple[Signature, ...] = ()

    @property
    def awaiting(self) -> bool:
        """Asked, and not answered since: a link is out (the first, or after a decline)."""
        return (
            self.request is not None
            and self.request.status in OPEN_STATUSES
            and (self.signature is None or self.request.sent_at > self.signature.at)
        )

    @property
    def expired(self) -> bool:
        """Asked, not answered, and the link has run out: send a new one."""
        return (
            self.request is not None
            and self.request.status in OPEN_STATUSES
            and self.request.expires_at <= timezone.now()
        )


STATUS_LABELS = {
    RequestStatus.SENT: "Sent",
    RequestStatus.OPENED: "Opened",
    RequestStatus.SIGNED: "Signed",
    RequestStatus.DECLINED: "Declined",
}


def _documents(documents: FrozenDocument | Sequence[FrozenDocument]) -> list[FrozenDocument]:
    if isinstance(documents, FrozenDocument):
        return [documents]
    return [d for d in documents if d is not None]


def _status(partner: Partner, request, latest: Signature | None) -> str:
    if partner.status == PartnerStatus.WITHDRAWN:
        return WITHDRAWN
    asked_since = request is not None and (latest is None or request.sent_at > latest.at)
    if asked_since and request.status in OPEN_STATUSES:
        if request.expires_at <= timezone.now():
            return LINK_EXPIRED
        return STATUS_LABELS[request.status]
    if latest is not None:
        return latest.get_outcome_display()
    return STATUS_LABELS[request.status] if request is not None else "Not asked"


def signing_table(
    documents: FrozenDocument | Sequence[FrozenDocument], partners: Iterable[Partner]
) -> list[SigningRow]:
    """One row a partner, in the order given: where its signature stands over `documents`
    (a document, or those whose signatures count together, such as the version an issued
    minor version carries, then its own).

    The partner's latest answer decides its status; every answer is kept in `answers`, so a
    partner asked again after declining shows both. Runs one query (two when `partners` is a
    queryset, which gets its organisations joined) whatever the number of partners.
    """
    documents = _documents(documents)
    if isinstance(partners, QuerySet):
        partners = partners.select_related("organisation")
    partners = list(partners)
    by_id = {d.pk: d for d in documents}
    requests: dict[int, SignatureRequest] = {}
    answers: dict[int, list[Signature]] = {}
    if documents and partners:
        with _scope_of(documents[0].partnership_id):
            # The live requests, and the replaced ones that were answered (a decline before
            # the partner was asked again), each with its answer: one query.
            found = list(
                SignatureRequest.objects.filter(
                    Q(status__in=LIVE_STATUSES) | Q(signature__isnull=False),
                    document__in=list(by_id),
                    partner__in=[p.pk for p in partners],
                )
                .select_related("signature")
                .order_by("sent_at", "pk")
            )
        given: list[Signature] = []
        for request in found:
            if request.status in LIVE_STATUSES:
                requests[request.partner_id] = request  # the latest live one wins
            signature = getattr(request, "signature", None)
            if signature is not None:
                signature.document = by_id[signature.document_id]
                given.append(signature)
        for signature in sorted(given, key=lambda s: (s.at, s.pk)):
            answers.setdefault(signature.partner_id, []).append(signature)
    rows = []
    for partner in partners:
        request = requests.get(partner.pk)
        given = tuple(answers.get(partner.pk, ()))
        latest = given[-1] if given else None
        rows.append(
            SigningRow(
                partner=partner,
                status=_status(partner, request, latest),
                sent_at=request.sent_at if request else None,
                opened_at=request.opened_at if request else None,
                answered_at=latest.at if latest else None,
                signer_name=latest.name if latest else "",
                signer_position=latest.position if latest else "",
                reminders_sent=request.reminders_sent if request else 0,
                request=request,
                signature=latest,
                answers=given,
            )
        )
    return rows


def signatures_for(documents: FrozenDocument | Sequence[FrozenDocument]) -> list[Signature]:
    """Every answer recorded for the documents (signed and declined), earliest first; each
    one's `document` is the one given, for the version it was given on."""
    documents = _documents(documents)
    if not documents:
        return []
    by_id = {d.pk: d for d in documents}
    with _scope_of(documents[0].partnership_id):
        found = list(
            Signature.objects.filter(document__in=list(by_id))
            .select_related("partner__organisation")
            .order_by("at", "pk")
        )
    for signature in found:
        signature.document = by_id[signature.document_id]
    return found


def signing_summary(counts: Mapping[str, int] | None, *, declines: bool = True) -> str:
    """The figures of `signing_counts` in words, the same on every page and in the PDF:
    "31 of 34 partners asked have signed; 1 declined." (`declines`: say how many declined)."""
    counts = counts or {}
    asked, signed, declined = (counts.get(k, 0) for k in ("asked", "signed", "declined"))
    partners = "partner" if asked == 1 else "partners"
    have = "has" if signed == 1 else "have"
    text = f"{signed} of {asked} {partners} asked {have} signed"
    if declines and declined:
        text += f"; {declined} declined"
    return text + "."
