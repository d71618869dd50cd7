"""Demo partnerships, organisations and people (`manage.py seed_demo`), safe to run again.

Everything goes through the services (or, for memberships, the same audit entry the services
write), with the partnership's founding administrator as the actor, so the audit log reads as
if those people had done it. Existing records (matched by slug, e-mail or organisation name)
are left as they are; only what is missing is added. The data itself is in demo_data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_scopes import scope

from accord.kernel.context import acting
from tenancy.audit import log_action
from tenancy.models import Membership, Partnership
from tenancy.roles import Role
from tenancy.services import change_membership, create_partnership

from . import demo_data
from .affiliations import (
    acts_for,
    approve,
    request_affiliation,
    verified_people,
    verify_by_operator,
)
from .demo_data import MembershipSpec, OrganisationSpec, PartnershipSpec, PersonSpec
from .models import Affiliation, Organisation, Partner
from .services import add_partner, create_organisation

User = get_user_model()

DEFAULT_PASSWORD = "accord-demo-2026"  # noqa: S105 - the published demo password
# The demo person whose link to their organisation still awaits a colleague's approval.
PENDING_PERSON = "viewer.weisf@example.org"


class InconsistentDemoData(ValueError):
    """demo_data contradicts itself (see demo_data.problems)."""


def seed(password: str) -> str:
    """Add whatever part of the demo partnerships, organisations and people is missing, in
    the caller's transaction; returns what was added in a sentence ("" for nothing).

    Raises InconsistentDemoData, adding nothing, when the demo data contradicts itself.
    """
    problems = demo_data.problems()
    if problems:
        raise InconsistentDemoData("The demo data is inconsistent:\n" + "\n".join(problems))
    seeder = DemoSeeder(password)
    seeder.run()
    return seeder.report()


class DemoSeeder:
    """Adds whatever part of the demo data is missing and counts what it added."""

    def __init__(self, password: str) -> None:
        self.password = password
        self.added: Counter[str] = Counter()
        self.organisations: dict[str, Organisation] = {}
        self.users: dict[str, Any] = {}

    def run(self) -> None:
        for spec in demo_data.ORGANISATIONS:
            self.organisations[spec.name] = self.organisation(spec)
        for person in demo_data.PEOPLE:
            self.users[person.email] = self.user(person)
        for spec in demo_data.PARTNERSHIPS:
            self.partnership(spec)
        self.verify_people()

    def organisation(self, spec: OrganisationSpec) -> Organisation:
        existing = Organisation.objects.filter(name__iexact=spec.name).first()
        if existing is None and spec.ico_reference:
            existing = Organisation.objects.filter(ico_reference=spec.ico_reference).first()
        if existing is not None:
            return existing
        self.added["organisations"] += 1
        return create_organisation(
            name=spec.name, sector=spec.sector, ico_reference=spec.ico_reference
        )

    def user(self, person: PersonSpec) -> Any:
        user = User.objects.filter(email__iexact=person.email).first()
        if user is None:
            self.added["people"] += 1
            return User.objects.create_user(
                email=person.email,
                password=self.password,
                full_name=person.full_name,
                job_title=person.job_title,
            )
        if not user.check_password(self.password):
            user.set_password(self.password)
            user.save(update_fields=["password"])
            self.added["passwords reset"] += 1
        return user

    def partnership(self, spec: PartnershipSpec) -> Partnership:
        members = [
            (self.users[person.email], membership)
            for person in demo_data.PEOPLE
            for membership in person.memberships
            if membership.partnership == spec.slug
        ]
        founder = self.users[spec.founder]
        founding = next(m for user, m in members if user == founder)
        founder_organisation = self.organisations[founding.organisation]
        with acting(user=founder, organisation=founder_organisation):
            partnership = Partnership.objects.filter(slug=spec.slug).first()
            if partnership is None:
                # Makes the founder its first administrator and their organisation a partner.
                partnership = create_partnership(
                    name=spec.name,
                    slug=spec.slug,
                    description=spec.description,
                    founder=founder,
                    organisation=founder_organisation,
                )
                self.added["partnerships"] += 1
                if set(founding.roles) != {Role.ADMINISTRATOR}:
                    # Nobody changes their own roles: the demo's set-up does, as Accord.
                    with scope(partnership=partnership), acting(user=None):
                        membership = Membership.objects.get(user=founder)
                        change_membership(
                            membership, roles=founding.roles, organisation=founder_organisation
                        )
                self.added["memberships"] += 1
                self.added["partners"] += 1
            with scope(partnership=partnership):
                for partner in spec.partners:
                    organisation = self.organisations[partner.organisation]
                    if not Partner.objects.filter(organisation=organisation).exists():
                        add_partner(partnership, organisation, status=partner.status)
                        self.added["partners"] += 1
                for user, membership in members:
                    if not Membership.objects.filter(user=user).exists():
                        self.add_member(partnership, user, membership)
        return partnership

    def add_member(self, partnership: Partnership, user: Any, spec: MembershipSpec) -> Membership:
        """A membership as an administrator would grant it, with the same audit entry."""
        organisation = self.organisations[spec.organisation]
        membership = Membership(partnership=partnership, user=user, organisation=organisation)
        membership.set_roles(spec.roles)
        membership.save()
        labels = membership.role_labels
        log_action(
            partnership,
            "membership.created",
            f"Added {user} as {', '.join(labels)}",
            membership,
            {"roles": [None, labels], "organisation": [None, str(organisation)]},
        )
        self.added["memberships"] += 1
        return membership

    def verify_people(self) -> None:
        """Each organisation's first demo person is verified by Accord's operator (as
        `manage.py verify_affiliation` does); they approve the others, as a real organisation's
        people would. One person is left awaiting approval (PENDING_PERSON)."""
        for person in demo_data.PEOPLE:
            user = self.users[person.email]
            for spec in person.memberships:
                organisation = self.organisations[spec.organisation]
                if acts_for(user, organisation):
                    continue
                partnership = Partnership.objects.get(slug=spec.partnership)
                if person.email == PENDING_PERSON:
                    request_affiliation(user, organisation, partnership=partnership)
                    continue
                approver = verified_people(organisation).exclude(pk=user.pk).first()
                if approver is None:
                    verify_by_operator(user, organisation, note="Demo: checked by the operator")
                else:
                    affiliation = request_affiliation(user, organisation, partnership=partnership)
                    if affiliation.status != Affiliation.Status.VERIFIED:
                        approve(affiliation, by=approver)
                self.added["people verified"] += 1

    def report(self) -> str:
        order = [
            "partnerships",
            "organisations",
            "partners",
            "people",
            "memberships",
            "people verified",
        ]
        parts = [f"{self.added[key]} {key}" for key in order if self.added[key]]
        text = "Added " + ", ".join(parts) + "." if parts else ""
        reset = self.added["passwords reset"]
        if reset:
            text += f" Set the demo password for {reset} existing demo people."
        return text.strip()


def demo_emails() -> list[str]:
    return [person.email for person in demo_data.PEOPLE]


def sign_in_table(password: str) -> str:
    """Who to sign in as, grouped by partnership, read from the database as it now stands."""
    emails = demo_emails()
    lines = [
        "",
        f"Demo sign-ins at {settings.SITE_URL}{reverse('account_login')}",
        f"Password for every demo person: {password}",
    ]
    in_several: dict[str, list[str]] = {}
    for partnership in Partnership.objects.filter(
        slug__in=[spec.slug for spec in demo_data.PARTNERSHIPS]
    ).order_by("name"):
        with scope(partnership=partnership):
            memberships = list(
                Membership.objects.filter(user__email__in=emails).select_related(
                    "user", "organisation"
                )
            )
            partners = Partner.objects.values_list("status", flat=True)
            statuses = Counter(partners)
        memberships.sort(key=lambda m: (_first_role(m), emails.index(m.user.email)))
        path = reverse("tenancy:dashboard", kwargs={"partnership_slug": partnership.slug})
        partner_counts = ", ".join(
            f"{count} {status}" for status, count in sorted(statuses.items())
        )
        lines += ["", f"{partnership.name}  ({path}; partners: {partner_counts})"]
        lines += _rows(
            (m.user.email, ", ".join(m.role_labels), str(m.organisation)) for m in memberships
        )
        for m in memberships:
            in_several.setdefault(m.user.email, []).append(partnership.name)
    for email, names in in_several.items():
        if len(names) > 1:
            lines += ["", f"{email} belongs to {' and '.join(names)}: try switching between them."]
    waiting = Affiliation.objects.filter(
        user__email=PENDING_PERSON, status=Affiliation.Status.PENDING
    ).select_related("organisation")
    for affiliation in waiting:
        approver = verified_people(affiliation.organisation).first()
        lines += [
            "",
            f"{PENDING_PERSON} is awaiting verification for {affiliation.organisation}"
            + (f": sign in as {approver.email} to approve them." if approver else "."),
        ]
    return "\n".join(lines) + "\n"


def _first_role(membership: Membership) -> int:
    roles = list(Role)
    return min((roles.index(role) for role in membership.roles), default=len(roles))


def _rows(rows: Iterable[tuple[str, str, str]]) -> list[str]:
    rows = list(rows)
    if not rows:
        return ["  (no demo people)"]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    return [
        f"  {email:<{widths[0]}}  {roles:<{widths[1]}}  {organisation}"
        for email, roles, organisation in rows
    ]
