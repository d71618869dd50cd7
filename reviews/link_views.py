"""The link e-mailed to a party for its feedback before a review: no account needed; the
secret is the key, and it opens only that party's feedback on that document."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_scopes import scope, scopes_disabled

from accord.kernel.context import acting
from accord.kernel.forms import add_form_errors, posted

from . import services, subjects
from .forms import FeedbackForm
from .models import FeedbackRequest


@never_cache
def feedback(request: HttpRequest, token: str) -> HttpResponse:
    with scopes_disabled():
        found = services.request_for_token(token)
    if found is None:
        return render(request, "reviews/link_problem.html", status=404)
    partnership = found.round.cycle.partnership
    with scope(partnership=partnership), acting(organisation=found.partner.organisation):
        return _feedback_page(request, found)


def _feedback_page(request: HttpRequest, found: FeedbackRequest) -> HttpResponse:
    feedback_round = found.round
    cycle = feedback_round.cycle
    sections = services.round_sections(feedback_round)
    refusal = services.feedback_refusal(found)
    initial = _initial(found, sections)
    form = FeedbackForm(
        posted(request) if not refusal else None, sections=sections, initial=initial
    )
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            services.give_feedback(
                found,
                name=form.cleaned_data["name"],
                email=form.cleaned_data["email"],
                answers=form.answers(),
            )
        except PermissionDenied as exc:
            refusal = str(exc)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request,
                f"Thank you: {found.partner.organisation}'s feedback has been sent to the "
                "steering group.",
            )
            return redirect(request.path)
    status = 410 if refusal and request.method == "POST" else 200
    return render(
        request,
        "reviews/feedback.html",
        {
            "request_": found,
            "link_partnership": cycle.partnership,
            "organisation": found.partner.organisation,
            "title": subjects.title_of(cycle),
            "kind": subjects.kind_label(cycle).lower(),
            "round": feedback_round,
            "form": form,
            "refusal": refusal,
        },
        status=status,
    )


def _initial(found: FeedbackRequest, sections) -> dict:
    """What the party gave before, so giving it again starts from it."""
    initial = {"name": found.answered_by_name, "email": found.answered_by_email}
    earlier = {a.key: a for a in found.answers.all()}
    for i, section in enumerate(sections, 1):
        answer = earlier.get(section.key)
        if answer is not None:
            initial[f"choice_{i}"] = "no_changes" if answer.no_changes else "comments"
            initial[f"comments_{i}"] = answer.comments
            initial[f"amendment_{i}"] = answer.amendment
    return initial
