"""Where an agreement's e-mails go and the addresses of its pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from signatories.models import AuthorisedSignatory, Organisation

from .models import Agreement


def link(name: str, agreement: Agreement, **kwargs: Any) -> str:
    return settings.SITE_URL + reverse(
        f"agreements:{name}",
        kwargs={
            "partnership_slug": agreement.partnership.slug,
            "agreement_id": agreement.pk,
            **kwargs,
        },
    )


def party_emails(agreement: Agreement) -> list[str]:
    """Where to tell the parties: each party's active authorised signatories and its
    organisation's data protection e-mail."""
    partners = list(agreement.parties.values_list("partner_id", flat=True))
    emails = set(
        AuthorisedSignatory.objects.filter(
            partner_id__in=partners, is_active=True, confirmed_at__isnull=False
        ).values_list("email", flat=True)
    )
    emails |= set(
        Organisation.objects.filter(partners__pk__in=partners)
        .exclude(data_protection_email="")
        .filter(data_protection_email_confirmed_at__isnull=False)
        .values_list("data_protection_email", flat=True)
    )
    return sorted(e for e in emails if e)
