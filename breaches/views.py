"""The breach log's pages: the register, logging a breach, the breach page with its two
clocks, each action on it, and the link e-mailed to an involved partner.

Every page first fetches the breach the member may see (access.visible), or answers 404 as if
it did not exist. Every change is a POST to one service function; a refusal by the facts
(ValidationError) is shown by the field it concerns and changes nothing; a refusal of the
person (PermissionDenied) is a 403.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django_scopes import scope, scopes_disabled

from accord.kernel.context import acting
from accord.kernel.forms import add_form_errors, posted
from signatories.models import Partner
from signatories.tokens import TOKEN_MAX_LENGTH
from tenancy.models import Partnership
from tenancy.permissions import requires
from tenancy.roles import Perm
from tenancy.services import update_partnership

from . import access, queries, services
from .forms import (
    AssessForm,
    BreachSettingsForm,
    CloseForm,
    FollowUpForm,
    IndividualsForm,
    LeadDecisionForm,
    LinkIndividualsForm,
    LinkViewForm,
    LogForm,
    PartnerIndividualsForm,
    RegisterFilter,
    ReportForm,
    TellPartnersForm,
    ToldForm,
    ViewForm,
)
from .models import (
    Assessment,
    BreachReport,
    InvolvedPartner,
    Obligation,
    ObligationState,
    Recipient,
)
from .times import remaining, shown

PAGE_SIZE = 50
STATUS_TAGS = {
    queries.OPEN: ("Open", "govuk-tag--blue"),
    queries.OVERDUE: ("Overdue", "govuk-tag--red"),
    queries.CLOSED: ("Closed", "govuk-tag--grey"),
}
STATE_TAGS = {
    ObligationState.DUE: "govuk-tag--blue",
    ObligationState.ON_TIME: "govuk-tag--green",
    ObligationState.LATE: "govuk-tag--orange",
    ObligationState.NOT_NEEDED: "govuk-tag--grey",
}
CLOSED = "This breach is closed: it can no longer change."


# --- Helpers -------------------------------------------------------------------------------


def _breach(request: HttpRequest, breach_id: int) -> BreachReport:
    return queries.visible_breach(request.membership, breach_id)


def _url(request: HttpRequest, name: str, breach: BreachReport, **kwargs: Any) -> str:
    return reverse(
        f"breaches:{name}",
        kwargs={"partnership_slug": request.partnership.slug, "breach_id": breach.pk, **kwargs},
    )


def _to_breach(request: HttpRequest, breach: BreachReport, anchor: str = "") -> HttpResponse:
    return redirect(_url(request, "detail", breach) + anchor)


def _manage(request: HttpRequest, breach: BreachReport) -> None:
    """403 for anyone but the reporting organisation's DPOs and the administrators."""
    if not access.may_manage(request.membership, breach):
        raise PermissionDenied(
            f"Only the DPOs of {breach.reporting_partner.organisation} and the partnership's "
            "administrators can do this."
        )


def _refused_when_closed(request: HttpRequest, breach: BreachReport) -> HttpResponse | None:
    if breach.is_open:
        return None
    messages.error(request, CLOSED)
    return _to_breach(request, breach)


def _hours(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}"


def _involved(breach: BreachReport) -> list[InvolvedPartner]:
    found = list(breach.involved.select_related("partner__organisation"))
    for involved in found:
        involved.breach = breach
    return found


def _own_involved(
    request: HttpRequest, breach: BreachReport, involved: list[InvolvedPartner]
) -> InvolvedPartner | None:
    """The involved partner this DPO speaks for (not the reporting one: its view is its
    assessment)."""
    return next(
        (
            i
            for i in involved
            if i.partner_id != breach.reporting_partner_id
            and access.speaks_for(request.membership, i)
        ),
        None,
    )


# --- The clocks and what to do next ----------------------------------------------------------


def _countdown(due: datetime, now: datetime) -> dict[str, Any]:
    return {
        "iso": due.isoformat(),
        "left": remaining(due, now),
        "overdue": due < now,
    }


def partner_clock(obligations: list[Obligation], now: datetime) -> dict[str, Any] | None:
    partners = [o for o in obligations if o.recipient == Recipient.PARTNER]
    if not partners:
        return None
    due = min(o.due_at for o in partners)
    waiting = [o for o in partners if o.is_open]
    clock: dict[str, Any] = {"heading": f"Tell the partners by {shown(due, now)}"}
    if waiting:
        clock["countdown"] = _countdown(due, now)
        clock["note"] = "Still to tell: " + ", ".join(o.who for o in waiting) + "."
    else:
        last = max(o.done_at for o in partners if o.done_at)
        late = any(o.state == ObligationState.LATE for o in partners)
        clock["done"] = f"Every partner told, the last at {shown(last, now)}" + (
            " (late)." if late else "."
        )
    return clock


def ico_clock(ico: Obligation | None, now: datetime) -> dict[str, Any] | None:
    if ico is None or ico.due_at is None:
        return None
    clock: dict[str, Any] = {"heading": f"Tell the ICO by {shown(ico.due_at, now)}"}
    if ico.is_open:
        clock["countdown"] = _countdown(ico.due_at, now)
        clock["note"] = "If the breach is notifiable: counted from becoming aware."
    elif ico.state == ObligationState.NOT_NEEDED:
        clock["done"] = f"Not needed: {ico.reason}"
    else:
        clock["done"] = f"Told at {shown(ico.done_at, now)}" + (
            " (late)." if ico.state == ObligationState.LATE else "."
        )
    return clock


def next_step(
    breach: BreachReport, obligations: list[Obligation], counts: dict[str, int], now: datetime
) -> str:
    """The first thing still to do, in words."""
    if not breach.is_open:
        return "Nothing: the breach is closed. It stays in the log, with everything recorded."
    partners = [o for o in obligations if o.recipient == Recipient.PARTNER and o.is_open]
    if partners:
        due = min(o.due_at for o in partners)
        return (
            f"Tell the partners by {shown(due, now)}: "
            + ", ".join(o.who for o in partners)
            + ". Send the notice by e-mail, or record how each was told."
        )
    if not breach.assessment:
        return (
            "Assess the risk to the people affected: the assessment says whether the ICO "
            "must be told."
        )
    ico = next((o for o in obligations if o.recipient == Recipient.ICO), None)
    if not breach.ico_decision:
        if services.lead_may_decide(breach, now):
            return (
                f"{breach.lead_partner.organisation}, the lead organisation, decides whether "
                "to notify the ICO: the partners have not agreed in time."
            )
        if ico is not None and ico.is_open and breach.notifiable:
            return (
                f"Tell the ICO by {shown(ico.due_at, now)} and record its case reference. "
                f"{counts['given']} of {counts['partners']} involved partners have given "
                "their view."
            )
        return (
            "Wait for the involved partners' views on notifying the ICO: "
            f"{counts['given']} of {counts['partners']} given."
        )
    if ico is not None and ico.is_open:
        return f"Tell the ICO by {shown(ico.due_at, now)} and record its case reference."
    if breach.assessment == Assessment.HIGH_RISK and not breach.individuals:
        return "Decide whether to tell the people affected: the risk to them is high."
    individuals = next((o for o in obligations if o.recipient == Recipient.INDIVIDUALS), None)
    if individuals is not None and individuals.is_open:
        return "Tell the people affected without undue delay, and record how they were told."
    return "Close the breach: everyone who must be told has been. It stays in the log for ever."


# --- The register --------------------------------------------------------------------------


@requires(Perm.MANAGE_BREACHES)
def register(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    now = timezone.now()
    reporters = (
        Partner.objects.filter(pk__in=access.visible(membership).values("reporting_partner"))
        .select_related("organisation")
        .order_by("organisation__name")
    )
    form = RegisterFilter(request.GET or None, reporters=reporters)
    breaches = queries.register(membership, now)
    if form.is_bound and not form.is_valid():
        breaches = breaches.none()
    elif form.is_bound:
        breaches = queries.with_status(breaches, form.cleaned_data["status"])
        if form.cleaned_data["reporting"]:
            breaches = breaches.filter(reporting_partner=form.cleaned_data["reporting"])
    page = Paginator(breaches, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    for breach in rows:
        breach.tag = STATUS_TAGS[queries.status_of(breach)]
        breach.detected = shown(breach.detected_at, now)
        if breach.is_open and breach.next_due is not None:
            breach.next = shown(breach.next_due, now)
            breach.countdown = _countdown(breach.next_due, now)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "breaches/register.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "filtered": any(v.strip() for k, v in request.GET.items() if k != "page"),
            "can_log": access.may_log(membership),
            "can_set_hours": membership.can(Perm.MANAGE_PARTNERSHIP),
        },
    )


# --- Logging -------------------------------------------------------------------------------


@requires(Perm.MANAGE_BREACHES)
def log(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    if not access.may_log(membership):
        raise PermissionDenied("Only DPOs and administrators can log a breach.")
    organisation = membership.organisation
    initial = {
        "contact_name": organisation.dpo_name or request.user.full_name,
        "contact_email": (organisation.dpo_name and organisation.confirmed_data_protection_email)
        or request.user.email,
        "contact_phone": organisation.phone,
    }
    form = LogForm(posted(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            breach = services.log_breach(
                request.partnership,
                by=request.user,
                values=form.values(),
                agreements=data["agreements"],
                protocol=data["protocol"],
                involved=data["involved"] or None,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                f"Breach {breach.reference} is logged. Both clocks have started: the deadlines "
                "are below.",
            )
            return _to_breach(request, breach)
    return render(
        request,
        "breaches/log.html",
        {"form": form, "organisation": organisation},
    )


# --- The breach page -----------------------------------------------------------------------


@requires(Perm.MANAGE_BREACHES)
def detail(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(request, breach_id)
    membership = request.membership
    now = timezone.now()
    obligations = queries.obligations(breach)
    involved = _involved(breach)
    for partner in involved:
        partner.acknowledged = shown(partner.acknowledged_at, now)
        partner.is_reporting = partner.partner_id == breach.reporting_partner_id
    ico = next((o for o in obligations if o.recipient == Recipient.ICO), None)
    counts = services.views(breach)
    manage = access.may_manage(membership, breach) and breach.is_open
    for obligation in obligations:
        obligation.due = shown(obligation.due_at, now) if obligation.due_at else ""
        obligation.done = shown(obligation.done_at, now) if obligation.done_at else ""
        obligation.hours = _hours(services.elapsed_hours(breach, obligation))
        obligation.tag = STATE_TAGS[obligation.state]
        obligation.is_overdue = obligation.overdue(now)
        obligation.may_record = manage and obligation.is_open
    breach.is_overdue = any(o.overdue(now) for o in obligations)
    own = _own_involved(request, breach, involved)
    lead_may = services.lead_may_decide(breach, now)
    actions = {
        "edit": manage,
        "tell": manage and any(o.recipient == Recipient.PARTNER and o.is_open for o in obligations),
        "assess": manage,
        "individuals": manage,
        "follow_up": manage and ico is not None and ico.done_at is not None,
        "close": manage,
        "view": breach.is_open and not breach.ico_decision and own is not None,
        "lead": lead_may and access.is_lead_dpo(membership, breach),
        "individuals_view": breach.is_open
        and breach.assessment == Assessment.HIGH_RISK
        and not breach.individuals
        and own is not None,
        "lead_individuals": breach.is_open
        and not breach.individuals
        and services.individuals_disagree(breach)
        and access.is_lead_dpo(membership, breach),
    }
    follow_ups = list(breach.follow_ups.select_related("by"))
    for follow_up in follow_ups:
        follow_up.sent = shown(follow_up.sent_at, now)
    timeline = queries.timeline(breach)
    for entry in timeline:
        entry.when = shown(entry.at, now)
    return render(
        request,
        "breaches/detail.html",
        {
            "breach": breach,
            "status": STATUS_TAGS[queries.status_of(breach)],
            "partner_clock": partner_clock(obligations, now),
            "ico_clock": ico_clock(ico, now),
            "obligations": obligations,
            "involved": involved,
            "ico": ico,
            "counts": counts,
            "disagree": bool(counts["notify"] and counts["do_not_notify"]),
            "lead_may_decide": lead_may,
            "next_step": next_step(breach, obligations, counts, now),
            "actions": actions,
            "follow_ups": follow_ups,
            "timeline": timeline,
            "times": {
                "occurred": shown(breach.occurred_at, now),
                "detected": shown(breach.detected_at, now),
                "aware": shown(breach.aware_at, now),
                "assessed": shown(breach.assessed_at, now),
                "decided": shown(breach.ico_decided_at, now),
                "closed": shown(breach.closed_at, now),
            },
        },
    )


# --- Changing the report -------------------------------------------------------------------


def _action_page(
    request: HttpRequest,
    breach: BreachReport,
    template: str,
    form,
    act,
    success: str,
    *,
    heading: str,
    **context: Any,
) -> HttpResponse:
    """Validate the form on POST, call `act(cleaned_data)` (a service), and go back to the
    breach with `success`; a refusal by the facts is shown by its field, nothing changed."""
    if request.method == "POST" and form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as exc:
            if hasattr(form, "add_service_errors"):
                form.add_service_errors(exc)
            else:
                add_form_errors(form, exc)
        else:
            messages.success(request, success)
            return _to_breach(request, breach)
    return render(
        request, template, {"breach": breach, "form": form, "heading": heading, **context}
    )


@requires(Perm.MANAGE_BREACHES)
def edit(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(request, breach_id)
    _manage(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    form = ReportForm(
        posted(request),
        initial=ReportForm.initial_for(breach),
        moments={
            "occurred": breach.occurred_at,
            "detected": breach.detected_at,
            "aware": breach.aware_at,
        },
    )
    return _action_page(
        request,
        breach,
        "breaches/edit.html",
        form,
        lambda data: services.update_report(breach, by=request.user, values=form.values()),
        "The report is updated.",
        heading="Complete or correct the report",
    )


# --- Telling people ------------------------------------------------------------------------


@requires(Perm.MANAGE_BREACHES)
def tell(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(request, breach_id)
    _manage(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    now = timezone.now()
    waiting = [
        o for o in queries.obligations(breach) if o.recipient == Recipient.PARTNER and o.is_open
    ]
    if not waiting:
        messages.info(request, "Every involved partner has been told already.")
        return _to_breach(request, breach)
    for obligation in waiting:
        obligation.addresses = services.notice_addresses(breach, obligation.involved)
    due = min(o.due_at for o in waiting)
    form = TellPartnersForm(posted(request))
    if due < now:
        late_reason = form.fields["late_reason"]
        late_reason.required = True
        late_reason.help_text = "The deadline has passed. The reason is kept with the breach."
        late_reason.error_messages["required"] = (
            f"This is after the deadline ({shown(due)}): give the reason it is late."
        )

    return _action_page(
        request,
        breach,
        "breaches/tell.html",
        form,
        lambda data: services.tell_partners(
            breach, by=request.user, late_reason=data["late_reason"]
        ),
        f"The notice is on its way to {len(waiting)} partner{'s' if len(waiting) != 1 else ''}.",
        heading="Tell the partners by e-mail",
        waiting=waiting,
        due=shown(due, now),
        late=due < now,
    )


@requires(Perm.MANAGE_BREACHES)
def told(request: HttpRequest, breach_id: int, obligation_id: int) -> HttpResponse:
    breach = _breach(request, breach_id)
    obligation = next((o for o in queries.obligations(breach) if o.pk == obligation_id), None)
    if obligation is None:
        raise Http404("No such obligation.")
    _manage(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    if not obligation.is_open:
        messages.info(request, f"{obligation.who} has already been recorded as told.")
        return _to_breach(request, breach)
    now = timezone.now()
    is_ico = obligation.recipient == Recipient.ICO
    form = ToldForm(posted(request), ico=is_ico)

    def act(data: dict[str, Any]) -> None:
        services.record_told(
            obligation,
            by=request.user,
            at=data["told_at"],
            method=data["method"],
            late_reason=data["late_reason"],
            case_reference=data.get("case_reference", ""),
        )

    return _action_page(
        request,
        breach,
        "breaches/told.html",
        form,
        act,
        f"{obligation.who} is recorded as told.",
        heading=f"Record {obligation.who} told",
        obligation=obligation,
        is_ico=is_ico,
        due=shown(obligation.due_at, now) if obligation.due_at else "",
    )


# --- Deciding ------------------------------------------------------------------------------


@requires(Perm.MANAGE_BREACHES)
def assess(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(request, breach_id)
    _manage(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    form = AssessForm(
        posted(request),
        initial={
            "likelihood": breach.likelihood,
            "severity": breach.severity,
            "assessment": breach.assessment,
            "reason": breach.assessment_reason,
        },
    )
    return _action_page(
        request,
        breach,
        "breaches/assess.html",
        form,
        lambda data: services.assess(
            breach,
            by=request.user,
            likelihood=data["likelihood"],
            severity=data["severity"],
            assessment=data["assessment"],
            reason=data["reason"],
        ),
        "The assessment is recorded.",
        heading="Assess the risk to people",
    )


def _who(request: HttpRequest) -> str:
    return f"{request.user.full_name} <{request.user.email}>"


@requires(Perm.MANAGE_BREACHES)
def give_view(request: HttpRequest, breach_id: int) -> HttpResponse:
    """An involved partner's DPO, in the app: acknowledge, and give its view on the ICO."""
    breach = _breach(request, breach_id)
    own = _own_involved(request, breach, _involved(breach))
    if own is None:
        why = (
            "Only the DPOs of an involved partner give its view here (the reporting "
            "organisation's view is its assessment)."
        )
        if request.method == "POST":
            raise PermissionDenied(why)
        messages.error(request, why)
        return _to_breach(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    if request.method == "POST" and request.POST.get("action") == "acknowledge":
        services.acknowledge(own, who=_who(request))
        messages.success(request, f"{own.partner.organisation} has acknowledged the breach.")
        return _to_breach(request, breach)
    if breach.ico_decision:
        messages.info(request, "The decision on notifying the ICO has been made already.")
        return _to_breach(request, breach)
    form = ViewForm(posted(request), initial={"view": own.view, "reason": own.view_reason})
    return _action_page(
        request,
        breach,
        "breaches/view.html",
        form,
        lambda data: services.give_view(
            own, view=data["view"], reason=data["reason"], who=_who(request)
        ),
        f"{own.partner.organisation}'s view is recorded.",
        heading="Your organisation's view on notifying the ICO",
        involved=own,
    )


@requires(Perm.MANAGE_BREACHES)
def lead(request: HttpRequest, breach_id: int) -> HttpResponse:
    """The lead organisation decides, when the partners disagree or time is short."""
    breach = _breach(request, breach_id)
    if refused := _refused_when_closed(request, breach):
        return refused
    if breach.ico_decision:
        messages.info(request, "The decision on notifying the ICO has been made already.")
        return _to_breach(request, breach)
    if not services.lead_may_decide(breach):
        messages.info(request, services.too_soon_for_the_lead(breach))
        return _to_breach(request, breach)
    if not access.is_lead_dpo(request.membership, breach):
        raise PermissionDenied(
            f"Only the DPOs of the lead organisation, {breach.lead_partner.organisation}, decide."
        )
    form = LeadDecisionForm(posted(request))
    return _action_page(
        request,
        breach,
        "breaches/lead.html",
        form,
        lambda data: services.lead_decides(
            breach, by=request.user, decision=data["decision"], reason=data["reason"]
        ),
        "Your decision as the lead organisation is recorded.",
        heading="Decide as the lead organisation",
        involved=_involved(breach),
    )


@requires(Perm.MANAGE_BREACHES)
def individuals(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(request, breach_id)
    _manage(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    form = IndividualsForm(
        posted(request),
        initial={
            "decision": breach.individuals,
            "reason": breach.individuals_reason,
            "plan": breach.individuals_plan,
        },
    )
    involved = _involved(breach)
    # The partners are asked only when the risk is high (services._settle_individuals).
    if breach.assessment == Assessment.HIGH_RISK and len(involved) > 1:
        success = (
            f"{breach.reporting_partner.organisation}'s view on telling the people affected "
            "is recorded: it stands once every involved partner agrees."
        )
    else:
        success = "The decision on telling the people affected is recorded."
    return _action_page(
        request,
        breach,
        "breaches/individuals.html",
        form,
        lambda data: services.decide_individuals(
            breach,
            by=request.user,
            decision=data["decision"],
            reason=data["reason"],
            plan=data["plan"],
        ),
        success,
        heading="Telling the people affected",
        involved=involved,
    )


@requires(Perm.MANAGE_BREACHES)
def individuals_view(request: HttpRequest, breach_id: int) -> HttpResponse:
    """An involved partner's DPO gives its view on telling the people affected."""
    breach = _breach(request, breach_id)
    own = _own_involved(request, breach, _involved(breach))
    if own is None or breach.individuals:
        why = (
            "The decision on telling the people affected has been made."
            if breach.individuals
            else "Only the DPOs of an involved partner give its view here."
        )
        if request.method == "POST":
            raise PermissionDenied(why)
        messages.info(request, why)
        return _to_breach(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    form = PartnerIndividualsForm(
        posted(request),
        initial={"decision": own.individuals_view, "reason": own.individuals_reason},
    )
    return _action_page(
        request,
        breach,
        "breaches/individuals.html",
        form,
        lambda data: services.give_individuals_view(
            own, view=data["decision"], reason=data["reason"], who=_who(request)
        ),
        f"{own.partner.organisation}'s view on telling the people affected is recorded.",
        heading="Your organisation's view on telling the people affected",
        involved=_involved(breach),
    )


@requires(Perm.MANAGE_BREACHES)
def lead_individuals(request: HttpRequest, breach_id: int) -> HttpResponse:
    """The partners disagree on telling the people affected: the lead organisation decides."""
    breach = _breach(request, breach_id)
    if refused := _refused_when_closed(request, breach):
        return refused
    if breach.individuals or not services.individuals_disagree(breach):
        messages.info(
            request,
            "The lead organisation decides on telling the people affected only when the "
            "partners disagree.",
        )
        return _to_breach(request, breach)
    if not access.is_lead_dpo(request.membership, breach):
        raise PermissionDenied(
            f"Only the DPOs of the lead organisation, {breach.lead_partner.organisation}, decide."
        )
    form = IndividualsForm(posted(request), initial={"plan": breach.individuals_plan})
    return _action_page(
        request,
        breach,
        "breaches/individuals.html",
        form,
        lambda data: services.lead_decides_individuals(
            breach,
            by=request.user,
            decision=data["decision"],
            reason=data["reason"],
            plan=data["plan"],
        ),
        "Your decision as the lead organisation is recorded.",
        heading="Decide as the lead organisation: telling the people affected",
        involved=_involved(breach),
    )


@requires(Perm.MANAGE_BREACHES)
def follow_up(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(request, breach_id)
    _manage(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    ico = breach.obligations.filter(recipient=Recipient.ICO).first()
    if request.method == "GET" and (ico is None or ico.done_at is None):
        messages.info(request, "Record the first report to the ICO before a follow-up.")
        return _to_breach(request, breach)
    form = FollowUpForm(posted(request))
    return _action_page(
        request,
        breach,
        "breaches/follow_up.html",
        form,
        lambda data: services.add_follow_up(
            breach, by=request.user, sent_at=data["sent_at"], what_changed=data["what_changed"]
        ),
        "The follow-up report is recorded.",
        heading="Record a follow-up report to the ICO",
    )


@requires(Perm.MANAGE_BREACHES)
def close(request: HttpRequest, breach_id: int) -> HttpResponse:
    breach = _breach(request, breach_id)
    _manage(request, breach)
    if refused := _refused_when_closed(request, breach):
        return refused
    waiting = [o for o in queries.obligations(breach) if o.is_open]
    return _action_page(
        request,
        breach,
        "breaches/close.html",
        CloseForm(posted(request)),
        lambda data: services.close(breach, by=request.user),
        f"Breach {breach.reference} is closed. It stays in the log.",
        heading="Close the breach",
        waiting=waiting,
    )


# --- The e-mailed link ---------------------------------------------------------------------


def _by_token(token: str) -> InvolvedPartner | None:
    """The involved partner a link's secret opens, from any partnership (the visitor is not
    signed in, so no scope is known before it is found)."""
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    with scopes_disabled():
        return services.involved_by_token(token)


def _link_problem(request: HttpRequest) -> HttpResponse:
    return render(request, "breaches/link_problem.html", status=404)


@never_cache
def notice_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link e-mailed to an involved partner: no sign-in; the secret is the key. It shows
    only what the notice says, acknowledges, and takes the partner's view."""
    involved = _by_token(token)
    if involved is None:
        return _link_problem(request)
    breach = involved.breach
    # What the link does is recorded for the partner it acts for (nobody is signed in).
    with scope(partnership=breach.partnership), acting(organisation=involved.partner.organisation):
        return _notice_page(request, involved, breach, token)


def _notice_page(
    request: HttpRequest, involved: InvolvedPartner, breach: BreachReport, token: str
) -> HttpResponse:
    now = timezone.now()
    organisation = involved.partner.organisation
    action = request.POST.get("action") if request.method == "POST" else ""
    form = LinkViewForm(posted(request) if action == "view" else None)
    individuals_form = LinkIndividualsForm(
        posted(request) if action == "individuals" else None, auto_id="individuals-%s"
    )
    if request.method == "POST" and breach.is_open:
        if action == "individuals" and individuals_form.is_valid():
            data = individuals_form.cleaned_data
            who = f"{data['name']}, {data['position']}, {organisation} (the e-mailed link)"
            try:
                services.give_individuals_view(
                    involved, view=data["decision"], reason=data["reason"], who=who
                )
            except ValidationError as exc:
                add_form_errors(individuals_form, exc)
            else:
                messages.success(
                    request,
                    f"Thank you: {organisation}'s view on telling the people affected is recorded.",
                )
                return redirect(request.path)
        if request.POST.get("action") == "acknowledge":
            services.acknowledge(involved, who=f"{organisation}, through the e-mailed link")
            messages.success(request, f"Thank you: {organisation} has acknowledged the breach.")
            return redirect(request.path)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            who = f"{data['name']}, {data['position']}, {organisation} (the e-mailed link)"
            try:
                services.give_view(involved, view=data["view"], reason=data["reason"], who=who)
            except ValidationError as exc:
                add_form_errors(form, exc)
            else:
                messages.success(request, f"Thank you: {organisation}'s view is recorded.")
                return redirect(request.path)
    obligation = Obligation.objects.filter(involved=involved).first()
    ico = Obligation.objects.filter(breach=breach, recipient=Recipient.ICO).first()
    return render(
        request,
        "breaches/notice.html",
        {
            "breach": breach,
            "involved": involved,
            "organisation": organisation,
            "form": individuals_form if individuals_form.errors else form,
            "view_form": form,
            "individuals_form": individuals_form,
            "may_give_individuals_view": breach.is_open
            and breach.assessment == Assessment.HIGH_RISK
            and not breach.individuals,
            "detected": shown(breach.detected_at, now),
            "partners_due": shown(obligation.due_at, now)
            if obligation and obligation.due_at
            else "",
            "ico_due": shown(ico.due_at, now) if ico and ico.due_at else "",
            "acknowledged": shown(involved.acknowledged_at, now),
            "view_at": shown(involved.view_at, now),
            "closed": shown(breach.closed_at, now) if not breach.is_open else "",
            "may_give_view": breach.is_open and not breach.ico_decision,
        },
    )


# --- The partnership's hours --------------------------------------------------------------


@requires(Perm.MANAGE_PARTNERSHIP)
def breach_settings(request: HttpRequest) -> HttpResponse:
    """When the reporting DPO is warned before each deadline, and when the lead decides."""
    partnership = Partnership.objects.get(pk=request.partnership.pk)
    form = BreachSettingsForm(posted(request), instance=partnership)
    if request.method == "POST" and form.is_valid():
        try:
            # A fresh copy: the form has already put the new values on its instance.
            update_partnership(Partnership.objects.get(pk=partnership.pk), **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, "The breach deadlines' hours have been saved.")
            return redirect("breaches:register", partnership_slug=partnership.slug)
    return render(request, "breaches/settings.html", {"form": form})
