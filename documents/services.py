"""Freezing a document version: its canonical HTML and that HTML's SHA-256, stored once."""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django_scopes import get_scope
from django_scopes.exceptions import ScopeError

from accord.kernel.context import acting, current_actor
from tenancy.audit import created, log_action
from tenancy.models import Partnership

from .markup import sanitise_html
from .models import FrozenDocument


def canonical_html(html: str) -> str:
    """The one spelling of `html` that is hashed: NFC, \\n line ends, no trailing spaces."""
    text = unicodedata.normalize("NFC", html).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip(" \t") for line in text.split("\n")).strip()


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of(html: str) -> str:
    """SHA-256 (hex) of the canonical form of `html`, encoded as UTF-8."""
    return sha256_of_bytes(canonical_html(html).encode("utf-8"))


def require_scope(partnership_id: int) -> None:
    """Refuse to act for a partnership other than the one whose scope is active."""
    current = get_scope()
    if current.get("_enabled") is False:
        return
    scoped = current.get("partnership")
    if scoped is None or getattr(scoped, "pk", scoped) != partnership_id:
        raise ScopeError(
            f"Call this inside scope(partnership=...) for partnership {partnership_id}."
        )


@transaction.atomic
def freeze(
    partnership: Partnership,
    *,
    kind: str,
    title: str,
    version_label: str,
    html: str,
    by: AbstractBaseUser | None,
) -> FrozenDocument:
    """Store a version's text for good and record who froze it.

    `html` is sanitised here (markup.sanitise_html: whatever the caller passed, nothing
    unsafe is frozen), then stored in canonical form with its SHA-256. `by` is the person
    freezing it (None for Accord itself).
    """
    require_scope(partnership.pk)
    canonical = canonical_html(sanitise_html(html))
    document = FrozenDocument(
        partnership=partnership,
        kind=kind,
        title=title,
        version_label=version_label,
        html=canonical,
        sha256=sha256_of_bytes(canonical.encode("utf-8")),
        frozen_by=by,
    )
    document.full_clean()
    document.save()
    actor_known = getattr(current_actor().user, "is_authenticated", False)
    with acting(user=by) if by is not None and not actor_known else contextlib.nullcontext():
        log_action(
            partnership,
            "document.frozen",
            f"{document.get_kind_display()} “{title}” version {version_label} frozen",
            obj=document,
            changes=created(document, ["kind", "title", "version_label", "sha256"]),
        )
    return document
