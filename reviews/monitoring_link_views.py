"""The link e-mailed to a partner's signatories and data protection address: confirm, once a
year and with no account, that the protocol's procedures are in place. The secret is the key;
what the link does is recorded for the partner's organisation."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_scopes import scope, scopes_disabled

from accord.kernel.context import acting
from accord.kernel.forms import add_form_errors, posted
from protocols.services import in_force_version

from . import monitoring
from .forms_monitoring import ConfirmForm
from .models import Confirmation

TEMPLATE = "reviews/confirm.html"


def _by_token(token: str) -> Confirmation | None:
    with scopes_disabled():
        return monitoring.confirmation_for_token(token)


@never_cache
def confirmation_link(request: HttpRequest, token: str) -> HttpResponse:
    confirmation = _by_token(token)
    if confirmation is None:
        return render(request, TEMPLATE, {"problem": True}, status=404)
    organisation = confirmation.partner.organisation
    with scope(partnership=confirmation.partnership), acting(organisation=organisation):
        return _confirmation_page(request, confirmation)


def _confirmation_page(request: HttpRequest, confirmation: Confirmation) -> HttpResponse:
    organisation = confirmation.partner.organisation
    refusal = monitoring.confirmation_refusal(confirmation)
    form = ConfirmForm(posted(request))
    done = confirmation.confirmed_at is not None
    if request.method == "POST" and not done and not refusal and form.is_valid():
        data = form.cleaned_data
        try:
            monitoring.confirm(
                confirmation, name=data["name"], role=data["role"], note=data["note"]
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        except PermissionDenied:
            confirmation.refresh_from_db()  # confirmed meanwhile, or no longer askable
            done = confirmation.confirmed_at is not None
            refusal = monitoring.confirmation_refusal(confirmation)
        else:
            messages.success(
                request,
                f"Thank you: {organisation}'s confirmation for {confirmation.year} is recorded.",
            )
            return redirect(request.path)
    version = in_force_version(confirmation.protocol)
    return render(
        request,
        TEMPLATE,
        {
            "confirmation": confirmation,
            "organisation": organisation,
            "protocol": confirmation.protocol,
            "version": version,
            "link_partnership": confirmation.partnership,
            "done": done,
            "already": monitoring.already_confirmed(confirmation) if done else "",
            "refusal": refusal,
            "form": form,
        },
    )
