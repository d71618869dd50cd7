"""The audit trail: `log_action()` writes one entry in the caller's transaction."""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from django_scopes import scopes_disabled

from accord.kernel.context import current_actor

from .models import AuditEntry, Membership, Partnership

# Human labels of the actions apps record, for the audit log's filter (apps add their own).
ACTIONS: dict[str, str] = {}


def describe_actions(labels: dict[str, str]) -> None:
    ACTIONS.update(labels)


# Records whose entries only some members may read (a breach: its DPOs and the
# administrators): model -> the records of it a membership may see.
_RESTRICTED: dict[
    type[models.Model],
    tuple[Callable[[Membership], models.QuerySet], Callable[[Membership], bool] | None],
] = {}


def restrict(
    model: type[models.Model],
    visible: Callable[[Membership], models.QuerySet],
    sees_all: Callable[[Membership], bool] | None = None,
) -> None:
    """Entries about a `model` record show in the audit log only to members who may see the
    record (`visible(membership)`); everyone else reads the log without them. `sees_all`
    says when a member may see every such record, so the log needs no subquery for them."""
    _RESTRICTED[model] = (visible, sees_all)


def readable(entries: models.QuerySet, membership: Membership) -> models.QuerySet:
    """The entries of `entries` the member may read (one subquery a restricted model)."""
    for model, (visible, sees_all) in _RESTRICTED.items():
        if sees_all is not None and sees_all(membership):
            continue
        kind = ContentType.objects.get_for_model(model)
        allowed = (
            visible(membership)
            .annotate(key=Cast("pk", output_field=models.CharField()))
            .values("key")
        )
        entries = entries.exclude(Q(content_type=kind) & ~Q(object_id__in=allowed))
    return entries


describe_actions(
    {
        "partnership.created": "Partnership created",
        "partnership.changed": "Partnership settings changed",
        "membership.created": "Person joined",
        "membership.changed": "Person's roles changed",
        "membership.removed": "Person removed",
        "invitation.created": "Invitation sent",
        "invitation.resent": "Invitation sent again",
        "invitation.revoked": "Invitation withdrawn",
        "mail.resent": "Undelivered e-mail sent again",
    }
)


def _plain(value: Any) -> Any:
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The object's concrete field values as JSON-ready data, keyed by field name."""
    result: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        if field.primary_key or (fields is not None and field.name not in fields):
            continue
        if field.is_relation:
            related = getattr(obj, field.name)
            result[field.name] = str(related) if related is not None else None
        else:
            result[field.name] = _plain(getattr(obj, field.attname))
    return result


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for each field whose value changed."""
    keys = list(dict.fromkeys([*before, *after]))
    return {k: [before.get(k), after.get(k)] for k in keys if before.get(k) != after.get(k)}


OUTSIDER = "Someone outside this partnership"


def _member_of(user, partnership: Partnership, actor) -> bool:
    if actor.partnership_id == partnership.pk:
        return True  # admitted by the middleware to this very partnership
    with scopes_disabled():
        return Membership.objects.filter(partnership=partnership, user=user).exists()


def log_action(
    partnership: Partnership,
    action: str,
    summary: str,
    obj: models.Model | None = None,
    changes: dict[str, list[Any]] | None = None,
) -> AuditEntry:
    """Record what happened, by whom and for which organisation, in the current transaction.

    `changes` maps each field to [before, after]; for a creation `before` is None.
    """
    actor = current_actor()
    user = actor.user if getattr(actor.user, "is_authenticated", False) else None
    organisation = actor.organisation
    name = f"{user.full_name} <{user.email}>" if user else "Accord (automatic)"
    if user is not None and not _member_of(user, partnership, actor):
        # A change to a shared record made from elsewhere (an organisation's own people
        # updating it): one partnership never sees the people or e-mails of another.
        user, name = None, OUTSIDER
    entry = AuditEntry(
        partnership=partnership,
        actor=user,
        actor_name=name[:300],
        organisation=organisation,
        organisation_name=str(organisation) if organisation else "",
        action=action,
        summary=summary[:500],
        changes={k: [_plain(v) for v in pair] for k, pair in (changes or {}).items()},
        request_id=actor.request_id,
    )
    if obj is not None:
        entry.content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
        entry.object_id = str(obj.pk)
        entry.object_repr = str(obj)[:300]
    entry.save()
    return entry


def created(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, list[Any]]:
    """The `changes` of a creation: every field from None to its value."""
    return {k: [None, v] for k, v in snapshot(obj, fields).items() if v not in (None, "", False)}
