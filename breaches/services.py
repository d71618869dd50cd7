"""Every change to a breach, one function each: it checks who acts and what the facts allow,
changes the records, writes the audit entry and queues the e-mails, in the caller's
transaction; the clocks follow from the stored facts (clocks.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from accord.kernel.cadences import BREACH_WARNINGS
from accord.kernel.mail import send_templated_email_each
from agreements.models import Agreement
from protocols.models import Protocol
from reviews import services as review_services
from signatories.models import Partner, PartnerStatus
from signatories.tokens import TOKEN_MAX_LENGTH, hash_token, new_token
from tenancy.audit import log_action
from tenancy.lifecycle import membership_of
from tenancy.models import Membership, Partnership

from . import access
from .models import (
    Assessment,
    BreachReport,
    BreachStatus,
    FollowUp,
    Individuals,
    InvolvedPartner,
    Obligation,
    ObligationState,
    Recipient,
    View,
)
from .times import hours_between, shown

PARTNER_HOURS = 48  # the partnership's rule (seed 002 s11), unless the agreement says less
ICO_HOURS = 72  # UK GDPR Article 33(1)
# The partnership's own settings (Partnership.breach_warning_hours and
# breach_lead_decides_hours) say when the DPO is warned and when the lead decides; these are
# Accord's defaults.
WARNINGS = BREACH_WARNINGS


def warnings_for(breach: BreachReport) -> tuple[timedelta, ...]:
    return breach.partnership.breach_warnings


def lead_decides_before(breach: BreachReport) -> timedelta:
    """How long before the ICO deadline the lead organisation decides, if the partners have
    not agreed."""
    return timedelta(hours=breach.partnership.breach_lead_decides_hours)


REPORT_FIELDS = (
    "title",
    "contact_name",
    "contact_email",
    "contact_phone",
    "occurred_at",
    "detected_at",
    "aware_at",
    "what_happened",
    "how_found",
    "cyber_incident",
    "data_subject_categories",
    "subjects_count",
    "subjects_estimated",
    "data_categories",
    "records_count",
    "records_estimated",
    "special_category",
    "criminal_offence",
    "consequences",
    "measures",
    "containment",
    "staff_involved",
    "staff_training",
    "others_told",
)


# --- Helpers -------------------------------------------------------------------------------


def link(breach: BreachReport, name: str = "detail") -> str:
    return settings.SITE_URL + reverse(
        f"breaches:{name}",
        kwargs={"partnership_slug": breach.partnership.slug, "breach_id": breach.pk},
    )


def _require(ok: bool, why: str) -> None:
    if not ok:
        raise PermissionDenied(why)


def _manager(by, breach: BreachReport) -> Membership | None:
    """Refuse anyone who may not manage the breach (None: Accord itself)."""
    if by is None:
        return None
    membership = membership_of(by, breach.partnership_id)
    _require(
        access.may_manage(membership, breach),
        f"Only the DPOs of {breach.reporting_partner.organisation} and the partnership's "
        "administrators can do this.",
    )
    return membership


def _open(breach: BreachReport) -> None:
    if not breach.is_open:
        raise ValidationError("This breach is closed: it can no longer change.")


def _lock(breach: BreachReport) -> BreachReport:
    return (
        BreachReport.objects.select_for_update()
        .select_related("reporting_partner__organisation", "lead_partner__organisation")
        .get(pk=breach.pk)
    )


def dpo_emails(partnership_id: int, organisation_id: int) -> list[str]:
    return list(
        Membership.objects.filter(
            partnership_id=partnership_id, organisation_id=organisation_id, is_dpo=True
        ).values_list("user__email", flat=True)
    )


def administrator_emails(partnership_id: int) -> list[str]:
    return list(
        Membership.objects.filter(partnership_id=partnership_id, is_administrator=True).values_list(
            "user__email", flat=True
        )
    )


def reporter_emails(breach: BreachReport) -> list[str]:
    """The reporting DPO, the contact point and the organisation's deputy DPO."""
    organisation = breach.reporting_partner.organisation
    return [breach.reported_by.email, breach.contact_email, organisation.deputy_dpo_email]


def lead_emails(breach: BreachReport) -> list[str]:
    """The lead organisation's DPOs, or the administrators when it has none."""
    return dpo_emails(
        breach.partnership_id, breach.lead_partner.organisation_id
    ) or administrator_emails(breach.partnership_id)


def windows(agreements: Iterable[Agreement]) -> tuple[int, int]:
    """The partners' and the ICO's windows in hours: the strictest the agreements set."""
    partner, ico = PARTNER_HOURS, ICO_HOURS
    for agreement in agreements:
        partner = min(partner, agreement.partner_breach_hours or PARTNER_HOURS)
        ico = min(ico, agreement.ico_breach_hours or ICO_HOURS)
    return partner, ico


def check_times(
    occurred: datetime | None, detected: datetime, aware: datetime, now: datetime | None = None
) -> None:
    """Never in the future; happened before detected; aware no earlier than detected."""
    now = now or timezone.now()
    errors: dict[str, str] = {}
    slack = timedelta(minutes=1)  # a clock a little ahead of the server's
    if occurred is not None and occurred > now + slack:
        errors["occurred"] = "When it happened cannot be in the future."
    if detected > now + slack:
        errors["detected"] = "When it was detected cannot be in the future."
    if aware > now + slack:
        errors["aware"] = "When the organisation became aware cannot be in the future."
    if occurred is not None and detected < occurred and "detected" not in errors:
        errors["detected"] = "It cannot have been detected before it happened."
    # Against a detection time already refused, the comparison would blame a right answer.
    if aware < detected and "aware" not in errors and "detected" not in errors:
        errors["aware"] = (
            "The organisation cannot have become aware before the breach was detected."
        )
    if errors:
        raise ValidationError(errors)


TIMES = ("occurred_at", "detected_at", "aware_at")


def _in_utc(values: dict[str, Any]) -> dict[str, Any]:
    """Times in UTC before any arithmetic: hours added to a UK time would be wall-clock
    hours, one more or less across a clock change."""
    return {
        name: value.astimezone(UTC) if name in TIMES and value is not None else value
        for name, value in values.items()
    }


def lead_partner_for(
    reporting: Partner, protocol: Protocol | None, agreements: list[Agreement]
) -> Partner:
    if protocol is not None:
        return protocol.lead
    if agreements:
        return min(agreements, key=lambda a: a.pk).lead
    return reporting


def involved_from(agreements: Iterable[Agreement], protocol: Protocol | None) -> set[int]:
    """The partners the agreements' parties make involved (and a protocol's lead)."""
    ids = {party.partner_id for agreement in agreements for party in agreement.parties.all()}
    if protocol is not None:
        ids.add(protocol.lead_id)
    return ids


# --- Logging -------------------------------------------------------------------------------


@transaction.atomic
def log_breach(
    partnership: Partnership,
    *,
    by,
    values: dict[str, Any],
    agreements: Iterable[Agreement] = (),
    protocol: Protocol | None = None,
    involved: Iterable[Partner] | None = None,
) -> BreachReport:
    """A DPO logs a breach for the organisation they act for (never one chosen in a form):
    both clocks start (each involved partner: detected + the agreement's window; the ICO:
    aware + 72 hours) and the agreements and protocol are flagged for an early review."""
    membership = membership_of(by, partnership.pk)
    _require(access.may_log(membership), "Only DPOs and administrators can log a breach.")
    reporting = Partner.objects.filter(
        organisation_id=membership.organisation_id, status=PartnerStatus.ACTIVE
    ).first()
    if reporting is None:
        raise ValidationError(
            f"{membership.organisation} is not an active partner of the partnership, so "
            "cannot log a breach here."
        )
    agreements = list(agreements)
    values = _in_utc({k: v for k, v in values.items() if k in REPORT_FIELDS})
    values.setdefault("aware_at", values.get("detected_at"))
    check_times(values.get("occurred_at"), values["detected_at"], values["aware_at"])
    Partnership.objects.select_for_update().get(pk=partnership.pk)  # numbers in order
    number = (BreachReport.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    breach = BreachReport.objects.create(
        partnership=partnership,
        number=number,
        reporting_partner=reporting,
        lead_partner=lead_partner_for(reporting, protocol, agreements),
        reported_by=by,
        protocol=protocol,
        **values,
    )
    breach.agreements.set(agreements)
    chosen = (
        {p.pk for p in involved} if involved is not None else involved_from(agreements, protocol)
    )
    chosen.add(reporting.pk)
    partner_hours, ico_hours = windows(agreements)
    for partner in Partner.objects.filter(pk__in=chosen).select_related("organisation"):
        _involve(breach, partner, partner_hours)
    Obligation.objects.create(
        partnership=partnership,
        breach=breach,
        recipient=Recipient.ICO,
        due_at=breach.aware_at + timedelta(hours=ico_hours),
    )
    access.grant(breach)
    log_action(
        partnership,
        "breach.logged",
        f"Breach {breach.reference} logged by {reporting.organisation}: {breach.title}",
        breach,
        {"detected_at": [None, breach.detected_at], "aware_at": [None, breach.aware_at]},
    )
    review_services.after_breach(
        [*agreements, *([protocol] if protocol else [])],
        detected_on=timezone.localdate(breach.detected_at),
    )
    return breach


def _involve(breach: BreachReport, partner: Partner, hours: int) -> InvolvedPartner:
    involved = InvolvedPartner.objects.create(
        partnership=breach.partnership, breach=breach, partner=partner
    )
    if partner.pk != breach.reporting_partner_id:
        Obligation.objects.create(
            partnership=breach.partnership,
            breach=breach,
            recipient=Recipient.PARTNER,
            involved=involved,
            due_at=breach.detected_at + timedelta(hours=hours),
        )
    return involved


@transaction.atomic
def update_report(breach: BreachReport, *, by, values: dict[str, Any]) -> BreachReport:
    """Complete the report in phases (Article 33(4)). The times move the deadlines with
    them; a deadline already met keeps how it was met."""
    _manager(by, breach)
    breach = _lock(breach)
    _open(breach)
    values = _in_utc({k: v for k, v in values.items() if k in REPORT_FIELDS})
    check_times(
        values.get("occurred_at", breach.occurred_at),
        values.get("detected_at", breach.detected_at),
        values.get("aware_at", breach.aware_at),
    )
    changes = {}
    for name, value in values.items():
        if getattr(breach, name) != value:
            changes[name] = [getattr(breach, name), value]
            setattr(breach, name, value)
    if not changes:
        return breach
    breach.save()
    if "detected_at" in changes or "aware_at" in changes:
        _move_deadlines(breach)
    log_action(
        breach.partnership,
        "breach.updated",
        f"Breach {breach.reference}'s report updated",
        breach,
        changes,
    )
    return breach


def _move_deadlines(breach: BreachReport) -> None:
    partner_hours, ico_hours = windows(breach.agreements.all())
    for obligation in breach.obligations.filter(state=ObligationState.DUE):
        if obligation.recipient == Recipient.PARTNER:
            obligation.due_at = breach.detected_at + timedelta(hours=partner_hours)
        elif obligation.recipient == Recipient.ICO:
            obligation.due_at = breach.aware_at + timedelta(hours=ico_hours)
        obligation.save(update_fields=["due_at"])


# --- Filing: someone has been told ---------------------------------------------------------


def _file(
    obligation: Obligation, *, by, at: datetime, method: str, late_reason: str = ""
) -> Obligation:
    """Record that the obligation was met at `at`: on time or late, fixed now. A late filing
    needs the reason."""
    if not obligation.is_open:
        raise ValidationError(f"{obligation.who} has already been recorded as told.")
    if at > timezone.now() + timedelta(minutes=1):
        raise ValidationError({"at": "The time told cannot be in the future."})
    if at < obligation.breach.detected_at:
        raise ValidationError({"at": "Nobody can have been told before it was detected."})
    late = obligation.due_at is not None and at > obligation.due_at
    if late and not (late_reason or "").strip():
        raise ValidationError(
            {
                "late_reason": f"This is after the deadline ({shown(obligation.due_at)}): "
                "give the reason it is late."
            }
        )
    obligation.state = ObligationState.LATE if late else ObligationState.ON_TIME
    obligation.done_at = at
    obligation.done_by = by
    obligation.method = method.strip()[:200]
    obligation.reason = (late_reason or "").strip() if late else ""
    obligation.save()
    return obligation


@transaction.atomic
def tell_partners(breach: BreachReport, *, by, late_reason: str = "") -> int:
    """E-mail every involved partner not yet told: its confirmed data protection address and
    its DPOs, with a link that acknowledges (no account needed). Each is recorded as told now,
    by e-mail; a late one needs the reason. Returns how many partners were told."""
    _manager(by, breach)
    breach = _lock(breach)
    _open(breach)
    now = timezone.now()
    pending = list(
        breach.obligations.filter(recipient=Recipient.PARTNER, state=ObligationState.DUE)
        .select_related("involved__partner__organisation")
        .order_by("pk")
    )
    if not pending:
        raise ValidationError("Every involved partner has been told already.")
    told = 0
    for obligation in pending:
        involved = obligation.involved
        addresses = notice_addresses(breach, involved)
        if not addresses:
            raise ValidationError(
                f"Accord has no confirmed data protection address or DPO for "
                f"{involved.partner.organisation}: tell it another way and record how."
            )
        _file(obligation, by=by, at=now, method="E-mail from Accord", late_reason=late_reason)
        token, involved.token_hash = new_token()
        involved.save(update_fields=["token_hash"])
        send_templated_email_each(
            "breach_partner_notice",
            addresses,
            {
                "breach": breach,
                "partnership": breach.partnership,
                "organisation": involved.partner.organisation,
                "acknowledge_link": settings.SITE_URL
                + reverse("breach_link", kwargs={"token": token}),
                "link": link(breach),
                "detected": shown(breach.detected_at),
                "ico_due": shown(breach.aware_at + timedelta(hours=ICO_HOURS)),
                "sender": by,
            },
        )
        log_action(
            breach.partnership,
            "breach.partner_told",
            f"{involved.partner.organisation} told of breach {breach.reference} by e-mail"
            + (" (late)" if obligation.state == ObligationState.LATE else ""),
            breach,
            {"told": [None, str(involved.partner.organisation)]},
        )
        told += 1
    return told


def notice_addresses(breach: BreachReport, involved: InvolvedPartner) -> list[str]:
    """Where a partner's notice goes: its confirmed data protection address (the summary
    sheet's) and its DPOs in the partnership. Never an unconfirmed address: the notice holds a
    link that acts for the partner."""
    organisation = involved.partner.organisation
    found = [organisation.confirmed_data_protection_email]
    found += dpo_emails(breach.partnership_id, organisation.pk)
    return sorted({a.strip().lower() for a in found if a and a.strip()})


@transaction.atomic
def record_told(
    obligation: Obligation,
    *,
    by,
    at: datetime,
    method: str,
    late_reason: str = "",
    case_reference: str = "",
) -> Obligation:
    """Record that a partner, the ICO or the individuals were told another way (telephone,
    the ICO's online form ...). The ICO needs its case reference."""
    breach = obligation.breach
    _manager(by, breach)
    breach = _lock(breach)
    _open(breach)
    obligation = Obligation.objects.select_for_update().get(pk=obligation.pk)
    obligation.breach = breach
    if not method.strip():
        raise ValidationError({"method": "Say how they were told."})
    if obligation.recipient == Recipient.ICO:
        if not breach.notifiable and breach.ico_decision != View.NOTIFY:
            raise ValidationError(
                "Record the assessment first: the ICO is told only of a notifiable breach."
            )
        case_reference = (case_reference or "").strip()
        if not case_reference:
            raise ValidationError(
                {"case_reference": "Enter the ICO's case reference, from its acknowledgement."}
            )
    _file(obligation, by=by, at=at, method=method, late_reason=late_reason)
    if obligation.recipient == Recipient.ICO:
        breach.ico_case_reference = case_reference[:50]
        breach.save(update_fields=["ico_case_reference", "updated_at"])
    log_action(
        breach.partnership,
        f"breach.{obligation.recipient}_told",
        f"{obligation.who} told of breach {breach.reference}: {obligation.method}"
        + (" (late)" if obligation.state == ObligationState.LATE else ""),
        breach,
        {"done_at": [None, obligation.done_at], "state": [None, obligation.state]},
    )
    return obligation


# --- Partners answering --------------------------------------------------------------------


def involved_by_token(token: str) -> InvolvedPartner | None:
    """The involved partner an e-mailed link acts for (None for a link that is not one).
    Crosses partnerships: the link carries no partnership of its own."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    with scopes_disabled():
        return (
            InvolvedPartner.objects.select_related(
                "breach__partnership",
                "breach__reporting_partner__organisation",
                "partner__organisation",
            )
            .filter(token_hash=hash_token(token))
            .first()
        )


@transaction.atomic
def acknowledge(involved: InvolvedPartner, *, who: str) -> InvolvedPartner:
    involved = InvolvedPartner.objects.select_for_update().get(pk=involved.pk)
    if involved.acknowledged_at is not None:
        return involved
    involved.acknowledged_at = timezone.now()
    involved.acknowledged_by = who[:300]
    involved.save(update_fields=["acknowledged_at", "acknowledged_by"])
    log_action(
        involved.breach.partnership,
        "breach.acknowledged",
        f"{involved.partner.organisation} acknowledged breach {involved.breach.reference} ({who})",
        involved.breach,
    )
    return involved


@transaction.atomic
def give_view(involved: InvolvedPartner, *, view: str, reason: str, who: str) -> InvolvedPartner:
    """An involved partner's view on notifying the ICO, with its reasons. When every involved
    partner agrees, the decision stands."""
    breach = _lock(involved.breach)
    _open(breach)
    if breach.ico_decision:
        raise ValidationError("The decision on notifying the ICO has been made already.")
    if view not in View.values:
        raise ValidationError({"view": "Choose whether to notify the ICO."})
    if not reason.strip():
        raise ValidationError({"reason": "Give the reasons for your view."})
    involved = InvolvedPartner.objects.select_for_update().get(pk=involved.pk)
    involved.view, involved.view_reason = view, reason.strip()
    involved.view_at, involved.view_by = timezone.now(), who[:300]
    if involved.acknowledged_at is None:
        involved.acknowledged_at, involved.acknowledged_by = involved.view_at, who[:300]
    involved.save()
    log_action(
        breach.partnership,
        "breach.view_given",
        f"{involved.partner.organisation}'s view on breach {breach.reference}: "
        f"{View(view).label.lower()} ({who})",
        breach,
        {"view": [None, view]},
    )
    _settle(breach)
    return involved


def views(breach: BreachReport) -> dict[str, int]:
    given = list(breach.involved.values_list("view", flat=True))
    return {
        "partners": len(given),
        "given": sum(1 for v in given if v),
        "notify": given.count(View.NOTIFY),
        "do_not_notify": given.count(View.DO_NOT_NOTIFY),
    }


def disagree(breach: BreachReport) -> bool:
    counts = views(breach)
    return bool(counts["notify"] and counts["do_not_notify"])


def _settle(breach: BreachReport) -> None:
    """Every involved partner has the same view: it is the decision."""
    counts = views(breach)
    if counts["given"] < counts["partners"] or disagree(breach):
        return
    decision = View.NOTIFY if counts["notify"] else View.DO_NOT_NOTIFY
    _decide(breach, decision, "Agreed by every involved partner.", by_lead=False)


def _decide(breach: BreachReport, decision: str, reason: str, *, by_lead: bool) -> None:
    breach.ico_decision = decision
    breach.ico_decided_at = timezone.now()
    breach.ico_decided_by_lead = by_lead
    breach.ico_decision_reason = reason
    breach.save()
    ico = breach.obligations.filter(recipient=Recipient.ICO).first()
    if ico is not None and decision == View.DO_NOT_NOTIFY and ico.is_open:
        ico.state, ico.reason = ObligationState.NOT_NEEDED, reason
        ico.save(update_fields=["state", "reason"])
    elif ico is not None and decision == View.NOTIFY and ico.state == ObligationState.NOT_NEEDED:
        ico.state, ico.reason = ObligationState.DUE, ""
        ico.save(update_fields=["state", "reason"])
    log_action(
        breach.partnership,
        "breach.decided",
        f"Decision on breach {breach.reference}: {View(decision).label.lower()}"
        + (f", by the lead organisation, {breach.lead_partner.organisation}" if by_lead else ""),
        breach,
        {"ico_decision": [None, decision]},
    )


def lead_may_decide(breach: BreachReport, now: datetime | None = None) -> bool:
    """The lead decides when the partners disagree, or when the time for agreeing is up."""
    if breach.ico_decision or not breach.is_open:
        return False
    ico = breach.obligations.filter(recipient=Recipient.ICO).first()
    late = ico is not None and ico.due_at - lead_decides_before(breach) <= (now or timezone.now())
    return disagree(breach) or late or breach.lead_asked_at is not None


def too_soon_for_the_lead(breach: BreachReport) -> str:
    return (
        "The partners still have time to agree: the lead organisation decides when they "
        f"disagree, or {breach.partnership.breach_lead_decides_hours} hours before the ICO "
        "deadline."
    )


@transaction.atomic
def lead_decides(breach: BreachReport, *, by, decision: str, reason: str) -> BreachReport:
    breach = _lock(breach)
    _open(breach)
    membership = membership_of(by, breach.partnership_id)
    _require(
        access.is_lead_dpo(membership, breach),
        f"Only the DPOs of the lead organisation, {breach.lead_partner.organisation}, decide.",
    )
    if breach.ico_decision:
        raise ValidationError("The decision on notifying the ICO has been made already.")
    if not lead_may_decide(breach):
        raise ValidationError(too_soon_for_the_lead(breach))
    if decision not in View.values:
        raise ValidationError({"decision": "Choose whether to notify the ICO."})
    if not reason.strip():
        raise ValidationError({"reason": "Give the reasons for the decision."})
    _decide(breach, decision, reason.strip(), by_lead=True)
    return breach


# --- The assessment ------------------------------------------------------------------------


@transaction.atomic
def assess(
    breach: BreachReport, *, by, likelihood: str, severity: str, assessment: str, reason: str
) -> BreachReport:
    """The reporting organisation's assessment of the risk to people: it is that partner's
    view on the ICO. Not notifiable needs the reasons, kept for ever (Article 33(5)); high
    risk adds telling the individuals (Article 34)."""
    _manager(by, breach)
    breach = _lock(breach)
    _open(breach)
    if assessment not in (Assessment.NOT_NOTIFIABLE, Assessment.NOTIFIABLE, Assessment.HIGH_RISK):
        raise ValidationError({"assessment": "Choose the outcome of the assessment."})
    reason = (reason or "").strip()
    if assessment == Assessment.NOT_NOTIFIABLE and not reason:
        raise ValidationError(
            {"reason": "Give the reasons it is not notifiable: they are kept with the breach."}
        )
    before = [breach.assessment, breach.likelihood, breach.severity]
    breach.likelihood, breach.severity = likelihood, severity
    breach.assessment, breach.assessment_reason = assessment, reason
    breach.assessed_at = timezone.now()
    # Telling the people affected decided while the risk was not high, without the partners:
    # now it is high, they are asked.
    becomes_high = assessment == Assessment.HIGH_RISK and before[0] != Assessment.HIGH_RISK
    reopened = becomes_high and bool(breach.individuals)
    if reopened:
        breach.individuals, breach.individuals_decided_by_lead = Individuals.UNDECIDED, False
    breach.save()
    if assessment == Assessment.HIGH_RISK:
        Obligation.objects.get_or_create(
            partnership=breach.partnership, breach=breach, recipient=Recipient.INDIVIDUALS
        )
    else:
        breach.obligations.filter(
            recipient=Recipient.INDIVIDUALS, state=ObligationState.DUE
        ).update(state=ObligationState.NOT_NEEDED, reason="Not high risk, as assessed.")
    log_action(
        breach.partnership,
        "breach.assessed",
        f"Breach {breach.reference} assessed: {Assessment(assessment).label}",
        breach,
        {"assessment": [before[0], assessment]},
    )
    own = breach.involved.filter(partner=breach.reporting_partner).first()
    if own is not None and not breach.ico_decision:
        view = View.DO_NOT_NOTIFY if assessment == Assessment.NOT_NOTIFIABLE else View.NOTIFY
        own.view, own.view_reason = view, reason or Assessment(assessment).label
        own.view_at, own.view_by = breach.assessed_at, str(by) if by else "Accord"
        own.acknowledged_at = own.acknowledged_at or breach.assessed_at
        own.save()
        _settle(breach)
    if reopened:
        _settle_individuals(breach)
    return breach


# --- Individuals ---------------------------------------------------------------------------


def _individuals_choice(decision: str, reason: str) -> tuple[str, str]:
    if decision not in (Individuals.TELL, Individuals.DO_NOT_TELL):
        raise ValidationError({"decision": "Choose whether to tell the individuals."})
    reason = (reason or "").strip()
    if decision == Individuals.DO_NOT_TELL and not reason:
        raise ValidationError(
            {"reason": "Give the reason, or the exemption of Article 34(3) that applies."}
        )
    return decision, reason


@transaction.atomic
def decide_individuals(
    breach: BreachReport, *, by, decision: str, reason: str = "", plan: str = ""
) -> BreachReport:
    """The reporting organisation's view on telling the people affected, with who tells
    them, how and what: it stands once every involved partner agrees (the lead organisation
    decides when they do not)."""
    _manager(by, breach)
    breach = _lock(breach)
    _open(breach)
    if breach.individuals:
        raise ValidationError("The decision on telling the people affected has been made.")
    decision, reason = _individuals_choice(decision, reason)
    breach.individuals_reason, breach.individuals_plan = reason, plan.strip()
    breach.save(update_fields=["individuals_reason", "individuals_plan", "updated_at"])
    own = breach.involved.filter(partner=breach.reporting_partner).first()
    if own is not None:
        own.individuals_view, own.individuals_reason = decision, reason
        own.save(update_fields=["individuals_view", "individuals_reason"])
    log_action(
        breach.partnership,
        "breach.individuals_view",
        f"{breach.reporting_partner.organisation}'s view on breach {breach.reference}: "
        f"{Individuals(decision).label.lower()}",
        breach,
        {"individuals_view": [None, decision]},
    )
    _settle_individuals(breach)
    return breach


@transaction.atomic
def give_individuals_view(
    involved: InvolvedPartner, *, view: str, reason: str, who: str
) -> InvolvedPartner:
    """An involved partner's view on telling the people affected."""
    breach = _lock(involved.breach)
    _open(breach)
    if breach.individuals:
        raise ValidationError("The decision on telling the people affected has been made.")
    view, reason = _individuals_choice(view, reason)
    involved = InvolvedPartner.objects.select_for_update().get(pk=involved.pk)
    involved.individuals_view, involved.individuals_reason = view, reason
    involved.save(update_fields=["individuals_view", "individuals_reason"])
    log_action(
        breach.partnership,
        "breach.individuals_view",
        f"{involved.partner.organisation}'s view on breach {breach.reference}: "
        f"{Individuals(view).label.lower()} ({who})",
        breach,
        {"individuals_view": [None, view]},
    )
    _settle_individuals(breach)
    return involved


def individuals_views(breach: BreachReport) -> list[str]:
    return list(breach.involved.values_list("individuals_view", flat=True))


def individuals_disagree(breach: BreachReport) -> bool:
    given = {v for v in individuals_views(breach) if v}
    return len(given) > 1


def _settle_individuals(breach: BreachReport) -> None:
    """Every involved partner has the same view: it is the decision. The partners are asked
    only when the risk to people is high; otherwise the reporting organisation's view is."""
    given = individuals_views(breach)
    if breach.assessment != Assessment.HIGH_RISK:
        given = [breach.involved.get(partner=breach.reporting_partner).individuals_view]
    if not given or not all(given) or len(set(given)) > 1:
        return
    reason = breach.involved.get(partner=breach.reporting_partner).individuals_reason
    _decide_individuals(breach, given[0], reason or breach.individuals_reason, by_lead=False)


def _decide_individuals(breach: BreachReport, decision: str, reason: str, *, by_lead: bool):
    breach.individuals = decision
    breach.individuals_decided_by_lead = by_lead
    if reason:
        breach.individuals_reason = reason
    breach.save()
    obligation = breach.obligations.filter(recipient=Recipient.INDIVIDUALS).first()
    if obligation is not None and obligation.is_open and decision == Individuals.DO_NOT_TELL:
        obligation.state, obligation.reason = ObligationState.NOT_NEEDED, breach.individuals_reason
        obligation.save(update_fields=["state", "reason"])
    log_action(
        breach.partnership,
        "breach.individuals_decided",
        f"Breach {breach.reference}: {Individuals(decision).label.lower()}"
        + (f", by the lead organisation, {breach.lead_partner.organisation}" if by_lead else ""),
        breach,
        {"individuals": [None, decision]},
    )


@transaction.atomic
def lead_decides_individuals(
    breach: BreachReport, *, by, decision: str, reason: str = "", plan: str = ""
) -> BreachReport:
    """The involved partners disagree on telling the people affected: the lead decides."""
    breach = _lock(breach)
    _open(breach)
    membership = membership_of(by, breach.partnership_id)
    _require(
        access.is_lead_dpo(membership, breach),
        f"Only the DPOs of the lead organisation, {breach.lead_partner.organisation}, decide.",
    )
    if breach.individuals:
        raise ValidationError("The decision on telling the people affected has been made.")
    if not individuals_disagree(breach):
        raise ValidationError(
            "The partners have not disagreed: the lead organisation decides only when they do."
        )
    decision, reason = _individuals_choice(decision, reason)
    if plan.strip():
        breach.individuals_plan = plan.strip()
    _decide_individuals(breach, decision, reason, by_lead=True)
    return breach


# --- Follow-ups and closing ----------------------------------------------------------------


@transaction.atomic
def add_follow_up(breach: BreachReport, *, by, sent_at: datetime, what_changed: str) -> FollowUp:
    _manager(by, breach)
    breach = _lock(breach)
    _open(breach)
    if not what_changed.strip():
        raise ValidationError({"what_changed": "Say what the follow-up report adds or changes."})
    if sent_at > timezone.now() + timedelta(minutes=1):
        raise ValidationError({"sent_at": "The time sent cannot be in the future."})
    ico = breach.obligations.filter(recipient=Recipient.ICO).first()
    if ico is None or ico.done_at is None:
        raise ValidationError("Record the first report to the ICO before a follow-up.")
    follow_up = FollowUp.objects.create(
        partnership=breach.partnership,
        breach=breach,
        sent_at=sent_at,
        what_changed=what_changed.strip(),
        by=by,
    )
    log_action(
        breach.partnership,
        "breach.follow_up",
        f"Follow-up report on breach {breach.reference} sent to the ICO",
        breach,
    )
    return follow_up


def open_obligations(breach: BreachReport) -> list[Obligation]:
    return list(breach.obligations.filter(state=ObligationState.DUE))


@transaction.atomic
def close(breach: BreachReport, *, by) -> BreachReport:
    """Only when everyone who must be told has been, or is recorded as not needing to be.
    A closed breach stays in the log for ever."""
    _manager(by, breach)
    breach = _lock(breach)
    _open(breach)
    waiting = open_obligations(breach)
    if waiting:
        names = ", ".join(o.who for o in waiting)
        raise ValidationError(f"It cannot be closed while these are still to be told: {names}.")
    breach.status = BreachStatus.CLOSED
    breach.closed_at, breach.closed_by = timezone.now(), by
    breach.save()
    log_action(
        breach.partnership,
        "breach.closed",
        f"Breach {breach.reference} closed",
        breach,
        {"status": [BreachStatus.OPEN, BreachStatus.CLOSED]},
    )
    return breach


def elapsed_hours(breach: BreachReport, obligation: Obligation) -> float | None:
    """Hours from the clock's start to the filing (detected for partners, aware for the ICO)."""
    if obligation.done_at is None:
        return None
    start = breach.aware_at if obligation.recipient == Recipient.ICO else breach.detected_at
    return hours_between(start, obligation.done_at)
