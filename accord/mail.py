"""E-mail from templates: `emails/<name>.subject.txt`, `.txt` and `.html`, sent by a task."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def render_email(name: str, context: dict[str, Any]) -> dict[str, str]:
    context = {"site_url": settings.SITE_URL, **context}
    subject = render_to_string(f"emails/{name}.subject.txt", context).strip()
    return {
        "subject": " ".join(subject.split()),
        "text": render_to_string(f"emails/{name}.txt", context),
        "html": render_to_string(f"emails/{name}.html", context),
    }


def send_templated_email(name: str, to: Iterable[str], context: dict[str, Any]) -> None:
    """Render now (inside the caller's tenant scope) and queue delivery once the transaction
    commits, so a rolled-back change sends nothing."""
    from .tasks import send_email

    message = {**render_email(name, context), "to": sorted(set(to))}
    if message["to"]:
        send_email.delay_on_commit(message)


def send_templated_email_each(name: str, recipients: Iterable[str], context: dict[str, Any]) -> int:
    """One message per recipient, so nobody sees who else was told; rendered once, each queued
    for when the transaction commits. Returns how many were queued."""
    from .tasks import send_email

    addresses = sorted({a.strip().lower() for a in recipients if a and a.strip()})
    if not addresses:
        return 0
    rendered = render_email(name, context)
    for address in addresses:
        send_email.delay_on_commit({**rendered, "to": [address]})
    return len(addresses)


def deliver(message: dict[str, Any]) -> None:
    email = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["text"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message["to"],
    )
    email.attach_alternative(message["html"], "text/html")
    email.send()
