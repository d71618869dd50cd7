"""Where an agreement's e-mails go and the addresses of its pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from signatories.services import partner_addresses

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
    partners = agreement.parties.values_list("partner_id", flat=True)
    addresses = partner_addresses(partners).values()
    return sorted({email for emails in addresses for email in emails})
