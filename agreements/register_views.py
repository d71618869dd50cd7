"""The register of every agreement (filters, search, pages of 50, CSV and Excel of the
filtered view) and the data-flow map. Every member may browse them (Perm.VIEW).

Query counts are fixed whatever the number of agreements: the register's page is one
annotated query plus one prefetch of the parties (filters.register_queryset), the map two
queries (dataflow.build), beside the count, the filter's list of organisations and the
middleware's own.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accord.kernel import flags
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import dataflow, exports
from .filters import (
    DUE,
    OVERDUE,
    MapFilter,
    RegisterFilter,
    basis_labels,
    register_queryset,
    review_state,
)
from .models import Agreement, AgreementStatus

PAGE_SIZE = 50
# More organisations than this on the map: suggest choosing one to see its flows clearly.
CROWDED = 40
STATUS_TAGS = {
    "draft": "govuk-tag--grey",
    "in_review": "govuk-tag--yellow",
    "for_signature": "govuk-tag--blue",
    "active": "govuk-tag--green",
    "expired": "govuk-tag--orange",
    "terminated": "govuk-tag--red",
    "superseded": "govuk-tag--purple",
}
REVIEW_TAGS = {DUE: ("Due", "govuk-tag--yellow"), OVERDUE: ("Overdue", "govuk-tag--red")}
_SENTINEL = 987654321


def _detail_link(slug: str) -> tuple[str, str] | None:
    """The agreement page's URL around the agreement's id, if that page exists."""
    try:
        url = reverse(
            "agreements:detail", kwargs={"partnership_slug": slug, "agreement_id": _SENTINEL}
        )
    except NoReverseMatch:
        return None
    before, _, after = url.partition(str(_SENTINEL))
    return before, after


def _filtered(request) -> tuple[RegisterFilter, object]:
    """The register's filters from the query string, and the agreements they select (none
    while a filter value is wrong: the form says which, by the field)."""
    filterset = RegisterFilter(request.GET or None, queryset=register_queryset(), request=request)
    if filterset.is_bound and not filterset.is_valid():
        return filterset, filterset.queryset.none()
    return filterset, filterset.qs


def _query(request, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("page", *drop):
        query.pop(key, None)
    return query.urlencode()


def _register_page(request, filterset, agreements):
    page = Paginator(agreements, PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    link = _detail_link(request.partnership.slug)
    rows = list(page.object_list)
    notes = flags.notes("agreement", [a.pk for a in rows])
    for agreement in rows:
        agreement.flags = notes.get(agreement.pk, [])
        agreement.tag_class = STATUS_TAGS.get(agreement.status, "govuk-tag--grey")
        agreement.basis = basis_labels(agreement.article6)
        agreement.party_names = [p.partner.organisation.name for p in agreement.parties.all()]
        state = review_state(agreement.status, agreement.review_date, today)
        agreement.review_tag = REVIEW_TAGS.get(state)
        agreement.url = f"{link[0]}{agreement.pk}{link[1]}" if link else ""
    query = _query(request)
    slug = request.partnership.slug
    return render(
        request,
        "agreements/register.html",
        {
            "form": filterset.form,
            "can_draft": request.membership.can(Perm.DRAFT_DOCUMENTS),
            "page": page,
            "rows": rows,
            "query": query,
            "filtered": any(v.strip() for k, v in request.GET.items() if k != "page"),
            "csv_url": reverse("agreements:register_csv", kwargs={"partnership_slug": slug})
            + (f"?{query}" if query else ""),
            "xlsx_url": reverse("agreements:register_xlsx", kwargs={"partnership_slug": slug})
            + (f"?{query}" if query else ""),
        },
    )


@requires(Perm.VIEW)
def register(request):
    filterset, agreements = _filtered(request)
    return _register_page(request, filterset, agreements)


def _file_name(request, extension: str) -> str:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return f"agreements-{request.partnership.slug}-{stamp}.{extension}"


@requires(Perm.VIEW)
def register_csv(request):
    filterset, agreements = _filtered(request)
    if filterset.errors:
        return _register_page(request, filterset, agreements)
    return exports.csv_response(agreements, request.partnership, _file_name(request, "csv"))


@requires(Perm.VIEW)
def register_xlsx(request):
    filterset, agreements = _filtered(request)
    if filterset.errors:
        return _register_page(request, filterset, agreements)
    return exports.xlsx_response(agreements, _file_name(request, "xlsx"))


@requires(Perm.VIEW)
def flow_map(request):
    filterset = MapFilter(request.GET, queryset=Agreement.objects.all(), request=request)
    organisation_id, organisation_name, status = None, "", ""
    if filterset.is_valid():
        chosen = filterset.form.cleaned_data.get("organisation")
        if chosen:
            organisation_id, organisation_name = filterset.partners[chosen]
        status = filterset.form.cleaned_data.get("status") or ""
        flows = dataflow.build(filterset.qs, organisation_id)
    else:
        flows = dataflow.DataFlowMap([], [])
    return render(
        request,
        "agreements/map.html",
        {
            "form": filterset.form,
            "map": flows,
            "organisation": organisation_name,
            "status_label": AgreementStatus(status).label.lower() if status else "",
            "crowded": len(flows.nodes) > CROWDED and not organisation_id,
        },
    )
