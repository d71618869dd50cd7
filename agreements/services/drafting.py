"""Drafting an agreement: starting it from a template, saving its sections (with optimistic
locking), its data items, comments and named editors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Max
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from accord.kernel.context import service
from accord.kernel.forms import NUL_MESSAGE, has_nul
from documents.markup import MAX_BODY_CHARS
from protocols.models import Legislation, Protocol
from protocols.services import ensure_legislation
from signatories.models import Partner, PartnerStatus
from tenancy.audit import created, diff, log_action, snapshot
from tenancy.models import Membership, Partnership
from tenancy.roles import Perm

from .. import legal, rules
from ..facts import RIGHTS
from ..models import (
    EDIT_PERMISSION,
    Agreement,
    AgreementComment,
    AgreementParty,
    AgreementSection,
    AgreementTemplate,
    AgreementUserObjectPermission,
    DataCategory,
    DataItem,
    PartyRole,
    SectionState,
)
from .common import (
    NAMED_EDITOR_PERM,
    has_edit_grant,
    locked,
    may_change_parties,
    membership_of,
    membership_supports_editing,
    parties_refusal,
    require_commenter,
    require_editable,
    require_editor,
    require_lead_drafter,
)
from .templates import ensure_default_template

COMMENT_MAX = 5000
REFERENCE_MAX = Agreement._meta.get_field("reference").max_length
TITLE_MAX = Agreement._meta.get_field("title").max_length

# The agreement's own fields that each structured section's page edits (besides the body).
SECTION_FIELDS: dict[str, tuple[str, ...]] = {
    "summary": ("title", "reference", "protocol", "lead", "start_date", "end_date", "ongoing"),
    "supporting_documents": (
        "dpia_reference",
        "operating_procedure",
        "contract_reference",
        "policies",
        "other_documents",
        "large_scale",
        "new_technology",
    ),
    "legal_basis": (
        "article6",
        "article9",
        "schedule1_condition",
        "article10",
        "law_enforcement",
        "other_statute",
        "common_law_basis",
        "consent_recording",
        "legitimate_interests_assessment",
    ),
    "responsibilities": ("joint_contact_point", "processor_contract"),
    "rights": ("automated_decisions", "rights", "rights_reasons", "rights_note"),
    "transfers": ("international_transfers", "transfer_safeguard"),
    "retention": ("retention_period",),
    "breaches": ("partner_breach_hours", "ico_breach_hours"),
    "commencement": ("review_date",),
}


class StaleSection(Exception):
    """Someone else saved the section since the form was opened: nothing was saved."""

    def __init__(self, section: AgreementSection):
        super().__init__(f"{section} was saved by someone else meanwhile.")
        self.section = section


def _refuse_nul(values: Mapping[str, Any]) -> None:
    """PostgreSQL stores no NUL character in text: refuse it on the field that holds one."""
    errors = {name: NUL_MESSAGE for name, value in values.items() if has_nul(value)}
    if errors:
        raise ValidationError(errors)


# --- Starting an agreement ---------------------------------------------------------------


def _clean_reference(partnership: Partnership, reference: str, agreement: Agreement | None):
    reference = (reference or "").strip()
    if not reference:
        raise ValidationError({"reference": "Enter the agreement's reference."})
    if len(reference) > REFERENCE_MAX:
        raise ValidationError(
            {"reference": f"The reference must be {REFERENCE_MAX} characters or fewer."}
        )
    if agreement is not None and agreement.previous_id is not None:
        kept = Agreement.objects.filter(pk=agreement.previous_id).values_list(
            "reference", flat=True
        )[0]
        if reference != kept:
            raise ValidationError(
                {"reference": f"A new version keeps the reference of the one it amends: {kept}."}
            )
        return reference
    clash = Agreement.objects.filter(reference__iexact=reference)
    if agreement is not None:
        clash = clash.exclude(pk=agreement.pk)
    if clash.exists():
        raise ValidationError({"reference": "Another agreement already has this reference."})
    return reference


SMALL_WORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "the", "to"})


def reference_prefix(partnership: Partnership) -> str:
    """The partnership's initials and ISA, such as WEISF-ISA for the Wider Eastern
    Information Stakeholder Forum."""
    words = re.findall(r"[A-Za-z0-9]+", partnership.name)
    initials = "".join(w[0] for w in words if w.lower() not in SMALL_WORDS).upper()
    return f"{initials[:10] or 'P'}-ISA"


def suggested_reference(partnership: Partnership) -> str:
    """The next free reference of the partnership's pattern: WEISF-ISA-002 after
    WEISF-ISA-001 (numbers of three digits or more)."""
    prefix = reference_prefix(partnership)
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$", re.IGNORECASE)
    taken = {
        int(match.group(1))
        for reference in Agreement.objects.filter(reference__istartswith=prefix).values_list(
            "reference", flat=True
        )
        if (match := pattern.match(reference))
    }
    number = max(taken, default=0) + 1
    return f"{prefix}-{number:03d}"


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": "Enter the agreement's title."})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": f"The title must be {TITLE_MAX} characters or fewer."})
    return title


def _require_active(partner: Partner | None, field: str, what: str) -> None:
    if partner is None:
        raise ValidationError({field: f"Choose the {what}."})
    if partner.status != PartnerStatus.ACTIVE:
        raise ValidationError(
            {
                field: f"{partner.organisation} is {partner.get_status_display().lower()}: "
                f"the {what} must be an active partner."
            }
        )


def _require_live_protocol(protocol: Protocol | None) -> None:
    if protocol is not None and protocol.retired_at is not None:
        raise ValidationError(
            {"protocol": f"“{protocol}” has been retired: choose a protocol in force."}
        )


@service
def create_agreement(
    partnership: Partnership,
    *,
    title: str,
    reference: str,
    lead: Partner,
    protocol: Protocol | None = None,
    template: AgreementTemplate | None = None,
    by,
) -> Agreement:
    """Start a draft agreement from the template (the partnership's default unless given):
    its sections are copied in, so later changes to the template never reach it. The lead
    organisation is its first party. A creator who neither drafts for it nor administers the
    partnership becomes a named editor, and their own organisation a party (a named
    editor's right lasts while they act for a party), so they can go on drafting it."""
    _refuse_nul({"title": title, "reference": reference})
    title = _clean_title(title)
    reference = _clean_reference(partnership, reference, None)
    _require_active(lead, "lead", "lead organisation")
    _require_live_protocol(protocol)
    membership = membership_of(by) if by is not None else None
    own = None
    drafts_for_lead = membership is not None and (
        membership.can(Perm.DRAFT_DOCUMENTS) and membership.organisation_id == lead.organisation_id
    )
    if membership is not None and not (drafts_for_lead or membership.can(Perm.MANAGE_PARTNERSHIP)):
        own = Partner.objects.filter(
            organisation_id=membership.organisation_id, status=PartnerStatus.ACTIVE
        ).first()
        if own is None:
            raise ValidationError(
                {
                    "lead": f"You act for {membership.organisation}, which is not an active "
                    "partner of the partnership, so you could not draft an agreement led by "
                    "another organisation. Choose your own organisation as the lead once it "
                    "is an active partner, or ask the lead organisation's drafters to start it."
                }
            )
    template = template or ensure_default_template(partnership)
    agreement = Agreement.objects.create(
        partnership=partnership,
        title=title,
        reference=reference,
        lead=lead,
        protocol=protocol,
        template=template,
        template_version=template.version,
        created_by=by,
    )
    AgreementSection.objects.bulk_create(
        AgreementSection(
            partnership=partnership,
            agreement=agreement,
            key=section.key,
            position=section.position,
            title=section.title,
            guidance=section.guidance,
            body=section.body,
        )
        for section in template.sections.order_by("position", "id")
    )
    AgreementParty.objects.create(
        partnership=partnership, agreement=agreement, partner=lead, role=PartyRole.SOLE_CONTROLLER
    )
    changes = created(agreement, ["title", "reference", "lead", "protocol", "template_version"])
    if own is not None and own.pk != lead.pk:
        AgreementParty.objects.create(
            partnership=partnership, agreement=agreement, partner=own, role=PartyRole.RECIPIENT
        )
        changes["parties"] = [None, [str(lead.organisation), str(own.organisation)]]
    ensure_legislation(partnership)
    log_action(
        partnership,
        "agreement.created",
        f"Started the agreement {agreement} from the template “{template.name}” "
        f"(version {template.version})",
        agreement,
        changes,
    )
    if own is not None:
        assign_perm(f"agreements.{EDIT_PERMISSION}", by, agreement)
    return agreement


# --- Sections ----------------------------------------------------------------------------


def _parties(agreement: Agreement) -> dict[int, AgreementParty]:
    return {
        party.partner_id: party
        for party in agreement.parties.select_related("partner__organisation")
    }


def _apply_parties(agreement: Agreement, wanted: Mapping[int, str], lead: Partner) -> list:
    """Make the agreement's parties exactly `wanted` ({partner id: role}). Returns the
    audit changes. Raises ValidationError keyed "parties" (or "lead")."""
    roles = {value for value, _ in PartyRole.choices}
    bad_roles = [role for role in wanted.values() if role not in roles]
    if bad_roles:
        raise ValidationError({"parties": "Choose each party's role from the list."})
    partners = Partner.objects.select_related("organisation").in_bulk(list(wanted))
    if len(partners) != len(wanted):
        raise ValidationError({"parties": "Choose parties from the partnership's partners."})
    existing = _parties(agreement)
    inactive = [p for p in partners.values() if p.status != PartnerStatus.ACTIVE]
    if inactive:
        raise ValidationError(
            {
                "parties": [
                    f"{p.organisation} is {p.get_status_display().lower()}: only active partners "
                    "can be parties to an agreement."
                    for p in inactive
                ]
            }
        )
    if len(wanted) < 2:
        raise ValidationError(
            {"parties": "Choose two or more of the partnership's active partners as parties."}
        )
    if lead.pk not in wanted:
        raise ValidationError({"lead": "The lead organisation must be one of the parties."})
    removed = [party for pk, party in existing.items() if pk not in wanted]
    in_use = [
        party
        for party in removed
        if DataItem.objects.filter(agreement=agreement, from_party=party).exists()
        or DataItem.objects.filter(agreement=agreement, to_party=party).exists()
    ]
    if in_use:
        names = ", ".join(str(p.partner.organisation) for p in in_use)
        raise ValidationError(
            {
                "parties": f"{names} still sends or receives data items: change or delete "
                "those items in “Information to be shared” first."
            }
        )
    before = {str(p.partner.organisation): p.get_role_display() for p in existing.values()}
    for party in removed:
        party.delete()
    for pk, role in wanted.items():
        party = existing.get(pk)
        if party is None:
            AgreementParty.objects.create(
                partnership=agreement.partnership, agreement=agreement, partner_id=pk, role=role
            )
        elif party.role != role:
            party.role = role
            party.save(update_fields=["role"])
    after = {str(partners[pk].organisation): PartyRole(role).label for pk, role in wanted.items()}
    return [before, after] if before != after else []


def _clean_dates(start: date | None, end: date | None) -> None:
    if start and end and end < start:
        raise ValidationError(
            {"end_date": "The end date must be the same as or after the start date."}
        )


def _clean_legal_basis(values: dict[str, Any]) -> None:
    for name, allowed in (("article6", legal.ARTICLE_6), ("article9", legal.ARTICLE_9)):
        letters = values.get(name) or ""
        if isinstance(letters, (list, tuple, set, frozenset)):
            letters = "".join(letters)
        if any(letter not in allowed for letter in letters):
            raise ValidationError({name: "Choose from the list."})
        values[name] = "".join(sorted(set(letters)))
    condition = (values.get("schedule1_condition") or "").strip()
    if condition and condition not in legal.SCHEDULE_1:
        raise ValidationError(
            {"schedule1_condition": "Choose a Schedule 1 condition from the list."}
        )
    values["schedule1_condition"] = condition
    basis = values.get("common_law_basis") or ""
    if basis and basis not in legal.COMMON_LAW_BASES:
        raise ValidationError({"common_law_basis": "Choose from the list."})


REASON_MAX = 1000


def _clean_rights(agreement: Agreement, values: dict[str, Any]) -> None:
    """The rights ticked, in the order of the list, and a reason for each right that applies
    (rules.rights_for, with the automated decisions as saved now) but is left unticked: a
    missing one is refused on that right's reason (`reason_<key>`). Reasons are kept only for
    the rights left unticked."""
    keys = {key for key, _ in RIGHTS}
    if "rights" not in values:
        values.pop("rights_reasons", None)  # reasons go with the ticks they explain
        return
    rights = list(values.get("rights") or [])
    if any(right not in keys for right in rights):
        raise ValidationError({"rights": "Choose rights from the list."})
    values["rights"] = [key for key, _ in RIGHTS if key in rights]
    given = values.get("rights_reasons", agreement.rights_reasons) or {}
    if not isinstance(given, Mapping):
        raise ValidationError({"rights": "Give the reasons right by right."})
    reasons = {
        key: str(given.get(key) or "").strip()
        for key, _ in RIGHTS
        if key not in values["rights"] and str(given.get(key) or "").strip()
    }
    errors = {}
    for key, reason in reasons.items():
        if has_nul(reason):
            errors[f"reason_{key}"] = NUL_MESSAGE
        elif len(reason) > REASON_MAX:
            errors[f"reason_{key}"] = f"The reason must be {REASON_MAX:,} characters or fewer."
    automated = values.get("automated_decisions", agreement.automated_decisions) or ""
    suggested = rules.rights_for(
        agreement.article6_letters, automated_decisions=bool(automated.strip())
    )
    for outcome in suggested:
        if outcome.applies and outcome.key not in values["rights"] and outcome.key not in reasons:
            errors[f"reason_{outcome.key}"] = (
                f"Say why “{outcome.title}” does not apply to this sharing, or tick it again."
            )
    if errors:
        raise ValidationError(errors)
    values["rights_reasons"] = reasons


def _apply_fields(agreement: Agreement, key: str, values: dict[str, Any]) -> dict[str, list]:
    """Set the structured fields of section `key` from `values`, validated; returns the
    audit changes. Raises ValidationError by field."""
    names = SECTION_FIELDS.get(key, ())
    values = {name: values[name] for name in names if name in values}
    _refuse_nul(values)
    if not values and key not in ("summary", "legal_basis"):
        return {}
    if key == "summary":
        values["title"] = _clean_title(values.get("title", agreement.title))
        values["reference"] = _clean_reference(
            agreement.partnership, values.get("reference", agreement.reference), agreement
        )
        lead = values.get("lead", agreement.lead)
        if lead is None or lead.pk != agreement.lead_id:
            _require_active(lead, "lead", "lead organisation")
        _require_live_protocol(values.get("protocol"))
        _clean_dates(
            values.get("start_date", agreement.start_date),
            values.get("end_date", agreement.end_date),
        )
    elif key == "legal_basis":
        _clean_legal_basis(values)
    elif key == "rights":
        _clean_rights(agreement, values)
    before = snapshot(agreement, list(values))
    for name, value in values.items():
        setattr(agreement, name, value.strip() if isinstance(value, str) else value)
    exclude = [f.name for f in Agreement._meta.fields if f.name not in values]
    agreement.clean_fields(exclude=exclude)
    agreement.save(update_fields=list(values))
    return diff(before, snapshot(agreement, list(values)))


def _keep_lead_and_parties(
    agreement: Agreement, fields: dict[str, Any], parties: Mapping[int, str] | None
) -> None:
    """For someone who may not change them (may_change_parties): refuse a change of the lead
    organisation or of the parties (or their roles); a save that repeats them as they are
    leaves them alone. Takes the lead out of `fields`."""
    lead = fields.pop("lead", None)
    if lead is not None and getattr(lead, "pk", lead) != agreement.lead_id:
        raise ValidationError({"lead": parties_refusal(agreement, "the lead organisation")})
    if parties is not None:
        current = dict(agreement.parties.values_list("partner_id", "role"))
        if dict(parties) != current:
            raise ValidationError(
                {"parties": parties_refusal(agreement, "the parties or their roles")}
            )


@service
def save_section(
    section: AgreementSection,
    *,
    expected_version: int,
    completed: bool | None,
    body: str | None = None,
    fields: dict[str, Any] | None = None,
    parties: Mapping[int, str] | None = None,
    statutes: Iterable[Legislation] | None = None,
    by,
) -> AgreementSection:
    """Save a section: its Markdown text, the structured fields its page edits, and whether
    it is completed (None, as autosave does: leave the state, a section not started being
    in progress once written in). Optimistic locking: when the section's version is no longer
    `expected_version`, someone else saved it since the form was opened and nothing is
    saved (StaleSection, carrying the section as it now is)."""
    agreement = locked(section.agreement)
    require_editable(agreement)
    membership = require_editor(by, agreement)
    fields = dict(fields or {})
    if section.key == "summary" and not may_change_parties(membership, agreement):
        _keep_lead_and_parties(agreement, fields, parties)
        parties = None
    current = (
        AgreementSection.objects.select_for_update(of=("self",))
        .select_related("updated_by")
        .get(pk=section.pk)
    )
    if current.version != expected_version:
        raise StaleSection(current)
    body = current.body if body is None else body
    _refuse_nul({"body": body})
    if len(body) > MAX_BODY_CHARS:
        raise ValidationError(
            {
                "body": f"The text is too long: it has {len(body):,} characters and the most a "
                f"section can have is {MAX_BODY_CHARS:,}."
            }
        )
    changes = _apply_fields(agreement, current.key, fields)
    if current.key == "summary" and parties is not None:
        party_changes = _apply_parties(agreement, parties, agreement.lead)
        if party_changes:
            changes["parties"] = party_changes
            revoke_lapsed_editors(agreement)
    if current.key == "legal_basis" and statutes is not None:
        statutes = list(statutes)
        before = sorted(str(s) for s in agreement.statutes.all())
        agreement.statutes.set(statutes)
        after = sorted(str(s) for s in statutes)
        if before != after:
            changes["statutes"] = [before, after]
    if completed is None:
        state = current.state if current.state != SectionState.NOT_STARTED else None
        state = state or SectionState.IN_PROGRESS
    else:
        state = SectionState.COMPLETED if completed else SectionState.IN_PROGRESS
    if state == SectionState.COMPLETED and _still_blocked(agreement, current.key, body):
        state = SectionState.IN_PROGRESS
    if current.body != body:
        changes["text"] = [f"{len(current.body):,} characters", f"{len(body):,} characters"]
    if current.state != state:
        changes["state"] = [current.get_state_display(), SectionState(state).label]
    current.body = body
    current.state = state
    current.version += 1
    current.updated_at = timezone.now()
    current.updated_by = by
    current.save(update_fields=["body", "state", "version", "updated_at", "updated_by"])
    log_action(
        agreement.partnership,
        "agreement.section_saved",
        f"Saved the section “{current.title}” of {agreement}",
        current,
        changes,
    )
    return current


def _still_blocked(agreement: Agreement, key: str, body: str) -> bool:
    """Whether the rules still ask for something in the section once it reads `body` (and
    is completed): it then stays in progress."""
    facts = agreement.facts()
    facts = replace(
        facts,
        section_states={**facts.section_states, key: SectionState.COMPLETED.value},
        section_texts={**facts.section_texts, key: body},
    )
    return bool(rules.blocking_in_section(facts, key))


def _touch(agreement: Agreement, key: str, by) -> None:
    """A change made from a section's page outside its form (a data item) starts the
    section and raises its version, so a form opened before it is known to be stale."""
    section = AgreementSection.objects.select_for_update().get(agreement=agreement, key=key)
    if section.state == SectionState.NOT_STARTED:
        section.state = SectionState.IN_PROGRESS
    section.version += 1
    section.updated_at = timezone.now()
    section.updated_by = by
    section.save(update_fields=["state", "version", "updated_at", "updated_by"])


# --- Data items ----------------------------------------------------------------------------

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


def _clean_item(agreement: Agreement, values: dict[str, Any]) -> dict[str, Any]:
    _refuse_nul(values)
    errors: dict[str, str] = {}
    parties = {
        party.pk: party for party in agreement.parties.select_related("partner__organisation")
    }
    for name, label in (("from_party", "sends"), ("to_party", "receives")):
        party = values.get(name)
        pk = getattr(party, "pk", party)
        if pk not in parties:
            errors[name] = (
                f"Choose which of this agreement's parties {label} the item: the organisation "
                "must be a party to the agreement."
            )
        else:
            values[name] = parties[pk]
    if not errors and values["from_party"].pk == values["to_party"].pk:
        errors["to_party"] = (
            "The organisation receiving the item must differ from the one sending it."
        )
    for name, message in (
        ("item", "Enter the data item."),
        ("data_subjects", "Enter whose data it is."),
        ("purpose", "Enter what the item is used for."),
    ):
        values[name] = (values.get(name) or "").strip()
        if not values[name]:
            errors[name] = message
    categories = {value for value, _ in DataCategory.choices}
    if values.get("category") not in categories:
        errors["category"] = "Choose the item's category."
    elif values["category"] == DataCategory.SPECIAL:
        if not values.get("special_category_type"):
            errors["special_category_type"] = "Choose the type of special category data."
    else:
        values["special_category_type"] = ""
    values["necessity"] = (values.get("necessity") or "").strip()
    if errors:
        raise ValidationError(errors)
    return values


@service
def save_data_item(
    agreement: Agreement, *, item: DataItem | None = None, values: dict[str, Any], by
) -> DataItem:
    """Add a data item to the agreement, or change one."""
    agreement = locked(agreement)
    require_editable(agreement)
    require_editor(by, agreement)
    values = _clean_item(agreement, {k: values.get(k) for k in ITEM_FIELDS})
    if item is None:
        last = agreement.data_items.aggregate(last=Max("position"))["last"] or 0
        item = DataItem(partnership=agreement.partnership, agreement=agreement, position=last + 1)
        before = None
    else:
        item = DataItem.objects.select_for_update().get(pk=item.pk, agreement=agreement)
        before = snapshot(item, ITEM_FIELDS)
    for name, value in values.items():
        setattr(item, name, value)
    item.full_clean()
    item.save()
    after = snapshot(item, ITEM_FIELDS)
    _touch(agreement, "information", by)
    log_action(
        agreement.partnership,
        "agreement.item_added" if before is None else "agreement.item_changed",
        f"{'Added' if before is None else 'Changed'} the data item “{item.item}” of {agreement}",
        item,
        created(item, ITEM_FIELDS) if before is None else diff(before, after),
    )
    return item


@service
def delete_data_item(item: DataItem, *, by) -> None:
    agreement = locked(item.agreement)
    require_editable(agreement)
    require_editor(by, agreement)
    log_action(
        agreement.partnership,
        "agreement.item_removed",
        f"Removed the data item “{item.item}” from {agreement}",
        item,
        {"item": [item.item, None]},
    )
    item.delete()
    _touch(agreement, "information", by)


# --- Comments ------------------------------------------------------------------------------


@service
def add_comment(section: AgreementSection, *, text: str, by) -> AgreementComment:
    require_commenter(by, section.agreement)
    _refuse_nul({"text": text})
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Enter your comment."})
    if len(text) > COMMENT_MAX:
        raise ValidationError({"text": f"A comment must be {COMMENT_MAX:,} characters or fewer."})
    comment = AgreementComment.objects.create(
        partnership=section.partnership, section=section, author=by, text=text
    )
    log_action(
        section.partnership,
        "agreement.comment_added",
        f"Commented on the section “{section.title}” of {section.agreement}",
        comment,
        {"text": [None, text]},
    )
    return comment


@service
def resolve_comment(comment: AgreementComment, *, by) -> AgreementComment:
    require_commenter(by, comment.section.agreement)
    comment = AgreementComment.objects.select_for_update().get(pk=comment.pk)
    if comment.resolved_at is not None:
        raise ValidationError("This comment has already been resolved.")
    comment.resolved_at = timezone.now()
    comment.resolved_by = by
    comment.save(update_fields=["resolved_at", "resolved_by"])
    section = comment.section
    log_action(
        section.partnership,
        "agreement.comment_resolved",
        f"Resolved a comment on the section “{section.title}” of {section.agreement}",
        comment,
        {"resolved_at": [None, comment.resolved_at]},
    )
    return comment


# --- Named editors ------------------------------------------------------------------------


def editors(agreement: Agreement) -> list[Membership]:
    """The named editors' memberships (those granted editing of this agreement)."""
    users = AgreementUserObjectPermission.objects.filter(
        content_object=agreement, permission__codename=EDIT_PERMISSION
    ).values_list("user_id", flat=True)
    return list(
        Membership.objects.filter(user_id__in=list(users))
        .select_related("user", "organisation")
        .order_by("user__full_name", "user__email")
    )


def editor_candidates(agreement: Agreement) -> list[Membership]:
    """Members acting for one of the parties who are not editors yet (the lead's drafters
    and the partnership's administrators already are)."""
    organisations = agreement.parties.values_list("partner__organisation_id", flat=True)
    named = {m.user_id for m in editors(agreement)}
    return [
        m
        for m in Membership.objects.filter(organisation_id__in=list(organisations))
        .select_related("user", "organisation")
        .order_by("organisation__name", "user__full_name", "user__email")
        if m.user_id not in named
        and not may_change_parties(m, agreement)
        and m.can(NAMED_EDITOR_PERM)
    ]


@service
def add_editor(agreement: Agreement, membership: Membership, *, by) -> None:
    """Let a member acting for one of the parties edit this agreement's sections (the lead
    organisation's drafters decide)."""
    agreement = locked(agreement)
    require_lead_drafter(membership_of(by), agreement)
    if not membership_supports_editing(membership, agreement):
        raise ValidationError(
            {"member": f"{membership.user} does not act for one of the agreement's parties."}
        )
    if may_change_parties(membership, agreement):
        raise ValidationError(
            {
                "member": f"{membership.user} already edits it, as a drafter for the lead "
                "organisation or an administrator of the partnership."
            }
        )
    if has_edit_grant(membership.user, agreement):
        raise ValidationError({"member": f"{membership.user} is already an editor."})
    assign_perm(f"agreements.{EDIT_PERMISSION}", membership.user, agreement)
    log_action(
        agreement.partnership,
        "agreement.editor_added",
        f"Let {membership.user} ({membership.organisation}) edit {agreement}",
        agreement,
        {"editors": [None, str(membership.user)]},
    )


@service
def remove_editor(agreement: Agreement, membership: Membership, *, by) -> None:
    agreement = locked(agreement)
    require_lead_drafter(membership_of(by), agreement)
    if not has_edit_grant(membership.user, agreement):
        raise ValidationError(f"{membership.user} is not a named editor of this agreement.")
    remove_perm(f"agreements.{EDIT_PERMISSION}", membership.user, agreement)
    log_action(
        agreement.partnership,
        "agreement.editor_removed",
        f"Stopped {membership.user} editing {agreement}",
        agreement,
        {"editors": [str(membership.user), None]},
    )


def revoke_lapsed_editors(agreement: Agreement) -> None:
    """Take back the grants of this agreement's named editors who no longer act for one of
    its parties (membership_supports_editing), each recorded in the audit log."""
    grants = AgreementUserObjectPermission.objects.filter(
        content_object=agreement, permission__codename=EDIT_PERMISSION
    ).select_related("user")
    for grant in grants:
        membership = Membership.objects.filter(user_id=grant.user_id).first()
        if not membership_supports_editing(membership, agreement):
            _revoke(grant, agreement, "they no longer act for one of its parties")


def revoke_editing_of(membership: Membership, *, removed: bool = False) -> None:
    """After a membership changed (its organisation or roles) or was removed: take back the
    named editing it no longer supports, in every agreement of its partnership. Called by
    tenancy's model signals (agreements/registrations.py), inside the partnership's scope."""
    grants = AgreementUserObjectPermission.objects.filter(
        user_id=membership.user_id,
        content_object__partnership_id=membership.partnership_id,
        permission__codename=EDIT_PERMISSION,
    ).select_related("user", "content_object")
    for grant in grants:
        agreement = grant.content_object
        if removed:
            _revoke(grant, agreement, "they left the partnership")
        elif not membership_supports_editing(membership, agreement):
            _revoke(grant, agreement, "they no longer act for one of its parties")


def _revoke(grant, agreement: Agreement, reason: str) -> None:
    grant.delete()
    log_action(
        agreement.partnership,
        "agreement.editor_removed",
        f"Stopped {grant.user} editing {agreement}: {reason}",
        agreement,
        {"editors": [str(grant.user), None]},
    )
