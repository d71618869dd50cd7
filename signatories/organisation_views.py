"""Organisation records, kept up to date by their own verified people, and the links that
confirm a contact address or vouch for a colleague."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accord.kernel.forms import add_form_errors

from . import addresses, affiliations, services
from .forms import DecisionForm, DomainForm, OrganisationEditForm
from .models import Affiliation, Organisation, OrganisationDomain
from .permissions import may_edit_organisation, may_see_organisation
from .signing_views import link_problem


@login_required
def my_organisations(request):
    mine = list(
        Affiliation.objects.filter(user=request.user)
        .select_related("organisation", "decided_by")
        .order_by("organisation__name")
    )
    for affiliation in mine:
        if affiliation.status == Affiliation.Status.PENDING:
            affiliation.who_can_verify = affiliations.who_can_verify(affiliation)
    return render(
        request,
        "signatories/my_organisations.html",
        {"affiliations": mine, "awaiting": affiliations.awaiting(request.user)},
    )


def _visible(request, organisation_id: int) -> Organisation:
    record = get_object_or_404(Organisation, pk=organisation_id)
    if not may_see_organisation(request.user, record):
        raise Http404("No such organisation.")
    return record


def _editable(request, organisation_id: int) -> Organisation:
    record = get_object_or_404(Organisation, pk=organisation_id)
    if not may_edit_organisation(request.user, record):
        raise Http404("No such organisation.")
    return record


@login_required
def organisation(request, organisation_id: int):
    record = _visible(request, organisation_id)
    if may_edit_organisation(request.user, record):
        return _organisation_page(request, record, DomainForm())
    return render(
        request, "signatories/organisation.html", {"organisation": record, "can_edit": False}
    )


def _organisation_page(request, record: Organisation, domain_form: DomainForm):
    """The record as its own verified people see it: their colleagues, domains and any
    address waiting to be confirmed."""
    return render(
        request,
        "signatories/organisation.html",
        {
            "organisation": record,
            "can_edit": True,
            "people": list(
                Affiliation.objects.filter(
                    organisation=record, status=Affiliation.Status.VERIFIED
                ).select_related("user")
            ),
            "domains": list(record.domains.all()),
            "domain_form": domain_form,
            "pending_address": addresses.pending_data_protection(record),
        },
    )


@login_required
def edit_organisation(request, organisation_id: int):
    record = _editable(request, organisation_id)
    form = OrganisationEditForm(
        request.POST or None, instance=Organisation.objects.get(pk=record.pk)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organisation(record, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"{record.name}'s record has been saved.")
            if addresses.pending_data_protection(record):
                messages.info(
                    request,
                    "The new data protection address has been sent a link to confirm it. "
                    "The record keeps the current address until then.",
                )
            return redirect("organisations:detail", organisation_id=record.pk)
    return render(
        request, "signatories/edit_organisation.html", {"organisation": record, "form": form}
    )


@require_POST
@login_required
def domains(request, organisation_id: int):
    record = _editable(request, organisation_id)
    if "remove" in request.POST:
        domain = OrganisationDomain.objects.filter(
            organisation=record, pk=DomainForm.id_from(request.POST.get("remove"))
        ).first()
        if domain is None:
            raise Http404("No such domain.")
        affiliations.remove_domain(domain, by=request.user)
        messages.success(request, f"{domain} is no longer listed as {record}'s domain.")
        return redirect("organisations:detail", organisation_id=record.pk)
    form = DomainForm(request.POST)
    if form.is_valid():
        try:
            added = affiliations.add_domain(record, form.cleaned_data["domain"], by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"{added} is now listed as {record}'s domain.")
            return redirect("organisations:detail", organisation_id=record.pk)
    return _organisation_page(request, record, form)


@require_POST
@login_required
def decide(request, affiliation_id: int):
    """Approve, refuse or remove a colleague: for the organisation's verified people only."""
    affiliation = get_object_or_404(
        Affiliation.objects.select_related("user", "organisation"), pk=affiliation_id
    )
    if not may_edit_organisation(request.user, affiliation.organisation):
        raise Http404("No such request.")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect("organisations:mine")
    action = form.cleaned_data["action"]
    person, organisation = affiliation.user, affiliation.organisation
    try:
        if action == "approve":
            affiliations.approve(affiliation, by=request.user)
            messages.success(request, f"{person} is now verified for {organisation}.")
        elif action == "refuse":
            affiliations.refuse(affiliation, by=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, f"{person} has not been verified for {organisation}.")
        else:
            affiliations.revoke(affiliation, by=request.user)
            messages.success(request, f"{person} no longer acts for {organisation}.")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    if action == "revoke":
        return redirect("organisations:detail", organisation_id=organisation.pk)
    return redirect("organisations:mine")


@never_cache
def decide_by_link(request, token: str):
    """The link e-mailed to an organisation's data protection address when nobody is verified
    for it yet: no sign-in; the secret is the key. A GET only shows the question."""
    affiliation = affiliations.find_by_token(token)
    if affiliation is None:
        return link_problem(
            request,
            "This link is not valid, or the request has already been answered. "
            "Check you copied the whole link from the newest e-mail.",
            404,
        )
    form = DecisionForm(request.POST or None, allowed=("approve", "refuse"))
    if request.method == "POST" and form.is_valid():
        try:
            affiliations.decide_by_link(
                affiliation,
                approved=form.cleaned_data["action"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            return link_problem(request, exc.messages[0], 410)
        return render(
            request,
            "signatories/link_done.html",
            {
                "title": "Thank you",
                "message": f"{affiliation.user} has been told of your answer about "
                f"{affiliation.organisation}.",
            },
        )
    return render(
        request, "signatories/decide_by_link.html", {"affiliation": affiliation, "form": form}
    )


@never_cache
def confirm_address(request, token: str):
    """A new contact address confirms itself. A GET only shows what will be confirmed."""
    confirmation = addresses.find(token)
    problem = addresses.problem_with(confirmation)
    if problem:
        return link_problem(request, problem, 404 if confirmation is None else 410)
    if request.method == "POST":
        try:
            addresses.confirm(confirmation)
        except ValidationError as exc:
            return link_problem(request, exc.messages[0], 410)
        return render(
            request,
            "signatories/link_done.html",
            {
                "title": "Address confirmed",
                "message": f"{confirmation.email} is confirmed. Accord will use it for "
                f"{confirmation.organisation} from now on.",
            },
        )
    return render(request, "signatories/confirm_address.html", {"confirmation": confirmation})
