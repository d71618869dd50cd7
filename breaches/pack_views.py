"""The ICO report pack (a page and its PDF), the steering group's figures and the register's
downloads. Each shows only the breaches the member may see (access.visible): a breach anyone
else asks for is 404, as if it did not exist, and counts nowhere for them. None changes
anything.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache

from documents.layout import css_string
from documents.pdf import html_to_pdf
from signatories.models import Partner
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import access, exports, figures, pack, queries, views
from .forms import RegisterFilter
from .models import BreachReport

PDF_TEMPLATE = "breaches/pack_pdf.html"


def _pack(request: HttpRequest, breach_id: int) -> pack.Pack:
    breach = queries.visible_breach(request.membership, breach_id)
    return pack.load(breach)


@requires(Perm.MANAGE_BREACHES)
def pack_page(request: HttpRequest, breach_id: int) -> HttpResponse:
    report = _pack(request, breach_id)
    return render(
        request,
        "breaches/pack.html",
        {
            "breach": report.breach,
            "pack": report,
            "may_manage": access.may_manage(request.membership, report.breach),
        },
    )


def render_pdf(report: pack.Pack) -> bytes:
    """The pack as a tagged PDF, fonts and layout as the documents' PDFs. Not sealed: it is a
    working copy."""
    breach = report.breach
    markup = render_to_string(
        PDF_TEMPLATE,
        {
            "breach": breach,
            "pack": report,
            "prepared": report.prepared_at,
            "footer": mark_safe(  # noqa: S308 (every character but letters and digits escaped)
                css_string(f"{breach.reference} · Personal data breach report for the ICO")
            ),
        },
    )
    return html_to_pdf(markup)


@never_cache
@requires(Perm.MANAGE_BREACHES)
def pack_pdf(request: HttpRequest, breach_id: int) -> HttpResponse:
    report = _pack(request, breach_id)
    response = HttpResponse(render_pdf(report), content_type="application/pdf")
    name = f"{report.breach.reference.lower()}-ico-report.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@requires(Perm.VIEW_BREACH_FIGURES)
def figures_page(request: HttpRequest) -> HttpResponse:
    found = figures.build(access.counted_in_figures(request.membership))
    return render(request, "breaches/figures.html", {"figures": found})


# --- The register's downloads ----------------------------------------------------------------


def _filtered(request: HttpRequest) -> QuerySet[BreachReport] | None:
    """The register's filters (status, and the reporting organisation's partner id as
    `reporting` or `partner`) and the breaches they select (None while a filter is wrong)."""
    membership = request.membership
    params = request.GET.copy()
    if params.get("partner") and not params.get("reporting"):
        params["reporting"] = params["partner"]
    request.GET = params  # the register, shown when a filter is wrong, reads the same
    reporters = Partner.objects.filter(
        pk__in=access.visible(membership).values("reporting_partner")
    )
    form = RegisterFilter(params or None, reporters=reporters)
    breaches = queries.register(membership, timezone.now())
    if form.is_bound and not form.is_valid():
        return None
    if form.is_bound:
        breaches = queries.with_status(breaches, form.cleaned_data["status"])
        if form.cleaned_data["reporting"]:
            breaches = breaches.filter(reporting_partner=form.cleaned_data["reporting"])
    return breaches


def _file_name(request: HttpRequest, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"breaches-{request.partnership.slug}-{stamp}.{extension}"


def _download(request: HttpRequest, extension: str) -> HttpResponse:
    breaches = _filtered(request)
    if breaches is None:
        # The register itself, its filters showing what is wrong by the field.
        return views.register(request)
    if extension == "csv":
        return exports.csv_response(breaches, request.partnership, _file_name(request, "csv"))
    return exports.xlsx_response(breaches, _file_name(request, "xlsx"))


@never_cache
@requires(Perm.MANAGE_BREACHES)
def register_csv(request: HttpRequest) -> HttpResponse:
    return _download(request, "csv")


@never_cache
@requires(Perm.MANAGE_BREACHES)
def register_xlsx(request: HttpRequest) -> HttpResponse:
    return _download(request, "xlsx")
