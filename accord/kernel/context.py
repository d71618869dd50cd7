"""Who is acting, for which organisation, in which request: read by the audit trail and logs."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction


@dataclass(frozen=True)
class Actor:
    user: Any = None
    organisation: Any = None
    request_id: str = ""
    # The partnership whose page is being served, once its middleware has admitted the user.
    partnership_id: int | None = None


_actor: ContextVar[Actor] = ContextVar("accord_actor", default=Actor())  # noqa: B039 (frozen)


def current_actor() -> Actor:
    return _actor.get()


@contextmanager
def acting(**changes: Any):
    """Run a block with parts of the actor replaced (user, organisation, request id)."""
    current = _actor.get()
    token = _actor.set(Actor(**{**current.__dict__, **changes}))
    try:
        yield
    finally:
        _actor.reset(token)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _actor.get().request_id or "-"
        return True


F = TypeVar("F", bound=Callable[..., Any])


def service(func: F) -> F:
    """Run a state change in one transaction, as the person passed as `by` when the caller
    has not already said who is acting (tasks, the shell, tests)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        by = kwargs.get("by")
        known = getattr(current_actor().user, "is_authenticated", False)
        who = acting(user=by) if by is not None and not known else nullcontext()
        with who, transaction.atomic():
            return func(*args, **kwargs)

    return run  # type: ignore[return-value]
