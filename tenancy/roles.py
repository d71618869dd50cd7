"""Roles in a partnership, and what each may do: the one place permissions are decided."""

from enum import StrEnum

from django.db import models


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", "Partnership administrator"
    STEERING_GROUP = "steering_group", "Steering group member"
    IG_OFFICER = "ig_officer", "IG officer"
    SIGNATORY = "signatory", "Authorised signatory"
    DPO = "dpo", "Data protection officer"
    VIEWER = "viewer", "Viewer"


ROLE_HINTS = {
    Role.ADMINISTRATOR: "Runs the partnership: people, partners and settings.",
    Role.STEERING_GROUP: "Approves protocols, tracks reviews, reads the audit log.",
    Role.IG_OFFICER: "Drafts information sharing agreements.",
    Role.SIGNATORY: "Signs protocols and agreements for their organisation.",
    Role.DPO: "Logs and manages personal data breaches.",
    Role.VIEWER: "Reads the partnership's documents.",
}


class Perm(StrEnum):
    VIEW = "view"
    MANAGE_PARTNERSHIP = "manage_partnership"
    MANAGE_PEOPLE = "manage_people"
    MANAGE_PARTNERS = "manage_partners"
    VIEW_AUDIT = "view_audit"
    DRAFT_DOCUMENTS = "draft_documents"
    APPROVE_DOCUMENTS = "approve_documents"
    SIGN = "sign"
    MANAGE_BREACHES = "manage_breaches"
    MANAGE_REVIEWS = "manage_reviews"
    VIEW_BREACH_FIGURES = "view_breach_figures"


EVERY_ROLE = frozenset(Role)

GRANTS: dict[Perm, frozenset[Role]] = {
    Perm.VIEW: EVERY_ROLE,
    Perm.MANAGE_PARTNERSHIP: frozenset({Role.ADMINISTRATOR}),
    Perm.MANAGE_PEOPLE: frozenset({Role.ADMINISTRATOR}),
    Perm.MANAGE_PARTNERS: frozenset({Role.ADMINISTRATOR}),
    Perm.VIEW_AUDIT: frozenset({Role.ADMINISTRATOR, Role.STEERING_GROUP}),
    Perm.DRAFT_DOCUMENTS: frozenset({Role.ADMINISTRATOR, Role.IG_OFFICER}),
    Perm.APPROVE_DOCUMENTS: frozenset({Role.STEERING_GROUP}),
    Perm.SIGN: frozenset({Role.SIGNATORY}),
    Perm.MANAGE_BREACHES: frozenset({Role.DPO, Role.ADMINISTRATOR}),
    Perm.MANAGE_REVIEWS: frozenset({Role.STEERING_GROUP, Role.ADMINISTRATOR}),
    # How quickly breaches were handled, in figures: the steering group oversees it.
    Perm.VIEW_BREACH_FIGURES: frozenset({Role.STEERING_GROUP, Role.DPO, Role.ADMINISTRATOR}),
}


def roles_granting(perm: Perm) -> frozenset[Role]:
    return GRANTS[perm]


def allows(roles: set[str] | frozenset[str], perm: Perm) -> bool:
    return bool(set(roles) & GRANTS[perm])
