"""Factories for the suite: build what a test needs, nothing copied around."""

from __future__ import annotations

import factory
from django_scopes import scope

from accounts.models import User
from signatories.models import Organisation, Partner, PartnerStatus, Sector
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
) -> Membership:
    """A person in the partnership with these roles, acting for a partner organisation."""
    user = user or UserFactory()
    if organisation is None:
        organisation = make_partner(partnership).organisation
    with scope(partnership=partnership):
        membership = Membership(partnership=partnership, user=user, organisation=organisation)
        membership.set_roles(roles or [Role.VIEWER])
        membership.save()
    return membership


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
