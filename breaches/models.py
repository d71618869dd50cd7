"""The breach log: one BreachReport a personal data breach, the partners it involves, and one
Obligation each party that must be told (every involved partner, the ICO, the individuals),
with its deadline kept as a stored, indexed time (UK GDPR Articles 33 and 34, and the
partnership's own 48-hour rule)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

# More people or records than this is not an estimate but a typing mistake.
MAX_COUNT = 100_000_000
# Guardian's object permission of the people who may see a breach (access.py keeps the rows).
SEE_PERMISSION = "see_breach"


class BreachStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class Containment(models.TextChoices):
    UNKNOWN = "", "Not yet known"
    CONTAINED = "contained", "Contained"
    NOT_CONTAINED = "not_contained", "Not yet contained"


class Likelihood(models.TextChoices):
    REMOTE = "remote", "Remote: harm is unlikely"
    POSSIBLE = "possible", "Possible"
    LIKELY = "likely", "Likely"


class Severity(models.TextChoices):
    MINIMAL = "minimal", "Minimal: inconvenience at most"
    SIGNIFICANT = "significant", "Significant: distress, financial loss or embarrassment"
    SEVERE = "severe", "Severe: danger to health, safety, liberty or livelihood"


class Assessment(models.TextChoices):
    NOT_ASSESSED = "", "Not yet assessed"
    NOT_NOTIFIABLE = "not_notifiable", "Not notifiable: unlikely to result in a risk to people"
    NOTIFIABLE = "notifiable", "Notifiable to the ICO"
    HIGH_RISK = "high_risk", "High risk: notify the ICO and tell the individuals"


class View(models.TextChoices):
    NOTIFY = "notify", "Notify the ICO"
    DO_NOT_NOTIFY = "do_not_notify", "Do not notify the ICO"


class Individuals(models.TextChoices):
    UNDECIDED = "", "Not yet decided"
    TELL = "tell", "Tell them"
    DO_NOT_TELL = "do_not_tell", "Do not tell them"


class BreachReport(models.Model):
    """A personal data breach, as the reporting organisation's DPO logs it. Kept for ever,
    notified or not (Article 33(5))."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    number = models.PositiveIntegerField(editable=False)
    title = models.CharField("short description", max_length=200)
    status = models.CharField(
        max_length=10, choices=BreachStatus.choices, default=BreachStatus.OPEN, db_index=True
    )
    reporting_partner = models.ForeignKey(
        "signatories.Partner",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="reporting organisation",
    )
    # Decides when the partners cannot agree in time: the protocol's lead organisation (or
    # the agreement's, or the reporting organisation's when the breach names neither).
    lead_partner = models.ForeignKey(
        "signatories.Partner",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="lead organisation",
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    contact_name = models.CharField("contact point", max_length=150)
    contact_email = models.EmailField("contact e-mail")
    contact_phone = models.CharField("contact telephone", max_length=40, blank=True)
    protocol = models.ForeignKey(
        "protocols.Protocol", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    agreements = models.ManyToManyField("agreements.Agreement", blank=True, related_name="+")
    # When: stored in UTC, typed and shown in UK time.
    occurred_at = models.DateTimeField("when it happened", null=True, blank=True)
    detected_at = models.DateTimeField("when it was detected")
    aware_at = models.DateTimeField("when the organisation became aware")
    # What happened (Article 33(3)(a) and the ICO's form).
    what_happened = models.TextField("what happened")
    how_found = models.TextField("how it was found", blank=True)
    cyber_incident = models.BooleanField("a cyber incident", null=True, blank=True)
    data_subject_categories = models.TextField("categories of people", blank=True)
    subjects_count = models.PositiveIntegerField(
        "approximate number of people",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_COUNT)],
    )
    subjects_estimated = models.BooleanField("the number of people is an estimate", default=False)
    data_categories = models.TextField("categories of personal data", blank=True)
    records_count = models.PositiveIntegerField(
        "approximate number of records",
        null=True,
        blank=True,
        validators=[MaxValueValidator(MAX_COUNT)],
    )
    records_estimated = models.BooleanField("the number of records is an estimate", default=False)
    special_category = models.BooleanField("special category data", default=False)
    criminal_offence = models.BooleanField("criminal offence data", default=False)
    consequences = models.TextField("likely consequences", blank=True)
    measures = models.TextField("measures taken or proposed", blank=True)
    containment = models.CharField(
        max_length=15, choices=Containment.choices, default=Containment.UNKNOWN, blank=True
    )
    staff_involved = models.TextField("staff involved", blank=True)
    staff_training = models.TextField("their data protection training", blank=True)
    others_told = models.TextField("other organisations already told", blank=True)
    # The assessment (Articles 33(1), 33(5) and 34).
    likelihood = models.CharField(max_length=10, choices=Likelihood.choices, blank=True)
    severity = models.CharField(max_length=12, choices=Severity.choices, blank=True)
    assessment = models.CharField(
        max_length=15, choices=Assessment.choices, default=Assessment.NOT_ASSESSED, blank=True
    )
    assessment_reason = models.TextField("reasons", blank=True)
    assessed_at = models.DateTimeField(null=True, blank=True)
    # The decision to notify the ICO: the partners' views, or the lead organisation's.
    ico_decision = models.CharField(max_length=15, choices=View.choices, blank=True)
    ico_decided_at = models.DateTimeField(null=True, blank=True)
    ico_decided_by_lead = models.BooleanField(default=False)
    ico_decision_reason = models.TextField(blank=True)
    lead_asked_at = models.DateTimeField(null=True, blank=True, editable=False)
    ico_case_reference = models.CharField("ICO case reference", max_length=50, blank=True)
    # Telling the individuals (Article 34).
    individuals = models.CharField(
        max_length=12, choices=Individuals.choices, default=Individuals.UNDECIDED, blank=True
    )
    individuals_reason = models.TextField("why not, or the exemption", blank=True)
    individuals_plan = models.TextField("who tells them, how and what they are told", blank=True)
    individuals_decided_by_lead = models.BooleanField(default=False)
    early_review_flagged = models.BooleanField(default=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["-detected_at", "-number"]
        permissions = [(SEE_PERMISSION, "Can see the breach")]
        constraints = [
            models.UniqueConstraint(fields=["partnership", "number"], name="one_breach_number"),
        ]
        indexes = [
            models.Index(fields=["partnership", "status", "-detected_at"]),
            # The register's order (newest first), one page at a time.
            models.Index(fields=["partnership", "-detected_at", "-number"], name="breach_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.title}"

    @property
    def reference(self) -> str:
        return f"BR-{self.number:04d}"

    @property
    def is_open(self) -> bool:
        return self.status == BreachStatus.OPEN

    @property
    def notifiable(self) -> bool:
        return self.assessment in (Assessment.NOTIFIABLE, Assessment.HIGH_RISK)


class InvolvedPartner(models.Model):
    """A partner the breach involves: told, acknowledging, giving its view on the ICO."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    breach = models.ForeignKey(BreachReport, on_delete=models.CASCADE, related_name="involved")
    partner = models.ForeignKey("signatories.Partner", on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=300, blank=True)
    view = models.CharField(max_length=15, choices=View.choices, blank=True)
    view_reason = models.TextField(blank=True)
    view_at = models.DateTimeField(null=True, blank=True)
    view_by = models.CharField(max_length=300, blank=True)
    # Its view on telling the people affected (Article 34), when the risk to them is high.
    individuals_view = models.CharField(max_length=12, choices=Individuals.choices, blank=True)
    individuals_reason = models.TextField(blank=True)
    # The e-mailed link that acknowledges and gives the view (only its SHA-256).
    token_hash = models.CharField(max_length=64, unique=True, null=True, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["partner__organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["breach", "partner"], name="involved_once"),
        ]

    def __str__(self) -> str:
        return f"{self.partner} in {self.breach}"


class Recipient(models.TextChoices):
    PARTNER = "partner", "Partner"
    ICO = "ico", "The ICO"
    INDIVIDUALS = "individuals", "The individuals"


class ObligationState(models.TextChoices):
    DUE = "due", "To do"
    ON_TIME = "on_time", "Done on time"
    LATE = "late", "Done late"
    NOT_NEEDED = "not_needed", "Not needed"


class Obligation(models.Model):
    """Someone who must be told of the breach, by when (None: without undue delay), and how
    it was done. Lateness is fixed at the first filing."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    breach = models.ForeignKey(BreachReport, on_delete=models.CASCADE, related_name="obligations")
    recipient = models.CharField(max_length=12, choices=Recipient.choices)
    involved = models.OneToOneField(
        InvolvedPartner,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="obligation",
    )
    due_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=12, choices=ObligationState.choices, default=ObligationState.DUE
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    method = models.CharField(max_length=200, blank=True)
    reason = models.TextField(blank=True)  # why late, or why not needed
    warnings_sent = models.PositiveSmallIntegerField(default=0, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["breach", "recipient"],
                condition=~models.Q(recipient="partner"),
                name="one_ico_and_individuals_obligation",
            ),
        ]
        indexes = [models.Index(fields=["state", "due_at"], name="obligation_due")]

    def __str__(self) -> str:
        return f"{self.who} for {self.breach}"

    @property
    def who(self) -> str:
        if self.recipient == Recipient.PARTNER and self.involved_id:
            return str(self.involved.partner.organisation)
        return self.get_recipient_display()

    @property
    def is_open(self) -> bool:
        return self.state == ObligationState.DUE

    def overdue(self, now=None) -> bool:
        now = now or timezone.now()
        return self.is_open and self.due_at is not None and self.due_at < now


class FollowUp(models.Model):
    """A further report to the ICO, in phases (Article 33(4)): what changed."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    breach = models.ForeignKey(BreachReport, on_delete=models.CASCADE, related_name="follow_ups")
    sent_at = models.DateTimeField()
    what_changed = models.TextField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["sent_at", "pk"]

    def __str__(self) -> str:
        return f"Follow-up to the ICO on {self.breach}"


# Who may see each breach: guardian's direct foreign-key permission tables (not its generic
# ones), kept in step with the roles by access.grant.


class BreachUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(BreachReport, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        pass


class BreachGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(BreachReport, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        pass
