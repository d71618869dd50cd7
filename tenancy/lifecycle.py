"""Lifecycles as data: each kind of record declares its states and transitions once.

A `Transition` says from which states to which, the permission and the object rules a person
needs (the lead organisation, not the version's author ...), the audit action and the e-mail.
`Lifecycle.perform` is the one function that makes every transition: it locks the record,
checks the caller and the state, changes it, writes the audit entry and queues the e-mail,
all in the caller's transaction. The buttons a page shows come from `Lifecycle.allowed`, the
same declaration, so no view repeats a rule.

Transitions without a permission are made by Accord itself (a sweep, the last signature):
they are offered to nobody and refused to every person. `by=None` is Accord's own caller (a
sweep, a partner leaving), never a view: views always pass the person.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as declared
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from accord.kernel.mail import send_templated_email_each

from .audit import log_action
from .models import Membership
from .roles import Perm

# An object rule: why this person may not make the transition on this record, or None.
Rule = Callable[[Any, Membership], str | None]
# A state guard: why the record cannot make the transition now, or None.
Guard = Callable[[Any], str | None]

NO_PERMISSION = "You do not have permission to do this in this partnership."
AUTOMATIC = "Accord makes this change itself; nobody can make it by hand."


def membership_of(by, partnership_id: int) -> Membership | None:
    """The person's membership of the partnership (None for Accord itself or a non-member)."""
    if by is None or not getattr(by, "is_authenticated", False):
        return None
    return (
        Membership.objects.select_related("organisation", "user")
        .filter(user=by, partnership_id=partnership_id)
        .first()
    )


def require(by, partnership_id: int, allowed: Callable[[Membership], bool], why: str = "") -> None:
    """Refuse (PermissionDenied) a person whose membership does not pass `allowed`. `by=None`
    is Accord itself and passes."""
    if by is None:
        return
    membership = membership_of(by, partnership_id)
    if membership is None or not allowed(membership):
        raise PermissionDenied(why or NO_PERMISSION)


@dataclass(frozen=True)
class Transition:
    name: str
    source: frozenset[str]
    target: str
    action: str  # the audit action
    permission: Perm | None = None  # None: only Accord makes it
    rules: tuple[Rule, ...] = ()  # who, besides the permission (403 when broken)
    guards: tuple[Guard, ...] = ()  # the record's state, besides its status (a message)
    wrong_state: str = ""  # "{status}" and the record's attributes ({obj.…}) may be used
    email: str = ""  # template sent on success
    recipients: Callable[[Any], Iterable[str]] | None = None

    @property
    def automatic(self) -> bool:
        return self.permission is None


@dataclass
class Lifecycle:
    """The states and transitions of one model's `field`."""

    model: type[models.Model]
    transitions: list[Transition]
    field: str = "status"
    # Rules and guards every transition of the kind shares (a retired protocol changes no more).
    rules: tuple[Rule, ...] = ()
    guards: tuple[Guard, ...] = ()
    # Related records to load with the locked row.
    related: tuple[str, ...] = ()
    # The audit entry shows the status as its label ("For signature"), or as stored.
    audit_labels: bool = True
    # What every e-mail of the kind is told, besides the transition's own context.
    email_context: Callable[[Any], dict[str, Any]] = declared(default=lambda obj: {})
    _by_name: dict[str, Transition] = declared(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {t.name: t for t in self.transitions}
        choices = {value for value, _label in self.model._meta.get_field(self.field).choices}
        for t in self.transitions:
            unknown = (set(t.source) | {t.target}) - choices
            if unknown:
                raise ValueError(f"{self.model.__name__}.{t.name}: no such state {unknown}")

    def __getitem__(self, name: str) -> Transition:
        return self._by_name[name]

    def between(self, source: str, target: str) -> Transition | None:
        """The transition from one state to another, if the kind declares one."""
        return next(
            (t for t in self.transitions if source in t.source and t.target == target), None
        )

    def states(self) -> list[str]:
        return [value for value, _label in self.model._meta.get_field(self.field).choices]

    # --- Asking ------------------------------------------------------------------------

    def _status_label(self, obj: models.Model) -> str:
        return getattr(obj, f"get_{self.field}_display")().lower()

    def state_refusal(self, obj: models.Model, name: str) -> str | None:
        """Why the record cannot make the transition in its present state, or None."""
        transition = self[name]
        for guard in self.guards:
            if why := guard(obj):
                return why
        if getattr(obj, self.field) not in transition.source:
            template = transition.wrong_state or "This is {status}: it cannot change like this."
            return template.format(status=self._status_label(obj), obj=obj)
        for guard in transition.guards:
            if why := guard(obj):
                return why
        return None

    def person_refusal(
        self, obj: models.Model, name: str, membership: Membership | None
    ) -> str | None:
        """Why this person may not make the transition on this record, or None."""
        transition = self[name]
        if transition.automatic:
            return AUTOMATIC
        if membership is None or not membership.can(transition.permission):
            return NO_PERMISSION
        for rule in (*self.rules, *transition.rules):
            if why := rule(obj, membership):
                return why
        return None

    def allowed(self, obj: models.Model, membership: Membership | None) -> dict[str, bool]:
        """{transition name: whether this person may make it now}: the buttons to show."""
        return {
            t.name: not t.automatic
            and self.person_refusal(obj, t.name, membership) is None
            and self.state_refusal(obj, t.name) is None
            for t in self.transitions
        }

    def refusals(self, obj: models.Model, membership: Membership | None) -> dict[str, str]:
        """{transition name: why this person may not make it}, for transitions the record's
        state allows but the person may not make (to say why a button is missing)."""
        found = {}
        for t in self.transitions:
            if t.automatic or self.state_refusal(obj, t.name) is not None:
                continue
            if why := self.person_refusal(obj, t.name, membership):
                found[t.name] = why
        return found

    # --- Doing -------------------------------------------------------------------------

    def _audit_value(self, record: models.Model) -> str:
        if self.audit_labels:
            return getattr(record, f"get_{self.field}_display")()
        return getattr(record, self.field)

    def lock(self, obj: models.Model) -> models.Model:
        return (
            self.model.objects.select_for_update(of=("self",))
            .select_related(*self.related)
            .get(pk=obj.pk)
        )

    def perform(
        self,
        obj: models.Model,
        name: str,
        *,
        by,
        summary: str | Callable[[Any], str],
        apply: Callable[[Any], None] | None = None,
        changes: dict[str, list[Any]] | Callable[[Any], dict[str, list[Any]]] | None = None,
        context: dict[str, Any] | None = None,
        locked: bool = False,
    ) -> models.Model:
        """Make transition `name` on `obj` as `by` (None: Accord itself), in the caller's
        transaction; returns the record, changed and saved.

        Refuses (PermissionDenied) a person the declaration does not allow, and
        (ValidationError) a record whose state does not allow it; either way nothing changes.
        `apply(record)` sets the transition's other fields before it is saved; `summary` (or
        `summary(record)`) is the audit entry's, with `changes` (or `changes(record)`);
        `context` goes to the transition's e-mail.
        """
        transition = self[name]
        record = obj if locked else self.lock(obj)
        if by is not None:
            membership = membership_of(by, record.partnership_id)
            if why := self.person_refusal(record, name, membership):
                raise PermissionDenied(why)
        if why := self.state_refusal(record, name):
            raise ValidationError(why, code="state")
        before = self._audit_value(record)
        if apply is not None:
            apply(record)
        setattr(record, self.field, transition.target)
        record.save()
        text = summary(record) if callable(summary) else summary
        if callable(changes):
            changes = changes(record)
        log_action(
            record.partnership,
            transition.action,
            text,
            record,
            {self.field: [before, self._audit_value(record)], **(changes or {})},
        )
        if transition.email and transition.recipients is not None:
            send_templated_email_each(
                transition.email,
                [a for a in transition.recipients(record) if a],
                {**self.email_context(record), **(context or {})},
            )
        return record


def declaration_table(lifecycle: Lifecycle) -> list[dict[str, Any]]:
    """The declaration as rows (for documentation and tests): name, from, to, permission."""
    return [
        {
            "name": t.name,
            "from": sorted(t.source),
            "to": t.target,
            "permission": t.permission.value if t.permission else None,
            "action": t.action,
        }
        for t in lifecycle.transitions
    ]
