"""The calendar feed, read by calendar apps with no sign-in (the secret address is the key),
and the person's page that gives, and resets, their address."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from signatories.tokens import hash_token

from . import calendar

# The new secret, kept in the session only until the page after the POST has shown it.
SHOWN = "calendar_address_shown"

NOT_FOUND = (
    "There is no calendar at this address. Check that you copied the whole address from "
    "your calendar page in Accord.\n"
)
RESET = (
    "This calendar address was reset, so it no longer shows any dates. Open your calendar "
    "page in Accord (Your details, then Your calendar) to get the new address, and subscribe "
    "to that one instead.\n"
)
TEXT = "text/plain; charset=utf-8"


@never_cache
@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    address = calendar.address_for(token)
    if address is None or not address.user.is_active:
        return HttpResponse(NOT_FOUND, content_type=TEXT, status=404)
    if address.retired_at is not None:
        return HttpResponse(RESET, content_type=TEXT, status=410)
    response = HttpResponse(
        calendar.feed_for(address.user), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="accord.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def calendar_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        return _change(request)
    live = calendar.live_address(user)
    token = request.session.pop(SHOWN, None)
    # Shown only if it is still the person's live address (not one reset since, elsewhere).
    if token and (live is None or live.token_hash != hash_token(token)):
        token = None
    address = calendar.feed_url(token) if token else ""
    # The same address for apps that subscribe when it is opened (Apple Calendar, Outlook).
    webcal = "webcal://" + address.split("://", 1)[1] if address else ""
    return render(
        request, "reviews/calendar.html", {"live": live, "address": address, "webcal": webcal}
    )


def _change(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action")
    live = calendar.live_address(request.user)
    if action not in ("create", "reset"):
        messages.error(request, "Choose to create your calendar address or to reset it.")
        return redirect("calendar")
    if action == "create" and live is not None:
        messages.error(
            request,
            "You already have a calendar address. It was not changed. To get a new one, reset it.",
        )
        return redirect("calendar")
    request.session[SHOWN] = calendar.issue_address(request.user)
    if live is not None:
        messages.success(
            request,
            "Your calendar address was reset. The old address no longer works: subscribe to "
            "the new one below.",
        )
    else:
        messages.success(request, "Your calendar address is ready: subscribe to it below.")
    return redirect("calendar")
