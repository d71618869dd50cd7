"""Signing pages: the public link, a signatory's tasks in the app, resending, verifying."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from django_scopes import scope, scopes_disabled

from accord.kernel.forms import add_form_errors
from documents.seal import SealCheck, check_seal
from documents.uploads import LimitedUploadHandler
from documents.verify import VerifyMatch, find_all_by_sha256, sha256_of_bytes
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import signables, signing, tables
from .forms import SigningForm, VerifyForm
from .models import Partner, Signature, SignatureRequest
from .tokens import new_token

# Light protection of the public verify page: lookups per address per minute.
VERIFY_LOOKUPS_PER_MINUTE = 30
# The most documents one fingerprint is shown to match (only versions frozen before a
# fingerprint covered the version's identity can share one).
VERIFY_MATCHES_SHOWN = 10


def client_ip(request) -> str | None:
    """The visitor's address: REMOTE_ADDR, or the last X-Forwarded-For entry (the one the
    trusted proxy added) when settings.SIGNING_TRUST_X_FORWARDED_FOR is on."""
    if getattr(settings, "SIGNING_TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR")


def link_problem(request, problem: str, status: int):
    """The page for an e-mailed link that cannot be used (signing, confirming, vouching)."""
    return render(request, "signatories/sign_problem.html", {"problem": problem}, status=status)


def _signing_page(request, sig_request: SignatureRequest, *, user, in_app: bool):
    """Show the document and the form; record the answer on POST (shared by both entries)."""
    organisation = sig_request.partner.organisation
    signatory = sig_request.signatory
    initial = {
        "name": (user.full_name if user else "") or (signatory.name if signatory else ""),
        "position": signatory.position if signatory else "",
    }
    data = request.POST if request.method == "POST" else None
    form = SigningForm(data, organisation=organisation, initial=initial)
    if request.method == "POST" and form.is_valid():
        copy_token, _hash = new_token()
        answer = {
            "name": form.cleaned_data["name"],
            "position": form.cleaned_data["position"],
            "ip_address": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", ""),
            "user": user,
            "copy_token": copy_token,
        }
        try:
            if form.action == "sign":
                signing.sign(sig_request, confirmed=form.cleaned_data["confirmed"], **answer)
            else:
                signing.decline(sig_request, reason=form.cleaned_data["reason"], **answer)
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                return link_problem(
                    request,
                    exc.messages[0],
                    409 if getattr(exc, "code", None) == "answered" else 410,
                )
            add_form_errors(form, exc)
        else:
            return redirect("signing:done", token=copy_token)
    return render(
        request,
        "signatories/sign.html",
        {
            "sig_request": sig_request,
            "document": sig_request.document,
            "signing_partnership": sig_request.partnership,
            "organisation": organisation,
            "form": form,
            "in_app": in_app,
        },
    )


@never_cache
def sign(request, token: str):
    """The e-mailed link: no sign-in; the secret in the address is the key."""
    sig_request, problem = signing.open_by_token(token)
    if problem:
        return link_problem(request, problem, 404 if sig_request is None else 410)
    return _signing_page(request, sig_request, user=None, in_app=False)


def _answered(token: str) -> Signature:
    """The answer given to the request that a link's secret opens (the signing link, a
    reminder's or the one e-mailed with the confirmation). 404 for any other secret: unknown,
    or opening a request that is unanswered or replaced since."""
    sig_request = signing.find_by_token(token)
    if sig_request is None or sig_request.status not in signing.ANSWERED_STATUSES:
        raise Http404("This link opens no answered request.")
    with scopes_disabled():
        signature = (
            Signature.objects.select_related("document", "partner__organisation", "partnership")
            .filter(request=sig_request)
            .first()
        )
    if signature is None:
        raise Http404("This link opens no answered request.")
    return signature


@never_cache
def done(request, token: str):
    """What was recorded and what happens next, with the PDF's link: shown again on every
    reload, to whoever holds one of the request's links (the signer, through their e-mails)."""
    signature = _answered(token)
    with scope(partnership=signature.partnership):
        progress = signing.signing_progress(signature.document)
    return render(
        request,
        "signatories/signed.html",
        {
            "signature": signature,
            "progress": progress,
            "copy_url": reverse("signing:copy", kwargs={"token": token})
            if progress.has_pdf
            else "",
        },
    )


@never_cache
def copy(request, token: str):
    """The members' copy of the answered document's PDF, as its signing now stands (rendered
    when missing), for the signer without an account: a download."""
    signature = _answered(token)
    with scope(partnership=signature.partnership):
        found = signables.owner_of(signature.document)
        if found is None:  # no record owns it any more (an agreement back in draft)
            raise Http404("This document has no PDF.")
        signable, owner = found
        stored = signable.render(owner)[0]
    document = signature.document
    name = f"{slugify(document.title)[:80] or 'document'}-v{document.version_label}.pdf"
    return FileResponse(
        stored.file.open("rb"), as_attachment=True, filename=name, content_type="application/pdf"
    )


@requires(Perm.SIGN)
def tasks(request):
    organisation = request.membership.organisation
    partner = Partner.objects.filter(organisation=organisation).first()
    refusal = (
        signing.why_not_sign_in_app(request.user, partner)
        if partner is not None
        else f"{organisation} is not a partner of {request.partnership.name}."
    )
    with_answers = (
        Signature.objects.filter(partner__organisation=organisation)
        .select_related("document")
        .order_by("-at", "-pk")[:20]
    )
    return render(
        request,
        "signatories/tasks.html",
        {
            "requests": signing.open_requests_for(organisation),
            "answers": list(with_answers),
            "organisation": organisation,
            "refusal": refusal,
            "now": timezone.now(),
        },
    )


@never_cache
@requires(Perm.SIGN)
def sign_in_app(request, request_id: int):
    """The same document and form for a signed-in signatory, who is recorded as the signer."""
    sig_request = get_object_or_404(
        SignatureRequest.objects.select_related(
            "partnership", "document__partnership", "partner__organisation", "signatory"
        ),
        pk=request_id,
        partner__organisation=request.membership.organisation,
    )
    problem = signing.problem_with(sig_request)
    if problem:
        return link_problem(request, problem, 410)
    refusal = signing.why_not_sign_in_app(request.user, sig_request.partner)
    if refusal:
        return link_problem(request, refusal, 403)
    signing.mark_opened(sig_request)
    return _signing_page(request, sig_request, user=request.user, in_app=True)


@require_POST
@requires(Perm.MANAGE_PARTNERS)
def resend(request, request_id: int):
    sig_request = get_object_or_404(
        SignatureRequest.objects.select_related("partner__organisation"), pk=request_id
    )
    try:
        fresh = signing.reissue(sig_request, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"A new link has been sent to {fresh.email}. The previous link no longer works.",
        )
    back = request.POST.get("next", "")
    if back.startswith(f"/p/{request.partnership.slug}/") and url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect(
        "signatories:partner",
        partnership_slug=request.partnership.slug,
        partner_id=sig_request.partner_id,
    )


def _too_many_lookups(request) -> bool:
    key = f"verify-lookups:{client_ip(request)}:{int(time.time() // 60)}"
    try:
        cache.add(key, 0, timeout=120)
        return cache.incr(key) > VERIFY_LOOKUPS_PER_MINUTE
    except Exception:  # a cache outage must not stop verifying
        return False


@csrf_exempt  # checked in _verify_posted, once the body has been read through the limit
def verify(request):
    """Anyone may check whether a PDF, or a SHA-256, is of a document signed in Accord.

    A POST is answered without reading its body when the address has made too many lookups,
    and its upload is read no further than the size limit (Django's handlers would otherwise
    store all of it first). CSRF middleware reads the body, so this view is exempt from it
    and checks CSRF itself after the limit is in place, as Django's documentation describes
    for changing upload handlers.
    """
    if request.method != "POST":
        return render(request, "signatories/verify.html", {"form": VerifyForm(), "searched": False})
    if _too_many_lookups(request):
        context = {"form": VerifyForm(), "searched": False, "too_many": True}
        return render(request, "signatories/verify.html", context, status=429)
    if _upload_over_the_limit(request):
        # Refused without looking anything up or changing anything, so without the CSRF
        # check (a body refused before it was read has no token to check).
        form = VerifyForm(request.POST, upload_too_large=True)
        form.is_valid()
        return render(request, "signatories/verify.html", {"form": form, "searched": False})
    return _verify_posted(request)


def _upload_over_the_limit(request) -> bool:
    """Read the request body with uploads stopped at the size limit; whether they were."""
    limit = LimitedUploadHandler(VerifyForm.max_file_bytes(), request=request)
    # Assigning (rather than inserting) raises if the body has already been read.
    request.upload_handlers = [limit, *request.upload_handlers]
    request.POST  # noqa: B018 - parse the body now, through the limit
    return limit.exceeded


@csrf_protect
def _verify_posted(request):
    form = VerifyForm(request.POST, request.FILES)
    context: dict = {"form": form, "searched": False}
    if form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read() if upload else None
        digest = sha256_of_bytes(data) if data is not None else form.cleaned_data["sha256"]
        try:
            matches = find_all_by_sha256(digest, limit=VERIFY_MATCHES_SHOWN + 1)
        except ValueError:
            form.add_error(
                "sha256",
                "Enter the SHA-256 as 64 characters, letters a to f and digits 0 to 9.",
            )
        else:
            match = matches[0] if matches else None
            context.update(searched=True, digest=digest, match=match)
            if data is not None:
                context["seal"] = _seal_of(data)
            if len(matches) == 1:
                context.update(_what_matched(match))
            elif matches:
                shown = matches[:VERIFY_MATCHES_SHOWN]
                context.update(
                    several=[{"match": m, **_what_matched(m)} for m in shown],
                    more_than_shown=len(matches) > len(shown),
                )
    return render(request, "signatories/verify.html", context)


def _seal_of(data: bytes) -> SealCheck | None:
    """Whether the uploaded PDF's seal is intact; None when the seal cannot be checked here."""
    try:
        return check_seal(data)
    except ImproperlyConfigured:  # no seal certificate configured: say nothing about it
        return None


def _what_matched(match: VerifyMatch) -> dict[str, object]:
    """What the verify page may tell anyone: the signatures only (no declines), the signers'
    names only where the partnership publishes them, and whether the version was replaced."""
    with scope(partnership=match.partnership):
        signed = [
            s
            for s in tables.signatures_for(match.document)
            if s.outcome == Signature.Outcome.SIGNED
        ]
        superseded = signing.is_superseded(match.document)
    return {
        "signatures": signed,
        "show_names": match.partnership.public_signatory_names,
        "superseded": superseded,
    }
