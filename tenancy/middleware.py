"""The one place a partnership page is let in: resolve the partnership from the URL, check
membership (404 if none) and permission (403), then run the view inside the tenant scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django_scopes import scope

from accord.kernel.context import acting

from .models import Membership, Partnership
from .permissions import required_permission

SLUG_KWARG = "partnership_slug"


class PartnershipMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.partnership = None
        request.membership = None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            match = None
        slug = match.kwargs.get(SLUG_KWARG) if match else None
        if slug is None:
            with acting(user=request.user):
                return self.get_response(request)

        perm = required_permission(match.func)
        if perm is None:
            raise ImproperlyConfigured(
                f"{match.view_name} is a partnership page without a permission: "
                "decorate it with tenancy.permissions.requires()."
            )
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # Superusers get no special path: membership is the only way in.
        partnership = Partnership.objects.filter(slug=slug).first()
        if partnership is None:
            raise Http404("No such partnership.")
        with scope(partnership=partnership):
            # order_by("pk"): the default ordering would join the user table for nothing.
            membership = (
                Membership.objects.select_related("organisation")
                .filter(user=request.user)
                .order_by("pk")
                .first()
            )
            if membership is None:
                raise Http404("No such partnership.")
            if partnership.mfa_required and not request.user.has_totp:
                messages.warning(
                    request,
                    f"{partnership.name} requires two-factor authentication. "
                    "Set up an authenticator app to continue.",
                )
                return redirect(f"{reverse('mfa_activate_totp')}?next={request.path}")
            if not membership.can(perm):
                raise PermissionDenied("Your roles in this partnership do not allow this.")
            request.partnership = partnership
            request.membership = membership
            with acting(
                user=request.user,
                organisation=membership.organisation,
                partnership_id=partnership.pk,
            ):
                return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        # Views receive the partnership as request.partnership, not as an argument.
        view_kwargs.pop(SLUG_KWARG, None)
        return None
