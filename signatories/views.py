from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from accord.kernel.forms import add_form_errors
from tenancy.models import Membership
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import imports, services
from .affiliations import vouched_addresses
from .forms import (
    AddExistingForm,
    ImportForm,
    OrganisationForm,
    OrganisationSearchForm,
    SignatoryForm,
    StatusForm,
    WithdrawForm,
)
from .models import (
    Affiliation,
    AuthorisedSignatory,
    Partner,
    PartnerStatus,
    RequestStatus,
    SignatureRequest,
)
from .permissions import may_edit_organisation, may_give_notice

IMPORT_SESSION_KEY = "partner-import"
PAGE_SIZE = 50


@requires(Perm.VIEW)
def partners(request):
    status = request.GET.get("status", "")
    rows = Partner.objects.select_related("organisation")
    if status in PartnerStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    counts = dict(Partner.objects.order_by().values_list("status").annotate(n=Count("id")))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "signatories/partners.html",
        {
            "page": page,
            "query": f"status={status}" if status else "",
            "status": status,
            "statuses": [(s.value, s.label, counts.get(s.value, 0)) for s in PartnerStatus],
            "total": sum(counts.values()),
            "partner_base": reverse(
                "signatories:partners", kwargs={"partnership_slug": request.partnership.slug}
            ),
        },
    )


@requires(Perm.VIEW)
def partner(request, partner_id: int):
    record = get_object_or_404(Partner.objects.select_related("organisation"), pk=partner_id)
    people = list(
        Membership.objects.filter(organisation=record.organisation).select_related("user")
    )
    verified = set(
        Affiliation.objects.filter(
            organisation=record.organisation,
            status=Affiliation.Status.VERIFIED,
            user__in=[m.user_id for m in people],
        ).values_list("user_id", flat=True)
    )
    for member in people:
        member.is_verified = member.user_id in verified
    return render(
        request,
        "signatories/partner.html",
        {
            "partner": record,
            "people": people,
            "can_edit_organisation": may_edit_organisation(request.user, record.organisation),
            "signatories": list(AuthorisedSignatory.objects.filter(partner=record, is_active=True)),
            "confirmed_signatory": AuthorisedSignatory.objects.filter(
                partner=record, is_active=True, confirmed_at__isnull=False
            ).exists(),
            "open_requests": list(
                SignatureRequest.objects.filter(
                    partner=record, status__in=[RequestStatus.SENT, RequestStatus.OPENED]
                )
                .select_related("document")
                .order_by("-sent_at")
            ),
            "can_give_notice": may_give_notice(request.membership, record),
            "now": timezone.now(),
        },
    )


@requires(Perm.VIEW)
def withdraw(request, partner_id: int):
    """Give notice of withdrawal. Open to every member to read why they may or may not give
    it; only those who may (see _may_give_notice) can send it (403 otherwise)."""
    record = get_object_or_404(Partner.objects.select_related("organisation"), pk=partner_id)
    allowed = may_give_notice(request.membership, record)
    if request.method == "POST" and not allowed:
        raise PermissionDenied("Only an administrator or the partner's signatory can do this.")
    notice = services.notice_period(request.partnership)
    form = None
    if allowed and record.status == PartnerStatus.ACTIVE:
        form = WithdrawForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.change_partner_status(
                    record,
                    PartnerStatus.WITHDRAWING,
                    reason=form.cleaned_data["reason"],
                    notice=notice,
                    by=request.user,
                )
            except ValidationError as exc:
                add_form_errors(form, exc)
            else:
                messages.success(request, f"{record.organisation} has given notice of withdrawal.")
                return redirect(
                    "signatories:partner",
                    partnership_slug=request.partnership.slug,
                    partner_id=record.pk,
                )
    return render(
        request,
        "signatories/withdraw.html",
        {
            "partner": record,
            "form": form,
            "allowed": allowed,
            "notice": _duration(notice),
            "leaves_on": timezone.localdate() + notice,
        },
    )


def _duration(period: timedelta) -> str:
    if period.days % 7 == 0 and period.days:
        weeks = period.days // 7
        return f"{weeks} week{'s' if weeks != 1 else ''}"
    return f"{period.days} day{'s' if period.days != 1 else ''}"


@requires(Perm.MANAGE_PARTNERS)
def signatories(request, partner_id: int):
    record = get_object_or_404(Partner.objects.select_related("organisation"), pk=partner_id)
    form = SignatoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signatory = services.add_signatory(record, **form.values())
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request,
                f"{signatory.name} is now an authorised signatory of {record.organisation}.",
            )
            return redirect(
                "signatories:signatories",
                partnership_slug=request.partnership.slug,
                partner_id=record.pk,
            )
    listed = list(AuthorisedSignatory.objects.filter(partner=record))
    return render(
        request,
        "signatories/signatories.html",
        {
            "partner": record,
            "form": form,
            "signatories": listed,
            "vouched": {
                email
                for _, email in vouched_addresses((record.organisation_id, s.email) for s in listed)
            },
        },
    )


@requires(Perm.MANAGE_PARTNERS)
def signatory(request, partner_id: int, signatory_id: int):
    record = get_object_or_404(
        AuthorisedSignatory.objects.select_related("partner__organisation"),
        pk=signatory_id,
        partner_id=partner_id,
    )
    back = redirect(
        "signatories:signatories", partnership_slug=request.partnership.slug, partner_id=partner_id
    )
    action = request.POST.get("action", "save") if request.method == "POST" else ""
    if action in ("deactivate", "reactivate"):
        try:
            services.set_signatory_active(record, action == "reactivate")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                f"{record.name} may sign again."
                if action == "reactivate"
                else f"{record.name} is no longer an authorised signatory.",
            )
        return back
    form = SignatoryForm(request.POST or None, initial=SignatoryForm.initial_for(record))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_signatory(record, **form.values())
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"{form.cleaned_data['name']}'s details have been saved.")
            return back
    return render(request, "signatories/signatory.html", {"signatory": record, "form": form})


@requires(Perm.MANAGE_PARTNERS)
def add_partner(request):
    search = OrganisationSearchForm(request.GET or None)
    results = None
    query = ""
    if search.is_valid() and search.cleaned_data["q"]:
        query = search.cleaned_data["q"]
        results = services.search_organisations(query)
        already = set(Partner.objects.values_list("organisation_id", flat=True))
        for org in results:
            org.is_partner = org.pk in already
    error = None
    if request.method == "POST":
        form = AddExistingForm(request.POST)
        if form.is_valid():
            try:
                services.add_partner(request.partnership, form.cleaned_data["organisation"])
            except ValidationError as exc:
                error = exc.messages[0]
            else:
                messages.success(request, f"{form.cleaned_data['organisation']} is now a partner.")
                return redirect("signatories:partners", partnership_slug=request.partnership.slug)
        else:
            error = form.errors["organisation"][0]
    template = "signatories/_search_results.html" if request.htmx else "signatories/add.html"
    return render(
        request, template, {"search": search, "results": results, "query": query, "error": error}
    )


@requires(Perm.MANAGE_PARTNERS)
def add_new_organisation(request):
    form = OrganisationForm(request.POST or None, initial={"name": request.GET.get("name", "")})
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.create_organisation(**form.cleaned_data)
            services.add_partner(request.partnership, organisation)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"{organisation} has been added as a partner.")
            return redirect("signatories:partners", partnership_slug=request.partnership.slug)
    return render(request, "signatories/add_new.html", {"form": form})


@requires(Perm.MANAGE_PARTNERS)
def import_partners(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    preview = None
    if request.method == "POST":
        # A new upload replaces the previous preview, even when this file fails.
        request.session.pop(IMPORT_SESSION_KEY, None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > imports.MAX_BYTES:
                raise ValidationError("The file is larger than 5 MB. Split it into smaller files.")
            text = imports.decode(upload.read())
            preview = imports.read(text)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            if preview.is_valid:
                request.session[IMPORT_SESSION_KEY] = {
                    "partnership": request.partnership.pk,
                    "text": text,
                }
    return render(
        request,
        "signatories/import.html",
        {
            "form": form,
            "preview": preview,
            "digest": imports.digest(text) if preview and preview.is_valid else "",
        },
    )


@requires(Perm.MANAGE_PARTNERS)
def confirm_import(request):
    stored = request.session.get(IMPORT_SESSION_KEY) or {}
    if (
        request.method != "POST"
        or stored.get("partnership") != request.partnership.pk
        or imports.digest(stored.get("text", "")) != request.POST.get("digest")
    ):
        # Nothing stored, another partnership's preview, or another tab's newer upload.
        messages.error(
            request, "Upload the file again: the preview you confirmed is no longer the latest one."
        )
        return redirect("signatories:import", partnership_slug=request.partnership.slug)
    try:
        preview = imports.read(stored["text"])
        created = imports.save(request.partnership, preview)
    except ValidationError:
        # Something changed since the preview (a partner added meanwhile): show it again.
        form = ImportForm()
        preview = imports.read(stored["text"])
        return render(
            request,
            "signatories/import.html",
            {
                "form": form,
                "preview": preview,
                "digest": imports.digest(stored["text"]) if preview.is_valid else "",
            },
        )
    del request.session[IMPORT_SESSION_KEY]
    messages.success(request, f"{len(created)} partners have been imported.")
    return redirect("signatories:partners", partnership_slug=request.partnership.slug)


@requires(Perm.MANAGE_PARTNERS)
def partner_status(request, partner_id: int):
    record = get_object_or_404(Partner.objects.select_related("organisation"), pk=partner_id)
    allowed = services.allowed_statuses(record)
    form = StatusForm(request.POST or None, allowed=allowed)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_partner_status(
                record,
                form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                notice_given_on=form.cleaned_data["notice_given_on"],
                by=request.user,
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"{record.organisation}'s status has been changed.")
            return redirect(
                "signatories:partner",
                partnership_slug=request.partnership.slug,
                partner_id=record.pk,
            )
    return render(request, "signatories/partner_status.html", {"partner": record, "form": form})
