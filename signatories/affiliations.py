"""Who works for which organisation: a verified fact, never a choice made in a form.

Organisations are global records shared by every partnership, so acting for one (changing its
record, signing in its name) needs proof. A person's link to an organisation (an Affiliation)
becomes verified in one of these ways, and no other:

- their e-mail address (proven by the invitation link that made their account) is on one of
  the organisation's own domains;
- a person already verified for the organisation approves them;
- when nobody is verified for it yet, someone at its confirmed data protection address
  approves them from an e-mailed link;
- they created the organisation's record (a brand-new body, founding a partnership);
- Accord's operator verifies them (`manage.py verify_affiliation`).

Being made a partnership member "for" an organisation only asks for verification.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accord.kernel.context import acting
from accord.kernel.mail import send_templated_email_each
from tenancy.audit import log_action
from tenancy.models import Membership, Partnership

from .models import (
    SHARED_MAIL_DOMAINS,
    AddressConfirmation,
    Affiliation,
    Organisation,
    OrganisationDomain,
    domain_validator,
    email_domain,
)
from .partnerships import log_for_organisation
from .tokens import hash_token, new_token

User = get_user_model()
# How long the link e-mailed to a data protection address decides a request.
LINK_LIFE = timedelta(days=14)
# After a refusal, how long before being made a member "for" the organisation asks again.
ASK_AGAIN_AFTER = timedelta(days=30)
Status = Affiliation.Status
Method = Affiliation.Method


# --- Questions ----------------------------------------------------------------------------


def acts_for(user, organisation: Organisation | None) -> bool:
    """Whether `user` is verified for `organisation` (one query)."""
    if organisation is None or not getattr(user, "is_authenticated", False):
        return False
    return Affiliation.objects.filter(
        user=user, organisation=organisation, status=Status.VERIFIED
    ).exists()


def strongly_verified(user, organisation: Organisation) -> bool:
    """Verified by the strongest proofs: an address on the organisation's own domain, or
    Accord's operator (not merely as the creator of the record or by a colleague's word)."""
    return Affiliation.objects.filter(
        user=user,
        organisation=organisation,
        status=Status.VERIFIED,
        method__in=[Method.DOMAIN, Method.OPERATOR],
    ).exists()


def verified_people(organisation: Organisation) -> QuerySet:
    return User.objects.filter(
        affiliations__organisation=organisation,
        affiliations__status=Status.VERIFIED,
        is_active=True,
    ).order_by("full_name", "email")


def affiliation_of(user, organisation: Organisation) -> Affiliation | None:
    return Affiliation.objects.filter(user=user, organisation=organisation).first()


def awaiting(approver) -> list[Affiliation]:
    """Requests `approver` may decide: pending, for organisations they are verified for."""
    mine = Affiliation.objects.filter(user=approver, status=Status.VERIFIED).values("organisation")
    return list(
        Affiliation.objects.filter(organisation__in=mine, status=Status.PENDING)
        .exclude(user=approver)
        .select_related("user", "organisation")
        .order_by("requested_at", "pk")
    )


def vouched_addresses(pairs: Iterable[tuple[int, str]]) -> set[tuple[int, str]]:
    """Of (organisation id, address) pairs, those the organisation itself vouches for: the
    address is on one of its domains, belongs to someone verified for it, or is its confirmed
    data protection address. A partnership naming a signatory proves nothing by itself: only
    a vouched-for address receives signing links. Three queries, whatever the number."""
    wanted = {(org, email.strip().lower()) for org, email in pairs if email}
    if not wanted:
        return set()
    organisations = {org for org, _ in wanted}
    domains = set(
        OrganisationDomain.objects.filter(organisation_id__in=organisations).values_list(
            "organisation_id", "domain"
        )
    )
    people = {
        (org, email.lower())
        for org, email in Affiliation.objects.filter(
            organisation_id__in=organisations,
            status=Status.VERIFIED,
            user__is_active=True,
            user__email__in=[email for _, email in wanted],
        ).values_list("organisation_id", "user__email")
    }
    addresses = {
        (org, email.lower())
        for org, email in Organisation.objects.filter(
            pk__in=organisations, data_protection_email_confirmed_at__isnull=False
        ).values_list("pk", "data_protection_email")
    }
    return {
        (org, email)
        for org, email in wanted
        if (org, email_domain(email)) in domains or (org, email) in people | addresses
    }


def owns_domain(organisation: Organisation, email: str) -> bool:
    domain = email_domain(email)
    return (
        bool(domain)
        and OrganisationDomain.objects.filter(organisation=organisation, domain=domain).exists()
    )


# --- Asking -------------------------------------------------------------------------------


@transaction.atomic
def request_affiliation(
    user, organisation: Organisation, *, partnership: Partnership | None = None
) -> Affiliation:
    """Ask for `user`'s link to `organisation` to be verified; verified at once when their
    address is on one of its domains. Otherwise its verified people are asked to approve, or,
    when it has none, its confirmed data protection address. A refused or revoked link is
    asked again (a new invitation is a new question); a verified one is left as it is."""
    try:
        with transaction.atomic():
            affiliation, made = Affiliation.objects.get_or_create(
                user=user,
                organisation=organisation,
                defaults={"requested_in": partnership.name if partnership else ""},
            )
    except IntegrityError:  # asked at the same moment elsewhere
        affiliation, made = Affiliation.objects.get(user=user, organisation=organisation), False
    affiliation = Affiliation.objects.select_for_update().get(pk=affiliation.pk)
    if affiliation.status == Status.VERIFIED:
        return affiliation
    if affiliation.status == Status.PENDING and not made:
        return affiliation  # already asked
    if (
        affiliation.status == Status.REFUSED
        and affiliation.decided_at is not None
        and affiliation.decided_at > timezone.now() - ASK_AGAIN_AFTER
    ):
        return affiliation  # refused lately: not asked again and again
    affiliation.status = Status.PENDING
    affiliation.method = ""
    affiliation.requested_at = timezone.now()
    affiliation.requested_in = partnership.name if partnership else ""
    affiliation.decided_at = affiliation.decided_by = None
    affiliation.token_hash = ""
    affiliation.save()
    if owns_domain(organisation, user.email):
        return _verify(affiliation, Method.DOMAIN)
    _ask_approvers(affiliation)
    return affiliation


def _ask_approvers(affiliation: Affiliation) -> None:
    organisation = affiliation.organisation
    people = list(verified_people(organisation).values_list("email", flat=True))
    context = {
        "affiliation": affiliation,
        "person": affiliation.user,
        "organisation": organisation,
        "partnership": affiliation.requested_in,
    }
    if people:
        send_templated_email_each(
            "affiliation_requested",
            people,
            {**context, "link": settings.SITE_URL + reverse("organisations:mine")},
        )
        return
    address = organisation.confirmed_data_protection_email
    if address:
        token, affiliation.token_hash = new_token()
        affiliation.token_sent_to = address
        affiliation.token_expires_at = timezone.now() + LINK_LIFE
        affiliation.save(update_fields=["token_hash", "token_sent_to", "token_expires_at"])
        send_templated_email_each(
            "affiliation_requested",
            [address],
            {
                **context,
                "to_data_protection": True,
                "link": settings.SITE_URL
                + reverse("organisations:decide_by_link", kwargs={"token": token}),
            },
        )


def who_can_verify(affiliation: Affiliation) -> str:
    """In words for the person waiting: who has been asked."""
    organisation = affiliation.organisation
    if verified_people(organisation).exists():
        return f"The people already verified for {organisation} have been asked to approve you."
    if organisation.confirmed_data_protection_email:
        return (
            f"Nobody is verified for {organisation} yet, so its data protection address has "
            "been asked to approve you."
        )
    return (
        f"Nobody is verified for {organisation} yet and it has no confirmed data protection "
        "address. Ask Accord's operator to verify you."
    )


# --- Deciding -----------------------------------------------------------------------------


def _verify(affiliation: Affiliation, method: str, *, by=None) -> Affiliation:
    affiliation.status = Status.VERIFIED
    affiliation.method = method
    affiliation.decided_at = timezone.now()
    affiliation.decided_by = by
    affiliation.token_hash = ""
    affiliation.save()
    _log(
        affiliation,
        "affiliation.verified",
        f"{affiliation.user} was verified for {affiliation.organisation}: "
        f"{Method(method).label.lower()}",
        {"status": [None, Status.VERIFIED.label], "method": [None, Method(method).label]},
    )
    if method in (Method.APPROVED, Method.DATA_PROTECTION, Method.OPERATOR):
        _tell_person(affiliation)
    return affiliation


def _tell_person(affiliation: Affiliation) -> None:
    send_templated_email_each(
        "affiliation_decided",
        [affiliation.user.email],
        {
            "affiliation": affiliation,
            "organisation": affiliation.organisation,
            "verified": affiliation.status == Status.VERIFIED,
            "link": settings.SITE_URL + reverse("organisations:mine"),
        },
    )


def _locked_pending(affiliation: Affiliation) -> Affiliation:
    locked = (
        Affiliation.objects.select_for_update()
        .select_related("user", "organisation")
        .get(pk=affiliation.pk)
    )
    if locked.status != Status.PENDING:
        raise ValidationError(
            f"{locked.user}'s request has already been decided: {locked.get_status_display()}."
        )
    return locked


def _require_verified(by, organisation: Organisation) -> None:
    if not acts_for(by, organisation):
        raise PermissionDenied(f"Only people verified for {organisation} can decide this.")


@transaction.atomic
def approve(affiliation: Affiliation, *, by) -> Affiliation:
    """A verified person of the organisation vouches for a colleague."""
    locked = _locked_pending(affiliation)
    _require_verified(by, locked.organisation)
    if by.pk == locked.user_id:
        raise PermissionDenied("Nobody can approve their own request.")
    with acting(user=by, organisation=locked.organisation):
        return _verify(locked, Method.APPROVED, by=by)


@transaction.atomic
def refuse(affiliation: Affiliation, *, by, reason: str = "") -> Affiliation:
    locked = _locked_pending(affiliation)
    _require_verified(by, locked.organisation)
    with acting(user=by, organisation=locked.organisation):
        return _refuse(locked, by=by, reason=reason)


def _refuse(affiliation: Affiliation, *, by=None, reason: str = "") -> Affiliation:
    affiliation.status = Status.REFUSED
    affiliation.decided_at = timezone.now()
    affiliation.decided_by = by
    affiliation.note = reason.strip()[:500]
    affiliation.token_hash = ""
    affiliation.save()
    _log(
        affiliation,
        "affiliation.refused",
        f"{affiliation.user} was not verified for {affiliation.organisation}",
        {"status": [Status.PENDING.label, Status.REFUSED.label]},
    )
    _tell_person(affiliation)
    return affiliation


def find_by_token(token: str) -> Affiliation | None:
    if not token or len(token) > 100:
        return None
    return (
        Affiliation.objects.select_related("user", "organisation")
        .filter(
            token_hash=hash_token(token),
            status=Status.PENDING,
            token_expires_at__gt=timezone.now(),
        )
        .first()
    )


@transaction.atomic
def decide_by_link(affiliation: Affiliation, *, approved: bool, reason: str = "") -> Affiliation:
    """Someone at the confirmed data protection address answers, from the e-mailed link."""
    locked = _locked_pending(affiliation)
    if not locked.token_hash or locked.token_hash != affiliation.token_hash:
        raise ValidationError("This link has been replaced or used. Use the newest e-mail.")
    organisation = locked.organisation
    if (
        organisation.confirmed_data_protection_email.lower() != locked.token_sent_to.lower()
        or verified_people(organisation).exists()
    ):
        raise ValidationError(
            f"{organisation}'s data protection address has changed, or someone is now verified "
            "for it, so this link no longer decides. They have been asked instead."
        )
    with acting(organisation=locked.organisation):
        if approved:
            return _verify(locked, Method.DATA_PROTECTION)
        return _refuse(locked, reason=reason)


@transaction.atomic
def revoke(affiliation: Affiliation, *, by) -> Affiliation:
    """A verified person removes someone who no longer works for the organisation."""
    locked = (
        Affiliation.objects.select_for_update()
        .select_related("user", "organisation")
        .get(pk=affiliation.pk)
    )
    _require_verified(by, locked.organisation)
    if locked.status != Status.VERIFIED:
        raise ValidationError(f"{locked.user} is not verified for {locked.organisation}.")
    if by.pk == locked.user_id:
        raise PermissionDenied("Ask a colleague to remove you.")
    locked.status = Status.REVOKED
    locked.decided_at = timezone.now()
    locked.decided_by = by
    locked.save()
    # A contact address they asked for, still unconfirmed, goes with them.
    AddressConfirmation.objects.filter(
        organisation=locked.organisation,
        requested_by=locked.user,
        confirmed_at__isnull=True,
        cancelled_at__isnull=True,
    ).update(cancelled_at=timezone.now())
    with acting(user=by, organisation=locked.organisation):
        _log(
            locked,
            "affiliation.revoked",
            f"{locked.user} no longer acts for {locked.organisation}",
            {"status": [Status.VERIFIED.label, Status.REVOKED.label]},
        )
    return locked


@transaction.atomic
def record_created(user, organisation: Organisation) -> Affiliation:
    """The person who created a brand-new organisation's record is its first verified
    person (nobody else can be displaced: the record did not exist)."""
    affiliation, _ = Affiliation.objects.get_or_create(user=user, organisation=organisation)
    if affiliation.status == Status.VERIFIED:
        return affiliation
    return _verify(affiliation, Method.CREATED, by=user)


@transaction.atomic
def verify_by_operator(user, organisation: Organisation, *, note: str = "") -> Affiliation:
    """Accord's operator has checked, outside Accord, that `user` works for `organisation`."""
    affiliation, _ = Affiliation.objects.get_or_create(user=user, organisation=organisation)
    affiliation = Affiliation.objects.select_for_update().get(pk=affiliation.pk)
    if affiliation.status == Status.VERIFIED:
        return affiliation
    affiliation.note = note[:500]
    return _verify(affiliation, Method.OPERATOR)


# --- Domains ------------------------------------------------------------------------------


def normalise_domain(value: str) -> str:
    return (value or "").strip().lower().removeprefix("@").removeprefix("www.").rstrip(".")


@transaction.atomic
def add_domain(organisation: Organisation, domain: str, *, by=None) -> OrganisationDomain:
    """List a mail domain as the organisation's own. A verified person may add the domain of
    their own address; the operator (by=None) any. Pending requests from addresses on it are
    verified at once."""
    domain = normalise_domain(domain)
    try:
        domain_validator(domain)
    except ValidationError as exc:
        raise ValidationError({"domain": exc.messages}) from exc
    if domain in SHARED_MAIL_DOMAINS:
        raise ValidationError(
            {"domain": f"{domain} is shared by many organisations, so it proves nothing."}
        )
    if by is not None:
        _require_verified(by, organisation)
        if email_domain(by.email) != domain:
            raise ValidationError(
                {
                    "domain": f"You can add only your own address's domain "
                    f"({email_domain(by.email)}). Ask a colleague at {domain} to add it."
                }
            )
    existing = OrganisationDomain.objects.filter(domain=domain).select_related("organisation")
    for other in existing:
        if other.organisation_id == organisation.pk:
            raise ValidationError({"domain": f"{domain} is already listed."})
        raise ValidationError({"domain": f"{domain} belongs to another organisation's record."})
    try:
        with transaction.atomic():
            record = OrganisationDomain.objects.create(
                organisation=organisation, domain=domain, added_by=by
            )
    except IntegrityError as exc:
        raise ValidationError({"domain": f"{domain} belongs to another record."}) from exc
    log_for_organisation(
        organisation,
        "organisation.domain_added",
        f"Listed {domain} as a domain of {organisation}",
        {"domain": [None, domain]},
        by=by,
    )
    with acting(user=by, organisation=organisation):
        pending = Affiliation.objects.select_for_update().filter(
            organisation=organisation,
            status=Status.PENDING,
            user__email__iendswith="@" + domain,
        )
        for affiliation in pending.select_related("user", "organisation"):
            _verify(affiliation, Method.DOMAIN)
    return record


@transaction.atomic
def remove_domain(record: OrganisationDomain, *, by) -> None:
    _require_verified(by, record.organisation)
    organisation, domain = record.organisation, record.domain
    record.delete()
    log_for_organisation(
        organisation,
        "organisation.domain_removed",
        f"Removed {domain} from the domains of {organisation}",
        {"domain": [domain, None]},
        by=by,
    )


# --- The audit trail ----------------------------------------------------------------------


def _log(affiliation: Affiliation, action: str, summary: str, changes: dict) -> None:
    """Recorded in each partnership where the person is a member acting for the organisation:
    the partnerships where this changes what they may do."""
    with scopes_disabled():
        partnerships = list(
            Partnership.objects.filter(
                pk__in=Membership.objects.filter(
                    user=affiliation.user, organisation=affiliation.organisation
                ).values("partnership")
            )
        )
    for partnership in partnerships:
        with scope(partnership=partnership):
            log_action(partnership, action, summary, affiliation, changes)
