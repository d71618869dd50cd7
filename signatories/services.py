"""State changes of organisations and partners: each checks, logs and queues its e-mail."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_scopes import scopes_disabled

from accord.kernel.context import current_actor
from accord.kernel.mail import send_templated_email_each
from tenancy.audit import created, diff, log_action, snapshot
from tenancy.models import Membership, Partnership

from . import addresses
from .affiliations import acts_for, strongly_verified, verified_people
from .models import (
    AuthorisedSignatory,
    Organisation,
    Partner,
    PartnerStatus,
    normalise_ico_reference,
)
from .partnerships import log_for_organisation
from .signals import partner_status_changed
from .signing import readdress_requests
from .transitions import PARTNERS

ORGANISATION_FIELDS = [
    "name",
    "address",
    "phone",
    "data_protection_email",
    "dpo_name",
    "deputy_dpo_name",
    "deputy_dpo_email",
    "ico_reference",
    "sector",
]

# Which status may follow which, and the words for the audit log.
DEFAULT_NOTICE = timedelta(weeks=4)
# How far back notice of withdrawal may be dated (it cannot be dated in the future).
NOTICE_DATE_MAX_AGE = timedelta(days=365)

# Who decides a partnership's notice period for withdrawal (protocols: the lead protocol's).
_notice_providers: list[Callable[[Partnership], timedelta | None]] = []


def register_notice_period(func: Callable[[Partnership], timedelta | None]) -> Callable:
    """Add `func(partnership) -> timedelta | None`, the notice a partner must give to withdraw.

    Called inside the partnership's scope; None means it has no say. The longest answer wins;
    with none, DEFAULT_NOTICE (4 weeks).
    """
    if func not in _notice_providers:
        _notice_providers.append(func)
    return func


def notice_period(partnership: Partnership) -> timedelta:
    periods = [p for p in (f(partnership) for f in _notice_providers) if p is not None]
    return max(periods, default=DEFAULT_NOTICE)


def notice_date_problem(value: date, today: date | None = None) -> str | None:
    """Why `value` cannot be the date notice of withdrawal was given; None when it can
    (today, or a day in the past year)."""
    today = today or timezone.localdate()
    if value > today:
        return "The date notice was given must be today or in the past."
    if value < today - NOTICE_DATE_MAX_AGE:
        earliest = today - NOTICE_DATE_MAX_AGE
        return (
            "The date notice was given must be within the past year, "
            f"on or after {earliest.day} {earliest:%B %Y}."
        )
    return None


def search_organisations(query: str, limit: int = 20) -> list[Organisation]:
    """Existing organisations by name or ICO reference, to reuse before creating another.

    Organisation records are global (one per real body), so this deliberately crosses tenants.
    """
    query = query.strip()
    if len(query) < 2:
        return []
    reference = query.upper().replace(" ", "")
    with scopes_disabled():
        by_reference = Organisation.objects.filter(ico_reference=reference)
        by_name = Organisation.objects.filter(name__icontains=query)
        return list((by_reference | by_name).distinct().order_by("name")[:limit])


@transaction.atomic
def create_organisation(*, by=None, **values) -> Organisation:
    """A new organisation's record. Its data protection address is asked to confirm itself
    before any link goes to it."""
    values["data_protection_email"] = (values.get("data_protection_email") or "").strip().lower()
    values["name"] = " ".join((values.get("name") or "").split())
    if values["name"] and Organisation.objects.filter(name__iexact=values["name"]).exists():
        raise ValidationError(
            {
                "name": f"{values['name']} is already on Accord. Search for it and add that "
                "record: one record serves every partnership."
            }
        )
    organisation = Organisation(**values)
    organisation.full_clean()
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError as exc:  # the same body created at the same moment elsewhere
        raise ValidationError(
            {
                "ico_reference": "An organisation with this ICO registration reference already "
                "exists. Search for it and add that record instead."
            }
        ) from exc
    addresses.ask_data_protection(organisation, organisation.data_protection_email, by=by)
    return organisation


@transaction.atomic
def update_organisation(organisation: Organisation, *, by, **values) -> Organisation:
    """Change an organisation's record: only its verified people may. Every partnership it
    belongs to logs the change, and its data protection address and verified people are told.
    A new data protection address takes effect once confirmed from itself."""
    if not acts_for(by, organisation):
        raise PermissionDenied(f"Only people verified for {organisation} can change its record.")
    organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
    before = snapshot(organisation, ORGANISATION_FIELDS)
    new_address = (values.pop("data_protection_email", None) or "").strip().lower()
    new_reference = normalise_ico_reference(values.get("ico_reference"))
    if new_reference != organisation.ico_reference and not strongly_verified(by, organisation):
        # The ICO reference is how other partnerships find the real body: only someone whose
        # address is on its domain, or whom the operator verified, may claim or change it.
        raise ValidationError(
            {
                "ico_reference": "Only someone verified for the organisation by an address on "
                "its own domain, or by Accord's operator, can change its ICO registration "
                "reference."
            }
        )
    if not new_address or new_address == organisation.data_protection_email.lower():
        addresses.cancel_data_protection_changes(organisation)
    for key, value in values.items():
        setattr(organisation, key, value)
    organisation.full_clean()
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError as exc:  # the same reference given to another record at this moment
        raise ValidationError(
            {"ico_reference": "Another organisation's record already uses this reference."}
        ) from exc
    changes = diff(before, snapshot(organisation, ORGANISATION_FIELDS))
    asked = None
    if new_address and new_address != organisation.data_protection_email.lower():
        asked = addresses.ask_data_protection(organisation, new_address, by=by)
        changes["data_protection_email (awaiting confirmation)"] = [
            organisation.data_protection_email or None,
            new_address,
        ]
    if changes:
        log_for_organisation(
            organisation,
            "organisation.changed",
            f"Updated the record of {organisation}",
            changes,
            by=by,
        )
        _tell_of_change(organisation, changes, by=by, asked=asked)
    return organisation


def _tell_of_change(organisation: Organisation, changes: dict, *, by, asked) -> None:
    people = set(verified_people(organisation).values_list("email", flat=True))
    if organisation.confirmed_data_protection_email:
        people.add(organisation.confirmed_data_protection_email)
    send_templated_email_each(
        "organisation_changed",
        people,
        {
            "organisation": organisation,
            "changes": [(field.replace("_", " "), pair) for field, pair in changes.items()],
            "by": by,
            "asked": asked,
        },
    )


@transaction.atomic
def add_partner(
    partnership: Partnership, organisation: Organisation, status: str = PartnerStatus.ACTIVE
) -> Partner:
    if Partner.objects.filter(organisation=organisation).exists():
        raise ValidationError(f"{organisation} is already a partner of {partnership.name}.")
    today = timezone.localdate()
    try:
        with transaction.atomic():
            partner = Partner.objects.create(
                partnership=partnership,
                organisation=organisation,
                status=status,
                joined_on=today if status == PartnerStatus.ACTIVE else None,
            )
    except IntegrityError as exc:  # added by someone else at the same moment
        raise ValidationError(
            f"{organisation} is already a partner of {partnership.name}."
        ) from exc
    log_action(
        partnership,
        "partner.created",
        f"Added {organisation} as a partner",
        partner,
        created(partner, ["organisation", "status", "joined_on"]),
    )
    return partner


@transaction.atomic
def change_partner_status(
    partner: Partner,
    new_status: str,
    *,
    reason: str = "",
    notice_given_on: date | None = None,
    notice: timedelta | None = None,
    by=None,
) -> Partner:
    """Move a partner to another status, if the declaration (signatories.transitions) allows
    that transition and, when `by` is a person, allows them to make it.

    Giving notice (to WITHDRAWING) and its taking effect (WITHDRAWING to WITHDRAWN) e-mail the
    partnership (see withdrawal_recipients). `notice` defaults to notice_period().
    """
    partner = PARTNERS.lock(partner)
    previous = partner.status
    transition = PARTNERS.between(previous, new_status)
    if transition is None:
        raise ValidationError(
            f"A partner that is {partner.get_status_display().lower()} cannot become "
            f"{PartnerStatus(new_status).label.lower()}."
        )
    before = snapshot(partner)
    today = timezone.localdate()

    def apply(p: Partner) -> None:
        if new_status == PartnerStatus.ACTIVE:
            p.joined_on = p.joined_on or today
            p.notice_given_on = p.leaves_on = p.withdrawn_on = None
            p.withdrawal_reason = ""
        elif new_status == PartnerStatus.WITHDRAWING:
            if not reason.strip():
                raise ValidationError({"reason": "Enter the reason for withdrawing."})
            if notice_given_on is not None and (problem := notice_date_problem(notice_given_on)):
                raise ValidationError({"notice_given_on": problem})
            p.notice_given_on = notice_given_on or today
            p.leaves_on = p.notice_given_on + (
                notice if notice is not None else notice_period(p.partnership)
            )
            p.withdrawal_reason = reason.strip()
        elif new_status == PartnerStatus.WITHDRAWN:
            p.withdrawn_on = today

    partner = PARTNERS.perform(
        partner,
        transition.name,
        by=by,
        locked=True,
        apply=apply,
        summary=lambda p: f"{p.organisation} is now {p.get_status_display().lower()}",
        changes=lambda p: {k: v for k, v in diff(before, snapshot(p)).items() if k != "status"},
    )
    partner_status_changed.send(sender=Partner, partner=partner, old=previous, new=new_status)
    if new_status == PartnerStatus.WITHDRAWING:
        _send_withdrawal_email("withdrawal_notice", partner)
    elif new_status == PartnerStatus.WITHDRAWN and previous == PartnerStatus.WITHDRAWING:
        _send_withdrawal_email("withdrawal_complete", partner)
    return partner


def allowed_statuses(partner: Partner) -> list[str]:
    """The statuses the partner may move to next, as the declaration has them."""
    return sorted(t.target for t in PARTNERS.transitions if partner.status in t.source)


def partner_addresses(partner_ids: Iterable[int]) -> dict[int, list[str]]:
    """Where to write to each partner: its active authorised signatories whose address is
    confirmed, and its organisation's confirmed data protection address (two queries),
    lower-cased and sorted."""
    partner_ids = list(partner_ids)
    found: dict[int, set[str]] = {pk: set() for pk in partner_ids}
    for pk, email in AuthorisedSignatory.objects.filter(
        partner_id__in=partner_ids, is_active=True, confirmed_at__isnull=False
    ).values_list("partner_id", "email"):
        found[pk].add(email.strip().lower())
    for pk, email in (
        Partner.objects.filter(pk__in=partner_ids)
        .exclude(organisation__data_protection_email="")
        .filter(organisation__data_protection_email_confirmed_at__isnull=False)
        .values_list("pk", "organisation__data_protection_email")
    ):
        found[pk].add(email.strip().lower())
    return {pk: sorted(e for e in emails if e) for pk, emails in found.items()}


def withdrawal_recipients(partner: Partner) -> list[str]:
    """Who hears of a withdrawal: the authorised signatories and data protection e-mail of
    every active partner and of the one withdrawing, and the partnership's administrators."""
    partners = Partner.objects.filter(Q(status=PartnerStatus.ACTIVE) | Q(pk=partner.pk))
    found = set(
        partners.exclude(organisation__data_protection_email="")
        .filter(organisation__data_protection_email_confirmed_at__isnull=False)
        .values_list("organisation__data_protection_email", flat=True)
    )
    found |= set(
        AuthorisedSignatory.objects.filter(
            is_active=True, confirmed_at__isnull=False, partner__in=partners
        ).values_list("email", flat=True)
    )
    found |= set(
        Membership.objects.filter(is_administrator=True).values_list("user__email", flat=True)
    )
    return sorted(a.lower() for a in found if a)


def _send_withdrawal_email(name: str, partner: Partner) -> None:
    send_templated_email_each(
        name,
        withdrawal_recipients(partner),
        {
            "partner": partner,
            "organisation": partner.organisation,
            "partnership": partner.partnership,
        },
    )


# Authorised signatories of a partner


def _duplicate_signatory(partner: Partner, email: str, exclude: int | None = None) -> None:
    others = AuthorisedSignatory.objects.filter(
        partner=partner, is_active=True, email__iexact=email
    )
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.exists():
        raise ValidationError(
            {"email": f"{email} is already an authorised signatory of {partner.organisation}."}
        )


@transaction.atomic
def add_signatory(partner: Partner, *, name: str, position: str, email: str) -> AuthorisedSignatory:
    email = email.strip().lower()
    _duplicate_signatory(partner, email)
    signatory = AuthorisedSignatory(
        partnership=partner.partnership,
        partner=partner,
        name=name.strip(),
        position=position.strip(),
        email=email,
    )
    signatory.full_clean()
    signatory.save()
    log_action(
        partner.partnership,
        "signatory.created",
        f"Added {signatory} as an authorised signatory of {partner.organisation}",
        signatory,
        created(signatory, ["name", "position", "email"]),
    )
    addresses.ask_signatory(signatory, by=current_actor().user)
    _tell_organisation_of_signatory(signatory)
    return signatory


def _tell_organisation_of_signatory(signatory: AuthorisedSignatory) -> None:
    """An organisation hears whenever a partnership names someone to sign in its name."""
    organisation = signatory.partner.organisation
    people = set(verified_people(organisation).values_list("email", flat=True))
    if organisation.confirmed_data_protection_email:
        people.add(organisation.confirmed_data_protection_email)
    people.discard(signatory.email)
    send_templated_email_each(
        "signatory_named",
        people,
        {
            "signatory": signatory,
            "organisation": organisation,
            "partnership": signatory.partnership,
        },
    )


@transaction.atomic
def update_signatory(
    signatory: AuthorisedSignatory, *, name: str, position: str, email: str
) -> AuthorisedSignatory:
    signatory = AuthorisedSignatory.objects.select_for_update().get(pk=signatory.pk)
    email = email.strip().lower()
    if signatory.is_active:
        _duplicate_signatory(signatory.partner, email, exclude=signatory.pk)
    fields = ["name", "position", "email"]
    before = snapshot(signatory, fields)
    if email != signatory.email:
        signatory.confirmed_at = None  # the new address confirms itself first
    signatory.name, signatory.position, signatory.email = name.strip(), position.strip(), email
    signatory.full_clean()
    signatory.save(update_fields=[*fields, "confirmed_at"])
    changes = diff(before, snapshot(signatory, fields))
    if changes:
        log_action(
            signatory.partnership,
            "signatory.changed",
            f"Changed the authorised signatory {signatory} of {signatory.partner.organisation}",
            signatory,
            changes,
        )
    if "email" in changes:
        addresses.ask_signatory(signatory, by=current_actor().user)
        _tell_organisation_of_signatory(signatory)
        readdress_requests(signatory)  # the old address no longer gets the links
    return signatory


@transaction.atomic
def set_signatory_active(signatory: AuthorisedSignatory, active: bool) -> AuthorisedSignatory:
    """Deactivate (no more requests go to them) or reactivate an authorised signatory."""
    signatory = AuthorisedSignatory.objects.select_for_update().get(pk=signatory.pk)
    if signatory.is_active == active:
        return signatory
    if active:
        _duplicate_signatory(signatory.partner, signatory.email, exclude=signatory.pk)
    signatory.is_active = active
    signatory.save(update_fields=["is_active"])
    organisation = signatory.partner.organisation
    log_action(
        signatory.partnership,
        "signatory.reactivated" if active else "signatory.deactivated",
        f"{signatory} {'may sign again' if active else 'no longer signs'} for {organisation}",
        signatory,
        {"is_active": [not active, active]},
    )
    if not active:
        readdress_requests(signatory)  # their open requests go to someone who still signs
    return signatory


def complete_withdrawal(partner_id: int) -> bool:
    """The partner's notice has run out (its clock says so: see signatories.clocks): it is
    withdrawn, once. False when it is no longer withdrawing or its day has not come."""
    partner = (
        Partner.objects.select_for_update()
        .filter(
            pk=partner_id,
            status=PartnerStatus.WITHDRAWING,
            leaves_on__lte=timezone.localdate(),
        )
        .first()
    )
    if partner is None:
        return False  # done by a concurrent sweep, or the notice was withdrawn
    change_partner_status(partner, PartnerStatus.WITHDRAWN)
    return True
