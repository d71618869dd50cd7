"""Reviews: each protocol's and agreement's review cycle, the feedback rounds before each
review, the steering group's record of the review, and monitoring (partners' yearly
confirmations, complaints about disclosure). Every date that falls due lives on the clock
engine (`reviews.clocks`), computed from the stored facts here."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_scopes import ScopedManager

MIN_CADENCE, MAX_CADENCE = 1, 120


class ReviewSettings(models.Model):
    """A partnership's review rules (defaults until an administrator changes them)."""

    partnership = models.OneToOneField(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    cadence_months = models.PositiveSmallIntegerField(
        "review every (months)",
        default=12,
        validators=[MinValueValidator(MIN_CADENCE), MaxValueValidator(MAX_CADENCE)],
    )
    first_review_months = models.PositiveSmallIntegerField(
        "first review after adoption (months)",
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_CADENCE)],
    )
    feedback_months = models.PositiveSmallIntegerField(
        "ask for feedback before the review (months)",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
    )
    due_soon_months = models.PositiveSmallIntegerField(
        "tell the lead organisation ahead of the review (months)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    lapsed_months = models.PositiveSmallIntegerField(
        "lapsed when overdue by more than (months)",
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(24)],
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        verbose_name_plural = "review settings"

    def __str__(self) -> str:
        return f"Review settings of partnership {self.partnership_id}"


class Cause(models.TextChoices):
    BREACH = "breach", "A breach"
    LAW = "law", "A change in the law"
    PARTNER = "partner", "A partner joining or leaving"
    MANUAL = "manual", "A decision of the steering group"


class ReviewCycle(models.Model):
    """The review schedule of one protocol, or of one agreement (following its reference from
    version to version: `agreement` is the version in force)."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    protocol = models.OneToOneField(
        "protocols.Protocol",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_cycle",
    )
    agreement = models.OneToOneField(
        "agreements.Agreement",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="review_cycle",
    )
    cadence_months = models.PositiveSmallIntegerField(
        "review every (months)",
        default=12,
        validators=[MinValueValidator(MIN_CADENCE), MaxValueValidator(MAX_CADENCE)],
    )
    feedback_months = models.PositiveSmallIntegerField(
        "ask for feedback before the review (months)",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
    )
    adopted_on = models.DateField()
    first_review_on = models.DateField("first review date")
    last_reviewed_on = models.DateField(null=True, blank=True)
    brought_forward_to = models.DateField(null=True, blank=True)
    brought_forward_cause = models.CharField(max_length=10, choices=Cause.choices, blank=True)
    brought_forward_reason = models.TextField(blank=True)
    # The next review date (stored from the facts above by services.reschedule, indexed).
    next_review_on = models.DateField(db_index=True)
    # The lead organisation's notices for `notices_for` (the review date they were about):
    # 0 none, 1 ahead, 2 due, 2 + n the n-th weekly overdue notice.
    notices_for = models.DateField(null=True, blank=True)
    notices_sent = models.PositiveSmallIntegerField(default=0)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["next_review_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(protocol__isnull=False, agreement__isnull=True)
                    | Q(protocol__isnull=True, agreement__isnull=False)
                ),
                name="review_cycle_of_one_document",
            )
        ]
        indexes = [models.Index(fields=["partnership", "next_review_on"], name="review_due")]

    def __str__(self) -> str:
        return f"Review cycle of {self.protocol or self.agreement}"

    @property
    def document(self):
        return self.protocol if self.protocol_id else self.agreement

    @property
    def kind(self) -> str:
        return "protocol" if self.protocol_id else "agreement"


class FeedbackRound(models.Model):
    """The parties asked for feedback before one review date."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="rounds")
    review_on = models.DateField("for the review on")
    closes_on = models.DateField("feedback by")
    opened_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    # What the parties comment on: the protocol version or agreement version in force.
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agreement = models.ForeignKey(
        "agreements.Agreement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "review_on"], name="one_round_each_review")
        ]

    def __str__(self) -> str:
        return f"Feedback for the review on {self.review_on:%d/%m/%Y}"


REMIND_EVERY_DAYS = 7
MAX_REMINDERS = 2


class FeedbackRequest(models.Model):
    """One party asked for its feedback, through an e-mailed link (only its hash kept)."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    round = models.ForeignKey(FeedbackRound, on_delete=models.CASCADE, related_name="requests")
    partner = models.ForeignKey("signatories.Partner", on_delete=models.PROTECT, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.JSONField(default=list)
    sent_at = models.DateTimeField(default=timezone.now)
    reminders_sent = models.PositiveSmallIntegerField(default=0)
    last_reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by_name = models.CharField(max_length=200, blank=True)
    answered_by_email = models.EmailField(blank=True)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["partner__organisation__name"]
        constraints = [
            models.UniqueConstraint(fields=["round", "partner"], name="one_request_each_party")
        ]

    def __str__(self) -> str:
        return f"Feedback of {self.partner} on {self.round}"


class EarlierLink(models.Model):
    """A link a reminder replaced: it still opens the party's feedback until the round
    closes, so a form half filled in from the first e-mail is not lost."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    request = models.ForeignKey(
        FeedbackRequest, on_delete=models.CASCADE, related_name="earlier_links"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    replaced_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(partnership="partnership")

    def __str__(self) -> str:
        return f"An earlier link of {self.request}"


class SectionFeedback(models.Model):
    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    request = models.ForeignKey(FeedbackRequest, on_delete=models.CASCADE, related_name="answers")
    key = models.CharField(max_length=50)  # the section's id (protocols) or key (agreements)
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    no_changes = models.BooleanField(default=True)
    comments = models.TextField(blank=True)
    amendment = models.TextField("proposed amendment", blank=True)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["request", "key"], name="one_answer_each_section")
        ]

    def __str__(self) -> str:
        return f"{self.title}: {'no changes' if self.no_changes else 'comments'}"


class Outcome(models.TextChoices):
    NO_CHANGE = "no_change", "No change"
    MINOR = "minor", "Minor amendment"
    MAJOR = "major", "Major amendment"
    RETIRE = "retire", "Retire"


class Review(models.Model):
    """The steering group's record of one review and what it decided."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    cycle = models.ForeignKey(ReviewCycle, on_delete=models.CASCADE, related_name="reviews")
    due_on = models.DateField("the review date it met")
    held_on = models.DateField("meeting date")
    attendees = models.TextField()
    feedback_considered = models.TextField(blank=True)
    decision = models.TextField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    # What the outcome made: a new protocol version, or a new agreement version.
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    agreement = models.ForeignKey(
        "agreements.Agreement", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["-held_on", "-pk"]
        indexes = [models.Index(fields=["partnership", "held_on"], name="review_held")]

    def __str__(self) -> str:
        return f"Review held {self.held_on:%d/%m/%Y}: {self.get_outcome_display()}"


class Confirmation(models.Model):
    """A partner's yearly confirmation that a protocol's procedures are in place, given through
    an e-mailed link by its signatory or lead member."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    protocol = models.ForeignKey("protocols.Protocol", on_delete=models.CASCADE, related_name="+")
    partner = models.ForeignKey("signatories.Partner", on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField()
    token_hash = models.CharField(max_length=64, unique=True)
    sent_to = models.JSONField(default=list)
    sent_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by_name = models.CharField(max_length=200, blank=True)
    confirmed_by_role = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["partner__organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["protocol", "partner", "year"], name="one_confirmation_a_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.partner} confirms {self.protocol} ({self.year})"


class Complaint(models.Model):
    """A complaint about a disclosure made under the partnership's arrangements."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    partner = models.ForeignKey(
        "signatories.Partner",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="partner complained about",
    )
    received_on = models.DateField()
    summary = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["-received_on", "-pk"]

    def __str__(self) -> str:
        return f"Complaint about {self.partner} received {self.received_on:%d/%m/%Y}"


class CalendarAddress(models.Model):
    """A person's secret calendar address (only its hash kept). Resetting retires it: the old
    address then says so instead of serving the feed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_addresses"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(retired_at__isnull=True),
                name="one_live_calendar_address",
            )
        ]

    def __str__(self) -> str:
        return f"Calendar address of {self.user_id}"
