"""Fast seeding with bulk_create: one large partnership and one small one."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django_scopes import scopes_disabled

from accounts.models import User
from signatories.models import Organisation, Partner, PartnerStatus, Sector
from tenancy.models import AuditEntry, Membership, Partnership

BATCH = 2000
FIRST_NAMES = [
    "Amelia",
    "Oliver",
    "Isla",
    "George",
    "Ava",
    "Noah",
    "Mia",
    "Arthur",
    "Ivy",
    "Leo",
    "Freya",
    "Oscar",
    "Lily",
    "Harry",
    "Florence",
    "Jack",
    "Rosie",
    "Theo",
    "Evie",
    "Alfie",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
]
PLACES = [
    "Bedford",
    "Luton",
    "Milton Keynes",
    "Northampton",
    "Peterborough",
    "Cambridge",
    "Norwich",
    "Ipswich",
    "Colchester",
    "Chelmsford",
    "Watford",
    "Stevenage",
    "Reading",
    "Slough",
]
KINDS = [
    ("Borough Council", Sector.LOCAL_AUTHORITY),
    ("NHS Foundation Trust", Sector.NHS),
    ("Police", Sector.POLICE),
    ("Fire and Rescue Service", Sector.FIRE),
    ("Academy Trust", Sector.EDUCATION),
    ("Community Trust", Sector.VOLUNTARY),
    ("Housing Ltd", Sector.PRIVATE),
    ("Integrated Care Board", Sector.OTHER),
]
ACTIONS = [
    "partner.added",
    "partner.status_changed",
    "partner.imported",
    "membership.created",
    "membership.changed",
    "membership.removed",
    "invitation.sent",
    "invitation.accepted",
    "invitation.revoked",
    "partnership.updated",
    "organisation.updated",
    "sweep.withdrawal",
]
# Roles of the people who are not the requester, as (field, share): a realistic mix.
ROLE_MIX = [
    ("is_viewer", 0.55),
    ("is_signatory", 0.15),
    ("is_ig_officer", 0.12),
    ("is_dpo", 0.08),
    ("is_steering_group", 0.07),
    ("is_administrator", 0.03),
]


@dataclass
class Seeded:
    partnership: Partnership
    partners: int
    people: int
    audit_entries: int


def _pick_role(rng: random.Random) -> str:
    x = rng.random()
    for field, share in ROLE_MIX:
        x -= share
        if x < 0:
            return field
    return "is_viewer"


def _describe(action: str) -> str:
    return action.replace(".", " ").replace("_", " ").capitalize()


def _organisations(rng: random.Random, count: int, serial: int) -> list[Organisation]:
    rows = []
    for i in range(count):
        n = serial + i
        kind, sector = KINDS[n % len(KINDS)]
        place = PLACES[n % len(PLACES)]
        rows.append(
            Organisation(
                name=f"{place} {kind} {n:04d}",
                address=f"{rng.randint(1, 200)} High Street, {place}",
                phone=f"01{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                data_protection_email=f"dpo{n}@org{n}.example.org",
                dpo_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                ico_reference=f"Z{7000000 + n:07d}",
                sector=sector,
            )
        )
    return Organisation.objects.bulk_create(rows, batch_size=BATCH)


def _partners(rng, partnership, organisations) -> list[Partner]:
    today = timezone.localdate()
    statuses = [PartnerStatus.ACTIVE] * 14 + [
        PartnerStatus.INVITED,
        PartnerStatus.WITHDRAWING,
        PartnerStatus.WITHDRAWN,
    ]
    rows = []
    for org in organisations:
        status = rng.choice(statuses)
        added = today - timedelta(days=rng.randint(30, 1500))
        rows.append(
            Partner(
                partnership=partnership,
                organisation=org,
                status=status,
                added_on=added,
                joined_on=None if status == PartnerStatus.INVITED else added + timedelta(days=7),
            )
        )
    return Partner.objects.bulk_create(rows, batch_size=BATCH)


def _people(rng, partnership, organisations, per_org, requester, serial) -> list[Membership]:
    """per_org people for each organisation; the requester is the first for the first one."""
    unusable = make_password(None)  # one unusable hash for all: nobody signs in with these
    users = [
        User(
            email=f"person{serial + i}@{partnership.slug}.example.org",
            full_name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            password=unusable,
        )
        for i in range(len(organisations) * per_org - 1)
    ]
    users = [requester, *User.objects.bulk_create(users, batch_size=BATCH)]
    memberships = []
    for i, user in enumerate(users):
        m = Membership(partnership=partnership, user=user, organisation=organisations[i // per_org])
        if user is requester:
            m.is_administrator = m.is_steering_group = True
        else:
            setattr(m, _pick_role(rng), True)
        memberships.append(m)
    return Membership.objects.bulk_create(memberships, batch_size=BATCH)


def _audit(rng, partnership, memberships, partners, count) -> int:
    now = timezone.now()
    span = int(timedelta(days=730).total_seconds())
    ct_partner = ContentType.objects.get_for_model(Partner)
    ct_membership = ContentType.objects.get_for_model(Membership)
    orgs = {p.organisation_id: p.organisation for p in partners}
    written = 0
    while written < count:
        rows = []
        for _ in range(min(BATCH * 5, count - written)):
            action = rng.choice(ACTIONS)
            automatic = action.startswith("sweep.") or rng.random() < 0.03
            m = None if automatic else rng.choice(memberships)
            user = m.user if m else None
            org = orgs.get(m.organisation_id) if m else None
            if action.startswith(("partner.", "sweep.")):
                target = rng.choice(partners)
                ct, obj_id, obj_repr = ct_partner, target.pk, target.organisation.name
                changes = {"status": ["active", "withdrawing"]}
            elif action.startswith("membership."):
                target = rng.choice(memberships)
                ct, obj_id, obj_repr = ct_membership, target.pk, target.user.full_name
                changes = {"is_viewer": [True, False], "is_signatory": [False, True]}
            else:
                ct, obj_id, obj_repr, changes = None, "", "", {}
            rows.append(
                AuditEntry(
                    partnership=partnership,
                    at=now - timedelta(seconds=rng.randint(0, span)),
                    actor=user,
                    actor_name=f"{user.full_name} <{user.email}>" if user else "Accord (automatic)",
                    organisation=org,
                    organisation_name=org.name if org else "",
                    action=action,
                    summary=f"{_describe(action)}: {obj_repr}",
                    content_type=ct,
                    object_id=str(obj_id),
                    object_repr=obj_repr,
                    changes=changes,
                    request_id=uuid.UUID(int=rng.getrandbits(128)).hex,
                )
            )
        AuditEntry.objects.bulk_create(rows, batch_size=BATCH)
        written += len(rows)
    return written


def seed_partnership(
    rng, *, name, slug, partners, people_per_partner, audit_entries, requester, serial
) -> Seeded:
    with scopes_disabled(), transaction.atomic():
        partnership = Partnership.objects.create(
            name=name, slug=slug, description=f"Benchmark partnership: {name}."
        )
        organisations = _organisations(rng, partners, serial)
        partner_rows = _partners(rng, partnership, organisations)
        for p, org in zip(partner_rows, organisations, strict=True):
            p.organisation = org
        memberships = _people(
            rng, partnership, organisations, people_per_partner, requester, serial * 100
        )
        written = _audit(rng, partnership, memberships, partner_rows, audit_entries)
    return Seeded(partnership, len(partner_rows), len(memberships), written)


def seed(large: dict, small: dict, seed_value: int = 20250401) -> tuple[User, Seeded, Seeded]:
    rng = random.Random(seed_value)
    requester = User.objects.create(
        email="requester@bench.example.org",
        full_name="Rachel Requester",
        password=make_password(None),
    )
    big = seed_partnership(
        rng,
        name="Large Bench Partnership",
        slug="large-bench",
        requester=requester,
        serial=0,
        **large,
    )
    little = seed_partnership(
        rng,
        name="Small Bench Partnership",
        slug="small-bench",
        requester=requester,
        serial=10000,
        **small,
    )
    with connection.cursor() as cur:  # planner statistics and visibility map, as in production
        cur.execute("VACUUM ANALYZE")
    return requester, big, little
