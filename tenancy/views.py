from __future__ import annotations

from datetime import UTC, datetime, time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from django_scopes import scope, scopes_disabled

from accord.kernel import spreadsheets

from . import audit, directory, services
from .dashboard import cards_for
from .forms import (
    AcceptInvitationForm,
    AuditFilterForm,
    InviteForm,
    MembershipForm,
    PartnershipCreateForm,
    PartnershipSettingsForm,
)
from .models import AuditEntry, Invitation, Membership, Partnership
from .permissions import requires
from .roles import Perm


def home(request):
    if request.user.is_authenticated:
        return redirect("tenancy:choose")
    return render(request, "tenancy/home.html")


@login_required
def choose(request):
    """Every partnership the person belongs to. Crosses tenants on purpose: they are theirs."""
    with scopes_disabled():
        memberships = list(
            Membership.objects.filter(user=request.user)
            .select_related("partnership", "organisation")
            .order_by("partnership__name")
        )
    return render(request, "tenancy/choose.html", {"memberships": memberships})


@login_required
def create(request):
    form = PartnershipCreateForm(request.POST or None, organisations=directory.all_organisations())
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                partnership = _create_with_organisation(request.user, data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"{partnership.name} has been created.")
            return redirect("tenancy:dashboard", partnership_slug=partnership.slug)
    return render(request, "tenancy/create.html", {"form": form})


def _create_with_organisation(user, data) -> Partnership:
    organisation = data["organisation"] or directory.create_organisation(
        data["new_organisation"].strip(), user
    )
    return services.create_partnership(
        name=data["name"],
        slug=data["slug"],
        description=data["description"],
        founder=user,
        organisation=organisation,
    )


@requires(Perm.VIEW)
def dashboard(request):
    cards = cards_for(request.partnership, request.membership)
    recent = None
    if request.membership.can(Perm.VIEW_AUDIT):
        recent = list(audit.readable(AuditEntry.objects.all(), request.membership)[:8])
    return render(request, "tenancy/dashboard.html", {"cards": cards, "recent": recent})


@requires(Perm.MANAGE_PARTNERSHIP)
def partnership_settings(request):
    partnership = request.partnership
    form = PartnershipSettingsForm(request.POST or None, instance=partnership)
    if request.method == "POST" and form.is_valid():
        services.update_partnership(Partnership.objects.get(pk=partnership.pk), **form.cleaned_data)
        messages.success(request, "The partnership's settings have been saved.")
        return redirect("tenancy:settings", partnership_slug=partnership.slug)
    return render(request, "tenancy/settings.html", {"form": form})


@requires(Perm.VIEW)
def people(request):
    memberships = Membership.objects.select_related("user", "organisation")
    page = Paginator(memberships, 50).get_page(request.GET.get("page"))
    invitations = None
    if request.membership.can(Perm.MANAGE_PEOPLE):
        invitations = list(Invitation.objects.pending().select_related("organisation"))
    return render(
        request,
        "tenancy/people.html",
        {
            "page": page,
            "invitations": invitations,
            "people_base": reverse(
                "tenancy:people", kwargs={"partnership_slug": request.partnership.slug}
            ),
        },
    )


@requires(Perm.MANAGE_PEOPLE)
def invite(request):
    partnership = request.partnership
    form = InviteForm(
        request.POST or None, organisations=directory.partner_organisations(partnership)
    )
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite_person(
                partnership, invited_by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"An invitation has been sent to {invitation.email}.")
            return redirect("tenancy:people", partnership_slug=partnership.slug)
    return render(
        request, "tenancy/invite.html", {"form": form, "valid_days": settings.INVITATION_VALID_DAYS}
    )


@requires(Perm.MANAGE_PEOPLE)
def membership(request, membership_id: int):
    member = get_object_or_404(
        Membership.objects.select_related("user", "organisation"), pk=membership_id
    )
    initial = {"organisation": member.organisation_id, "roles": member.roles}
    form = MembershipForm(
        request.POST or None,
        initial=initial,
        organisations=directory.partner_organisations(request.partnership),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.change_membership(member, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"{member.user}'s roles have been saved.")
            return redirect("tenancy:people", partnership_slug=request.partnership.slug)
    return render(
        request,
        "tenancy/membership.html",
        {"member": member, "form": form, "is_self": member.user_id == request.user.pk},
    )


@requires(Perm.MANAGE_PEOPLE)
def remove_membership(request, membership_id: int):
    member = get_object_or_404(Membership.objects.select_related("user"), pk=membership_id)
    error = None
    if request.method == "POST":
        try:
            services.remove_membership(member)
        except ValidationError as exc:
            error = exc.messages[0]
        else:
            messages.success(request, f"{member.user} has been removed from the partnership.")
            if member.user == request.user:  # they can no longer open the partnership
                return redirect("tenancy:choose")
            return redirect("tenancy:people", partnership_slug=request.partnership.slug)
    return render(request, "tenancy/remove_membership.html", {"member": member, "error": error})


@require_POST
@requires(Perm.MANAGE_PEOPLE)
def invitation_action(request, invitation_id: int, action: str):
    invitation = get_object_or_404(Invitation, pk=invitation_id)
    try:
        if action == "resend":
            services.resend_invitation(invitation)
            messages.success(request, f"The invitation to {invitation.email} has been sent again.")
        else:
            services.revoke_invitation(invitation)
            messages.success(request, f"The invitation to {invitation.email} was withdrawn.")
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    return redirect("tenancy:people", partnership_slug=request.partnership.slug)


def _filtered_audit(request):
    form = AuditFilterForm(request.GET or None)
    entries = audit.readable(AuditEntry.objects.all(), request.membership)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            entries = entries.filter(
                Q(summary__icontains=data["q"]) | Q(object_repr__icontains=data["q"])
            )
        if data["action"]:
            entries = entries.filter(action=data["action"])
        if data["actor"]:
            entries = entries.filter(actor_name__icontains=data["actor"])
        tz = timezone.get_current_timezone()
        if data["date_from"]:
            entries = entries.filter(at__gte=datetime.combine(data["date_from"], time.min, tz))
        if data["date_to"]:
            entries = entries.filter(at__lte=datetime.combine(data["date_to"], time.max, tz))
    elif form.is_bound:
        entries = entries.none()
    return form, entries


@requires(Perm.VIEW_AUDIT)
def audit_log(request):
    form, entries = _filtered_audit(request)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    history = reverse(
        "tenancy:object_history",
        kwargs={
            "partnership_slug": request.partnership.slug,
            "content_type_id": 0,
            "object_id": "0",
        },
    )
    return render(
        request,
        "tenancy/audit_log.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "history_base": history.removesuffix("0/0/"),
        },
    )


@requires(Perm.VIEW_AUDIT)
def audit_export(request):
    """The filtered log as CSV, streamed in chunks (the scope is entered again as it streams).
    Names and descriptions come from people and imported files, so every cell goes through
    the shared writer, which keeps text that looks like a formula inert."""
    form, entries = _filtered_audit(request)
    partnership = request.partnership
    header = [
        "When (UTC)",
        "Person",
        "Organisation",
        "Action",
        "Description",
        "Record",
        "Changes",
        "Request id",
    ]

    def rows():
        with scope(partnership=partnership):
            for e in entries.iterator(chunk_size=2000):
                yield [
                    e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    e.actor_name,
                    e.organisation_name,
                    e.action,
                    e.summary,
                    e.object_repr,
                    "; ".join(f"{k}: {v[0]!r} -> {v[1]!r}" for k, v in e.changes.items()),
                    e.request_id,
                ]

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return spreadsheets.csv_response(header, rows(), f"audit-{partnership.slug}-{stamp}.csv")


@requires(Perm.VIEW_AUDIT)
def object_history(request, content_type_id: int, object_id: str):
    content_type = get_object_or_404(ContentType, pk=content_type_id)
    entries = list(
        audit.readable(
            AuditEntry.objects.filter(content_type=content_type, object_id=object_id),
            request.membership,
        )
    )
    if not entries:
        raise Http404("No history for this record in this partnership.")
    return render(
        request,
        "tenancy/object_history.html",
        {"entries": entries, "object_repr": entries[0].object_repr, "kind": content_type.name},
    )


def accept_invitation(request, token: str):
    invitation = services.find_invitation(token)
    problem = services.invitation_problem(invitation)
    if problem:
        return render(
            request,
            "tenancy/invitation_problem.html",
            {"problem": problem},
            status=410 if invitation else 404,
        )
    existing = request.user if request.user.is_authenticated else None
    if existing and existing.email.lower() != invitation.email.lower():
        return render(
            request,
            "tenancy/invitation_problem.html",
            {
                "problem": f"This invitation is for {invitation.email}, but you are signed in as "
                f"{existing.email}. Sign out, then open the link again.",
            },
            status=403,
        )

    needs_account = existing is None
    if needs_account and get_user_model().objects.filter(email__iexact=invitation.email).exists():
        login_url = reverse("account_login") + "?next=" + request.path
        return render(
            request,
            "tenancy/invitation_sign_in.html",
            {"invitation": invitation, "login_url": login_url},
        )
    form = (
        AcceptInvitationForm(
            request.POST or None,
            email=invitation.email,
            initial={"full_name": invitation.full_name},
        )
        if needs_account
        else None
    )
    if request.method == "POST" and (form is None or form.is_valid()):
        try:
            if form is None:
                member = services.accept_invitation(invitation, user=existing)
            else:
                member = services.accept_invitation(
                    invitation,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                )
                login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")
        except ValidationError as exc:
            return render(
                request, "tenancy/invitation_problem.html", {"problem": exc.messages[0]}, status=409
            )
        messages.success(request, f"Welcome to {invitation.partnership.name}.")
        return redirect("tenancy:dashboard", partnership_slug=invitation.partnership.slug)
    return render(
        request, "tenancy/accept_invitation.html", {"invitation": invitation, "form": form}
    )
