"""One signing lifecycle for every kind of document partners sign.

Each kind (protocol versions, agreements) registers a `Signable`: how to find the record a
frozen document belongs to, whether it is still to be signed, which documents' signatures
count for it, who must sign, what happens once they have, its page, its PDFs and who leads
it. Everything else about signing is written once, here and in `signing`: who has been asked,
who has answered, whether it is complete, the one task that re-renders its PDF.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Model, QuerySet
from django_scopes import scope

from accord.kernel.queueing import queue_on_commit
from documents.models import FrozenDocument, RenderedPdf
from documents.pdf import renders_queued
from tenancy.models import Membership, Partnership
from tenancy.roles import Perm
from tenancy.tasks import partnership_task

from .affiliations import acts_for
from .models import Partner, PartnerStatus, RequestStatus, Signature, SignatureRequest

SUPERSEDED = "This version has been replaced by a newer one; you do not need to sign it."


@dataclass(frozen=True)
class Signable:
    """What signing needs to know about one kind of document.

    Every callable receives the owning record (a protocol version, an agreement) and runs
    inside its partnership's scope.
    """

    kind: str  # FrozenDocument.Kind
    # The record the frozen document belongs to (locked for update when `lock`), or None.
    owner_of: Callable[[FrozenDocument, bool], Model | None]
    # The record with this id (for tasks, which take ids), or None.
    get: Callable[[int], Model | None]
    # Whether its document may still be signed (False once replaced or ended). Called with
    # None for a document of the kind that no record owns (an agreement gone back to draft).
    open_for_signing: Callable[[Model | None], bool]
    # After each answer, the record locked: complete it if everyone has signed.
    answered: Callable[[Model], None]
    # The stored PDFs for its current signing state (rendered when missing).
    render: Callable[[Model], list[RenderedPdf]]
    # The partner that leads it, told of declines, exhausted reminders and expired links.
    lead: Callable[[Model], Partner]
    # Its page in the partnership, as a full address.
    page_link: Callable[[Model], str]
    # The frozen documents whose signatures count for it (its own last).
    documents: Callable[[Model], list[int]] = field(default=lambda owner: [owner.document_id])


_KINDS: dict[str, Signable] = {}


def register(signable: Signable) -> Signable:
    _KINDS[signable.kind] = signable
    return signable


def signable_for(kind: str) -> Signable | None:
    return _KINDS.get(kind)


def owner_of(document: FrozenDocument, *, lock: bool = False) -> tuple[Signable, Model] | None:
    """The registered kind and the record a frozen document belongs to (inside its scope)."""
    signable = _KINDS.get(document.kind)
    if signable is None:
        return None
    owner = signable.owner_of(document, lock)
    return None if owner is None else (signable, owner)


def is_superseded(document: FrozenDocument) -> bool:
    """Whether nobody should sign the document any more: its record was replaced, ended or
    went back to draft. Links to it stop working and no reminders are sent for it."""
    signable = _KINDS.get(document.kind)
    if signable is None:
        return False
    with scope(partnership=document.partnership_id):
        return not signable.open_for_signing(signable.owner_of(document, False))


def record_answer(document: FrozenDocument) -> Model | None:
    """A partner signed or declined `document`: the record it belongs to completes once
    everyone has signed, and its PDF is re-rendered. Raises ValidationError, undoing the
    answer, when the record stopped collecting signatures after the signing page checked."""
    found = owner_of(document, lock=True)
    if found is None:
        return None
    signable, owner = found
    if not signable.open_for_signing(owner):
        raise ValidationError(SUPERSEDED, code="unavailable")
    signable.answered(owner)
    queue_pdf(signable.kind, owner)
    return owner


def lead_emails(document: FrozenDocument, *, requested_by=None) -> list[str]:
    """Who is told when signing `document` stalls (a partner declines, its last reminder goes
    unanswered, its link expires): the people who lead it. Runs inside its partnership's scope.

    They are the members of the partnership acting for the lead organisation of the record the
    document belongs to (`Signable.lead`) who may draft documents and are verified for that
    organisation, plus `requested_by` (the person who sent the request) if given; when that
    finds nobody, the partnership's administrators. Active accounts only; each address once,
    lower-cased, sorted.
    """
    found = owner_of(document)
    addresses: set[str] = set()
    if found is not None:
        signable, owner = found
        organisation = signable.lead(owner).organisation
        members = Membership.objects.filter(
            organisation=organisation, user__is_active=True
        ).select_related("user")
        addresses |= {
            m.user.email
            for m in members
            if m.can(Perm.DRAFT_DOCUMENTS) and acts_for(m.user, organisation)
        }
    if requested_by is not None and requested_by.is_active:
        addresses.add(requested_by.email)
    if not addresses:
        addresses |= set(
            Membership.objects.filter(is_administrator=True, user__is_active=True).values_list(
                "user__email", flat=True
            )
        )
    return sorted({a.strip().lower() for a in addresses if a and a.strip()})


# --- Who has been asked, who has answered --------------------------------------------------


def partners_asked(documents: Iterable[int | None]) -> QuerySet[Partner]:
    """The partners asked to sign any of the documents (ids)."""
    ids = [d for d in documents if d]
    asked = SignatureRequest.objects.filter(document_id__in=ids).exclude(status=RequestStatus.VOID)
    return Partner.objects.filter(pk__in=asked.values("partner")).select_related("organisation")


def current_answers(documents: Iterable[int | None]) -> dict[int, Signature]:
    """Each partner's latest answer over the documents: {partner id: Signature}. A partner
    asked again after declining has both answers stored; the later one counts."""
    ids = [d for d in documents if d]
    latest: dict[int, Signature] = {}
    for signature in Signature.objects.filter(document_id__in=ids).order_by("at", "pk"):
        latest[signature.partner_id] = signature
    return latest


def signed_partners(documents: Iterable[int | None]) -> set[int]:
    return {
        partner
        for partner, answer in current_answers(documents).items()
        if answer.outcome == Signature.Outcome.SIGNED
    }


def everyone_signed(
    documents: Iterable[int | None], must_sign: Iterable[int] | None = None
) -> bool:
    """Every partner who must sign has signed one of the documents. `must_sign` defaults to
    every partner asked that has not withdrawn since."""
    documents = list(documents)
    if not any(documents):
        return False
    if must_sign is None:
        must_sign = (
            partners_asked(documents)
            .exclude(status=PartnerStatus.WITHDRAWN)
            .values_list("pk", flat=True)
        )
    required = set(must_sign)
    return bool(required) and required <= signed_partners(documents)


def signing_counts(documents_of: dict[Any, list[int]]) -> dict[Any, dict[str, int]]:
    """{key: {"asked", "signed", "declined"}} for each key's documents, in two queries
    whatever their number. A partner counts once, by its latest answer; partners that have
    withdrawn count in none of them."""
    every = {d for ids in documents_of.values() for d in ids if d}
    if not every:
        return {}
    asked_rows = (
        SignatureRequest.objects.filter(document_id__in=every)
        .exclude(status=RequestStatus.VOID)
        .order_by()
        .values_list("document_id", "partner_id", "partner__status")
        .annotate(n=Count("id"))
    )
    asked: dict[int, dict[int, str]] = {}
    for document, partner, status, _n in asked_rows:
        asked.setdefault(document, {})[partner] = status
    answers: dict[int, list[tuple[Any, int, str]]] = {}
    for document, partner, outcome, at, pk in (
        Signature.objects.filter(document_id__in=every)
        .order_by("at", "pk")
        .values_list("document_id", "partner_id", "outcome", "at", "pk")
    ):
        answers.setdefault(document, []).append((at, pk, partner, outcome))
    counts = {}
    for key, ids in documents_of.items():
        partners: dict[int, str] = {}
        for d in ids:
            partners.update(asked.get(d, {}))
        latest: dict[int, str] = {}
        for _at, _pk, partner, outcome in sorted(a for d in ids for a in answers.get(d, [])):
            latest[partner] = outcome
        staying = {p for p, status in partners.items() if status != PartnerStatus.WITHDRAWN}
        counts[key] = {
            "asked": len(staying),
            "signed": sum(1 for p in staying if latest.get(p) == Signature.Outcome.SIGNED),
            "declined": sum(1 for p in staying if latest.get(p) == Signature.Outcome.DECLINED),
        }
    return counts


# --- PDFs ------------------------------------------------------------------------------------


def queue_pdf(kind: str, owner: Model) -> None:
    """Have the record's PDFs rendered for its new signing state, once the change commits."""
    if getattr(owner, "document_id", None) is not None and renders_queued():
        queue_on_commit(render_pdf, owner.partnership_id, kind, owner.pk)


@partnership_task(name="signatories.render_pdf")
def render_pdf(partnership: Partnership, kind: str, owner_id: int) -> list[str]:
    """Render (or find) the PDFs of a signable record's current state; their SHA-256s."""
    signable = _KINDS[kind]
    owner = signable.get(owner_id)
    if owner is None or getattr(owner, "document_id", None) is None:
        return []
    return [pdf.sha256 for pdf in signable.render(owner)]
