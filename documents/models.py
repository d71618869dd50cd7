"""Frozen document versions and their PDFs.

A version that goes for signature is frozen: its canonical HTML and that HTML's SHA-256 are
stored once and never change. Signatures attach to the frozen version; PDFs are rendered from
it, stored, and found again by their own SHA-256 when someone asks whether a PDF is genuine.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django_scopes import ScopedManager


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Frozen documents cannot be changed.")

    def delete(self):
        raise PermissionError("Frozen documents cannot be deleted.")


class FrozenDocument(models.Model):
    class Kind(models.TextChoices):
        PROTOCOL = "protocol", "Information sharing protocol"
        AGREEMENT = "agreement", "Information sharing agreement"

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=300)
    version_label = models.CharField(max_length=20)
    html = models.TextField(help_text="The canonical HTML of the document's body.")
    sha256 = models.CharField(max_length=64, db_index=True)
    frozen_at = models.DateTimeField(default=timezone.now, editable=False)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedManager(
        partnership="partnership", _manager_class=ImmutableQuerySet.as_manager().__class__
    )

    class Meta:
        ordering = ["-frozen_at"]

    def __str__(self) -> str:
        return f"{self.title}, version {self.version_label}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError("Frozen documents cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Frozen documents cannot be deleted.")


def pdf_path(instance: RenderedPdf, filename: str) -> str:
    return f"pdfs/{instance.partnership_id}/{instance.document_id}/{filename}"


class RenderedPdf(models.Model):
    """One rendering of a frozen document with the signatures it had at that moment."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.PROTECT, related_name="+"
    )
    document = models.ForeignKey(FrozenDocument, on_delete=models.PROTECT, related_name="pdfs")
    state = models.CharField(
        max_length=64, help_text="SHA-256 of the signing state shown (signatories, events)."
    )
    file = models.FileField(upload_to=pdf_path, max_length=300)
    sha256 = models.CharField("SHA-256 of the PDF file", max_length=64, db_index=True)
    final = models.BooleanField(default=False, help_text="Every partner asked has signed.")
    sealed = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["document", "state"], name="one_pdf_per_state")
        ]

    def __str__(self) -> str:
        return f"PDF of {self.document}"


class RevisionNote(models.Model):
    """A line of a document's revision table that is not a new version: a review that left
    the frozen version as it was ("Reviewed, no change")."""

    partnership = models.ForeignKey(
        "tenancy.Partnership", on_delete=models.CASCADE, related_name="+"
    )
    document = models.ForeignKey(
        FrozenDocument, on_delete=models.PROTECT, related_name="revision_notes"
    )
    on = models.DateField()
    author = models.CharField(max_length=200, blank=True)
    summary = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = ScopedManager(partnership="partnership")

    class Meta:
        ordering = ["on", "pk"]

    def __str__(self) -> str:
        return f"{self.on:%d/%m/%Y}: {self.summary}"
