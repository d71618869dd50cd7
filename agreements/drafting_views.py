"""Drafting pages: the agreement's task list, one page per section, data items, comments,
editors, the lifecycle steps, the PDF and the partnership's template.

Views are thin: the services decide. Who may edit is decided per agreement (the lead
organisation's drafters, the partnership's administrators and the named editors, see
services.common.is_editor): the section and data item pages are open to every member
(Perm.VIEW) to read, and refuse changes (403) to anyone who may not edit. Named editors see
the summary's lead organisation and parties read-only.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accord.kernel.forms import add_form_errors, posted, posted_id, report_refusal
from documents.markup import render_markdown
from protocols.models import Legislation
from protocols.services import ensure_legislation
from signatories import signables
from signatories.models import Partner
from signatories.tables import signing_table
from tenancy.permissions import requires
from tenancy.roles import Perm

from . import rules, services
from .facts import COMPLETED, SECTION_KEYS
from .forms import (
    AutosaveForm,
    CommentForm,
    CreateForm,
    DataItemForm,
    EditorForm,
    NewVersionForm,
    ReasonForm,
    TemplateForm,
    section_form_class,
)
from .models import (
    DRAFTING_STATUSES,
    Agreement,
    AgreementComment,
    AgreementSection,
    AgreementStatus,
    DataItem,
)
from .pdf import agreement_pdf, file_name
from .services.rendering import end_wording
from .services.templates import save_default_template, template_to_show
from .transitions import AGREEMENTS

READ_ONLY = "You can read this agreement, but only its editors can change it."
ITEM_FIELDS = [
    "item",
    "category",
    "special_category_type",
    "data_subjects",
    "from_party",
    "to_party",
    "purpose",
    "necessity",
]

# --- Helpers -------------------------------------------------------------------------------


def _agreement(agreement_id: int) -> Agreement:
    return get_object_or_404(
        Agreement.objects.select_related("lead__organisation", "protocol", "document", "previous"),
        pk=agreement_id,
    )


def _section(agreement: Agreement, key: str) -> AgreementSection:
    if key not in SECTION_KEYS:
        raise Http404("No such section.")
    section = get_object_or_404(
        AgreementSection.objects.select_related("updated_by"), agreement=agreement, key=key
    )
    section.agreement = agreement
    return section


def _to_agreement(request, agreement: Agreement, anchor: str = ""):
    url = reverse(
        "agreements:detail",
        kwargs={"partnership_slug": request.partnership.slug, "agreement_id": agreement.pk},
    )
    return redirect(url + anchor)


def _to_section(request, agreement: Agreement, key: str, anchor: str = ""):
    url = reverse(
        "agreements:section",
        kwargs={
            "partnership_slug": request.partnership.slug,
            "agreement_id": agreement.pk,
            "section_key": key,
        },
    )
    return redirect(url + anchor)


def _require_edit(request, agreement: Agreement) -> None:
    if not services.can_edit(request.user, agreement, request.membership):
        if not agreement.is_editable:
            raise PermissionDenied(
                f"This agreement is {agreement.get_status_display().lower()}: it can no "
                "longer be edited."
            )
        raise PermissionDenied(READ_ONLY)


def _lead_only(request, agreement: Agreement, transition: str = "submit") -> None:
    """403 for a person the declaration does not allow to make the transition."""
    if why := AGREEMENTS.person_refusal(agreement, transition, request.membership):
        raise PermissionDenied(why)


def _wrong_status(request, agreement: Agreement, what: str):
    messages.error(
        request,
        f"This agreement is {agreement.get_status_display().lower()}: {what}.",
    )
    return _to_agreement(request, agreement)


# --- Starting ------------------------------------------------------------------------------


@requires(Perm.VIEW)
def drafts(request):
    """Agreements on their way (draft, in review, out for signature): where drafting starts."""
    rows = list(
        Agreement.objects.filter(status__in=DRAFTING_STATUSES)
        .select_related("lead__organisation")
        .order_by("reference", "-version")
    )
    return render(
        request,
        "agreements/drafts.html",
        {"agreements": rows, "can_draft": request.membership.can(Perm.DRAFT_DOCUMENTS)},
    )


@requires(Perm.DRAFT_DOCUMENTS)
def create(request):
    own = (
        Partner.objects.filter(organisation=request.membership.organisation)
        .values_list("pk", flat=True)
        .first()
    )
    form = CreateForm(
        posted(request),
        initial={"lead": own, "reference": services.suggested_reference(request.partnership)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            agreement = services.create_agreement(
                request.partnership, by=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request,
                f"“{agreement.title}” has been started from the partnership's template. Work "
                "through the sections below.",
            )
            return _to_agreement(request, agreement)
    return render(request, "agreements/create.html", {"form": form})


@requires(Perm.DRAFT_DOCUMENTS)
def template_edit(request):
    """The partnership's default template: its sections' titles, guidance and wording.
    Reading it saves nothing: Accord's template is copied when the page is first saved."""
    template = template_to_show(request.partnership)
    form = TemplateForm(posted(request), template=template)
    if request.method == "POST" and form.is_valid():
        before = template.version
        try:
            template = save_default_template(
                request.partnership,
                name=form.cleaned_data["name"],
                sections=form.sections(),
                by=request.user,
                dpia_for_special_category=form.cleaned_data["dpia_for_special_category"] == "yes",
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            if template.version == before:
                messages.success(request, "Nothing had changed, so the template was not saved.")
            else:
                messages.success(
                    request,
                    f"The template has been saved as version {template.version}. Agreements "
                    "already started keep their own text.",
                )
            return redirect("agreements:template", partnership_slug=request.partnership.slug)
    return render(request, "agreements/template.html", {"template": template, "form": form})


# --- The agreement's task list -----------------------------------------------------------------


@requires(Perm.VIEW)
def detail(request, agreement_id: int):
    agreement = _agreement(agreement_id)
    membership = request.membership
    sections = list(agreement.sections.order_by("position", "id"))
    checks = services.check(agreement)
    blocking = [m for m in checks if m.severity == "blocking"]
    warnings = [m for m in checks if m.severity != "blocking"]
    parties = list(agreement.parties.select_related("partner__organisation"))
    lead_drafter = services.is_lead_drafter(membership, agreement)
    editor = services.is_editor(request.user, agreement, membership)
    status = agreement.status
    open_comments = AgreementComment.objects.filter(
        section__agreement=agreement, resolved_at__isnull=True
    ).count()
    counts = None
    if agreement.document_id:
        figures = signables.signing_counts({agreement.pk: [agreement.document_id]})
        counts = {"signed": figures[agreement.pk]["signed"], "parties": len(parties)}
    allowed = AGREEMENTS.allowed(agreement, membership)
    actions = {
        "edit": agreement.is_editable and editor,
        "submit": allowed["submit"],
        "return": allowed["return"],
        "send": allowed["send"],
        "terminate": allowed["terminate"],
        "new_version": lead_drafter
        and status == AgreementStatus.ACTIVE
        and services.live_next_version(agreement) is None,
        "editors": lead_drafter,
    }
    completed = sum(1 for s in sections if s.state == COMPLETED)
    return render(
        request,
        "agreements/detail.html",
        {
            "agreement": agreement,
            "sections": sections,
            "completed": completed,
            "blocking": blocking,
            "warnings": warnings,
            "parties": parties,
            "actions": actions,
            "counts": counts,
            "open_comments": open_comments,
            "next_version": services.live_next_version(agreement),
            "later": Agreement.objects.filter(previous=agreement).order_by("-version").first(),
            "ends": end_wording(agreement),
        },
    )


@requires(Perm.VIEW)
def preview(request, agreement_id: int):
    """The whole agreement as it would be frozen (or as it was, once frozen)."""
    agreement = _agreement(agreement_id)
    if agreement.document_id:
        # Empty unless it was frozen before the summary sheet became part of the text.
        body, summary = agreement.document.html, agreement.summary_sheet_html
    else:
        body, summary = services.render_agreement_html(agreement), ""
    return render(
        request,
        "agreements/preview.html",
        {"agreement": agreement, "body": body, "summary": summary},
    )


# --- Sections ------------------------------------------------------------------------------


def _section_form(agreement, section, data=None, *, membership, **extra):
    form_class = section_form_class(section.key)
    autosave = reverse(
        "agreements:autosave",
        kwargs={
            "partnership_slug": agreement.partnership.slug,
            "agreement_id": agreement.pk,
            "section_key": section.key,
        },
    )
    kwargs = {"agreement": agreement, "section": section, "autosave_url": autosave, **extra}
    if section.key == "rights":
        kwargs["rights_rows"] = services.rights_rows(agreement)
    if section.key == "summary":
        kwargs["may_change_parties"] = services.common.may_change_parties(membership, agreement)
    return form_class(data, **kwargs)


def _still_blocked_form(request, agreement: Agreement, current: AgreementSection, membership):
    """The section's form, on the version just saved, with an error at "completed" for each
    blocking message the rules still give for the section."""
    data = request.POST.copy()
    data["version"] = str(current.version)
    form = _section_form(agreement, current, data, membership=membership)
    form.is_valid()
    for message in rules.blocking_in_section(agreement.facts(), current.key):
        form.add_error(
            "completed", f"It has been saved but cannot be completed yet: {message.text}"
        )
    return form


def _after_saving(request, agreement: Agreement, key: str):
    """ "Save and continue" opens the next section (the last one, the task list); "Save and
    return to the task list" the task list."""
    keys = list(SECTION_KEYS)
    index = keys.index(key)
    if request.POST.get("then") == "tasks" or index + 1 == len(keys):
        return _to_agreement(request, agreement)
    return _to_section(request, agreement, keys[index + 1])


@requires(Perm.VIEW)
def section(request, agreement_id: int, section_key: str):
    """One section: read it, or (editors) change it; comments for reviewers."""
    agreement = _agreement(agreement_id)
    current = _section(agreement, section_key)
    membership = request.membership
    editable = services.can_edit(request.user, agreement, membership)
    if current.key == "legal_basis" and editable and not Legislation.objects.exists():
        ensure_legislation(request.partnership)  # agreements made outside create_agreement
    may_comment = services.can_comment(request.user, agreement, membership)
    form = _section_form(agreement, current, membership=membership) if editable else None
    comment_form = CommentForm() if may_comment else None
    conflict = None
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action in ("comment", "resolve"):
            if not may_comment:
                raise PermissionDenied("Only editors and reviewers can comment.")
            if action == "resolve":
                comment_id = posted_id(request.POST, "comment")
                if comment_id is None:
                    raise Http404("No such comment.")
                comment = get_object_or_404(AgreementComment, pk=comment_id, section=current)
                try:
                    services.resolve_comment(comment, by=request.user)
                except ValidationError as exc:
                    report_refusal(request, exc)
                else:
                    messages.success(request, "The comment has been resolved.")
                return _to_section(request, agreement, current.key, "#comments")
            comment_form = CommentForm(request.POST)
            if comment_form.is_valid():
                try:
                    services.add_comment(
                        current, text=comment_form.cleaned_data["text"], by=request.user
                    )
                except ValidationError as exc:
                    add_form_errors(comment_form, exc)
                else:
                    messages.success(request, "Your comment has been added.")
                    return _to_section(request, agreement, current.key, "#comments")
        else:
            _require_edit(request, agreement)
            form = _section_form(agreement, current, request.POST, membership=membership)
            if form.is_valid():
                try:
                    saved = services.save_section(
                        current,
                        expected_version=form.cleaned_data["version"],
                        completed=form.cleaned_data["completed"] == "yes",
                        body=form.cleaned_data["body"],
                        by=request.user,
                        **form.service_kwargs(),
                    )
                except services.StaleSection as stale:
                    conflict = stale.section
                    data = request.POST.copy()
                    data["version"] = str(conflict.version)
                    form = _section_form(agreement, current, data, membership=membership)
                    form.is_valid()
                    status = 409
                except ValidationError as exc:
                    add_form_errors(form, exc)
                else:
                    wanted = form.cleaned_data["completed"] == "yes"
                    if not wanted or saved.state == COMPLETED:
                        state = "completed" if wanted else "saved"
                        messages.success(request, f"“{current.title}” has been {state}.")
                        return _after_saving(request, agreement, current.key)
                    # Saved, but still in progress: the page says what the rules still ask,
                    # of the agreement as it now is.
                    agreement, current = _agreement(agreement.pk), saved
                    form = _still_blocked_form(request, agreement, current, membership)
    items = _data_items(agreement) if current.key == "information" else []
    keys = list(SECTION_KEYS)
    index = keys.index(current.key)
    comments = list(current.comments.select_related("author", "resolved_by"))
    response = render(
        request,
        "agreements/section.html",
        {
            "agreement": agreement,
            "section": current,
            "guidance": render_markdown(current.guidance),
            "body_html": render_markdown(current.body),
            "form": form,
            "editable": editable,
            "conflict": conflict,
            "conflict_html": render_markdown(conflict.body) if conflict else "",
            "comment_form": comment_form,
            "comments": comments,
            "open_comments": [c for c in comments if not c.is_resolved],
            "items": items,
            "item_form": _item_form(agreement)
            if current.key == "information" and editable
            else None,
            "parties": list(agreement.parties.select_related("partner__organisation")),
            "rights": services.rights_rows(agreement) if current.key == "rights" else [],
            "messages_here": [m for m in services.check(agreement) if m.section == current.key],
            "previous_key": keys[index - 1] if index else None,
            "next_key": keys[index + 1] if index + 1 < len(keys) else None,
            "read_only_html": ""
            if editable
            else services.rendering.render_section_html(agreement, current),
        },
        status=status,
    )
    return response


@require_POST
@requires(Perm.VIEW)
def autosave(request, agreement_id: int, section_key: str):
    """htmx saves a section's text as it is typed: only the text, on the version the page
    holds. Answers a status line and the section's new version (swapped into the form), or
    says it did not save. A request that is not htmx goes back to the section's page."""
    agreement = _agreement(agreement_id)
    current = _section(agreement, section_key)
    if not request.htmx:
        return _to_section(request, agreement, current.key)
    _require_edit(request, agreement)
    context = {"section": current, "saved": None, "problem": ""}
    form = AutosaveForm(request.POST)
    if not form.is_valid():
        context["problem"] = "Not saved automatically: " + form.problem()
    else:
        try:
            context["saved"] = services.save_section(
                current,
                expected_version=form.cleaned_data["version"],
                completed=None,
                body=form.cleaned_data["body"],
                by=request.user,
            )
        except services.StaleSection as stale:
            context["stale"] = stale.section
            context["problem"] = (
                "Not saved automatically: someone else has saved this section since you opened "
                "it. Press “Save and continue” to compare their text with yours."
            )
        except ValidationError as exc:
            context["problem"] = "Not saved automatically: " + " ".join(exc.messages)
    return render(request, "agreements/_autosave.html", context)


# --- Data items ----------------------------------------------------------------------------


def _data_items(agreement: Agreement) -> list[DataItem]:
    return list(
        agreement.data_items.select_related(
            "from_party__partner__organisation", "to_party__partner__organisation"
        )
    )


def _item_form(agreement: Agreement, item: DataItem | None = None, data=None) -> DataItemForm:
    initial = {}
    if item is not None:
        initial = {name: getattr(item, name) for name in ITEM_FIELDS}
        initial["from_party"] = item.from_party_id
        initial["to_party"] = item.to_party_id
    return DataItemForm(data, agreement=agreement, initial=initial, auto_id="item-%s")


def _items_block(
    request,
    agreement: Agreement,
    form: DataItemForm,
    editing=None,
    status="",
    section_version: int | None = None,
):
    """The data items and the form in place, as htmx swaps them into the section's page.
    `section_version`: the section's new version, for the page's form to hold (the page was
    up to date before the item changed it)."""
    return render(
        request,
        "agreements/_data_items.html",
        {
            "agreement": agreement,
            "items": _data_items(agreement),
            "item_form": form,
            "editing": editing,
            "item_status": status,
            "section_version": section_version,
            "oob": True,
            "messages_here": [m for m in services.check(agreement) if m.section == "information"],
        },
    )


def _item_page(request, agreement: Agreement, item: DataItem | None):
    """Add or change a data item: in place on the section's page (htmx), or on a page of its
    own without JavaScript."""
    if not services.can_edit(request.user, agreement, request.membership):
        if request.method == "POST" or request.htmx:
            _require_edit(request, agreement)
        messages.error(
            request,
            READ_ONLY if agreement.is_editable else "This agreement can no longer be edited.",
        )
        return _to_section(request, agreement, "information")
    form = _item_form(agreement, item, posted(request))
    if request.method == "POST" and form.is_valid():
        # The version of the section the page holds (htmx sends it along), to keep the page's
        # form current if nobody else has changed the section meanwhile.
        held = posted_id(request.POST, "version")
        try:
            saved = services.save_data_item(
                agreement, item=item, values=form.cleaned_data, by=request.user
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            done = f"The data item “{saved.item}” has been {'added' if item is None else 'saved'}."
            if request.htmx:
                fresh = _item_form(agreement)
                fresh.fields["item"].widget.attrs["autofocus"] = True  # the next one
                version = _section(agreement, "information").version
                version = version if held is not None and version == held + 1 else None
                return _items_block(request, agreement, fresh, status=done, section_version=version)
            messages.success(request, done)
            return _to_section(request, agreement, "information", "#data-items")
    if request.htmx:
        if request.method == "GET" and item is not None:
            form.fields["item"].widget.attrs["autofocus"] = True
        return _items_block(request, agreement, form, editing=item)
    return render(
        request,
        "agreements/item_form.html",
        {"agreement": agreement, "item": item, "form": form},
    )


@requires(Perm.VIEW)
def item_add(request, agreement_id: int):
    return _item_page(request, _agreement(agreement_id), None)


@requires(Perm.VIEW)
def item_edit(request, agreement_id: int, item_id: int):
    agreement = _agreement(agreement_id)
    item = get_object_or_404(DataItem, agreement=agreement, pk=item_id)
    return _item_page(request, agreement, item)


@requires(Perm.VIEW)
def item_delete(request, agreement_id: int, item_id: int):
    agreement = _agreement(agreement_id)
    item = get_object_or_404(DataItem, agreement=agreement, pk=item_id)
    if not services.can_edit(request.user, agreement, request.membership):
        if request.method == "POST":
            _require_edit(request, agreement)
        messages.error(request, READ_ONLY)
        return _to_section(request, agreement, "information")
    if request.method == "POST":
        try:
            services.delete_data_item(item, by=request.user)
        except ValidationError as exc:
            report_refusal(request, exc)
        else:
            messages.success(request, f"The data item “{item.item}” has been removed.")
        return _to_section(request, agreement, "information", "#data-items")
    return render(request, "agreements/item_delete.html", {"agreement": agreement, "item": item})


# --- Editors -------------------------------------------------------------------------------


@requires(Perm.DRAFT_DOCUMENTS)
def editors(request, agreement_id: int):
    """The lead organisation's drafters name editors among the parties' people."""
    agreement = _agreement(agreement_id)
    _lead_only(request, agreement)
    candidates = services.editor_candidates(agreement)
    form = EditorForm(None, candidates=candidates)
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            named = {str(m.pk): m for m in services.editors(agreement)}
            membership = named.get(request.POST.get("member", ""))
            if membership is None:
                messages.error(request, "Choose one of the agreement's named editors to remove.")
            else:
                try:
                    services.remove_editor(agreement, membership, by=request.user)
                except ValidationError as exc:
                    report_refusal(request, exc)
                else:
                    messages.success(
                        request, f"{membership.user} can no longer edit the agreement."
                    )
            return redirect(request.path)
        form = EditorForm(request.POST, candidates=candidates)
        if form.is_valid():
            membership = form.cleaned_data["member"]
            try:
                services.add_editor(agreement, membership, by=request.user)
            except ValidationError as exc:
                add_form_errors(form, exc)
            else:
                messages.success(request, f"{membership.user} can now edit the agreement.")
                return redirect(request.path)
    return render(
        request,
        "agreements/editors.html",
        {
            "agreement": agreement,
            "form": form,
            "editors": services.editors(agreement),
            "candidates": candidates,
        },
    )


# --- Lifecycle -----------------------------------------------------------------------------


@require_POST
@requires(Perm.DRAFT_DOCUMENTS)
def submit(request, agreement_id: int):
    agreement = _agreement(agreement_id)
    _lead_only(request, agreement)
    try:
        services.submit_for_review(agreement, by=request.user)
    except ValidationError as exc:
        report_refusal(request, exc)
    else:
        messages.success(
            request,
            "The agreement is in review: the parties' editors and the steering group can read "
            "it and comment. Send it for signature once every section is complete.",
        )
    return _to_agreement(request, agreement)


@requires(Perm.DRAFT_DOCUMENTS)
def return_to_draft(request, agreement_id: int):
    agreement = _agreement(agreement_id)
    _lead_only(request, agreement, "return")
    if AGREEMENTS.state_refusal(agreement, "return"):
        return _wrong_status(
            request,
            agreement,
            "only an agreement in review or out for signature can go back to draft",
        )
    form = ReasonForm(
        posted(request), label="Why is it going back to draft? (optional)", required=False
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.return_to_draft(agreement, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, "The agreement is a draft again.")
            return _to_agreement(request, agreement)
    return render(request, "agreements/return.html", {"agreement": agreement, "form": form})


@requires(Perm.DRAFT_DOCUMENTS)
def send(request, agreement_id: int):
    agreement = _agreement(agreement_id)
    _lead_only(request, agreement, "send")
    if AGREEMENTS.state_refusal(agreement, "send"):
        return _wrong_status(
            request, agreement, "only an agreement in review can be sent for signature"
        )
    blocking = services.blocking_messages(agreement)
    parties = list(agreement.parties.select_related("partner__organisation"))
    open_comments = AgreementComment.objects.filter(
        section__agreement=agreement, resolved_at__isnull=True
    ).count()
    problems: list[str] = []
    if request.method == "POST":
        try:
            services.send_for_signature(agreement, by=request.user)
        except ValidationError as exc:
            problems = exc.messages
        else:
            messages.success(
                request,
                f"The agreement has been frozen and sent to its {len(parties)} parties for "
                "signature.",
            )
            return redirect(
                "agreements:signatories",
                partnership_slug=request.partnership.slug,
                agreement_id=agreement.pk,
            )
    return render(
        request,
        "agreements/send.html",
        {
            "agreement": agreement,
            "blocking": blocking,
            "parties": parties,
            "problems": problems,
            "open_comments": open_comments,
        },
        status=400 if problems else 200,
    )


@requires(Perm.DRAFT_DOCUMENTS)
def terminate(request, agreement_id: int):
    agreement = _agreement(agreement_id)
    _lead_only(request, agreement, "terminate")
    if AGREEMENTS.state_refusal(agreement, "terminate"):
        return _wrong_status(
            request,
            agreement,
            "only an active agreement or one out for signature can be terminated",
        )
    form = ReasonForm(
        posted(request),
        label="Why is the agreement being terminated?",
        message="Enter the reason for terminating the agreement.",
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.terminate(agreement, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(request, "The agreement has been terminated and the parties told.")
            return _to_agreement(request, agreement)
    return render(request, "agreements/terminate.html", {"agreement": agreement, "form": form})


@requires(Perm.DRAFT_DOCUMENTS)
def new_version(request, agreement_id: int):
    agreement = _agreement(agreement_id)
    _lead_only(request, agreement)
    pending = services.live_next_version(agreement)
    if agreement.status != AgreementStatus.ACTIVE or pending is not None:
        if pending is not None:
            messages.error(request, f"Version {pending.version_label} is already on its way.")
            return _to_agreement(request, pending)
        return _wrong_status(request, agreement, "only an active agreement can have a new version")
    form = NewVersionForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            copy = services.new_version(
                agreement, change_summary=form.cleaned_data["change_summary"], by=request.user
            )
        except ValidationError as exc:
            add_form_errors(form, exc)
        else:
            messages.success(
                request,
                f"Draft version {copy.version_label} has been started. Version "
                f"{agreement.version_label} stays active until the new one is signed.",
            )
            return _to_agreement(request, copy)
    return render(request, "agreements/new_version.html", {"agreement": agreement, "form": form})


@requires(Perm.VIEW)
def signatories(request, agreement_id: int):
    agreement = _agreement(agreement_id)
    rows, figures = None, {"signed": 0, "declined": 0}
    if agreement.document_id is not None:
        partners = [p.partner for p in agreement.parties.select_related("partner__organisation")]
        rows = signing_table(agreement.document, partners)
        figures = signables.signing_counts({agreement.pk: [agreement.document_id]})[agreement.pk]
    return render(
        request,
        "agreements/signatories.html",
        {
            "agreement": agreement,
            "rows": rows,
            "signed": figures["signed"],
            "declined": figures["declined"],
        },
    )


@requires(Perm.VIEW)
def pdf(request, agreement_id: int):
    agreement = _agreement(agreement_id)
    if agreement.document_id is None:
        messages.error(
            request,
            "This agreement has no PDF yet: it gets one when it is sent for signature.",
        )
        return _to_agreement(request, agreement)
    stored = agreement_pdf(agreement)
    return FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=file_name(agreement),
        content_type="application/pdf",
    )
