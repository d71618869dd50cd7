"""Helpers for sweep steps that act partnership by partnership."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django_scopes import scope

from .models import Partnership


@contextmanager
def in_partnership(partnership_id: int) -> Iterator[Partnership]:
    """Enter one partnership's scope by id (for tasks, which take ids, never objects)."""
    partnership = Partnership.objects.get(pk=partnership_id)
    with scope(partnership=partnership):
        yield partnership
