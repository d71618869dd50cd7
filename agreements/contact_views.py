"""Asking a party of an agreement to complete its organisation record (agreements.contacts):
one POST from the summary sheet's section page or the agreement's task list."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from accord.kernel.forms import report_refusal
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import contacts
from .drafting_views import _agreement
from .models import Agreement, AgreementParty


def _back(request, agreement: Agreement) -> str:
    """The page the request came from: the summary sheet's section or the task list, and
    nowhere else."""
    kwargs = {"partnership_slug": request.partnership.slug, "agreement_id": agreement.pk}
    summary = reverse("agreements:section", kwargs={**kwargs, "section_key": "summary"})
    task_list = reverse("agreements:detail", kwargs=kwargs)
    wanted = request.POST.get("next", "")
    return wanted if wanted in (summary, task_list) else summary


@require_POST
@requires(Perm.DRAFT_DOCUMENTS)
def ask_for_details(request, agreement_id: int, party_id: int):
    """The agreement's drafters ask a party's verified people (or its confirmed data
    protection address) to complete its record. Someone who may not edit the agreement gets
    403; a refusal is shown on the page it came from, nothing changed."""
    agreement = _agreement(agreement_id)
    party = get_object_or_404(
        AgreementParty.objects.select_related("partner__organisation"),
        agreement=agreement,
        pk=party_id,
    )
    back = _back(request, agreement)
    try:
        asked = contacts.ask_for_contacts(agreement, party, by=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(
            request,
            f"{party.partner.organisation} has been asked to complete its record: Accord has "
            f"e-mailed {contacts.asked_whom(asked)}.",
        )
    return redirect(back)
