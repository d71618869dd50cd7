from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from accord.kernel.cadences import BREACH_WARNINGS

from .roles import Perm, Role, allows

slug_validator = RegexValidator(
    r"^[a-z0-9]+(?:-[a-z0-9]+)*$",
    "Use lower-case letters, numbers and single hyphens, such as bedfordshire-isp.",
)
RESERVED_SLUGS = {"new", "admin", "static", "accounts", "api"}


def parse_warning_hours(text: str) -> list[int]:
    """“24, 6, 1” as [24, 6, 1]: whole hours from 1 to 71, each once, longest first."""
    parts = [p.strip() for p in (text or "").replace(";", ",").split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValidationError("Enter whole numbers of hours separated by commas, such as 24, 6, 1.")
    hours = sorted({int(p) for p in parts}, reverse=True)
    if hours[0] > 71 or hours[-1] < 1 or len(hours) > 6:
        raise ValidationError(
            "Enter up to 6 warnings, each from 1 to 71 hours before the deadline."
        )
    return hours


def breach_warnings_validator(value: str) -> None:
    parse_warning_hours(value)


class Partnership(models.Model):
    """The tenant: a forum of organisations sharing information under one protocol."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(
        "short name for web addresses",
        max_length=60,
        unique=True,
        validators=[slug_validator],
        help_text="Lower-case letters, numbers and hyphens. It appears in every address.",
    )
    description = models.TextField(blank=True)
    public_page_enabled = models.BooleanField(
        "publish a public page",
        default=False,
        help_text="Shows the partnership's adopted protocols and signatories to anyone.",
    )
    public_signatory_names = models.BooleanField(
        "show signatories' names on the public page",
        default=False,
        help_text="Otherwise the public page lists each signing organisation, position and date.",
    )
    mfa_required = models.BooleanField(
        "require two-factor authentication",
        default=False,
        help_text="Members must set up an authenticator app before they can open the partnership.",
    )
    breach_warning_hours = models.CharField(
        "warn before a breach deadline (hours)",
        max_length=40,
        default=", ".join(str(int(w.total_seconds() // 3600)) for w in BREACH_WARNINGS),
        validators=[breach_warnings_validator],
        help_text="Hours before each deadline to remind the reporting DPO and their deputy, "
        "such as 24, 6, 1.",
    )
    breach_lead_decides_hours = models.PositiveSmallIntegerField(
        "the lead organisation decides this many hours before the ICO deadline",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(71)],
        help_text="If the involved partners have not agreed whether to notify the ICO by then.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def breach_warnings(self) -> tuple[timedelta, ...]:
        """The warnings before a breach deadline, longest first: (24 h, 6 h, 1 h)."""
        return tuple(timedelta(hours=h) for h in parse_warning_hours(self.breach_warning_hours))

    def clean(self) -> None:
        if self.slug in RESERVED_SLUGS:
            raise ValidationError({"slug": "This short name is reserved. Choose another."})


ROLE_FIELDS: dict[str, str] = {
    Role.ADMINISTRATOR: "is_administrator",
    Role.STEERING_GROUP: "is_steering_group",
    Role.IG_OFFICER: "is_ig_officer",
    Role.SIGNATORY: "is_signatory",
    Role.DPO: "is_dpo",
    Role.VIEWER: "is_viewer",
}


class RoleFlags(models.Model):
    """One flag a role, so that 'every DPO of this partnership' is a plain indexed query."""

    is_administrator = models.BooleanField(Role.ADMINISTRATOR.label, default=False)
    is_steering_group = models.BooleanField(Role.STEERING_GROUP.label, default=False)
    is_ig_officer = models.BooleanField(Role.IG_OFFICER.label, default=False)
    is_signatory = models.BooleanField(Role.SIGNATORY.label, default=False)
    is_dpo = models.BooleanField(Role.DPO.label, default=False)
    is_viewer = models.BooleanField(Role.VIEWER.label, default=False)

    class Meta:
        abstract = True

    @property
    def roles(self) -> list[Role]:
        return [role for role, field in ROLE_FIELDS.items() if getattr(self, field)]

    @property
    def role_labels(self) -> list[str]:
        return [role.label for role in self.roles]

    def set_roles(self, roles) -> None:
        chosen = {Role(r) for r in roles}
        for role, field in ROLE_FIELDS.items():
            setattr(self, field, role in chosen)

    def can(self, perm: Perm) -> bool:
        return allows(set(self.roles), perm)


class Membership(RoleFlags):
    """A person's place in a partnership: their roles and the organisation they act for."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    # A string reference: organisations belong to `signatories`, which builds on this app.
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="memberships"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["user__full_name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "user"], name="one_membership_each")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.organisation})"


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class InvitationQuerySet(models.QuerySet):
    def pending(self) -> InvitationQuerySet:
        return self.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )


class Invitation(RoleFlags):
    """An e-mailed, expiring, single-use invitation to join a partnership with given roles."""

    partnership = models.ForeignKey(Partnership, on_delete=models.CASCADE, related_name="+")
    email = models.EmailField("e-mail address")
    full_name = models.CharField("full name", max_length=150, blank=True)
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(
        partnership="partnership", _manager_class=InvitationQuerySet.as_manager().__class__
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    def issue_token(self) -> str:
        """Set a new secret (256 bits); only its hash is kept. Returns the secret for the link."""
        token = secrets.token_urlsafe(32)
        self.token_hash = _hash_token(token)
        self.expires_at = timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS)
        return token

    @staticmethod
    def hash_token(token: str) -> str:
        return _hash_token(token)

    @property
    def state(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit entries cannot be changed.")

    def delete(self):
        raise PermissionError("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """One thing that happened to a partnership's records. Written once, never changed."""

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_name = models.CharField(max_length=300, blank=True)
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    organisation_name = models.CharField(max_length=300, blank=True)
    action = models.CharField(max_length=80)
    summary = models.CharField(max_length=500)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects = ScopedManager(
        partnership="partnership", _manager_class=AuditQuerySet.as_manager().__class__
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [
            models.Index(fields=["partnership", "-at", "-id"], name="audit_partnership_recent"),
            models.Index(fields=["partnership", "content_type", "object_id"], name="audit_object"),
            models.Index(fields=["partnership", "action"], name="audit_action"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Audit entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit entries cannot be deleted.")
