"""`manage.py verify_affiliation EMAIL ORGANISATION`: the operator vouches for a person.

For an organisation nobody on Accord is verified for yet and whose data protection address is
not confirmed, the operator checks outside Accord (a call to the body's switchboard, a letter)
that the person works there, then records it here. The person is told by e-mail.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from signatories.affiliations import verify_by_operator
from signatories.models import Organisation, normalise_ico_reference


class Command(BaseCommand):
    help = (
        "Verify that a person works for an organisation, after checking it outside Accord. "
        "ORGANISATION is its ICO registration reference, its id or its exact name."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("organisation")
        parser.add_argument(
            "--note", required=True, help="How it was checked, kept with the verification."
        )

    def handle(self, *args: Any, email: str, organisation: str, note: str, **options: Any) -> None:
        user = get_user_model().objects.filter(email__iexact=email.strip()).first()
        if user is None:
            raise CommandError(f"No account has the address {email}.")
        query = Q(name__iexact=organisation.strip())
        if organisation.strip().isdigit():
            query |= Q(pk=int(organisation.strip()))
        if reference := normalise_ico_reference(organisation):
            query |= Q(ico_reference=reference)
        found = list(Organisation.objects.filter(query)[:2])
        if len(found) != 1:
            raise CommandError(
                f"{'No' if not found else 'More than one'} organisation matches {organisation!r}."
            )
        affiliation = verify_by_operator(user, found[0], note=note)
        self.stdout.write(
            f"{user.email} is verified for {found[0]} ({affiliation.get_method_display()})."
        )
