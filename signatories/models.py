from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager

from accord.kernel.cadences import SIGNING_MAX_REMINDERS, SIGNING_REMINDER_EVERY_DAYS
from organisations.models import (  # noqa: F401  (the names signatories' callers use)
    ICO_REFERENCE_PATTERN,
    SHARED_MAIL_DOMAINS,
    Organisation,
    OrganisationDomain,
    Sector,
    domain_validator,
    email_domain,
    ico_reference_validator,
    normalise_ico_reference,
)


class Affiliation(models.Model):
    """A person's link to an organisation they work for. Global, like organisations, and
    effective (for the organisation's record and for signing in its name) only once verified:
    never by the person's own say-so."""

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting verification"
        VERIFIED = "verified", "Verified"
        REFUSED = "refused", "Refused"
        REVOKED = "revoked", "Revoked"

    class Method(models.TextChoices):
        DOMAIN = "domain", "E-mail address on the organisation's own domain"
        APPROVED = "approved", "Approved by a verified person of the organisation"
        DATA_PROTECTION = "data_protection", "Approved from its data protection address"
        CREATED = "created", "Created the organisation's record"
        OPERATOR = "operator", "Verified by Accord's operator"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affiliations"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="affiliations"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    method = models.CharField(max_length=20, choices=Method.choices, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)
    # The partnership whose invitation asked (its name only: this record is not a tenant's).
    requested_in = models.CharField("asked in", max_length=200, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    # The SHA-256 of the secret in the link e-mailed to the data protection address, when
    # nobody is verified for the organisation yet.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    token_sent_to = models.EmailField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organisation__name", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="one_affiliation_each")
        ]
        indexes = [models.Index(fields=["organisation", "status"], name="affiliation_status")]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation}"


class AddressConfirmation(models.Model):
    """A new contact address waiting to be confirmed from itself before any link goes to it:
    an organisation's data protection address, or an authorised signatory's."""

    class Purpose(models.TextChoices):
        DATA_PROTECTION = "data_protection", "Data protection address"
        SIGNATORY = "signatory", "Authorised signatory's address"

    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    email = models.EmailField()
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="address_confirmations"
    )
    signatory = models.ForeignKey(
        "AuthorisedSignatory",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="confirmations",
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Confirmation of {self.email}"

    @property
    def state(self) -> str:
        if self.confirmed_at:
            return "confirmed"
        if self.cancelled_at:
            return "cancelled"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


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


class AuthorisedSignatory(models.Model):
    """A person who may sign for a partner organisation (Chief Executive, SIRO, ...)."""

    class Position(models.TextChoices):
        CHIEF_EXECUTIVE = "Chief Executive", "Chief Executive"
        SIRO = "Senior Information Risk Owner", "Senior Information Risk Owner (SIRO)"
        CALDICOTT = "Caldicott Guardian", "Caldicott Guardian"
        DPO = "Data Protection Officer", "Data Protection Officer"
        DIRECTOR = "Director", "Director"
        OTHER = "Other", "Other"

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="signatories")
    name = models.CharField(max_length=150)
    position = models.CharField(max_length=150)
    email = models.EmailField("e-mail address")
    confirmed_at = models.DateTimeField(
        "address confirmed at",
        null=True,
        blank=True,
        help_text="When the signatory confirmed the address; requests go only to confirmed ones.",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["partner__organisation__name", "name"]
        verbose_name_plural = "authorised signatories"

    def __str__(self) -> str:
        return f"{self.name}, {self.position}"


class RequestStatus(models.TextChoices):
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    SIGNED = "signed", "Signed"
    DECLINED = "declined", "Declined"
    VOID = "void", "Replaced by a new link"


LIVE_STATUSES = [
    RequestStatus.SENT,
    RequestStatus.OPENED,
    RequestStatus.SIGNED,
    RequestStatus.DECLINED,
]


class SignatureRequest(models.Model):
    """A partner asked to sign one frozen document, through an e-mailed link."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    document = models.ForeignKey(
        "documents.FrozenDocument", on_delete=models.PROTECT, related_name="signature_requests"
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="signature_requests"
    )
    signatory = models.ForeignKey(
        AuthorisedSignatory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
    )
    email = models.EmailField("sent to")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=RequestStatus.choices, default=RequestStatus.SENT
    )
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    opened_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    remind_every_days = models.PositiveSmallIntegerField(default=SIGNING_REMINDER_EVERY_DAYS)
    max_reminders = models.PositiveSmallIntegerField(default=SIGNING_MAX_REMINDERS)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["partner__organisation__name", "-sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "partner"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="one_live_request_per_partner",
            )
        ]
        indexes = [models.Index(fields=["status", "sent_at"], name="request_status_sent")]

    def __str__(self) -> str:
        return f"{self.partner} asked to sign {self.document}"


class Signature(models.Model):
    """A partner's answer to a signature request: signed or declined. Never changed."""

    class Outcome(models.TextChoices):
        SIGNED = "signed", "Signed"
        DECLINED = "declined", "Declined"

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.PROTECT, related_name="+"
    )
    document = models.ForeignKey(
        "documents.FrozenDocument", on_delete=models.PROTECT, related_name="signatures"
    )
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="signatures")
    request = models.OneToOneField(
        SignatureRequest, on_delete=models.PROTECT, related_name="signature"
    )
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    name = models.CharField(max_length=150)
    position = models.CharField(max_length=150)
    email = models.EmailField()
    reason = models.TextField(blank=True, help_text="Why the partner declined.")
    at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    sha256 = models.CharField("SHA-256 of the document signed", max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["at"]
        constraints = [
            # One answer per request. A partner asked again after declining answers a new
            # request; both answers stay on record and the later one counts.
            models.UniqueConstraint(fields=["request"], name="one_answer_per_request"),
            models.UniqueConstraint(
                fields=["document", "partner"],
                condition=models.Q(outcome="signed"),
                name="one_signature_per_partner_per_document",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} {self.get_outcome_display().lower()} {self.document}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Signatures cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Signatures cannot be deleted.")


class ReminderLink(models.Model):
    """A further link to a request, e-mailed with a reminder or with the answer's confirmation.

    The first link's hash is on the request itself; each reminder adds one, so every link the
    signatory was sent works until the request is answered, replaced or expires. The answer
    adds one more, e-mailed with the confirmation: once the request is answered, any of its
    links opens the confirmation and the document's PDF (signing_views.done and copy). Only
    the SHA-256 of each link's secret is kept.
    """

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    request = models.ForeignKey(
        SignatureRequest, on_delete=models.CASCADE, related_name="reminder_links"
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Reminder link for {self.request}"
