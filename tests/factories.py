"""Factories for the suite: build what a test needs, nothing copied around."""

from __future__ import annotations

import factory
from django.utils import timezone
from django_scopes import scope

from accounts.models import User
from signatories.models import Affiliation, Organisation, Partner, PartnerStatus, Sector
from tenancy.models import Membership, Partnership
from tenancy.roles import Role

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Borough Council {n}")
    sector = Sector.LOCAL_AUTHORITY
    ico_reference = factory.Sequence(lambda n: f"Z{n + 1000000:07d}")
    data_protection_email = ""
    # An address given here counts as confirmed from itself (tests of confirming pass None).
    data_protection_email_confirmed_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.data_protection_email else None
    )


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    name = factory.Sequence(lambda n: f"Partnership {n}")
    slug = factory.Sequence(lambda n: f"partnership-{n}")


def make_partner(
    partnership: Partnership,
    organisation: Organisation | None = None,
    status: str = PartnerStatus.ACTIVE,
) -> Partner:
    organisation = organisation or OrganisationFactory()
    with scope(partnership=partnership):
        return Partner.objects.create(
            partnership=partnership, organisation=organisation, status=status
        )


def make_member(
    partnership: Partnership,
    *roles: Role | str,
    user: User | None = None,
    organisation: Organisation | None = None,
    verified: bool = True,
) -> Membership:
    """A person in the partnership with these roles, acting for a partner organisation:
    verified for it (as the operator would) unless verified=False."""
    user = user or UserFactory()
    if organisation is None:
        organisation = make_partner(partnership).organisation
    with scope(partnership=partnership):
        membership = Membership(partnership=partnership, user=user, organisation=organisation)
        membership.set_roles(roles or [Role.VIEWER])
        membership.save()
    if verified:
        verify(user, organisation)
    return membership


def verify(user: User, organisation: Organisation) -> Affiliation:
    """The person's link to the organisation, verified (no e-mail, no audit entry)."""
    affiliation, _ = Affiliation.objects.update_or_create(
        user=user,
        organisation=organisation,
        defaults={
            "status": Affiliation.Status.VERIFIED,
            "method": Affiliation.Method.OPERATOR,
            "decided_at": timezone.now(),
        },
    )
    return affiliation


def make_invitation(
    partnership: Partnership,
    *roles: Role | str,
    email: str | None = None,
    organisation: Organisation | None = None,
    invited_by: User | None = None,
    **fields,
):
    """A pending invitation made directly (no e-mail). Returns (invitation, token)."""
    from tenancy.models import Invitation

    if organisation is None:
        organisation = make_partner(partnership).organisation
    invitation = Invitation(
        partnership=partnership,
        email=email or UserFactory.build().email,
        organisation=organisation,
        invited_by=invited_by or UserFactory(),
    )
    invitation.set_roles(roles or [Role.VIEWER])
    token = invitation.issue_token()
    for key, value in fields.items():
        setattr(invitation, key, value)
    with scope(partnership=partnership):
        invitation.save()
    return invitation, token


def activate_totp(user: User) -> str:
    """Give the user an authenticator app; returns its secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The code the person's authenticator app shows now."""
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


# Documents to sign, authorised signatories and signature requests


def make_document(
    partnership: Partnership,
    *,
    title: str = "Information Sharing Protocol",
    version_label: str = "1.0",
    html: str | None = None,
    kind: str = "protocol",
):
    """A frozen document version, made directly (its HTML and that HTML's SHA-256)."""
    import hashlib

    from documents.models import FrozenDocument

    html = html or (
        f"<h2>1. Purpose</h2><p>{title} {version_label}: the partners share information "
        "lawfully, securely and only as much as each purpose needs.</p>"
    )
    with scope(partnership=partnership):
        return FrozenDocument.objects.create(
            partnership=partnership,
            kind=kind,
            title=title,
            version_label=version_label,
            html=html,
            sha256=hashlib.sha256(html.encode()).hexdigest(),
        )


def make_signatory(partner: Partner, *, vouched: bool = True, **fields):
    """An authorised signatory, its address confirmed. Vouched for by its organisation (the
    address belongs to someone verified for it, as the organisation's people would arrange)
    unless vouched=False."""
    from faker import Faker

    from signatories.models import AuthorisedSignatory

    values = {
        "name": Faker("en_GB").name(),
        "position": AuthorisedSignatory.Position.CHIEF_EXECUTIVE,
        "email": UserFactory.build().email,
        "confirmed_at": timezone.now(),  # confirmed from the address (None: not yet)
        **fields,
    }
    if vouched:
        person = User.objects.filter(email__iexact=values["email"]).first() or UserFactory(
            email=values["email"], full_name=values["name"]
        )
        verify(person, partner.organisation)
    with scope(partnership=partner.partnership):
        return AuthorisedSignatory.objects.create(
            partnership=partner.partnership, partner=partner, **values
        )


def make_signature_request(partner: Partner, document=None, **fields):
    """A live request for `partner` made directly (no e-mail). Returns (request, token)."""
    import hashlib
    import secrets
    from datetime import timedelta

    from django.utils import timezone

    from signatories.models import SignatureRequest

    document = document or make_document(partner.partnership)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    values = {
        "email": UserFactory.build().email,
        "sent_at": now,
        "expires_at": now + timedelta(days=30),
        **fields,
    }
    with scope(partnership=partner.partnership):
        request = SignatureRequest.objects.create(
            partnership=partner.partnership,
            document=document,
            partner=partner,
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            **values,
        )
    return request, token


def first_signatory(partner: Partner):
    """The partner's first authorised signatory, made if it has none."""
    from signatories.models import AuthorisedSignatory

    with scope(partnership=partner.partnership):
        existing = AuthorisedSignatory.objects.filter(partner=partner).order_by("pk").first()
    return existing or make_signatory(partner)


def open_request(partner: Partner):
    """A live, unanswered signature request for the partner, made if it has none."""
    from signatories.models import RequestStatus, SignatureRequest

    with scope(partnership=partner.partnership):
        existing = (
            SignatureRequest.objects.filter(
                partner=partner, status__in=[RequestStatus.SENT, RequestStatus.OPENED]
            )
            .order_by("pk")
            .first()
        )
    return existing or make_signature_request(partner)[0]


# Protocols


def make_protocol(
    partnership: Partnership,
    *,
    title: str = "Information sharing protocol",
    lead: Partner | None = None,
    by=None,
):
    """A protocol started from the model protocol: version 1.0, a draft."""
    from protocols.services import create_from_model

    lead = lead or make_partner(partnership)
    with scope(partnership=partnership):
        return create_from_model(partnership, title=title, lead=lead, by=by)


def protocol_records(partnership: Partnership):
    """The partnership's first protocol, its first version and section, and its first piece of
    legislation: made on first use, led by the partnership's first partner."""
    from protocols.models import Legislation, Protocol

    with scope(partnership=partnership):
        protocol = Protocol.objects.order_by("pk").first()
        if protocol is None:
            lead = Partner.objects.order_by("pk").first() or make_partner(partnership)
            protocol = make_protocol(partnership, lead=lead)
        version = protocol.versions.order_by("pk").first()
        section = version.sections.order_by("position", "pk").first()
        statute = Legislation.objects.order_by("pk").first()
    return protocol, version, section, statute


# Agreements

# How the seed-002 agreement answers the default template's placeholders.
PLACEHOLDER_ANSWERS = {
    "describe the transfer method": "discussions between the parties' staff, in person or "
    "by video call; the lead organisation writes down what it needs in its own case records "
    "and nothing is sent by e-mail",
    "how the information is shared": "verbally, in discussions between the parties' staff",
    "how often it is shared": "once, for the review",
}


def make_agreement(
    partnership: Partnership,
    *,
    lead: Partner | None = None,
    others: list[Partner] | None = None,
    title: str = "Reablement review",
    reference: str | None = None,
    role: str = "joint_controller",
    with_item: bool = True,
    by=None,
):
    """A draft agreement started from the partnership's template, its lead and one more
    partner as parties (both `role`), and one data item sent from the other to the lead. The
    template's placeholders are filled in as the seed-002 agreement answers them."""
    from agreements.models import AgreementParty, AgreementSection, DataItem
    from agreements.services import create_agreement

    lead = lead or make_partner(partnership)
    others = others if others is not None else [make_partner(partnership)]
    with scope(partnership=partnership):
        from agreements.models import Agreement

        reference = reference or f"ISA-{Agreement.objects.count() + 1:03d}"
        agreement = create_agreement(
            partnership, title=title, reference=reference, lead=lead, by=by
        )
        AgreementParty.objects.filter(agreement=agreement).update(role=role)
        for section in agreement.sections.all():
            body = section.body
            for placeholder, answer in PLACEHOLDER_ANSWERS.items():
                body = body.replace(f"*{placeholder}*", answer)
            if body != section.body:
                AgreementSection.objects.filter(pk=section.pk).update(body=body)
        parties = [
            AgreementParty.objects.create(
                partnership=partnership, agreement=agreement, partner=partner, role=role
            )
            for partner in others
        ]
        if with_item and parties:
            DataItem.objects.create(
                partnership=partnership,
                agreement=agreement,
                position=1,
                item="Access reference number and date of leaving the service",
                category="personal",
                data_subjects="Adults who left the reablement service",
                from_party=parties[0],
                to_party=agreement.parties.get(partner=lead),
                purpose="To choose the records to review",
                necessity="Identifies each adult without sharing names",
            )
    return agreement


def agreement_records(partnership: Partnership):
    """The partnership's first agreement and its first data item: made on first use, led by
    the partnership's first partner."""
    from agreements.models import Agreement

    with scope(partnership=partnership):
        agreement = Agreement.objects.order_by("pk").first()
        if agreement is None:
            lead = Partner.objects.order_by("pk").first() or make_partner(partnership)
            agreement = make_agreement(partnership, lead=lead)
        item = agreement.data_items.order_by("pk").first()
    return agreement, item


def facts_changed(model, pk) -> None:
    """A test changed a record's facts behind the services' back (a queryset update, to move
    time): recompute its clocks, as the services do when they change a fact."""
    from django_scopes import scopes_disabled

    from accord.kernel import clocks

    with scopes_disabled():
        obj = model.objects.get(pk=pk)
        for spec in clocks.kinds().values():
            if isinstance(obj, spec.model):
                clocks.recompute(spec.name, obj)


def make_outbox_message(partnership: Partnership | None = None, **fields):
    """An e-mail in the outbox (not delivered: failed, unless told otherwise)."""
    from accord.kernel.models import OutboxMessage

    values = {
        "to": [UserFactory.build().email],
        "subject": "You are invited to join a partnership on Accord",
        "text": "Hello",
        "status": OutboxMessage.Status.FAILED,
        "attempts": 7,
        "last_error": "Refused by the mail server: 550 No such user",
        **fields,
    }
    return OutboxMessage.objects.create(
        partnership_id=partnership.pk if partnership else None, **values
    )
