"""Who is acting, for which organisation, in which request: read by the audit trail and logs."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user: Any = None
    organisation: Any = None
    request_id: str = ""


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
