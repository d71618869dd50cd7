"""Monitoring the protocol (seeds 001 and 003): each partner confirms once a year, through
an e-mailed link its signatories and data protection address receive (no account needed),
that the protocol's procedures are in place; complaints about disclosures are counted per
partner per year.

Partners are asked on each protocol's adoption anniversary (the clock in
`reviews.monitoring_clocks`), or when the steering group asks from the monitoring page. A
year's confirmations are those whose `year` is that calendar year. Expected to confirm: the
partnership's active partners, and any partner that confirmed for that year before leaving.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.urls import reverse
from django.utils import timezone

from accord.kernel import clocks
from accord.kernel.context import acting, service
from accord.kernel.mail import send_templated_email_each
from protocols.models import Protocol, ProtocolVersion, VersionStatus
from protocols.services import add_months, in_force_version
from signatories.models import Partner, PartnerStatus
from signatories.services import partner_addresses
from signatories.tokens import TOKEN_MAX_LENGTH, hash_token, new_token
from tenancy.audit import log_action
from tenancy.lifecycle import require
from tenancy.models import Membership, Partnership
from tenancy.roles import Perm

from .models import Complaint, Confirmation

# The clock that asks every partner once a year, on the protocol's adoption anniversary.
CONFIRMATION_REQUEST = "reviews.confirmation_request"
# A partner asked but not confirmed is asked again (a new link) no sooner than this.
ASK_AGAIN_AFTER = timedelta(days=7)
COMPLAINT_YEARS = 5


def may_manage(membership: Membership | None) -> bool:
    return membership is not None and membership.can(Perm.MANAGE_REVIEWS)


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


# --- Asking partners --------------------------------------------------------------------------


@dataclass(frozen=True)
class Asked:
    """What one request did: partners asked for the first time this year, asked again with a
    new link, left alone (asked within ASK_AGAIN_AFTER), and asked with no address to send to."""

    first: int = 0
    again: int = 0
    recent: int = 0
    without_contacts: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        return self.first + self.again


def _partners_lacking(protocol: Protocol, year: int) -> QuerySet[Partner]:
    """Active partners of the protocol's partnership with no confirmation for the year (the
    partnership named, so that it also holds outside a scope)."""
    confirmed = Confirmation.objects.filter(
        partnership_id=protocol.partnership_id,
        protocol_id=protocol.pk,
        year=year,
        confirmed_at__isnull=False,
    ).values("partner_id")
    return Partner.objects.filter(
        partnership_id=protocol.partnership_id, status=PartnerStatus.ACTIVE
    ).exclude(pk__in=confirmed)


def _require_askable(protocol: Protocol, year: int) -> None:
    if protocol.retired_at is not None or in_force_version(protocol) is None:
        raise ValidationError(f"{protocol.title} is not in force: there is nothing to confirm.")
    if year > timezone.localdate().year:
        raise ValidationError(f"Partners cannot confirm for {year} before it begins.")
    if protocol.date_in_force is not None and year < protocol.date_in_force.year:
        raise ValidationError(
            f"{protocol.title} came into force in {protocol.date_in_force.year}: partners "
            f"cannot confirm it for {year}."
        )


@service
def request_confirmations(protocol: Protocol, year: int, *, by=None) -> Asked:
    """Ask every active partner lacking a confirmation of the protocol for `year`: a link
    e-mailed to its confirmed signatories and data protection address. A partner asked
    before and not yet confirmed gets a new link (the old one stops), unless it was asked in
    the last ASK_AGAIN_AFTER. `by=None` is Accord's own yearly request."""
    require(by, protocol.partnership_id, may_manage)
    protocol = (
        Protocol.objects.select_for_update(of=("self",))
        .select_related("partnership", "lead__organisation")
        .get(pk=protocol.pk)
    )
    _require_askable(protocol, year)
    partners = list(_partners_lacking(protocol, year).select_related("organisation"))
    existing = {
        c.partner_id: c
        for c in Confirmation.objects.select_for_update().filter(
            partnership_id=protocol.partnership_id,
            protocol_id=protocol.pk,
            year=year,
            partner_id__in=[p.pk for p in partners],
        )
    }
    addresses = partner_addresses([p.pk for p in partners])
    version = in_force_version(protocol)
    now = timezone.now()
    first = again = recent = 0
    without: list[str] = []
    for partner in sorted(partners, key=lambda p: p.organisation.name.casefold()):
        earlier = existing.get(partner.pk)
        if earlier is not None and now - earlier.sent_at < ASK_AGAIN_AFTER:
            recent += 1
            continue
        recipients = addresses.get(partner.pk, [])
        token, token_hash = new_token()
        if earlier is None:
            try:
                with transaction.atomic():
                    Confirmation.objects.create(
                        partnership_id=protocol.partnership_id,
                        protocol=protocol,
                        partner=partner,
                        year=year,
                        token_hash=token_hash,
                        sent_to=recipients,
                        sent_at=now,
                    )
            except IntegrityError:  # asked meanwhile by a concurrent request
                recent += 1
                continue
            first += 1
        else:
            Confirmation.objects.filter(pk=earlier.pk).update(
                token_hash=token_hash, sent_to=recipients, sent_at=now
            )
            again += 1
        if not recipients:
            without.append(partner.organisation.name)
        send_templated_email_each(
            "review_confirmation_request",
            recipients,
            {
                "partnership": protocol.partnership,
                "organisation": partner.organisation,
                "protocol": protocol,
                "version": version.number if version is not None else "",
                "year": year,
                "replaced": earlier is not None,
                "link": settings.SITE_URL + reverse("review_confirmation", args=[token]),
            },
        )
    asked = Asked(first, again, recent, tuple(without))
    if asked.total:
        log_action(
            protocol.partnership,
            "review.confirmations_requested",
            f"Asked {partners_text(asked.total)} to confirm that the procedures of "
            f"{protocol.title} are in place for {year}"
            + (f" ({asked.again} again, with a new link)" if asked.again else ""),
            protocol,
        )
    clocks.recompute(CONFIRMATION_REQUEST, protocol)
    return asked


def partners_text(count: int) -> str:
    return f"{count} partner{'' if count == 1 else 's'}"


# --- The yearly request, on the adoption anniversary -------------------------------------------


def anniversary(protocol: Protocol, year: int) -> date:
    """The protocol's adoption date in `year` (29 February falls on 28 February)."""
    adopted = protocol.date_in_force
    return add_months(adopted, 12 * (year - adopted.year))


def _request_day(adopted: date, today: date, unasked: Callable[[], bool]) -> date:
    """This year's anniversary while it is ahead, or passed with a partner `unasked` for
    this year; else next year's. (No request in the year of adoption itself.)"""
    if adopted.year >= today.year:
        return add_months(adopted, 12)  # the first anniversary
    this_year = add_months(adopted, 12 * (today.year - adopted.year))
    if this_year > today or (today.year > adopted.year and unasked()):
        return this_year
    return add_months(adopted, 12 * (today.year + 1 - adopted.year))


def _yearly_request_due_on(protocol: Protocol, today: date) -> date | None:
    if protocol.date_in_force is None or protocol.retired_at is not None:
        return None
    if in_force_version(protocol) is None:
        return None

    def unasked() -> bool:
        asked = Confirmation.objects.filter(
            partnership_id=protocol.partnership_id, protocol_id=protocol.pk, year=today.year
        ).values("partner_id")
        return (
            Partner.objects.filter(
                partnership_id=protocol.partnership_id, status=PartnerStatus.ACTIVE
            )
            .exclude(pk__in=asked)
            .exists()
        )

    return _request_day(protocol.date_in_force, today, unasked)


def yearly_request_due(protocol: Protocol) -> datetime | None:
    """When the yearly request is next due: this year's adoption anniversary while an active
    partner has not been asked for this year, else next year's. None when not in force."""
    day = _yearly_request_due_on(protocol, timezone.localdate())
    return clocks.start_of_day(day) if day is not None else None


def protocols_awaiting_requests() -> QuerySet[Protocol]:
    """Every protocol that may need a yearly request (all partnerships: the clock's candidates)."""
    return Protocol.objects.filter(date_in_force__isnull=False, retired_at__isnull=True)


# --- Confirming through the link ---------------------------------------------------------------


def confirmation_for_token(token: str) -> Confirmation | None:
    """The confirmation a link's secret opens, from any partnership (call it with scopes
    disabled: the visitor is not signed in, so no scope is known before it is found)."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return (
        Confirmation.objects.select_related(
            "partnership", "protocol__lead__organisation", "partner__organisation"
        )
        .filter(token_hash=hash_token(token))
        .first()
    )


def confirmation_refusal(confirmation: Confirmation) -> str:
    """Why this link can no longer confirm, or "" when it can."""
    if confirmation.confirmed_at is not None:
        return ""
    protocol = confirmation.protocol
    if protocol.retired_at is not None or in_force_version(protocol) is None:
        return f"{protocol.title} is no longer in force: there is nothing to confirm."
    if confirmation.partner.status != PartnerStatus.ACTIVE:
        return (
            f"{confirmation.partner.organisation} is no longer an active partner of "
            f"{confirmation.partnership.name}, so it is not asked to confirm."
        )
    return ""


@transaction.atomic
def confirm(confirmation: Confirmation, *, name: str, role: str, note: str = "") -> Confirmation:
    """The partner's signatory or lead member confirms through the link that the protocol's
    procedures are in place for the year: once (a second attempt is refused, saying when it
    was given), recorded in the audit trail for the partner's organisation."""
    confirmation = (
        Confirmation.objects.select_for_update(of=("self",))
        .select_related("partnership", "protocol", "partner__organisation")
        .get(pk=confirmation.pk)
    )
    if confirmation.confirmed_at is not None:
        raise PermissionDenied(already_confirmed(confirmation))
    refusal = confirmation_refusal(confirmation)
    if refusal:
        raise PermissionDenied(refusal)
    name, role, note = (name or "").strip(), (role or "").strip(), (note or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Enter your name."]
    if not role:
        errors["role"] = ["Enter your role, such as Chief Executive or Data Protection Officer."]
    if errors:
        raise ValidationError(errors)
    confirmation.confirmed_at = timezone.now()
    confirmation.confirmed_by_name, confirmation.confirmed_by_role = name[:200], role[:200]
    confirmation.note = note
    confirmation.save(
        update_fields=["confirmed_at", "confirmed_by_name", "confirmed_by_role", "note"]
    )
    organisation = confirmation.partner.organisation
    with acting(organisation=organisation):
        log_action(
            confirmation.partnership,
            "review.confirmed",
            f"{name} ({role}) confirmed for {organisation}, through the e-mailed link, that the "
            f"procedures of {confirmation.protocol.title} are in place for {confirmation.year}",
            confirmation.protocol,
        )
    return confirmation


def already_confirmed(confirmation: Confirmation) -> str:
    at = timezone.localtime(confirmation.confirmed_at)
    return (
        f"{confirmation.partner.organisation} has already confirmed this for "
        f"{confirmation.year}: {confirmation.confirmed_by_name} ({confirmation.confirmed_by_role})"
        f" on {at.day} {at:%B %Y}."
    )


# --- Who has confirmed ---------------------------------------------------------------------


def protocols_in_force(year: int) -> QuerySet[Protocol]:
    """The partnership's protocols in force in `year`: this year, those in force now; a past
    year, those adopted by its end and not retired before it began."""
    start, end = year_bounds(year)
    signed = ProtocolVersion.objects.filter(protocol=OuterRef("pk"), status=VersionStatus.SIGNED)
    in_force_now = Q(retired_at__isnull=True, has_signed=True)
    if year < timezone.localdate().year:
        in_force_now |= Q(retired_at__date__gte=start)
    return Protocol.objects.alias(has_signed=Exists(signed)).filter(
        in_force_now, date_in_force__isnull=False, date_in_force__lte=end
    )


@dataclass(frozen=True)
class ProtocolCount:
    protocol: Protocol
    received: int
    missing: int


@dataclass(frozen=True)
class ConfirmationStatus:
    year: int
    protocols: tuple[ProtocolCount, ...]

    @property
    def received(self) -> int:
        return sum(p.received for p in self.protocols)

    @property
    def missing(self) -> int:
        return sum(p.missing for p in self.protocols)


def _count(queryset: QuerySet, by: str) -> Coalesce:
    counted = queryset.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def confirmation_status(year: int | None = None) -> ConfirmationStatus:
    """For each protocol in force, how many partners confirmed for the year (default: this
    year) and how many active partners have not: one query. Call it inside the partnership's
    scope."""
    year = year or timezone.localdate().year
    confirmed = Confirmation.objects.filter(
        protocol=OuterRef("pk"), year=year, confirmed_at__isnull=False
    )
    confirmed_active = confirmed.filter(partner__status=PartnerStatus.ACTIVE)
    active = Partner.objects.filter(
        partnership_id=OuterRef("partnership_id"), status=PartnerStatus.ACTIVE
    )
    rows = (
        protocols_in_force(year)
        .annotate(
            received=_count(confirmed, "protocol"),
            active_confirmed=_count(confirmed_active, "protocol"),
            active=_count(active, "partnership"),
        )
        .order_by("title", "pk")
    )
    return ConfirmationStatus(
        year,
        tuple(ProtocolCount(p, p.received, p.active - p.active_confirmed) for p in rows),
    )


@dataclass(frozen=True)
class PartnerConfirmation:
    """One partner's answer for one protocol and year."""

    partner: Partner
    confirmation: Confirmation | None

    @property
    def confirmed(self) -> bool:
        return self.confirmation is not None and self.confirmation.confirmed_at is not None

    @property
    def asked(self) -> bool:
        return self.confirmation is not None

    @property
    def without_contacts(self) -> bool:
        return self.confirmation is not None and not self.confirmation.sent_to


@dataclass(frozen=True)
class ProtocolConfirmations:
    protocol: Protocol
    received: tuple[PartnerConfirmation, ...]
    missing: tuple[PartnerConfirmation, ...]
    next_request_on: date | None = None


@dataclass(frozen=True)
class ConfirmationDetail:
    year: int
    protocols: tuple[ProtocolConfirmations, ...] = field(default_factory=tuple)

    @property
    def received(self) -> int:
        return sum(len(p.received) for p in self.protocols)

    @property
    def missing(self) -> int:
        return sum(len(p.missing) for p in self.protocols)


def confirmation_detail(year: int, *, with_next_request: bool = False) -> ConfirmationDetail:
    """Who confirmed each protocol in force for the year, and who has not (three queries: the
    protocols, the active partners, the year's confirmations). `with_next_request` (this
    year only) adds when Accord next asks the partners of each protocol still in force."""
    today = timezone.localdate()
    protocols = list(protocols_in_force(year).select_related("lead__organisation"))
    active = list(
        Partner.objects.filter(status=PartnerStatus.ACTIVE).select_related("organisation")
    )
    found = list(
        Confirmation.objects.filter(protocol__in=protocols, year=year).select_related(
            "partner__organisation"
        )
    )
    by_key = {(c.protocol_id, c.partner_id): c for c in found}
    made = []
    for protocol in protocols:
        partners = {p.pk: p for p in active}
        for c in found:
            if c.protocol_id == protocol.pk and c.confirmed_at is not None:
                partners.setdefault(c.partner_id, c.partner)
        rows = sorted(
            (PartnerConfirmation(p, by_key.get((protocol.pk, p.pk))) for p in partners.values()),
            key=lambda r: r.partner.organisation.name.casefold(),
        )
        next_on = None
        if with_next_request and year == today.year and protocol.retired_at is None:
            next_on = _request_day(
                protocol.date_in_force,
                today,
                lambda pk=protocol.pk: any((pk, p.pk) not in by_key for p in active),
            )
        made.append(
            ProtocolConfirmations(
                protocol,
                tuple(r for r in rows if r.confirmed),
                tuple(r for r in rows if not r.confirmed),
                next_on,
            )
        )
    return ConfirmationDetail(year, tuple(made))


# --- Complaints about disclosure -------------------------------------------------------------


@service
def record_complaint(
    partnership: Partnership,
    partner: Partner | None,
    received_on: date | None,
    summary: str,
    *,
    by,
) -> Complaint:
    """Record a complaint about a disclosure by one partner, received on a day not in the
    future."""
    require(by, partnership.pk, may_manage)
    summary = (summary or "").strip()
    errors: dict[str, list[str]] = {}
    if (
        partner is None
        or partner.partnership_id != partnership.pk
        or partner.status == PartnerStatus.INVITED
    ):
        errors["partner"] = ["Choose the partner the complaint is about."]
    if received_on is None:
        errors["received_on"] = ["Enter the date the complaint was received."]
    elif received_on > timezone.localdate():
        errors["received_on"] = ["The date the complaint was received cannot be in the future."]
    if not summary:
        errors["summary"] = ["Describe the complaint: what was disclosed, and the concern."]
    if errors:
        raise ValidationError(errors)
    complaint = Complaint.objects.create(
        partnership=partnership,
        partner=partner,
        received_on=received_on,
        summary=summary,
        recorded_by=by,
    )
    log_action(
        partnership,
        "review.complaint_recorded",
        f"Recorded a complaint about a disclosure by {partner.organisation}, received on "
        f"{received_on:%d/%m/%Y}",
        complaint,
    )
    return complaint


def complaint_counts(year: int) -> dict[int, int]:
    """{partner id: complaints received in `year`} (one query; partners with none left out)."""
    start, end = year_bounds(year)
    rows = (
        Complaint.objects.filter(received_on__range=(start, end))
        .order_by()
        .values("partner_id")
        .annotate(n=Count("pk"))
    )
    return {r["partner_id"]: r["n"] for r in rows}


@dataclass(frozen=True)
class ComplaintRow:
    partner: str
    counts: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class ComplaintTable:
    years: tuple[int, ...]
    rows: tuple[ComplaintRow, ...]

    @property
    def totals(self) -> tuple[int, ...]:
        return tuple(sum(r.counts[i] for r in self.rows) for i in range(len(self.years)))


def complaint_table(last_year: int | None = None, years: int = COMPLAINT_YEARS) -> ComplaintTable:
    """Complaints per partner per year, for the `years` years to `last_year` (this year),
    newest first: every partner that is active or was complained about (two queries)."""
    last_year = last_year or timezone.localdate().year
    chosen = tuple(range(last_year, last_year - years, -1))
    counted = (
        Complaint.objects.filter(
            received_on__gte=date(chosen[-1], 1, 1), received_on__lte=date(last_year, 12, 31)
        )
        .annotate(year=ExtractYear("received_on"))
        .order_by()
        .values("partner_id", "year")
        .annotate(n=Count("pk"))
    )
    counts = {(r["partner_id"], r["year"]): r["n"] for r in counted}
    partners = Partner.objects.filter(
        Q(status=PartnerStatus.ACTIVE) | Q(pk__in={pk for pk, _ in counts})
    ).select_related("organisation")
    rows = sorted(
        (
            ComplaintRow(p.organisation.name, tuple(counts.get((p.pk, y), 0) for y in chosen))
            for p in partners
        ),
        key=lambda r: r.partner.casefold(),
    )
    return ComplaintTable(chosen, tuple(rows))
