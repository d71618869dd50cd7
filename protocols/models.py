"""Information sharing protocols: the partnership's overarching framework, in versions."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from accord.kernel.cadences import SIGNING_MAX_REMINDERS, SIGNING_REMINDER_EVERY_DAYS


class Protocol(models.Model):
    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=300)
    lead = models.ForeignKey(
        "signatories.Partner",
        on_delete=models.PROTECT,
        related_name="led_protocols",
        verbose_name="lead organisation",
    )
    purposes = models.TextField(blank=True)
    date_in_force = models.DateField(null=True, blank=True)
    notice_weeks = models.PositiveSmallIntegerField(
        "notice period for withdrawal (weeks)",
        default=4,
        validators=[MinValueValidator(0), MaxValueValidator(52)],
    )
    review_months = models.PositiveSmallIntegerField(
        "review every (months)",
        default=12,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )
    next_review_on = models.DateField("next review date", null=True, blank=True)
    remind_every_days = models.PositiveSmallIntegerField(
        "remind unsigned partners every (days)",
        default=SIGNING_REMINDER_EVERY_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    max_reminders = models.PositiveSmallIntegerField(
        "reminders at most",
        default=SIGNING_MAX_REMINDERS,
        validators=[MaxValueValidator(20)],
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    retirement_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    FOR_APPROVAL = "for_approval", "For approval"
    APPROVED = "approved", "Approved"
    FOR_SIGNATURE = "for_signature", "For signature"
    SIGNED = "signed", "Signed by every partner asked"
    SUPERSEDED = "superseded", "Superseded"
    RETIRED = "retired", "Retired"


EDITABLE = {VersionStatus.DRAFT}
LOCKED_MESSAGE = "This version went for approval/signature and cannot change: start a new version"
# Once a version is frozen, these never change.
FROZEN_FIELDS = ("major", "minor", "change_summary", "document_id", "protocol_id")


class ProtocolVersion(models.Model):
    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    protocol = models.ForeignKey(Protocol, on_delete=models.CASCADE, related_name="versions")
    major = models.PositiveSmallIntegerField(default=1)
    minor = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(
        max_length=15, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    change_summary = models.TextField(blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    document = models.OneToOneField(
        "documents.FrozenDocument",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="protocol_version",
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    signed_at = models.DateTimeField("fully signed at", null=True, blank=True)
    issued_at = models.DateTimeField(
        null=True, blank=True, help_text="A minor version issued without signing again."
    )
    carries_signatures_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The signed version whose signatures an issued minor version carries.",
    )
    return_reason = models.TextField(
        blank=True, help_text="Why the steering group last returned it to draft."
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["-major", "-minor"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "major", "minor"], name="one_version_number_each"
            )
        ]

    def __str__(self) -> str:
        return f"{self.protocol} {self.number}"

    def save(self, *args, **kwargs) -> None:
        # Once frozen, a version's number, summary and document never change.
        stored = getattr(self, "_stored", {})
        if stored.get("document_id") is not None:
            changed = [name for name, value in stored.items() if getattr(self, name) != value]
            if changed:
                raise ValidationError(LOCKED_MESSAGE)
        super().save(*args, **kwargs)
        self._stored = {name: getattr(self, name) for name in FROZEN_FIELDS}

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored = {
            name: getattr(instance, name) for name in FROZEN_FIELDS if name in field_names
        }
        return instance

    @property
    def number(self) -> str:
        return f"{self.major}.{self.minor}"

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE


class Section(models.Model):
    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    version = models.ForeignKey(ProtocolVersion, on_delete=models.CASCADE, related_name="sections")
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, help_text="Markdown: lists, tables and links work.")

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        if not ProtocolVersion.objects.filter(pk=self.version_id, status__in=EDITABLE).exists():
            raise ValidationError(LOCKED_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if not ProtocolVersion.objects.filter(pk=self.version_id, status__in=EDITABLE).exists():
            raise ValidationError(LOCKED_MESSAGE)
        return super().delete(*args, **kwargs)


class Legislation(models.Model):
    """The partnership's library of statutes (copied from Accord's list, then its own)."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(max_length=200)
    year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Leave blank for common law."
    )
    url = models.URLField("legislation.gov.uk address", blank=True)
    note = models.TextField(blank=True)
    sections = models.CharField(
        "sections that empower sharing",
        max_length=200,
        blank=True,
        help_text="As an agreement cites them, such as “sections 2, 6, 7 and 42 to 45”.",
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["title"]
        verbose_name_plural = "legislation"
        constraints = [
            models.UniqueConstraint(fields=["partnership", "title"], name="one_statute_each")
        ]

    def __str__(self) -> str:
        return f"{self.title}"

    @property
    def citation(self) -> str:
        """The title with the sections relied on: “Care Act 2014, sections 2, 6, 7 and 42 to
        45”."""
        return f"{self.title}, {self.sections}" if self.sections else self.title


class LegislationLibrary(models.Model):
    """The partnership has its own copy of Accord's legislation library (made once)."""

    partnership = models.OneToOneField(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    copied_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        verbose_name_plural = "legislation libraries"

    def __str__(self) -> str:
        return f"Legislation library copied {self.copied_at:%d/%m/%Y}"
