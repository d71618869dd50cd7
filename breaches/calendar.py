"""Breach deadlines in a person's calendar (the feed reviews serves, accord.kernel.calendar).

For each partnership where the person may manage breaches (a DPO, an administrator), each
open breach they may see (access.visible: the same rule as the breach's pages) puts in the
calendar the deadline of each party still to be told: every involved partner (48 hours from
detection) and the ICO (72 hours from awareness), at its exact time in UTC, with the
partnership's own warnings (24, 6 and 1 hours before, by default) as the calendar's alarms.

A calendar feed leaves Accord (calendar services fetch and keep it), so an event names the
breach by its reference, its partnership and who must be told, never by its title or what
happened: the details stay behind sign-in, one click away.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce
from operator import or_

from django.conf import settings
from django.urls import reverse
from django_scopes import scopes_disabled

from accord.kernel import calendar
from accord.kernel.calendar import Event
from tenancy.models import Membership
from tenancy.roles import Perm

from . import access
from .models import BreachStatus, Obligation, ObligationState, Recipient
from .times import local, zone_name

# What an event says (not the breach's report): only these columns are read.
_WHAT = (
    "recipient",
    "due_at",
    "breach__number",
    "breach__detected_at",
    "breach__aware_at",
    "breach__partnership__name",
    "breach__partnership__slug",
    "breach__partnership__breach_warning_hours",
    "involved__partner__organisation__name",
    # The way to each (a deferred key cannot be followed).
    "breach",
    "breach__partnership",
    "involved",
    "involved__partner",
    "involved__partner__organisation",
)


def breach_deadlines(user, memberships: Sequence[Membership]) -> list[Event]:
    """The open deadlines of the open breaches the person may see, in every partnership where
    they may manage breaches (one query whatever the number of partnerships)."""
    managing = [m for m in memberships if m.can(Perm.MANAGE_BREACHES)]
    if not managing:
        return []
    # Across partnerships on purpose: no partnership's page is being served, so no scope is
    # entered. Each membership's own rule is confined to its own partnership
    # (partnership_id), and the rules are joined with OR into one query.
    with scopes_disabled():
        seen = reduce(
            or_, (access.visible(m).filter(partnership_id=m.partnership_id) for m in managing)
        )
        due = list(
            Obligation.objects.filter(
                partnership_id__in=[m.partnership_id for m in managing],
                breach__in=seen.filter(status=BreachStatus.OPEN).values("pk"),
                state=ObligationState.DUE,
                due_at__isnull=False,
            )
            .select_related("breach__partnership", "involved__partner__organisation")
            .only(*_WHAT)
            .order_by("due_at", "pk")
        )
    return [_deadline(obligation) for obligation in due]


def _deadline(obligation: Obligation) -> Event:
    breach = obligation.breach
    partnership = breach.partnership
    if obligation.recipient == Recipient.PARTNER and obligation.involved_id:
        who = str(obligation.involved.partner.organisation)
    else:
        who = obligation.get_recipient_display().replace("The ", "the ", 1)
    at = local(obligation.due_at)
    when = f"{at:%H:%M} {zone_name(obligation.due_at)} on {at:%A} {at.day} {at:%B %Y}"
    link = settings.SITE_URL + reverse(
        "breaches:detail", kwargs={"partnership_slug": partnership.slug, "breach_id": breach.pk}
    )
    return Event(
        uid=calendar.uid("breach-obligation", obligation.pk),
        summary=f"Breach {breach.reference}: tell {who}",
        start=obligation.due_at,
        description=(
            f"{partnership.name}: the deadline to tell {who} of breach {breach.reference} is "
            f"{when} ({_rule(obligation)}). The breach's details are in Accord."
        ),
        url=link,
        alarms=partnership.breach_warnings,
    )


def _rule(obligation: Obligation) -> str:
    """“48 hours from detection”, “72 hours from awareness”: from the stored facts."""
    breach = obligation.breach
    start, moment = (
        (breach.aware_at, "awareness")
        if obligation.recipient == Recipient.ICO
        else (breach.detected_at, "detection")
    )
    hours = (obligation.due_at - start).total_seconds() / 3600
    return f"{hours:g} hours from {moment}"


calendar.register(breach_deadlines)
