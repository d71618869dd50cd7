"""What the agreement pages show about parties whose organisation record lacks a contact
detail (templates/agreements/_party_contacts.html), computed by agreements.contacts."""

from __future__ import annotations

from typing import Any

from django import template

from agreements.contacts import PartyContacts, parties_missing_contacts
from agreements.models import Agreement

register = template.Library()


@register.simple_tag(takes_context=True)
def party_contacts_needed(context: dict[str, Any], agreement: Agreement) -> list[PartyContacts]:
    """`{% party_contacts_needed agreement as needed %}`: one row per party lacking details,
    for the person reading the page."""
    request = context.get("request")
    if request is None or agreement is None:
        return []
    return parties_missing_contacts(agreement, request.user, getattr(request, "membership", None))
