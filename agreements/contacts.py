"""Asking a party to complete its organisation record: the contact details the summary sheet
gives for every party (head office address, telephone, confirmed data protection e-mail, DPO).

Organisation records are kept only by the organisation's own verified people, so the drafter
of an agreement never writes another organisation's details: Accord e-mails the people who
can (its verified people, or, while nobody is verified for it, its confirmed data protection
address) with a link to the record, and remembers who was asked and when, so that the same
party is not asked again within a day. Recipients come only from verified links and the
confirmed address, never from anything the drafter types.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from accord.kernel.context import service
from accord.kernel.mail import send_templated_email_each
from organisations.models import Organisation
from signatories.affiliations import verified_people
from tenancy.audit import log_action
from tenancy.models import Membership
from tenancy.roles import Perm

from .models import Agreement, AgreementParty, ContactRequest
from .permissions import can_edit, membership_of
from .rules import PARTY_CONTACTS

# How long before the same party of an agreement may be asked again.
ASK_AGAIN_AFTER = timedelta(hours=24)
AUDIT_ACTION = "agreement.contacts_requested"


# --- Reading -------------------------------------------------------------------------------


def missing_details(organisation: Organisation) -> list[str]:
    """What the organisation's record lacks of the summary sheet's contact details, in the
    words of the completeness check (agreements.rules.PARTY_CONTACTS)."""
    values = {
        "address": organisation.address,
        "phone": organisation.phone,
        "email": organisation.confirmed_data_protection_email,
        "dpo_name": organisation.dpo_name,
    }
    return [label for name, label in PARTY_CONTACTS if not values[name].strip()]


def may_ask(user, agreement: Agreement, membership: Membership | None = None) -> bool:
    """The agreement's drafters who may edit it now: a member who drafts documents (IG
    officers, administrators) and is one of its editors, while it is a draft or in review."""
    membership = membership if membership is not None else membership_of(user)
    return (
        membership is not None
        and membership.can(Perm.DRAFT_DOCUMENTS)
        and can_edit(user, agreement, membership)
    )


@dataclass(frozen=True)
class Recipients:
    """Who can complete an organisation's record, as Accord knows them."""

    people: tuple = ()  # its verified people (users), the asker left out
    address: str = ""  # its confirmed data protection address, while nobody is verified
    asker_verified: bool = False  # the asker is verified for it: they can complete it

    @property
    def emails(self) -> list[str]:
        return [p.email for p in self.people] or ([self.address] if self.address else [])

    @property
    def names(self) -> list[str]:
        """Who is asked, as the drafter reads it: people by name, or the address."""
        return [str(p) for p in self.people] or ([self.address] if self.address else [])


def recipients_for(organisation: Organisation, asker=None) -> Recipients:
    people = list(verified_people(organisation))
    asker_verified = asker is not None and any(p.pk == asker.pk for p in people)
    others = tuple(p for p in people if asker is None or p.pk != asker.pk)
    address = "" if people else organisation.confirmed_data_protection_email.strip()
    return Recipients(people=others, address=address, asker_verified=asker_verified)


def last_request(agreement: Agreement, organisation: Organisation) -> ContactRequest | None:
    return (
        ContactRequest.objects.filter(agreement=agreement, organisation=organisation)
        .select_related("asked_by")
        .order_by("-asked_at", "-id")
        .first()
    )


def _when(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local:%H:%M} on {local.day} {local:%B %Y}"


def _names(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def nobody_to_ask(organisation: Organisation) -> str:
    return (
        f"Accord knows nobody at {organisation} who can complete its record: ask a partnership "
        "administrator to invite someone from it, or its DPO to confirm its data protection "
        "address."
    )


def _too_soon(previous: ContactRequest | None, now: datetime) -> str:
    if previous is None or previous.asked_at <= now - ASK_AGAIN_AFTER:
        return ""
    return (
        f"{previous.organisation} was asked to complete its record at {_when(previous.asked_at)}"
        f" by {previous.asked_by}: you can ask again from "
        f"{_when(previous.asked_at + ASK_AGAIN_AFTER)}."
    )


def _refusal(
    organisation: Organisation,
    missing: list[str],
    recipients: Recipients,
    previous: ContactRequest | None,
    now: datetime,
) -> str:
    """Why the organisation cannot be asked now ("" when it can)."""
    if not missing:
        return (
            f"{organisation}'s record already gives every contact detail the summary sheet "
            "needs: there is nothing to ask for."
        )
    if not recipients.emails:
        if recipients.asker_verified:
            return (
                f"You are the only person verified for {organisation} on Accord: complete its "
                "record yourself."
            )
        return nobody_to_ask(organisation)
    return _too_soon(previous, now)


@dataclass(frozen=True)
class PartyContacts:
    """One party whose record lacks something, as the summary sheet's pages show it."""

    party: AgreementParty
    organisation: Organisation
    missing: list[str]
    recipients: Recipients
    last: ContactRequest | None
    may_ask: bool  # the button is shown
    why_not: str  # why a drafter who may ask cannot ask now ("" when they can)
    can_complete: bool  # the reader is verified for it and can complete the record
    action: str  # where the button posts
    edit_link: str  # the record's edit page (for its verified people)


def parties_missing_contacts(
    agreement: Agreement, user, membership: Membership | None = None
) -> list[PartyContacts]:
    """Each party of the agreement whose organisation record lacks a contact detail: what is
    missing, who can supply it, when it was last asked and by whom, and whether `user` may
    ask it now. Empty once the agreement can no longer change."""
    if not agreement.is_editable:
        return []
    drafter = may_ask(user, agreement, membership)
    now = timezone.now()
    rows = []
    parties = agreement.parties.select_related("partner__organisation").order_by(
        "partner__organisation__name", "pk"
    )
    for party in parties:
        organisation = party.partner.organisation
        missing = missing_details(organisation)
        if not missing:
            continue
        recipients = recipients_for(organisation, user)
        previous = last_request(agreement, organisation)
        why_not = _refusal(organisation, missing, recipients, previous, now)
        rows.append(
            PartyContacts(
                party=party,
                organisation=organisation,
                missing=missing,
                recipients=recipients,
                last=previous,
                may_ask=drafter and not why_not,
                why_not=why_not if drafter else "",
                can_complete=recipients.asker_verified,
                action=reverse(
                    "agreements:ask_for_details",
                    kwargs={
                        "partnership_slug": agreement.partnership.slug,
                        "agreement_id": agreement.pk,
                        "party_id": party.pk,
                    },
                ),
                edit_link=reverse(
                    "organisations:edit", kwargs={"organisation_id": organisation.pk}
                ),
            )
        )
    return rows


# --- Asking --------------------------------------------------------------------------------


@service
def ask_for_contacts(agreement: Agreement, party: AgreementParty, *, by) -> ContactRequest:
    """E-mail the people who can complete the party's organisation record, naming the
    details it lacks, and record the request with its audit entry, in one transaction.

    Refuses (PermissionDenied) someone who may not edit the agreement, and (ValidationError,
    nothing changed) a party of another agreement, a record that lacks nothing, an
    organisation Accord knows nobody at, and a party asked in the last 24 hours."""
    # Locked, so two requests for the same party at the same moment are one.
    agreement = (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("lead__organisation", "partnership")
        .get(pk=agreement.pk)
    )
    membership = membership_of(by)
    if not may_ask(by, agreement, membership):
        if not agreement.is_editable:
            raise PermissionDenied(
                f"This agreement is {agreement.get_status_display().lower()}: its summary "
                "sheet can no longer change, so there is nothing to ask a party for."
            )
        raise PermissionDenied(
            "Only the agreement's drafters who may edit it can ask a party to complete its record."
        )
    party = (
        AgreementParty.objects.select_related("partner__organisation")
        .filter(agreement=agreement, pk=party.pk)
        .first()
    )
    if party is None:
        raise ValidationError("That organisation is not one of this agreement's parties.")
    organisation = Organisation.objects.get(pk=party.partner.organisation_id)
    missing = missing_details(organisation)
    recipients = recipients_for(organisation, by)
    now = timezone.now()
    why_not = _refusal(
        organisation, missing, recipients, last_request(agreement, organisation), now
    )
    if why_not:
        raise ValidationError(why_not, code="refused")
    request = ContactRequest.objects.create(
        partnership=agreement.partnership,
        agreement=agreement,
        organisation=organisation,
        asked_by=by,
        asked_at=now,
        missing=missing,
        recipients="\n".join(recipients.names),
        to_data_protection=not recipients.people,
    )
    log_action(
        agreement.partnership,
        AUDIT_ACTION,
        f"Asked {organisation} to complete its record for {agreement}: it has no {_names(missing)}",
        request,
        {
            "organisation": [None, organisation.name],
            "missing": [None, missing],
            "recipients": [None, recipients.names],
        },
    )
    send_templated_email_each(
        "contacts_requested",
        recipients.emails,
        {
            "partnership": agreement.partnership,
            "agreement": agreement,
            "organisation": organisation,
            "by": by,
            "by_organisation": membership.organisation if membership else None,
            "missing": missing,
            "to_data_protection": not recipients.people,
            "link": settings.SITE_URL
            + reverse("organisations:edit", kwargs={"organisation_id": organisation.pk}),
        },
    )
    return request


def asked_whom(request: ContactRequest) -> str:
    """Who was e-mailed, in words: "Dana Scully and Tom Reid", or "its data protection
    address, dpo@example.org"."""
    names = _names(request.recipient_list)
    return f"its data protection address, {names}" if request.to_data_protection else names
