"""Organisations: one record per real body, shared by every partnership it belongs to.

Below tenancy, so a person's membership can name the organisation they act for."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

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
    data_protection_email_confirmed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When someone at the address confirmed it; links go only to a confirmed address.",
    )
    dpo_name = models.CharField("data protection officer", max_length=150, blank=True)
    deputy_dpo_name = models.CharField("deputy DPO", max_length=150, blank=True)
    deputy_dpo_email = models.EmailField(
        "deputy DPO's e-mail",
        blank=True,
        help_text="Out-of-hours cover: reminded with the DPO before a breach's deadlines.",
    )
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
        db_table = "signatories_organisation"  # the table it has always had
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="organisation_name_lower")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        self.ico_reference = normalise_ico_reference(self.ico_reference)
        super().save(*args, **kwargs)

    @property
    def confirmed_data_protection_email(self) -> str:
        """The data protection address, once confirmed from it; "" until then."""
        return self.data_protection_email if self.data_protection_email_confirmed_at else ""


# Mail services and public suffixes many bodies share: an address there proves nothing
# about an organisation, so none can be listed as one organisation's own domain.
SHARED_MAIL_DOMAINS = frozenset(
    {
        # UK public suffixes and shared public-sector mail
        "gov.uk",
        "nhs.uk",
        "police.uk",
        "sch.uk",
        "ac.uk",
        "org.uk",
        "co.uk",
        "me.uk",
        "ltd.uk",
        "plc.uk",
        "net.uk",
        "mod.uk",
        "parliament.uk",
        "nhs.net",
        "nhs.scot",
        "wales.nhs.uk",
        "hscni.net",
        "cjsm.net",
        "pnn.police.uk",
        "gsi.gov.uk",
        "gcsx.gov.uk",
        "gse.gov.uk",
        # Free and consumer mail
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "outlook.co.uk",
        "hotmail.com",
        "hotmail.co.uk",
        "hotmail.fr",
        "live.com",
        "live.co.uk",
        "live.fr",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.fr",
        "ymail.com",
        "rocketmail.com",
        "icloud.com",
        "icloud.co.uk",
        "me.com",
        "mac.com",
        "aol.com",
        "aol.co.uk",
        "btinternet.com",
        "btopenworld.com",
        "sky.com",
        "virginmedia.com",
        "ntlworld.com",
        "blueyonder.co.uk",
        "talktalk.net",
        "tiscali.co.uk",
        "protonmail.com",
        "proton.me",
        "pm.me",
        "tutanota.com",
        "fastmail.com",
        "zoho.com",
        "yandex.com",
        "mail.ru",
        "gmx.com",
        "gmx.co.uk",
        "gmx.de",
        "web.de",
        "mail.com",
        # Reserved for examples
        "example.org",
        "example.com",
        "example.net",
    }
)
domain_validator = RegexValidator(
    r"^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
    "Enter a domain like essex.gov.uk, without www. or an @.",
)


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower() if "@" in email else ""


class OrganisationDomain(models.Model):
    """A mail domain that belongs to one organisation: a verified address on it proves that
    its holder works there."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="domains")
    domain = models.CharField(max_length=253, unique=True, validators=[domain_validator])
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "signatories_organisationdomain"
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain
