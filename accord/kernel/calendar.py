"""A person's calendar: the dates each app puts in it, without the apps knowing each other.

Reviews serves the feed (reviews.calendar) and puts in it the review dates and feedback
deadlines; breaches, which reviews may not import, puts in it the deadlines of the breaches a
DPO may see. Each app registers a provider: given the person and their memberships (every
partnership they may open), it answers the person's events, in a fixed number of queries
whatever the number of partnerships.

An event's `uid` is made from its record's kind and primary key only (`uid("review", 12)`),
never from its title or its time, so a calendar that has it updates it in place when the
review date moves or the title changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

UID_DOMAIN = "accord"


@dataclass(frozen=True)
class Event:
    """One entry of the calendar: all day (`start` a date) or at a time (an aware datetime).

    `end` (exclusive) or `duration` may say how long it lasts; without either, an all-day
    event lasts its day and a timed one is a moment (a deadline). `alarms` are how long before
    the start the calendar reminds the person."""

    uid: str
    summary: str
    start: date | datetime
    end: date | datetime | None = None
    duration: timedelta | None = None
    description: str = ""
    url: str = ""
    alarms: tuple[timedelta, ...] = ()

    def __post_init__(self) -> None:
        if isinstance(self.start, datetime) and self.start.utcoffset() is None:
            raise ValueError(f"{self.uid}: a timed event needs an aware datetime (UTC).")
        if self.end is not None and self.duration is not None:
            raise ValueError(f"{self.uid}: give an end or a duration, not both.")
        if any(before < timedelta(0) for before in self.alarms):
            raise ValueError(f"{self.uid}: alarms are times before the start.")

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def sort_key(self) -> tuple[datetime, str]:
        if isinstance(self.start, datetime):
            return self.start.astimezone(UTC), self.uid
        return datetime.combine(self.start, time.min, tzinfo=UTC), self.uid


# (user, memberships) -> events. The memberships come with their partnership and organisation
# loaded; a provider filters by `partnership_id__in` itself (the feed is no partnership's page,
# so there is no scope to enter).
Provider = Callable[[Any, Sequence[Any]], Iterable[Event]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a provider (once, however often its module is imported); usable as a decorator."""
    if provider not in _providers:
        _providers.append(provider)
    return provider


def uid(kind: str, pk: int) -> str:
    """The event's id: its record's kind and primary key, nothing that can change."""
    return f"{kind}-{int(pk)}@{UID_DOMAIN}"


def events_for(user: Any, memberships: Sequence[Any]) -> list[Event]:
    """Every provider's events for the person, soonest first (none without a membership)."""
    if not memberships:
        return []
    found: list[Event] = []
    for provider in _providers:
        found.extend(provider(user, memberships))
    return sorted(found, key=lambda event: event.sort_key)
