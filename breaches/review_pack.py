"""The annual review pack's section on breaches (registered with reviews.pack_sections):
every breach detected in the period, with its timings: detected, the partners told (within
their deadline, 48 hours unless the agreement says otherwise, or late) and the ICO's decision
and notification within 72 hours of awareness.

Counted as the steering group's figures count (access.counted_in_figures): the steering
group and administrators see the timings of every breach; a breach's reference and
description show only to those who may see the breach itself (access.visible). Four queries
whatever the number of breaches.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.utils import timezone

from accord.kernel.clocks import start_of_day
from reviews.pack_sections import PackSection, register
from tenancy.models import Membership, Partnership
from tenancy.roles import Perm

from . import access, figures
from .models import Assessment, BreachReport, Obligation, ObligationState, Recipient, View
from .services import ICO_HOURS, PARTNER_HOURS
from .times import hours_between, shown

HIDDEN = "A breach (its details are seen by its DPOs)"


def _hours(value: float) -> str:
    hours = figures.hours_text(value)
    return f"{hours} hour{'' if hours == '1' else 's'}"


def _window(obligation: Obligation, start: datetime, default: int) -> str:
    if obligation.due_at is None:
        return f"{default} hours"
    return _hours(hours_between(start, obligation.due_at))


def partners_told(breach: BreachReport, obligations: list[Obligation], now: datetime) -> str:
    """“2 told within 48 hours (the longest after 30 hours); 1 told late, after 52 hours”."""
    due = [o for o in obligations if o.state != ObligationState.NOT_NEEDED]
    if not due:
        return "No other partner to tell"
    window = _window(due[0], breach.detected_at, PARTNER_HOURS)
    on_time = [o for o in due if o.state == ObligationState.ON_TIME]
    late = [o for o in due if o.state == ObligationState.LATE]
    waiting = [o for o in due if o.state == ObligationState.DUE]
    parts = []
    if on_time:
        longest = max(hours_between(breach.detected_at, o.done_at) for o in on_time)
        parts.append(
            f"{len(on_time)} told within {window} (the longest after {_hours(longest)})"
            if len(on_time) > 1
            else f"1 told within {window} (after {_hours(longest)})"
        )
    if late:
        longest = max(hours_between(breach.detected_at, o.done_at) for o in late)
        parts.append(f"{len(late)} told late (the longest after {_hours(longest)})")
    if waiting:
        overdue = sum(1 for o in waiting if o.overdue(now))
        if overdue:
            parts.append(f"{overdue} not yet told, past the {window}")
        if len(waiting) > overdue:
            parts.append(f"{len(waiting) - overdue} not yet told, within the {window}")
    return "; ".join(parts)


def ico_timing(breach: BreachReport, ico: Obligation | None, now: datetime) -> str:
    """The decision to notify the ICO, and whether it was told within 72 hours of awareness:
    “Notified after 70 hours, within 72 hours”, “Not notified: not notifiable”."""
    by_lead = " (decided by the lead organisation)" if breach.ico_decided_by_lead else ""
    if ico is not None and ico.done_at is not None:
        hours = _hours(hours_between(breach.aware_at, ico.done_at))
        within = ico.done_at - breach.aware_at <= timedelta(hours=ICO_HOURS)
        timing = f"within {ICO_HOURS} hours" if within else f"late, past the {ICO_HOURS} hours"
        return f"Notified after {hours}, {timing}{by_lead}"
    if breach.ico_decision == View.DO_NOT_NOTIFY:
        decision = "decided not to notify"
    elif breach.ico_decision == View.NOTIFY:
        decision = "decided to notify"
    elif breach.assessment == Assessment.NOT_NOTIFIABLE:
        decision = "not notifiable"
    else:
        decision = "not yet decided"
    if ico is None or ico.state == ObligationState.NOT_NEEDED:
        return f"Not notified: {decision}{by_lead}"
    deadline = breach.aware_at + timedelta(hours=ICO_HOURS)
    if now > deadline:
        return f"Not yet notified, past the {ICO_HOURS} hours: {decision}{by_lead}"
    return f"Not yet notified ({decision}{by_lead}): the {ICO_HOURS} hours end at " + shown(
        deadline, now
    )


def breaches_in_period(
    partnership: Partnership, start: date, end: date, membership: Membership | None
) -> PackSection | None:
    if membership is None or not membership.can(Perm.VIEW_BREACH_FIGURES):
        return None
    now = timezone.now()
    counted = access.counted_in_figures(membership).filter(
        detected_at__gte=start_of_day(start), detected_at__lt=start_of_day(end + timedelta(1))
    )
    breaches = list(
        counted.select_related("reporting_partner__organisation").order_by("detected_at", "number")
    )
    seen = set(
        access.visible(membership)
        .filter(pk__in=[b.pk for b in breaches])
        .values_list("pk", flat=True)
    )
    by_breach: dict[int, list[Obligation]] = defaultdict(list)
    icos: dict[int, Obligation] = {}
    for obligation in Obligation.objects.filter(breach__in=breaches).order_by("pk"):
        if obligation.recipient == Recipient.PARTNER:
            by_breach[obligation.breach_id].append(obligation)
        elif obligation.recipient == Recipient.ICO:
            icos[obligation.breach_id] = obligation
    total = figures.build(counted, now).total
    rows = tuple(
        (
            f"{b.reference}: {b.title}" if b.pk in seen else HIDDEN,
            b.reporting_partner.organisation.name,
            shown(b.detected_at, now),
            partners_told(b, by_breach[b.pk], now),
            ico_timing(b, icos.get(b.pk), now),
        )
        for b in breaches
    )
    count = len(breaches)
    summary = (
        f"{count} breach{'' if count == 1 else 'es'} detected in the period. Partners told "
        f"within 48 hours of detection: {total.partners_within_48.text}. The ICO told within 72 "
        f"hours of awareness: {total.ico_within_72.text}."
        if count
        else ""
    )
    return PackSection(
        title="Breaches in the period",
        summary=summary,
        headings=("Breach", "Reporting organisation", "Detected", "Partners told", "The ICO"),
        rows=rows,
        empty="No personal data breach was detected in the period.",
        note="Hours to tell a partner run from detection; hours to tell the ICO from becoming "
        "aware (UK GDPR Article 33). Times are UK time."
        + (
            ""
            if len(seen) == count
            else " Breaches you may not see in full are shown by their timings only."
        ),
    )


register(breaches_in_period, position=20)
