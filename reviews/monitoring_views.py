"""The monitoring pages of a partnership: this year's confirmations (received and missing)
with the button that asks partners, complaints about disclosure counted per partner per year,
and the steering group's annual review pack (a page and its PDF)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accord.kernel.forms import add_form_errors, posted_id, report_refusal
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import monitoring, pack
from .forms_monitoring import ComplaintForm, PackYearForm
from .monitoring import protocols_in_force


def _monitoring_page(
    request: HttpRequest, form: ComplaintForm | None = None, status: int = 200
) -> HttpResponse:
    today = timezone.localdate()
    year = today.year
    return render(
        request,
        "reviews/monitoring.html",
        {
            "today": today,
            "year": year,
            "detail": monitoring.confirmation_detail(year, with_next_request=True),
            "complaints": monitoring.complaint_table(year),
            "form": form or ComplaintForm(),
        },
        status=status,
    )


@requires(Perm.MANAGE_REVIEWS)
def monitoring_page(request: HttpRequest) -> HttpResponse:
    return _monitoring_page(request)


def _url(request: HttpRequest, name: str) -> str:
    return reverse(name, kwargs={"partnership_slug": request.partnership.slug})


@require_POST
@requires(Perm.MANAGE_REVIEWS)
def ask(request: HttpRequest) -> HttpResponse:
    """Ask every active partner that has not confirmed the protocol this year."""
    year = timezone.localdate().year
    protocol_id = posted_id(request.POST, "protocol")
    protocol = protocols_in_force(year).filter(pk=protocol_id).first() if protocol_id else None
    if protocol is None:
        messages.error(request, "Choose a protocol in force: nobody was asked.")
        return redirect(_url(request, "reviews:monitoring"))
    try:
        asked = monitoring.request_confirmations(protocol, year, by=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
        return redirect(_url(request, "reviews:monitoring"))
    messages.success(request, _asked_message(protocol.title, year, asked))
    for name in asked.without_contacts:
        messages.warning(
            request,
            f"{name} has no confirmed authorised signatory or data protection address: nobody "
            "there was e-mailed. Add one on its partner page, then ask again.",
        )
    return redirect(_url(request, "reviews:monitoring"))


def _asked_message(title: str, year: int, asked: monitoring.Asked) -> str:
    if not asked.total:
        if asked.recent:
            return (
                f"Every partner yet to confirm {title} for {year} was asked in the last "
                f"{monitoring.ASK_AGAIN_AFTER.days} days: nobody was asked again yet."
            )
        return f"Every active partner has confirmed {title} for {year}: nobody to ask."
    words = f"Asked {monitoring.partners_text(asked.total)} to confirm {title} for {year}"
    if asked.again:
        words += f" ({asked.again} again, with a new link)"
    if asked.recent:
        words += f"; {asked.recent} asked in the last {monitoring.ASK_AGAIN_AFTER.days} days"
        words += " were not asked again yet"
    return words + "."


@requires(Perm.MANAGE_REVIEWS)
def record_complaint(request: HttpRequest) -> HttpResponse:
    """The complaint form's answer (the form itself is on the monitoring page, where a GET
    goes back to)."""
    if request.method != "POST":
        return redirect(_url(request, "reviews:monitoring") + "#complaints")
    form = ComplaintForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            complaint = monitoring.record_complaint(
                request.partnership,
                data["partner"],
                data["received_on"],
                data["summary"],
                by=request.user,
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request,
                f"Recorded the complaint about {complaint.partner.organisation}, received on "
                f"{complaint.received_on:%d/%m/%Y}.",
            )
            return redirect(_url(request, "reviews:monitoring") + "#complaints")
    return _monitoring_page(request, form)


# --- The annual review pack --------------------------------------------------------------------


def _chosen_year(request: HttpRequest) -> tuple[PackYearForm, int | None]:
    years = pack.available_years()
    data = request.GET if "year" in request.GET else {"year": str(years[0])}
    form = PackYearForm(data, years=years)
    return form, form.cleaned_data["year"] if form.is_valid() else None


@requires(Perm.MANAGE_REVIEWS)
def pack_page(request: HttpRequest) -> HttpResponse:
    form, year = _chosen_year(request)
    report = pack.build(request.partnership, year, request.membership) if year else None
    return render(request, "reviews/pack.html", {"form": form, "pack": report})


@never_cache
@requires(Perm.MANAGE_REVIEWS)
def pack_pdf(request: HttpRequest) -> HttpResponse:
    form, year = _chosen_year(request)
    if year is None:
        return render(request, "reviews/pack.html", {"form": form, "pack": None})
    report = pack.build(request.partnership, year, request.membership)
    response = HttpResponse(pack.render_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pack.file_name(report)}"'
    return response
