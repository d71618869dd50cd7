"""What the agreements' service functions share: running in one transaction as someone, who
may edit an agreement, and the addresses of its pages."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError

from ..links import link, party_emails  # noqa: F401
from ..models import EDIT_PERMISSION, LIVE_STATUSES, Agreement, AgreementStatus  # noqa: F401
from ..permissions import (  # noqa: F401  (the names callers of services use)
    NAMED_EDITOR_PERM,
    READ_ONLY,
    can_comment,
    can_edit,
    has_edit_grant,
    is_editor,
    is_lead_drafter,
    is_named_editor,
    may_change_parties,
    membership_of,
    membership_supports_editing,
    parties_refusal,
    require_commenter,
    require_editor,
    require_lead_drafter,
)

EDIT_PERM = f"agreements.{EDIT_PERMISSION}"
NOT_EDITABLE = (
    "This agreement is {status}: its text can no longer change. Start a new version to change "
    "an active agreement."
)


def locked(agreement: Agreement) -> Agreement:
    """The agreement again, locked for the rest of the transaction."""
    return (
        Agreement.objects.select_for_update(of=("self",))
        .select_related("lead__organisation", "partnership")
        .get(pk=agreement.pk)
    )


def require_status(agreement: Agreement, allowed: Iterable[str], message: str) -> None:
    if agreement.status not in set(allowed):
        raise ValidationError(message)


def require_editable(agreement: Agreement) -> None:
    if not agreement.is_editable:
        raise ValidationError(
            NOT_EDITABLE.format(status=agreement.get_status_display().lower()),
            code="not_editable",
        )


def status_word(agreement: Agreement) -> str:
    return agreement.get_status_display().lower()
