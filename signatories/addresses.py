"""New contact addresses are confirmed from themselves before any link goes to them.

An organisation's data protection address and each authorised signatory's address get an
e-mailed link; until someone at the address follows it, signing links and approvals go
elsewhere (or nowhere). A changed data protection address takes effect only once confirmed:
the record keeps the old one meanwhile.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel.mail import send_templated_email_each
from tenancy.audit import log_action

from .affiliations import acts_for
from .models import AddressConfirmation, Affiliation, AuthorisedSignatory, Organisation
from .partnerships import log_for_organisation
from .signing import ask_again_once_confirmed
from .tokens import TOKEN_MAX_LENGTH, hash_token, new_token

Purpose = AddressConfirmation.Purpose
CONFIRMATION_VALID_DAYS = 14


def confirmation_link(token: str) -> str:
    return settings.SITE_URL + reverse("organisations:confirm_address", kwargs={"token": token})


def _ask(
    purpose: str,
    email: str,
    organisation: Organisation,
    *,
    signatory: AuthorisedSignatory | None = None,
    by=None,
) -> AddressConfirmation:
    """A fresh confirmation for the address; earlier unconfirmed ones for the same thing stop."""
    now = timezone.now()
    earlier = AddressConfirmation.objects.filter(
        purpose=purpose,
        organisation=organisation,
        signatory=signatory,
        confirmed_at__isnull=True,
        cancelled_at__isnull=True,
    )
    earlier.update(cancelled_at=now)
    token, token_hash = new_token()
    confirmation = AddressConfirmation.objects.create(
        purpose=purpose,
        email=email.strip().lower(),
        organisation=organisation,
        signatory=signatory,
        token_hash=token_hash,
        requested_by=by if getattr(by, "is_authenticated", False) else None,
        created_at=now,
        expires_at=now + timedelta(days=CONFIRMATION_VALID_DAYS),
    )
    send_templated_email_each(
        "address_confirmation",
        [confirmation.email],
        {
            "confirmation": confirmation,
            "organisation": organisation,
            "signatory": signatory,
            "partnership": signatory.partnership if signatory else None,
            "requested_by": confirmation.requested_by,
            "link": confirmation_link(token),
        },
    )
    return confirmation


def ask_data_protection(
    organisation: Organisation, email: str, *, by=None
) -> AddressConfirmation | None:
    """Ask the new data protection address to confirm itself (nothing when blank)."""
    if not email:
        return None
    return _ask(Purpose.DATA_PROTECTION, email, organisation, by=by)


def ask_signatory(signatory: AuthorisedSignatory, *, by=None) -> AddressConfirmation:
    return _ask(
        Purpose.SIGNATORY,
        signatory.email,
        signatory.partner.organisation,
        signatory=signatory,
        by=by,
    )


def cancel_data_protection_changes(organisation: Organisation) -> int:
    """The record's address was entered again unchanged (or cleared): earlier requests to
    change it stop, so an old link cannot change it later."""
    return AddressConfirmation.objects.filter(
        purpose=Purpose.DATA_PROTECTION,
        organisation=organisation,
        confirmed_at__isnull=True,
        cancelled_at__isnull=True,
    ).update(cancelled_at=timezone.now())


def pending_data_protection(organisation: Organisation) -> AddressConfirmation | None:
    """The newest data protection address still waiting for its confirmation, if any."""
    return (
        AddressConfirmation.objects.filter(
            purpose=Purpose.DATA_PROTECTION,
            organisation=organisation,
            confirmed_at__isnull=True,
            cancelled_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-created_at")
        .first()
    )


# --- Following the link -------------------------------------------------------------------


def find(token: str) -> AddressConfirmation | None:
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    return (
        AddressConfirmation.objects.select_related("organisation", "signatory__partnership")
        .filter(token_hash=hash_token(token))
        .first()
    )


def problem_with(confirmation: AddressConfirmation | None) -> str | None:
    if confirmation is None:
        return "This link is not valid. Check you copied the whole link from the e-mail."
    state = confirmation.state
    if state == "confirmed":
        return "This address has already been confirmed. There is nothing more to do."
    if state == "cancelled":
        return "This link has been replaced by a newer one. Use the most recent e-mail."
    if state == "expired":
        return "This link has expired. Ask for the confirmation to be sent again."
    requester = confirmation.requested_by
    if (
        confirmation.purpose == Purpose.DATA_PROTECTION
        and requester is not None
        and not acts_for(requester, confirmation.organisation)
        and confirmation.organisation.data_protection_email_confirmed_at is not None
    ):
        return "The person who asked for this change no longer acts for the organisation."
    signatory = confirmation.signatory
    if signatory is not None and (
        not signatory.is_active or signatory.email.lower() != confirmation.email
    ):
        return "This address is no longer the signatory's. Nothing needs confirming."
    return None


@transaction.atomic
def confirm(confirmation: AddressConfirmation) -> AddressConfirmation:
    """Someone at the address followed the link and confirmed: the address comes into use."""
    locked = (
        AddressConfirmation.objects.select_for_update()
        .select_related("organisation")
        .get(pk=confirmation.pk)
    )
    problem = problem_with(locked)
    if problem:
        raise ValidationError(problem)
    now = timezone.now()
    locked.confirmed_at = now
    locked.save(update_fields=["confirmed_at"])
    organisation = locked.organisation
    if locked.purpose == Purpose.DATA_PROTECTION:
        before = organisation.data_protection_email
        Organisation.objects.filter(pk=organisation.pk).update(
            data_protection_email=locked.email, data_protection_email_confirmed_at=now
        )
        # Links e-mailed to the old address to vouch for a person stop deciding.
        Affiliation.objects.filter(organisation=organisation).exclude(token_hash="").update(
            token_hash=""
        )
        organisation.refresh_from_db()
        log_for_organisation(
            organisation,
            "organisation.address_confirmed",
            f"{locked.email} was confirmed as the data protection address of {organisation}",
            {"data_protection_email": [before or None, locked.email]},
        )
    else:
        with scope(partnership=locked.signatory.partnership):
            signatory = AuthorisedSignatory.objects.select_for_update().get(pk=locked.signatory_id)
            signatory.confirmed_at = now
            signatory.save(update_fields=["confirmed_at"])
            log_action(
                signatory.partnership,
                "signatory.confirmed",
                f"{signatory.name} confirmed {signatory.email} as their address for signing "
                f"for {organisation}",
                signatory,
                {"confirmed_at": [None, now]},
            )
            ask_again_once_confirmed(signatory)
    return locked
