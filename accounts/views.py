from typing import NoReturn

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import ProfileForm


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your details have been saved.")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form})


def no_email_management(request: HttpRequest) -> NoReturn:
    """Stands in for allauth's e-mail management page, which Accord does not offer. The sign-in
    address came from an invitation and names the person in the audit trail and on signatures,
    so it changes only in the site administration, when a partnership administrator asks."""
    raise Http404
