"""What falls due in a breach, on Accord's one clock engine (accord.kernel.clocks):

- before each open obligation's deadline, the reporting DPO, the contact point and the
  organisation's deputy DPO are warned (24, 6 and 1 hours to go by default; only the latest
  warning whose time has come is sent, once);
- when a deadline passes with the obligation open, the lead organisation's DPOs, the
  partnership's administrators and the reporting DPO are told, once;
- 12 hours before the ICO deadline, if the partners have not agreed whether to notify, the
  lead organisation's DPOs are asked to decide.

Every due time is computed from the stored facts (the deadline, the warnings already sent,
whether it has been escalated), so a lost task or a restarted worker delays a warning but
never loses or repeats it.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django_scopes import scopes_disabled

from accord.kernel import clocks
from accord.kernel.mail import send_templated_email_each
from tenancy.audit import log_action
from tenancy.sweeps import in_partnership

from .models import BreachReport, BreachStatus, Obligation, ObligationState, Recipient
from .services import (
    administrator_emails,
    lead_decides_before,
    lead_emails,
    link,
    reporter_emails,
    warnings_for,
)
from .times import remaining, shown

WARNING = "breach.warning"
OVERDUE = "breach.overdue"
LEAD_DECIDES = "breach.lead_decides"


def _live(obligation: Obligation) -> bool:
    return (
        obligation.state == ObligationState.DUE
        and obligation.due_at is not None
        and obligation.breach.status == BreachStatus.OPEN
    )


def warning_due(obligation: Obligation) -> datetime | None:
    warnings = warnings_for(obligation.breach)
    if not _live(obligation) or obligation.warnings_sent >= len(warnings):
        return None
    return obligation.due_at - warnings[obligation.warnings_sent]


def overdue_due(obligation: Obligation) -> datetime | None:
    if not _live(obligation) or obligation.escalated_at is not None:
        return None
    return obligation.due_at


def _ico(breach: BreachReport) -> Obligation | None:
    return Obligation.objects.filter(breach=breach, recipient=Recipient.ICO).first()


def lead_decides_due(breach: BreachReport) -> datetime | None:
    if breach.status != BreachStatus.OPEN or breach.ico_decision or breach.lead_asked_at:
        return None
    ico = _ico(breach)
    if ico is None or ico.state != ObligationState.DUE or ico.due_at is None:
        return None
    return ico.due_at - lead_decides_before(breach)


def _open_obligations():
    return Obligation.objects.filter(state=ObligationState.DUE, due_at__isnull=False)


def _open_breaches():
    return BreachReport.objects.filter(status=BreachStatus.OPEN)


def _obligation(clock) -> Obligation | None:
    return (
        Obligation.objects.select_for_update(of=("self",))
        .select_related(
            "breach__partnership",
            "breach__reporting_partner__organisation",
            "breach__lead_partner__organisation",
            "breach__reported_by",
            "involved__partner__organisation",
        )
        .filter(pk=clocks.subject_pk(clock))
        .first()
    )


def _context(obligation: Obligation, now: datetime) -> dict:
    breach = obligation.breach
    return {
        "breach": breach,
        "partnership": breach.partnership,
        "obligation": obligation,
        "who": obligation.who,
        "due": shown(obligation.due_at, now),
        "left": remaining(obligation.due_at, now),
        "link": link(breach),
    }


@clocks.kind(WARNING, model=Obligation, due_for=warning_due, candidates=_open_obligations)
def _warn(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        obligation = _obligation(clock)
        if obligation is None or warning_due(obligation) is None:
            return None
        now = timezone.now()
        if warning_due(obligation) > now:
            clocks.recompute(WARNING, obligation)  # the deadline moved: follow it
            return None
        warnings = warnings_for(obligation.breach)
        if obligation.due_at <= now:  # the deadline itself has passed: escalation's turn
            obligation.warnings_sent = len(warnings)
            obligation.save(update_fields=["warnings_sent"])
            return None
        # Only the latest warning whose time has come (a breach logged 5 hours before a
        # deadline gets the 6-hour warning, not the 24-hour one as well).
        index = max(
            i
            for i in range(obligation.warnings_sent, len(warnings))
            if obligation.due_at - warnings[i] <= now
        )
        obligation.warnings_sent = index + 1
        obligation.save(update_fields=["warnings_sent"])
        sent = send_templated_email_each(
            "breach_warning", reporter_emails(obligation.breach), _context(obligation, now)
        )
        hours = int(warnings[index].total_seconds() // 3600)
        return f"{hours}-hour warning to {sent}"


@clocks.kind(OVERDUE, model=Obligation, due_for=overdue_due, candidates=_open_obligations)
def _escalate(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        obligation = _obligation(clock)
        if obligation is None or overdue_due(obligation) is None:
            return None
        now = timezone.now()
        if obligation.due_at > now:
            clocks.recompute(OVERDUE, obligation)
            return None
        obligation.escalated_at = now
        obligation.save(update_fields=["escalated_at"])
        breach = obligation.breach
        recipients = (
            lead_emails(breach)
            + administrator_emails(breach.partnership_id)
            + reporter_emails(breach)
        )
        sent = send_templated_email_each("breach_overdue", recipients, _context(obligation, now))
        log_action(
            breach.partnership,
            "breach.overdue",
            f"The deadline to tell {obligation.who} of breach {breach.reference} passed",
            breach,
            {"due_at": [None, obligation.due_at]},
        )
        return f"overdue; {sent} told"


@clocks.kind(LEAD_DECIDES, model=BreachReport, due_for=lead_decides_due, candidates=_open_breaches)
def _ask_lead(clock) -> str | None:
    with in_partnership(clock.partnership_id):
        breach = (
            BreachReport.objects.select_for_update()
            .select_related("partnership", "lead_partner__organisation")
            .filter(pk=clocks.subject_pk(clock))
            .first()
        )
        if breach is None or lead_decides_due(breach) is None:
            return None
        now = timezone.now()
        if lead_decides_due(breach) > now:
            clocks.recompute(LEAD_DECIDES, breach)
            return None
        breach.lead_asked_at = now
        breach.save(update_fields=["lead_asked_at"])
        ico = _ico(breach)
        sent = send_templated_email_each(
            "breach_lead_decides",
            lead_emails(breach),
            {
                "breach": breach,
                "partnership": breach.partnership,
                "due": shown(ico.due_at, now),
                "left": remaining(ico.due_at, now),
                "link": link(breach),
            },
        )
        log_action(
            breach.partnership,
            "breach.lead_asked",
            f"The partners had not agreed on notifying the ICO of breach {breach.reference}: "
            f"{breach.lead_partner.organisation} asked to decide",
            breach,
        )
        return f"lead asked; {sent} told"


def obligation_changed(sender, instance: Obligation, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    clocks.recompute(WARNING, instance)
    clocks.recompute(OVERDUE, instance)
    if instance.recipient == Recipient.ICO:
        clocks.recompute(LEAD_DECIDES, instance.breach)


def breach_changed(sender, instance: BreachReport, **kwargs) -> None:
    if kwargs.get("raw"):
        return
    clocks.recompute(LEAD_DECIDES, instance)
    with scopes_disabled():
        for obligation in Obligation.objects.filter(breach=instance, state=ObligationState.DUE):
            obligation.breach = instance
            clocks.recompute(WARNING, obligation)
            clocks.recompute(OVERDUE, obligation)


def run_warnings() -> int:
    return clocks.run_due(WARNING)


def run_escalations() -> int:
    return clocks.run_due(OVERDUE)


def run_lead_decides() -> int:
    return clocks.run_due(LEAD_DECIDES)
