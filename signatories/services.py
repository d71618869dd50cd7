"""State changes of organisations and partners: each checks, logs and queues its e-mail."""

from __future__ import annotations

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from tenancy.audit import created, diff, log_action, snapshot
from tenancy.models import Partnership

from .models import Organisation, Partner, PartnerStatus

ORGANISATION_FIELDS = [
    "name",
    "address",
    "phone",
    "data_protection_email",
    "dpo_name",
    "ico_reference",
    "sector",
]

# Which status may follow which, and the words for the audit log.
TRANSITIONS: dict[str, set[str]] = {
    PartnerStatus.INVITED: {PartnerStatus.ACTIVE, PartnerStatus.WITHDRAWN},
    PartnerStatus.ACTIVE: {PartnerStatus.WITHDRAWING},
    PartnerStatus.WITHDRAWING: {PartnerStatus.ACTIVE, PartnerStatus.WITHDRAWN},
    PartnerStatus.WITHDRAWN: {PartnerStatus.ACTIVE},
}
DEFAULT_NOTICE = timedelta(weeks=4)


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
def create_organisation(**values) -> Organisation:
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
    return organisation


@transaction.atomic
def update_organisation(organisation: Organisation, **values) -> Organisation:
    """Change an organisation's record; every partnership it belongs to logs the change."""
    before = snapshot(organisation, ORGANISATION_FIELDS)
    for key, value in values.items():
        setattr(organisation, key, value)
    organisation.full_clean()
    organisation.save()
    changes = diff(before, snapshot(organisation, ORGANISATION_FIELDS))
    if changes:
        with scopes_disabled():
            partnerships = Partnership.objects.filter(
                pk__in=Partner.objects.filter(organisation=organisation).values("partnership")
            )
            for partnership in partnerships:
                with scope(partnership=partnership):
                    log_action(
                        partnership,
                        "organisation.changed",
                        f"Updated the record of {organisation}",
                        organisation,
                        changes,
                    )
    return organisation


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
    notice: timedelta = DEFAULT_NOTICE,
) -> Partner:
    """Move a partner to another status, if that transition is allowed."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if new_status not in TRANSITIONS[partner.status]:
        raise ValidationError(
            f"A partner that is {partner.get_status_display().lower()} cannot become "
            f"{PartnerStatus(new_status).label.lower()}."
        )
    before = snapshot(partner)
    today = timezone.localdate()
    partner.status = new_status
    if new_status == PartnerStatus.ACTIVE:
        partner.joined_on = partner.joined_on or today
        partner.notice_given_on = partner.leaves_on = partner.withdrawn_on = None
        partner.withdrawal_reason = ""
    elif new_status == PartnerStatus.WITHDRAWING:
        if not reason.strip():
            raise ValidationError({"reason": "Enter the reason for withdrawing."})
        partner.notice_given_on = notice_given_on or today
        partner.leaves_on = partner.notice_given_on + notice
        partner.withdrawal_reason = reason.strip()
    elif new_status == PartnerStatus.WITHDRAWN:
        partner.withdrawn_on = today
    partner.save()
    log_action(
        partner.partnership,
        "partner.status_changed",
        f"{partner.organisation} is now {partner.get_status_display().lower()}",
        partner,
        diff(before, snapshot(partner)),
    )
    return partner


def complete_due_withdrawals() -> int:
    """Sweep step: partners whose notice has run out become withdrawn (once each)."""
    today = timezone.localdate()
    done = 0
    with scopes_disabled():
        due = list(
            Partner.objects.filter(
                status=PartnerStatus.WITHDRAWING, leaves_on__lte=today
            ).values_list("pk", "partnership_id")
        )
    for partner_id, partnership_id in due:
        partnership = Partnership.objects.get(pk=partnership_id)
        with scope(partnership=partnership), transaction.atomic():
            partner = (
                Partner.objects.select_for_update()
                .filter(pk=partner_id, status=PartnerStatus.WITHDRAWING)
                .first()
            )
            if partner is None:
                continue  # done by a concurrent sweep
            change_partner_status(partner, PartnerStatus.WITHDRAWN)
            done += 1
    return done
