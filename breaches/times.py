"""UK time as people type and read it, UTC as it is stored.

A breach's times are typed as a UK date and a 24-hour time. When the clocks go forward, an
hour is skipped (01:00 to 01:59 on the last Sunday of March does not exist): such a time is
refused. When they go back, an hour happens twice (01:00 to 01:59 on the last Sunday of
October): the person is asked which, BST (the first) or GMT (the second). Deadlines are exact
elapsed hours in UTC, weekends and clock changes included.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.utils import timezone

UK = ZoneInfo("Europe/London")
BST, GMT = "bst", "gmt"
OFFSET_CHOICES = (
    (BST, "BST (UTC+1): the first time, before the clocks went back"),
    (GMT, "GMT (UTC+0): the second time, after the clocks went back"),
)
_TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


class AmbiguousTime(ValidationError):
    """The time happened twice: ask BST or GMT."""


def parse_date(text: str) -> date:
    match = _DATE.match(text or "")
    if not match:
        raise ValidationError("Enter the date as day/month/year, such as 27/03/2026.")
    day, month, year = (int(g) for g in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise ValidationError("Enter a real date, such as 27/03/2026.") from None


def parse_time(text: str) -> time:
    match = _TIME.match(text or "")
    if not match:
        raise ValidationError("Enter the time in 24-hour form, such as 14:30.")
    hour, minute = (int(g) for g in match.groups())
    if hour > 23 or minute > 59:
        raise ValidationError("Enter a real time, from 00:00 to 23:59.")
    return time(hour, minute)


def uk_moment(day: date, at: time, offset: str = "") -> datetime:
    """The UTC instant of a UK local date and time. Refuses a time the clocks skipped;
    raises AmbiguousTime for one they repeated unless `offset` (BST or GMT) says which."""
    naive = datetime.combine(day, at)
    first, second = naive.replace(tzinfo=UK, fold=0), naive.replace(tzinfo=UK, fold=1)
    if first.utcoffset() != second.utcoffset():
        # Python gives the skipped hour two readings too; a real time reads back the same.
        if first.astimezone(UTC).astimezone(UK).replace(tzinfo=None) != naive:
            raise ValidationError(
                f"{at:%H:%M} on {day.day} {day:%B %Y} did not happen in the UK: the clocks went "
                "forward an hour at 01:00. Check the time: a clock left unchanged would have "
                f"shown {naive + timedelta(hours=1):%H:%M}.",
                code="skipped",
            )
        if offset not in (BST, GMT):
            raise AmbiguousTime(
                f"{at:%H:%M} on {day.day} {day:%B %Y} happened twice in the UK, as the clocks "
                "went back: choose BST (the first time) or GMT (the second).",
                code="ambiguous",
            )
        chosen = first if offset == BST else second
        return chosen.astimezone(UTC)
    return first.astimezone(UTC)


def local(moment: datetime) -> datetime:
    return moment.astimezone(UK)


def zone_name(moment: datetime) -> str:
    return "BST" if local(moment).utcoffset() else "GMT"


def shown(moment: datetime | None, now: datetime | None = None) -> str:
    """“14:30 on Tuesday 3 March 2026”, with the zone when it differs from now's:
    “14:30 BST on Friday 23 October 2026” read in November."""
    if moment is None:
        return ""
    now = now or timezone.now()
    at = local(moment)
    zone = f" {zone_name(moment)}" if zone_name(moment) != zone_name(now) else ""
    return f"{at:%H:%M}{zone} on {at:%A} {at.day} {at:%B %Y}"


def hours_between(start: datetime, end: datetime) -> float:
    """Elapsed hours, weekends and clock changes included."""
    return (end - start) / timedelta(hours=1)


def remaining(due: datetime, now: datetime | None = None) -> str:
    """“47 hours 12 minutes left”, “59 minutes left”, or “overdue by 3 hours”."""
    now = now or timezone.now()
    seconds = int((due - now).total_seconds())
    span = abs(seconds) // 60
    hours, minutes = divmod(span, 60)
    parts = [f"{hours} hour{'s' if hours != 1 else ''}"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    words = " ".join(parts)
    return f"{words} left" if seconds >= 0 else f"overdue by {words}"
