from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django_scopes import ScopedManager

ICO_REFERENCE_PATTERN = r"^Z(?:\d{7}|[A-Z]\d{6})$"
ico_reference_validator = RegexValidator(
    ICO_REFERENCE_PATTERN,
    "Enter an ICO registration reference as Z and 7 digits, such as Z6034810, "
    "or Z, a letter and 6 digits, such as ZA123456.",
)


def normalise_ico_reference(value: str | None) -> str | None:
    value = (value or "").strip().upper().replace(" ", "")
    return value or None


class Sector(models.TextChoices):
    LOCAL_AUTHORITY = "local_authority", "Local authority"
    NHS = "nhs", "NHS"
    POLICE = "police", "Police"
    FIRE = "fire", "Fire and rescue"
    EDUCATION = "education", "Education"
    VOLUNTARY = "voluntary", "Voluntary and community"
    PRIVATE = "private", "Private"
    OTHER = "other", "Other"


class Organisation(models.Model):
    """One record per real body, shared by every partnership it belongs to and kept up to
    date by its own people."""

    name = models.CharField(max_length=200)
    address = models.TextField("head office address", blank=True)
    phone = models.CharField("telephone", max_length=40, blank=True)
    data_protection_email = models.EmailField("data protection e-mail", blank=True)
    dpo_name = models.CharField("data protection officer", max_length=150, blank=True)
    ico_reference = models.CharField(
        "ICO registration reference",
        max_length=8,
        null=True,
        blank=True,
        unique=True,
        validators=[ico_reference_validator],
        help_text="From the ICO's register of fee payers, such as Z6034810.",
    )
    sector = models.CharField(max_length=20, choices=Sector.choices, default=Sector.OTHER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="organisation_name_lower")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.ico_reference = normalise_ico_reference(self.ico_reference)
        super().save(*args, **kwargs)


class PartnerStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    ACTIVE = "active", "Active"
    WITHDRAWING = "withdrawing", "Withdrawing"
    WITHDRAWN = "withdrawn", "Withdrawn"


class Partner(models.Model):
    """An organisation's place in a partnership."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="partners"
    )
    status = models.CharField(
        max_length=12, choices=PartnerStatus.choices, default=PartnerStatus.ACTIVE
    )
    added_on = models.DateField(default=timezone.localdate)
    joined_on = models.DateField("active since", null=True, blank=True)
    notice_given_on = models.DateField(null=True, blank=True)
    withdrawal_reason = models.TextField(blank=True)
    leaves_on = models.DateField("withdrawal takes effect on", null=True, blank=True)
    withdrawn_on = models.DateField(null=True, blank=True)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership", "organisation"], name="one_partner_record_each"
            )
        ]
        indexes = [models.Index(fields=["partnership", "status"], name="partner_status")]

    def __str__(self) -> str:
        return str(self.organisation)
