from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accord.kernel import flags
from accord.kernel.forms import add_form_errors, posted, report_refusal
from documents.markup import render_markdown
from documents.models import FrozenDocument
from documents.pdf import noted_revisions
from signatories.models import Signature
from signatories.tables import signing_summary, signing_table
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import services
from .compare import compare as compare_versions
from .content import LEGISLATION
from .forms import (
    AskToSignForm,
    CompareForm,
    LegislationForm,
    NewVersionForm,
    ProtocolCreateForm,
    ProtocolSettingsForm,
    ReasonForm,
    SectionForm,
    SendForm,
    active_partners,
)
from .models import LOCKED_MESSAGE, Legislation, Protocol, ProtocolVersion, Section, VersionStatus
from .pdf import file_name, version_pdf
from .permissions import lead_only, may_retire, may_send
from .services.common import ask_refusal
from .transitions import VERSIONS

# A message's tag (see templates/base.html): its banner does not take the focus on arrival.
KEEP_FOCUS = "keep-focus"

# The versions more partners may be asked to sign: the one in force, one out for signature.

# --- Helpers -------------------------------------------------------------------------------


def _protocol(protocol_id: int) -> Protocol:
    return get_object_or_404(Protocol.objects.select_related("lead__organisation"), pk=protocol_id)


def _version(protocol: Protocol, version_id: int) -> ProtocolVersion:
    version = get_object_or_404(
        ProtocolVersion.objects.select_related("author", "approved_by", "document"),
        protocol=protocol,
        pk=version_id,
    )
    version.protocol = protocol
    return version


def _section(version: ProtocolVersion, section_id: int) -> Section:
    return get_object_or_404(Section, version=version, pk=section_id)


def _to_version(request, version: ProtocolVersion, fragment: str = ""):
    """The version's page; at `fragment`, an id on it, when given."""
    response = redirect(
        "protocols:version",
        partnership_slug=request.partnership.slug,
        protocol_id=version.protocol_id,
        version_id=version.pk,
    )
    if fragment:
        response["Location"] += f"#{fragment}"
    return response


def _move_return_point(version: ProtocolVersion, section: Section, direction: str) -> str:
    """Where the page opens after a move: the section's button just pressed, or its other
    move button when the section is now first or last (the one pressed is gone)."""
    order = list(version.sections.order_by("position", "id").values_list("pk", flat=True))
    index = order.index(section.pk)
    shown = [d for d, there in (("up", index > 0), ("down", index < len(order) - 1)) if there]
    if not shown:  # the only section: no move buttons
        return f"section-{section.pk}"
    # The ids of the buttons in templates/protocols/version.html.
    return f"section-{section.pk}-move-{direction if direction in shown else shown[0]}"


def _to_protocol(request, protocol: Protocol):
    return redirect(
        "protocols:detail", partnership_slug=request.partnership.slug, protocol_id=protocol.pk
    )


def _require_person(request, version: ProtocolVersion, transition: str) -> None:
    """403 for a person the declaration does not allow to make the transition."""
    if why := VERSIONS.person_refusal(version, transition, request.membership):
        raise PermissionDenied(why)


def _refuse_locked(request, version: ProtocolVersion):
    """The page to go to when a version can no longer be edited, or None if it can."""
    if version.is_editable and version.protocol.retired_at is None:
        return None
    messages.error(request, LOCKED_MESSAGE)
    return _to_version(request, version)


# --- Protocols -----------------------------------------------------------------------------


@requires(Perm.VIEW)
def protocol_list(request):
    protocols = list(
        Protocol.objects.select_related("lead__organisation").prefetch_related(
            Prefetch("versions", queryset=ProtocolVersion.objects.order_by("-major", "-minor"))
        )
    )
    rows = []
    sent = []
    for protocol in protocols:
        versions = list(protocol.versions.all())
        latest = versions[0] if versions else None
        signing = next((v for v in versions if v.document_id), None)
        rows.append({"protocol": protocol, "latest": latest, "signing": signing})
        if signing:
            sent.append(signing)
    counts = services.signing_counts(sent)
    for row in rows:
        row["counts"] = counts.get(row["signing"].pk) if row["signing"] else None
    return render(
        request,
        "protocols/list.html",
        {
            "current": [r for r in rows if r["protocol"].retired_at is None],
            "retired": [r for r in rows if r["protocol"].retired_at is not None],
            "can_draft": request.membership.can(Perm.DRAFT_DOCUMENTS),
        },
    )


@requires(Perm.DRAFT_DOCUMENTS)
def create(request):
    form = ProtocolCreateForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            protocol = services.create_from_model(
                request.partnership, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request,
                f"“{protocol.title}” has been started from the model protocol as draft "
                "version 1.0.",
            )
            return _to_protocol(request, protocol)
    return render(request, "protocols/create.html", {"form": form})


def _version_page(request, protocol: Protocol, version: ProtocolVersion) -> HttpResponse:
    membership = request.membership
    latest = services.latest_version(protocol)
    is_latest = latest is not None and latest.pk == version.pk
    live = protocol.retired_at is None
    sections = list(version.sections.order_by("position", "id"))
    for section in sections:
        section.html = render_markdown(section.body)
    counts = services.signing_counts([version]).get(version.pk) if version.document_id else None
    can_draft = membership.can(Perm.DRAFT_DOCUMENTS)
    status = version.status
    in_force = services.in_force_version(protocol)
    allowed = VERSIONS.allowed(version, membership)
    actions = {
        "edit": live and can_draft and status == VersionStatus.DRAFT,
        "submit": allowed["submit"],
        "approve": allowed["approve"],
        "return": allowed["return"],
        "send": allowed["send"],
        "issue": allowed["issue"],
        "new_version": live and can_draft and is_latest and status in services.BASES,
        "retire": live and may_retire(membership),
        "settings": live and can_draft,
    }
    refusals = VERSIONS.refusals(version, membership)
    return render(
        request,
        "protocols/version.html",
        {
            "protocol": protocol,
            "flags": flags.notes("protocol", [protocol.pk]).get(protocol.pk, []),
            "version": version,
            "sections": sections,
            "is_latest": is_latest,
            "latest": latest,
            "in_force": in_force,
            "counts": counts,
            "actions": actions,
            "refusals": refusals,
            "last_section": len(sections),
        },
    )


@requires(Perm.VIEW)
def detail(request, protocol_id: int):
    protocol = _protocol(protocol_id)
    version = services.latest_version(protocol)
    if version is None:
        raise Http404("This protocol has no versions.")
    version.protocol = protocol
    return _version_page(request, protocol, version)


@requires(Perm.VIEW)
def version_detail(request, protocol_id: int, version_id: int):
    protocol = _protocol(protocol_id)
    return _version_page(request, protocol, _version(protocol, version_id))


@requires(Perm.DRAFT_DOCUMENTS)
def protocol_settings(request, protocol_id: int):
    protocol = _protocol(protocol_id)
    if protocol.retired_at is not None:
        messages.error(request, "This protocol has been retired and cannot change.")
        return _to_protocol(request, protocol)
    form = ProtocolSettingsForm(posted(request), instance=Protocol.objects.get(pk=protocol.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_settings(protocol, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, "The protocol's settings have been saved.")
            return _to_protocol(request, protocol)
    return render(request, "protocols/settings.html", {"protocol": protocol, "form": form})


@requires(Perm.APPROVE_DOCUMENTS)
def retire(request, protocol_id: int):
    protocol = _protocol(protocol_id)
    if protocol.retired_at is not None:
        messages.error(request, "This protocol has already been retired.")
        return _to_protocol(request, protocol)
    form = ReasonForm(
        posted(request),
        label="Why is the protocol being retired?",
        required_message="Enter the reason for retiring the protocol.",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.retire(protocol, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"“{protocol.title}” has been retired.")
            return _to_protocol(request, protocol)
    return render(request, "protocols/retire.html", {"protocol": protocol, "form": form})


# --- Versions ------------------------------------------------------------------------------


@requires(Perm.VIEW)
def versions(request, protocol_id: int):
    protocol = _protocol(protocol_id)
    rows = list(protocol.versions.select_related("author").order_by("-major", "-minor"))
    notes = noted_revisions({v.document_id: v.number for v in rows if v.document_id})
    return render(
        request,
        "protocols/versions.html",
        {"protocol": protocol, "versions": rows, "notes": notes[::-1]},
    )


@requires(Perm.DRAFT_DOCUMENTS)
def new_version(request, protocol_id: int):
    protocol = _protocol(protocol_id)
    latest = services.latest_version(protocol)
    if protocol.retired_at is not None or latest is None or latest.status not in services.BASES:
        messages.error(
            request,
            "A new version starts from an approved, sent or signed version. "
            f"Version {latest.number if latest else ''} is "
            f"{latest.get_status_display().lower() if latest else 'missing'}: edit it instead.",
        )
        return _to_protocol(request, protocol)
    form = NewVersionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            version = services.new_version(
                protocol,
                major=form.cleaned_data["kind"] == "major",
                change_summary=form.cleaned_data["change_summary"],
                by=request.user,
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request, f"Draft version {version.number} has been started from {latest.number}."
            )
            return _to_version(request, version)
    return render(
        request,
        "protocols/new_version.html",
        {
            "protocol": protocol,
            "latest": latest,
            "form": form,
            "next_minor": f"{latest.major}.{latest.minor + 1}",
            "next_major": f"{latest.major + 1}.0",
        },
    )


@requires(Perm.VIEW)
def compare(request, protocol_id: int):
    protocol = _protocol(protocol_id)
    all_versions = list(protocol.versions.order_by("major", "minor"))
    initial: dict[str, Any] = {}
    if len(all_versions) >= 2:
        initial = {"a": all_versions[-2].pk, "b": all_versions[-1].pk}
    form = CompareForm(request.GET or None, initial=initial, versions=all_versions)
    enough = len(all_versions) >= 2
    changes = chosen = None
    if enough:
        picked = initial
        if form.is_bound:
            picked = form.cleaned_data if form.is_valid() else None
        if picked:
            by_pk = {v.pk: v for v in all_versions}
            chosen = (by_pk[picked["a"]], by_pk[picked["b"]])
            changes = compare_versions(*chosen)
    return render(
        request,
        "protocols/compare.html",
        {
            "protocol": protocol,
            "form": form,
            "changes": changes,
            "chosen": chosen,
            "enough": enough,
        },
    )


@require_POST
@requires(Perm.DRAFT_DOCUMENTS)
def submit(request, protocol_id: int, version_id: int):
    version = _version(_protocol(protocol_id), version_id)
    try:
        services.submit_for_approval(version, by=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(
            request, f"Version {version.number} has been sent to the steering group for approval."
        )
    return _to_version(request, version)


@require_POST
@requires(Perm.APPROVE_DOCUMENTS)
def approve(request, protocol_id: int, version_id: int):
    version = _version(_protocol(protocol_id), version_id)
    try:
        services.approve(version, by=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(
            request,
            f"Version {version.number} has been approved. The lead organisation can now "
            + ("issue it." if version.minor else "send it for signature."),
        )
    return _to_version(request, version)


@requires(Perm.APPROVE_DOCUMENTS)
def return_to_draft(request, protocol_id: int, version_id: int):
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    if VERSIONS.state_refusal(version, "return"):
        messages.error(
            request,
            f"Version {version.number} is {version.get_status_display().lower()}: it cannot "
            "be returned to draft.",
        )
        return _to_version(request, version)
    form = ReasonForm(
        posted(request),
        label="What needs to change?",
        required_message="Enter what needs to change before it is approved.",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.return_to_draft(version, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"Version {version.number} has been returned to draft.")
            return _to_version(request, version)
    return render(
        request, "protocols/return.html", {"protocol": protocol, "version": version, "form": form}
    )


@requires(Perm.DRAFT_DOCUMENTS)
def send(request, protocol_id: int, version_id: int):
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    _require_person(request, version, "send")
    if VERSIONS.state_refusal(version, "send"):
        messages.error(
            request,
            f"Version {version.number} is {version.get_status_display().lower()}: only an "
            "approved version can be sent for signature.",
        )
        return _to_version(request, version)
    form = SendForm(posted(request))
    if request.method == "POST" and form.is_valid():
        partners = list(form.cleaned_data["partners"])
        try:
            services.send_for_signature(version, partners, by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request,
                f"Version {version.number} has been frozen and sent to {len(partners)} "
                f"partner{'s' if len(partners) != 1 else ''} for signature.",
            )
            return redirect(
                "protocols:signatories",
                partnership_slug=request.partnership.slug,
                protocol_id=protocol.pk,
                version_id=version.pk,
            )
    return render(
        request, "protocols/send.html", {"protocol": protocol, "version": version, "form": form}
    )


@require_POST
@requires(Perm.DRAFT_DOCUMENTS)
def issue(request, protocol_id: int, version_id: int):
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    try:
        services.issue_minor_version(version, by=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(
            request,
            f"Version {version.number} has been issued and the partners' signatories told.",
        )
    return _to_version(request, version)


def _signing_documents(version: ProtocolVersion, source: ProtocolVersion) -> list[FrozenDocument]:
    """The frozen documents whose signatures count for the version, as objects: those of the
    version it carries (an issued minor version), then its own."""
    if source.document_id is None:
        return []
    if source.pk == version.pk or version.document_id is None:
        return [source.document]
    return [source.document, version.document]


def _may_ask(request, protocol: Protocol, version: ProtocolVersion) -> bool:
    """Whether the person may ask more partners to sign the version: the version in force
    or one out for signature, by the lead organisation's people (see services.ask_to_sign)."""
    return ask_refusal(version) is None and may_send(request.membership, protocol)


def _ask_form(rows, data=None) -> AskToSignForm:
    """Active partners who have not signed (nor are being asked to sign): those that
    joined later, and those that declined, to ask again."""
    excluded = {
        row.partner.pk
        for row in rows
        if row.awaiting or (row.signature and row.signature.outcome == Signature.Outcome.SIGNED)
    }
    declined = {
        row.partner.pk: row.signature.document.version_label
        for row in rows
        if row.signature and row.signature.outcome == Signature.Outcome.DECLINED
    }
    candidates = active_partners().exclude(pk__in=excluded).order_by("organisation__name", "pk")
    return AskToSignForm(data, candidates=candidates, declined=declined)


def _signatories_context(
    request, protocol: Protocol, version: ProtocolVersion, data=None
) -> dict[str, Any]:
    source = services.signature_source(version)
    documents = _signing_documents(version, source)
    rows = counts = ask_form = None
    if documents:
        rows = signing_table(documents, list(services.partners_asked(version)))
        # The figures every page and the PDF show: withdrawn partners count in none.
        counts = services.signing_counts([version]).get(version.pk) or {}
        if _may_ask(request, protocol, version):
            ask_form = _ask_form(rows, data)
    return {
        "protocol": protocol,
        "version": version,
        "source": source,
        "rows": rows,
        "counts": counts,
        "summary": signing_summary(counts),
        "several_versions": len(documents) > 1,
        "ask_form": ask_form,
        "can_ask": ask_form is not None and ask_form.fields["partners"].queryset.exists(),
    }


def _to_signatories(request, version: ProtocolVersion):
    return redirect(
        "protocols:signatories",
        partnership_slug=request.partnership.slug,
        protocol_id=version.protocol_id,
        version_id=version.pk,
    )


@requires(Perm.VIEW)
def signatories(request, protocol_id: int, version_id: int):
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    return render(
        request, "protocols/signatories.html", _signatories_context(request, protocol, version)
    )


@require_POST
@requires(Perm.DRAFT_DOCUMENTS)
def ask_to_sign(request, protocol_id: int, version_id: int):
    """Ask partners that have not signed the version in force (or out for signature) to sign
    it, without sending it to everyone again."""
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    if not may_send(request.membership, protocol):
        raise PermissionDenied(lead_only(version, request.membership))
    context = _signatories_context(request, protocol, version, data=request.POST)
    form = context["ask_form"]
    if form is None:
        messages.error(
            request,
            f"Version {version.number} is {version.get_status_display().lower()}: only the "
            "version in force, or one out for signature, can be signed by more partners.",
        )
        return _to_signatories(request, version)
    if form.is_valid():
        partners = list(form.cleaned_data["partners"])
        try:
            services.ask_to_sign(version, partners, by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            names = ", ".join(str(p.organisation) for p in partners)
            messages.success(
                request,
                f"{names} {'has' if len(partners) == 1 else 'have'} been asked to sign "
                f"version {version.number}.",
            )
            return _to_signatories(request, version)
    return render(request, "protocols/signatories.html", context)


@requires(Perm.VIEW)
def pdf(request, protocol_id: int, version_id: int):
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    if version.document_id is None:
        messages.error(
            request,
            f"Version {version.number} has no PDF yet: a version gets one when it is sent for "
            "signature or issued.",
        )
        return _to_version(request, version)
    return _pdf_response(version)


def _pdf_response(version: ProtocolVersion) -> FileResponse:
    stored = version_pdf(version)
    return FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=file_name(version),
        content_type="application/pdf",
    )


# --- Sections ------------------------------------------------------------------------------


@requires(Perm.DRAFT_DOCUMENTS)
def section_add(request, protocol_id: int, version_id: int):
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    if refused := _refuse_locked(request, version):
        return refused
    form = SectionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            section = services.add_section(version, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"The section “{section.title}” has been added.")
            return _to_version(request, version)
    return render(
        request,
        "protocols/section_form.html",
        {"protocol": protocol, "version": version, "form": form, "section": None},
    )


@requires(Perm.DRAFT_DOCUMENTS)
def section_edit(request, protocol_id: int, version_id: int, section_id: int):
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    section = _section(version, section_id)
    if refused := _refuse_locked(request, version):
        return refused
    form = SectionForm(posted(request), initial={"title": section.title, "body": section.body})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_section(section, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"The section “{form.cleaned_data['title']}” has been saved.")
            return _to_version(request, version)
    return render(
        request,
        "protocols/section_form.html",
        {"protocol": protocol, "version": version, "form": form, "section": section},
    )


@requires(Perm.DRAFT_DOCUMENTS)
def section_delete(request, protocol_id: int, version_id: int, section_id: int):
    protocol = _protocol(protocol_id)
    version = _version(protocol, version_id)
    section = _section(version, section_id)
    if refused := _refuse_locked(request, version):
        return refused
    if request.method == "POST":
        try:
            services.delete_section(section, by=request.user)
        except ValidationError as exc:
            report_refusal(request, exc)
        else:
            messages.success(request, f"The section “{section.title}” has been removed.")
        return _to_version(request, version)
    return render(
        request,
        "protocols/section_delete.html",
        {"protocol": protocol, "version": version, "section": section},
    )


@require_POST
@requires(Perm.DRAFT_DOCUMENTS)
def section_move(request, protocol_id: int, version_id: int, section_id: int):
    version = _version(_protocol(protocol_id), version_id)
    section = _section(version, section_id)
    direction = request.POST.get("direction", "")
    try:
        services.move_section(section, direction, by=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)  # read at the top of the page
        return _to_version(request, version)
    # Back at the button pressed (the address's fragment), which the banner leaves focused.
    messages.success(
        request, f"The section “{section.title}” has been moved.", extra_tags=KEEP_FOCUS
    )
    return _to_version(request, version, _move_return_point(version, section, direction))


# --- The legislation library -------------------------------------------------------------


@requires(Perm.VIEW)
def legislation(request):
    """The partnership's library; until it has its own copy (made with its first protocol or
    its first addition), Accord's list, read-only. Reading it never writes."""
    copied = services.legislation_copied(request.partnership)
    can_edit = request.membership.can(Perm.DRAFT_DOCUMENTS)
    return render(
        request,
        "protocols/legislation.html",
        {
            "statutes": list(Legislation.objects.order_by("title"))
            if copied
            else sorted(LEGISLATION, key=lambda statute: statute.title),
            "can_edit": can_edit,
            "can_change_rows": can_edit and copied,
        },
    )


def _to_legislation(request):
    return redirect("protocols:legislation", partnership_slug=request.partnership.slug)


@requires(Perm.DRAFT_DOCUMENTS)
def legislation_add(request):
    form = LegislationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            statute = services.add_legislation(
                request.partnership, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"{statute.title} has been added to the library.")
            return _to_legislation(request)
    return render(request, "protocols/legislation_form.html", {"form": form, "statute": None})


@requires(Perm.DRAFT_DOCUMENTS)
def legislation_edit(request, legislation_id: int):
    statute = get_object_or_404(Legislation, pk=legislation_id)
    form = LegislationForm(posted(request), instance=Legislation.objects.get(pk=statute.pk))
    if request.method == "POST" and form.is_valid():
        try:
            services.update_legislation(statute, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, f"{form.cleaned_data['title']} has been saved.")
            return _to_legislation(request)
    return render(request, "protocols/legislation_form.html", {"form": form, "statute": statute})


@requires(Perm.DRAFT_DOCUMENTS)
def legislation_delete(request, legislation_id: int):
    statute = get_object_or_404(Legislation, pk=legislation_id)
    if request.method == "POST":
        services.delete_legislation(statute, by=request.user)
        messages.success(request, f"{statute.title} has been removed from the library.")
        return _to_legislation(request)
    return render(request, "protocols/legislation_delete.html", {"statute": statute})
