"""The kernel's own records: the outbox of e-mails, the clock of things due, the sweep's runs.

They belong to no app above the kernel, so a partnership is recorded by its id only (the
partnership's pages filter by it; nothing here is reached from another tenant's page).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """One e-mail to one or more addresses, stored in the transaction of the change that
    causes it and delivered by a worker: queued on commit, swept as a backstop, claimed by a
    conditional update, retried with backoff, failed with its reason after the last try."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Not delivered"

    created_at = models.DateTimeField(default=timezone.now, editable=False)
    partnership_id = models.PositiveBigIntegerField(null=True, blank=True, db_index=True)
    template = models.CharField(max_length=80, blank=True)
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=998)
    text = models.TextField()
    html = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="outbox_due",
                condition=Q(status="queued"),
            ),
            models.Index(
                fields=["claimed_at"], name="outbox_claimed", condition=Q(status="sending")
            ),
            models.Index(
                fields=["partnership_id", "status", "-created_at"], name="outbox_partnership"
            ),
            models.Index(
                fields=["-created_at"], name="outbox_failed", condition=Q(status="failed")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} to {', '.join(self.to)}"


class Clock(models.Model):
    """One thing due at a time (a reminder, an expiry, a withdrawal taking effect, a deadline),
    computed from stored facts. The sweep selects what is due by index, claims each row with a
    conditional update and acts once; correcting a fact recomputes its rows."""

    kind = models.CharField(max_length=60)
    partnership_id = models.PositiveBigIntegerField(null=True, blank=True)
    # What the clock is about, as "<app_label>.<model>:<pk>", with a short key telling apart
    # several clocks of one kind on one subject (the 24 h, 6 h and 1 h reminders).
    subject = models.CharField(max_length=120)
    key = models.CharField(max_length=40, blank=True)
    due_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject", "key"],
                condition=Q(done_at__isnull=True),
                name="one_open_clock_each",
            )
        ]
        indexes = [
            models.Index(
                fields=["kind", "due_at"], name="clock_due", condition=Q(done_at__isnull=True)
            ),
            models.Index(fields=["subject", "kind"], name="clock_subject"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} {self.key} at {self.due_at:%Y-%m-%d %H:%M}"


class SweepRun(models.Model):
    """When each step of the periodic sweep last finished, and what it did: monitoring reads
    it to see a stuck worker."""

    step = models.CharField(max_length=80, unique=True)
    finished_at = models.DateTimeField()
    acted_on = models.IntegerField(default=0)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["step"]

    def __str__(self) -> str:
        return f"{self.step} at {self.finished_at:%Y-%m-%d %H:%M}"
