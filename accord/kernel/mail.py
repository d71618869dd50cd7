"""E-mail from templates: `emails/<name>.subject.txt`, `.txt` and `.html`, through the outbox."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from . import outbox


def render_email(name: str, context: dict[str, Any]) -> dict[str, str]:
    context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}.subject.txt", context).strip()
    return {
        "subject": " ".join(subject.split()),
        "text": render_to_string(f"emails/{name}.txt", context),
        "html": render_to_string(f"emails/{name}.html", context),
    }


def send_templated_email(name: str, to: Iterable[str], context: dict[str, Any]) -> None:
    """Render now (inside the caller's tenant scope) and store one message to every address
    in the caller's transaction: a rolled-back change sends nothing."""
    outbox.enqueue(to=to, template=name, **render_email(name, context))


def send_templated_email_each(name: str, recipients: Iterable[str], context: dict[str, Any]) -> int:
    """One message per recipient, so nobody sees who else was told; rendered once, each
    stored in the caller's transaction. Returns how many were stored."""
    addresses = sorted({a.strip().lower() for a in recipients if a and a.strip()})
    rendered = render_email(name, context)
    for address in addresses:
        outbox.enqueue(to=[address], template=name, **rendered)
    return len(addresses)
