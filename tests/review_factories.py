"""Factories for reviews: protocols and agreements in force, with the review cycle their
coming into force starts, and what a feedback round or a review needs."""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django_scopes import scope

from agreements.models import Agreement, AgreementStatus
from protocols.models import Protocol, ProtocolVersion, VersionStatus
from reviews.models import ReviewCycle, ReviewSettings
from signatories.models import Partner
from tenancy.models import Partnership

from .factories import make_agreement, make_document, make_protocol


def protocol_in_force(
    partnership: Partnership,
    *,
    adopted_on: date | None = None,
    lead: Partner | None = None,
    title: str = "Information sharing protocol",
) -> tuple[Protocol, ReviewCycle]:
    """A protocol whose version 1.0 is signed and in force since `adopted_on` (today)."""
    protocol = make_protocol(partnership, lead=lead, title=title)
    with scope(partnership=partnership):
        version = protocol.versions.get()
        document = make_document(partnership, title=protocol.title, version_label="1.0")
        ProtocolVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.SIGNED, document=document, signed_at=timezone.now()
        )
        protocol.date_in_force = adopted_on or timezone.localdate()
        protocol.save()  # its review cycle starts
        return protocol, ReviewCycle.objects.get(protocol=protocol)


def agreement_in_force(
    partnership: Partnership,
    *,
    adopted_on: date | None = None,
    review_date: date | None = None,
    lead: Partner | None = None,
    others: list[Partner] | None = None,
    title: str = "Reablement review",
) -> tuple[Agreement, ReviewCycle]:
    """An active agreement, in force since `adopted_on` (today)."""
    agreement = make_agreement(partnership, lead=lead, others=others, title=title)
    with scope(partnership=partnership):
        document = make_document(
            partnership, title=agreement.title, version_label="1", kind="agreement"
        )
        Agreement.objects.filter(pk=agreement.pk).update(
            status=AgreementStatus.ACTIVE,
            document=document,
            signed_at=timezone.now(),
            start_date=adopted_on or timezone.localdate(),
            review_date=review_date,
        )
        agreement.refresh_from_db()
        agreement.save()  # its review cycle starts
        return agreement, ReviewCycle.objects.get(agreement=agreement)


def review_rules(partnership: Partnership, **values) -> ReviewSettings:
    with scope(partnership=partnership):
        rules, _ = ReviewSettings.objects.update_or_create(partnership=partnership, defaults=values)
        return rules


def refreshed_cycle(cycle: ReviewCycle) -> ReviewCycle:
    with scope(partnership=cycle.partnership):
        return ReviewCycle.objects.get(pk=cycle.pk)


def review_records(partnership: Partnership) -> ReviewCycle:
    """The partnership's first review cycle: a protocol in force, made on first use."""
    with scope(partnership=partnership):
        found = ReviewCycle.objects.order_by("pk").first()
    if found is None:
        lead = None
        with scope(partnership=partnership):
            lead = Partner.objects.order_by("pk").first()
        found = protocol_in_force(partnership, lead=lead)[1]
    return found
