"""Freezing a document version: its canonical HTML and that HTML's SHA-256, stored once.

The frozen HTML starts with the version's identity (partnership, kind, reference, title and
version), so the SHA-256 names one version: two versions with the same text still differ.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import unicodedata

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from django_scopes import get_scope, scopes_disabled
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


def identity_html(
    *,
    partnership: str,
    kind: str,
    reference: str,
    title: str,
    version_label: str,
    frozen_at: str = "",
) -> str:
    """The block that opens every frozen document: what it is, whose, and which version.

    Every value is escaped, so no value can pass for markup or for another line of the block.
    `reference` (agreements have one) and `frozen_at` are left out when empty.
    """
    rows = [
        ("Document", kind),
        ("Partnership", partnership),
        ("Reference", reference),
        ("Title", title),
        ("Version", version_label),
        ("Frozen", frozen_at),
    ]
    items = "\n".join(
        f"<dt>{label}</dt><dd>{escape(value)}</dd>"
        for label, value in rows
        if value or label not in ("Reference", "Frozen")
    )
    return f'<div class="document-identity">\n<dl>\n{items}\n</dl>\n</div>'


def _fingerprint_taken(sha256: str) -> bool:
    with scopes_disabled():
        return FrozenDocument.objects.filter(sha256=sha256).exists()


@transaction.atomic
def freeze(
    partnership: Partnership,
    *,
    kind: str,
    title: str,
    version_label: str,
    html: str,
    by: AbstractBaseUser | None,
    reference: str = "",
) -> FrozenDocument:
    """Store a version's text for good and record who froze it.

    `html` is sanitised here (markup.sanitise_html: whatever the caller passed, nothing
    unsafe is frozen). The identity block (identity_html: the partnership's name, the kind,
    `reference`, `title` and `version_label`) is put before it, and the whole is stored in
    canonical form with its SHA-256, so no two versions share a fingerprint. `by` is the
    person freezing it (None for Accord itself).
    """
    require_scope(partnership.pk)
    frozen_at = timezone.now()
    body = sanitise_html(html)
    identity = {
        "partnership": partnership.name,
        "kind": dict(FrozenDocument.Kind.choices).get(kind, kind),
        "reference": reference,
        "title": title,
        "version_label": version_label,
    }
    moment = frozen_at.astimezone(datetime.UTC).isoformat(timespec="microseconds")
    stamp, tries = "", 0
    while True:
        canonical = canonical_html(f"{identity_html(**identity, frozen_at=stamp)}\n{body}")
        digest = sha256_of_bytes(canonical.encode("utf-8"))
        if not _fingerprint_taken(digest):
            break
        # Partnership names and protocol titles need not be unique, so another document may
        # have this identity and this text: the moment of freezing tells the two apart.
        tries += 1
        stamp = moment if tries == 1 else f"{moment} ({tries})"
    document = FrozenDocument(
        partnership=partnership,
        kind=kind,
        title=title,
        version_label=version_label,
        html=canonical,
        sha256=digest,
        frozen_at=frozen_at,
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
