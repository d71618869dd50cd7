"""The review pages of a partnership: the dashboard of every document's review, one cycle's
page (schedule, feedback beside the text, reviews held) and the forms that change them."""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accord.kernel.forms import add_form_errors, posted, report_refusal
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import queries, schedule, services, subjects
from .forms import (
    BringForwardForm,
    DashboardFilterForm,
    ReviewForm,
    ReviewSettingsForm,
    ScheduleForm,
)
from .models import FeedbackRound, ReviewCycle, ReviewSettings, SectionFeedback

PER_PAGE = 50


def _cycle(cycle_id: int) -> ReviewCycle:
    found = (
        ReviewCycle.objects.select_related(
            "partnership", "protocol__lead__organisation", "agreement__lead__organisation"
        )
        .filter(pk=cycle_id)
        .first()
    )
    if found is None:
        raise Http404("No such review")
    return found


@requires(Perm.VIEW)
def dashboard(request: HttpRequest) -> HttpResponse:
    """Every protocol and agreement in force with its next review, due and overdue first."""
    today = timezone.localdate()
    rules = schedule.settings_for(request.partnership.pk)
    form = DashboardFilterForm(
        request.GET or None,
        kinds=queries.KIND_CHOICES,
        statuses=queries.STATUS_CHOICES,
    )
    chosen = form.cleaned_data if form.is_valid() else {}
    cycles = queries.dashboard_cycles(
        kind=chosen.get("kind", ""),
        status=chosen.get("status", ""),
        lead=(chosen.get("lead") or "").strip(),
        today=today,
        rules=rules,
    )
    page = Paginator(cycles, PER_PAGE).get_page(request.GET.get("page"))
    may_manage = services.may_manage(request.membership)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "reviews/dashboard.html",
        {
            "form": form,
            "page": page,
            "rows": queries.rows(page.object_list, today, rules),
            # Each row's page: this page's address and the cycle's id.
            "cycle_base": request.path,
            "rules": rules,
            "query": query.urlencode(),
            "may_manage": may_manage,
            "confirmations": queries.confirmation_totals(today) if may_manage else None,
        },
    )


@requires(Perm.VIEW)
def cycle(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = _cycle(cycle_id)
    today = timezone.localdate()
    rules = schedule.settings_for(cycle.partnership_id)
    current_round = (
        FeedbackRound.objects.filter(cycle=cycle)
        .select_related("protocol_version", "agreement")
        # The round open now, else the latest.
        .order_by(F("closed_at").desc(nulls_first=True), "-opened_at", "-pk")
        .first()
    )
    requests, by_section, sections = [], defaultdict(list), []
    if current_round is not None:
        requests = list(current_round.requests.select_related("partner__organisation"))
        for answer in SectionFeedback.objects.filter(request__round=current_round).select_related(
            "request__partner__organisation"
        ):
            by_section[answer.key].append(answer)
        sections = [
            {"section": s, "answers": by_section.get(s.key, [])}
            for s in services.round_sections(current_round)
        ]
    reviews = list(cycle.reviews.select_related("recorded_by", "protocol_version", "agreement"))
    return render(
        request,
        "reviews/cycle.html",
        {
            "cycle": cycle,
            "title": subjects.title_of(cycle),
            "kind": subjects.kind_label(cycle),
            "document_url": subjects.document_path(cycle),
            "lead": subjects.lead_of(cycle).organisation,
            "version": subjects.version_label(cycle),
            "status": schedule.STATUS_LABELS[schedule.status(cycle.next_review_on, today, rules)],
            "scheduled_on": schedule.scheduled_on(cycle),
            "feedback_opens_on": schedule.feedback_opens_on(cycle),
            "round": current_round,
            "round_is_current": current_round is not None
            and current_round.review_on == cycle.next_review_on
            and current_round.closed_at is None,
            "requests": requests,
            "answered": sum(r.answered_at is not None for r in requests),
            "sections": sections,
            "reviews": reviews,
            "may_manage": services.may_manage(request.membership) and cycle.ended_at is None,
        },
    )


def _refuse_ended(request: HttpRequest, cycle: ReviewCycle) -> HttpResponse | None:
    if cycle.ended_at is not None:
        messages.error(request, "This document is no longer in force: it has no more reviews.")
        return redirect("reviews:cycle", partnership_slug=cycle.partnership.slug, cycle_id=cycle.pk)
    return None


@requires(Perm.MANAGE_REVIEWS)
def change_schedule(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = _cycle(cycle_id)
    if (ended := _refuse_ended(request, cycle)) is not None:
        return ended
    form = ScheduleForm(
        posted(request),
        reviewed=cycle.last_reviewed_on is not None,
        initial={
            "cadence_months": cycle.cadence_months,
            "feedback_months": cycle.feedback_months,
            "first_review_on": cycle.first_review_on,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_schedule(cycle, **form.cleaned_data, by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, "The review schedule has been saved.")
            return redirect(
                "reviews:cycle", partnership_slug=cycle.partnership.slug, cycle_id=cycle.pk
            )
    return _form_page(request, cycle, form, "reviews/schedule.html")


@requires(Perm.MANAGE_REVIEWS)
def bring_forward(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = _cycle(cycle_id)
    if (ended := _refuse_ended(request, cycle)) is not None:
        return ended
    form = BringForwardForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.bring_forward(cycle, **form.cleaned_data, by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, "The review has been brought forward.")
            return redirect(
                "reviews:cycle", partnership_slug=cycle.partnership.slug, cycle_id=cycle.pk
            )
    return _form_page(request, cycle, form, "reviews/bring_forward.html")


@require_POST
@requires(Perm.MANAGE_REVIEWS)
def open_feedback(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = _cycle(cycle_id)
    try:
        opened = services.open_feedback_now(cycle, by=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        asked = opened.requests.count()
        messages.success(
            request,
            f"{asked} part{'y has' if asked == 1 else 'ies have'} been asked for feedback by "
            f"{opened.closes_on:%d/%m/%Y}.",
        )
    return redirect("reviews:cycle", partnership_slug=cycle.partnership.slug, cycle_id=cycle.pk)


@requires(Perm.MANAGE_REVIEWS)
def record(request: HttpRequest, cycle_id: int) -> HttpResponse:
    cycle = _cycle(cycle_id)
    if (ended := _refuse_ended(request, cycle)) is not None:
        return ended
    form = ReviewForm(
        posted(request),
        outcomes=services.allowed_outcomes(cycle),
        initial={"feedback_considered": services.feedback_summary(cycle)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            review = services.record_review(cycle, **form.cleaned_data, by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, _recorded_message(review))
            return redirect(
                "reviews:cycle", partnership_slug=cycle.partnership.slug, cycle_id=cycle.pk
            )
    return _form_page(request, cycle, form, "reviews/record.html")


def _recorded_message(review) -> str:
    if review.protocol_version_id:
        return (
            f"The review is recorded. Version {review.protocol_version.number} has been started "
            "as a draft: amend it, then send it for approval."
        )
    if review.agreement_id:
        return (
            f"The review is recorded. Version {review.agreement.version_label} has been started "
            "as a draft: amend it, then send it for signature."
        )
    return f"The review is recorded: {review.get_outcome_display().lower()}."


def _form_page(request: HttpRequest, cycle: ReviewCycle, form, template: str) -> HttpResponse:
    return render(
        request,
        template,
        {"cycle": cycle, "title": subjects.title_of(cycle), "form": form},
    )


@requires(Perm.MANAGE_PARTNERSHIP)
def review_settings(request: HttpRequest) -> HttpResponse:
    """The partnership's review rules."""
    instance = ReviewSettings.objects.filter(partnership=request.partnership).first()
    instance = instance or ReviewSettings(partnership_id=request.partnership.pk)
    form = ReviewSettingsForm(posted(request), instance=instance)
    if request.method == "POST" and form.is_valid():
        services.save_settings(request.partnership, form.cleaned_data, by=request.user)
        messages.success(request, "The review settings have been saved.")
        return redirect("reviews:dashboard", partnership_slug=request.partnership.slug)
    return render(request, "reviews/settings.html", {"form": form})
