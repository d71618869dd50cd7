"""Forms of the drafting pages: starting an agreement, each section's page, data items,
comments, editors, the lifecycle steps and the template."""

from __future__ import annotations

from django import forms

from accord.kernel.forms import (
    CharField,
    IntegerField,
    ModelChoiceField,
    ModelMultipleChoiceField,
)
from documents.markup import MAX_BODY_CHARS
from protocols.models import Legislation, Protocol
from signatories.models import Partner, PartnerStatus

from . import legal
from .facts import RIGHTS
from .models import (
    Agreement,
    AgreementParty,
    DataCategory,
    PartyRole,
    SpecialCategoryType,
)
from .services.common import parties_refusal
from .services.drafting import REASON_MAX

DATE_ERROR = {"invalid": "Enter a real date like 31/03/2026."}
MARKDOWN_HINT = (
    "Markdown: a blank line starts a paragraph, “- ” starts a list item, “### ” a "
    "sub-heading, **bold** for emphasis."
)
COMPLETED_CHOICES = [
    ("yes", "Yes, I've completed this section"),
    ("no", "No, I'll come back to it later"),
]
YES_NO = [("yes", "Yes"), ("no", "No")]


class ErrorLinks:
    """`form.error_links`: (anchor, message) for each error, in the form's order, for the
    GOV.UK error summary (choices link to their first option; the parties to their group)."""

    GROUPS = {"parties": "parties"}

    @property
    def error_links(self) -> list[tuple[str, str]]:
        links = [("", str(error)) for error in self.non_field_errors()]
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            if name in self.GROUPS:
                anchor = self.GROUPS[name]
            else:
                field = self[name]
                multiple = field.widget_type in ("checkboxselectmultiple", "radioselect")
                anchor = f"{field.auto_id}_0" if multiple else field.auto_id
            links.extend((anchor, str(error)) for error in errors)
        return links


def _sentence(text: str) -> str:
    return f"{text[0].upper()}{text[1:]}." if text else ""


def active_partners():
    return Partner.objects.filter(status=PartnerStatus.ACTIVE).select_related("organisation")


class PartnerChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: Partner) -> str:
        return obj.organisation.name


class PartyChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: AgreementParty) -> str:
        return obj.partner.organisation.name


class DateField(forms.DateField):
    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("error_messages", DATE_ERROR)
        kwargs.setdefault("widget", forms.DateInput(attrs={"class": "govuk-input--width-10"}))
        super().__init__(**kwargs)


def yes_no_field(label: str, help_text: str = "") -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label=label,
        help_text=help_text,
        choices=YES_NO,
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": f"Select yes or no: {label[0].lower()}{label[1:]}"},
    )


def _to_yes_no(value) -> str | None:
    if value is None:
        return None
    return "yes" if value else "no"


# --- Starting ----------------------------------------------------------------------------


class CreateForm(ErrorLinks, forms.Form):
    title = CharField(
        label="Title",
        max_length=300,
        help_text="Such as “Reablement review: Essex County Council and Essex Cares”.",
        error_messages={"required": "Enter the agreement's title."},
    )
    reference = CharField(
        label="Reference",
        max_length=50,
        help_text="The partnership's reference for the agreement: the next free one is suggested.",
        error_messages={
            "required": "Enter the agreement's reference.",
            "max_length": "The reference must be 50 characters or fewer.",
        },
    )
    lead = PartnerChoiceField(
        label="Lead organisation",
        queryset=Partner.objects.none(),
        empty_label="Choose the lead organisation",
        help_text="Keeps the agreement, starts its reviews and decides when the parties "
        "cannot agree.",
        error_messages={
            "required": "Choose the lead organisation.",
            "invalid_choice": "Choose one of the partnership's active partners.",
        },
    )
    protocol = ModelChoiceField(
        label="Protocol",
        queryset=Protocol.objects.none(),
        required=False,
        empty_label="Not under a protocol",
        help_text="The partnership's information sharing protocol this agreement sits under.",
        error_messages={"invalid_choice": "Choose one of the partnership's protocols."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = active_partners()
        self.fields["protocol"].queryset = Protocol.objects.filter(retired_at__isnull=True)


# --- Sections ----------------------------------------------------------------------------


class SectionForm(ErrorLinks, forms.Form):
    """A section's page: its text, whether it is completed, and the version it was opened
    at (optimistic locking). Structured sections add their own fields."""

    body_label = "Text"
    version = IntegerField(min_value=1, widget=forms.HiddenInput)
    body = CharField(
        label="Text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text=MARKDOWN_HINT,
    )
    completed = forms.ChoiceField(
        label="Have you completed this section?",
        choices=COMPLETED_CHOICES,
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you have completed this section."},
    )

    # Names of the fields the service saves on the agreement itself (SECTION_FIELDS).
    structured: tuple[str, ...] = ()

    def __init__(self, *args, agreement: Agreement, section, autosave_url: str = "", **kwargs):
        self.agreement = agreement
        self.section = section
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("version", section.version)
        initial.setdefault("body", section.body)
        if section.state != "not_started":
            initial.setdefault("completed", "yes" if section.is_completed else "no")
        for name in self.structured:
            if name not in initial:
                initial[name] = self.initial_value(name)
        super().__init__(*args, **kwargs)
        self.fields["body"].label = self.body_label
        if autosave_url:
            # htmx saves the text a few seconds after typing stops (the page works without).
            self.fields["body"].widget.attrs.update(
                {
                    "hx-post": autosave_url,
                    "hx-trigger": "input changed delay:3s",
                    "hx-include": "#id_version",
                    "hx-target": "#autosave-status",
                    "hx-swap": "innerHTML",
                }
            )

    def initial_value(self, name: str):
        return getattr(self.agreement, name)

    def clean_body(self) -> str:
        body = self.cleaned_data.get("body") or ""
        if len(body) > MAX_BODY_CHARS:
            raise forms.ValidationError(
                f"The text is too long: it has {len(body):,} characters and the most a section "
                f"can have is {MAX_BODY_CHARS:,}."
            )
        return body

    def structured_values(self) -> dict:
        return {
            name: self.cleaned_data[name] for name in self.structured if name in self.cleaned_data
        }

    def service_kwargs(self) -> dict:
        """What save_section takes from this form besides the text and the state."""
        return {"fields": self.structured_values()}

    @property
    def structured_fields(self):
        return [self[name] for name in self.structured]


class SummaryForm(SectionForm):
    body_label = "Background"
    structured = ("title", "reference", "protocol", "lead", "ongoing", "start_date", "end_date")

    title = CharField(
        label="Title of the agreement",
        max_length=300,
        error_messages={"required": "Enter the agreement's title."},
    )
    reference = CharField(
        label="Reference",
        max_length=50,
        error_messages={
            "required": "Enter the agreement's reference.",
            "max_length": "The reference must be 50 characters or fewer.",
        },
    )
    protocol = ModelChoiceField(
        label="Protocol",
        queryset=Protocol.objects.none(),
        required=False,
        empty_label="Not under a protocol",
        error_messages={"invalid_choice": "Choose one of the partnership's protocols."},
    )
    lead = PartnerChoiceField(
        label="Lead organisation",
        queryset=Partner.objects.none(),
        empty_label="Choose the lead organisation",
        help_text="It must be one of the parties.",
        error_messages={
            "required": "Choose the lead organisation.",
            "invalid_choice": "Choose one of the partnership's active partners.",
        },
    )
    ongoing = forms.TypedChoiceField(
        label="Is the sharing ongoing or a one-off exchange?",
        choices=[("yes", "Ongoing sharing"), ("no", "A one-off exchange")],
        coerce=lambda value: value == "yes",
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether the sharing is ongoing or a one-off."},
    )
    start_date = DateField(label="Start date", help_text="For example, 10/03/2026.")
    end_date = DateField(
        label="End date", help_text="Leave blank if the agreement runs until it is ended."
    )
    parties = CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, may_change_parties: bool = True, **kwargs):
        # Named editors change the summary's other answers; the lead organisation and the
        # parties are shown to them read-only (disabled: what is posted for them is ignored,
        # and a change is refused in clean()).
        self.may_change_parties = may_change_parties
        super().__init__(*args, **kwargs)
        agreement = self.agreement
        leads = active_partners() | Partner.objects.filter(pk=agreement.lead_id)
        self.fields["lead"].queryset = leads.select_related("organisation").distinct()
        protocols = Protocol.objects.filter(retired_at__isnull=True)
        if agreement.protocol_id:
            protocols = protocols | Protocol.objects.filter(pk=agreement.protocol_id)
        self.fields["protocol"].queryset = protocols.distinct()
        if agreement.previous_id:
            self.fields["reference"].disabled = True
            self.fields["reference"].help_text = "A new version keeps the reference."
        current = {p.partner_id: p for p in agreement.parties.select_related("partner")}
        partners = list(
            (active_partners() | Partner.objects.filter(pk__in=list(current)))
            .select_related("organisation")
            .distinct()
            .order_by("organisation__name")
        )
        self.party_names = []
        role_choices = [("", "Not a party"), *PartyRole.choices]
        for partner in partners:
            name = f"party_{partner.pk}"
            label = partner.organisation.name
            if partner.status != PartnerStatus.ACTIVE:
                label += f" ({partner.get_status_display().lower()})"
            self.fields[name] = forms.ChoiceField(
                label=label,
                choices=role_choices,
                required=False,
                error_messages={"invalid_choice": "Choose the organisation's role from the list."},
            )
            self.fields[name].partner = partner
            if name not in self.initial:
                party = current.get(partner.pk)
                self.initial[name] = party.role if party else ""
            self.party_names.append(name)
        if not may_change_parties:
            for name in ("lead", *self.party_names):
                self.fields[name].disabled = True
            self.fields["lead"].help_text = parties_refusal(
                agreement, "the lead organisation or the parties"
            )

    def initial_value(self, name: str):
        if name == "ongoing":
            return _to_yes_no(self.agreement.ongoing)
        if name in ("lead", "protocol"):
            return getattr(self.agreement, f"{name}_id")
        return super().initial_value(name)

    @property
    def party_fields(self):
        return [self[name] for name in self.party_names]

    @property
    def structured_fields(self):
        return [self[name] for name in ("title", "reference", "protocol", "lead")]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "The end date must be the same as or after the start date.")
        if not self.may_change_parties:
            self._refuse_changes_to_the_parties()
            cleaned["chosen_parties"] = None
            return cleaned
        chosen = {}
        for name in self.party_names:
            role = cleaned.get(name)
            if not role:
                continue
            partner = self.fields[name].partner
            if partner.status != PartnerStatus.ACTIVE:
                self.add_error(
                    name,
                    f"{partner.organisation} is {partner.get_status_display().lower()}: only "
                    "active partners can be parties to an agreement. Choose “Not a party”.",
                )
            chosen[partner.pk] = role
        if len(chosen) < 2:
            self.add_error(
                "parties", "Choose two or more of the partnership's active partners as parties."
            )
        lead = cleaned.get("lead")
        if lead is not None and chosen and lead.pk not in chosen:
            self.add_error("lead", "The lead organisation must be one of the parties.")
        cleaned["chosen_parties"] = chosen
        return cleaned

    def _refuse_changes_to_the_parties(self) -> None:
        """A browser sends nothing for a disabled field; anything else sent for the lead or
        the parties must be what they already are."""
        for name, group in (("lead", "lead"), *((n, "parties") for n in self.party_names)):
            sent = self.data.get(self.add_prefix(name))
            if sent is None or group in self.errors:
                continue
            kept = self.get_initial_for_field(self.fields[name], name)
            if str(sent) != ("" if kept is None else str(kept)):
                what = "the lead organisation" if group == "lead" else "the parties or their roles"
                self.add_error(group, parties_refusal(self.agreement, what))

    def service_kwargs(self) -> dict:
        if not self.may_change_parties:
            fields = self.structured_values()
            fields.pop("lead", None)
            return {"fields": fields}
        return {"fields": self.structured_values(), "parties": self.cleaned_data["chosen_parties"]}


class CommencementForm(SectionForm):
    structured = ("review_date",)
    review_date = DateField(
        label="Date of the next review",
        help_text="Within three years, and sooner after a breach. For example, 10/03/2027.",
    )


class SupportingDocumentsForm(SectionForm):
    body_label = "Anything else about the supporting documents"
    structured = (
        "dpia_reference",
        "operating_procedure",
        "contract_reference",
        "policies",
        "other_documents",
        "large_scale",
        "new_technology",
    )
    dpia_reference = CharField(
        label="Data protection impact assessment (DPIA): name, link or reference",
        max_length=300,
        required=False,
    )
    operating_procedure = CharField(
        label="Standard operating procedure", max_length=300, required=False
    )
    contract_reference = CharField(label="Associated contract", max_length=300, required=False)
    policies = CharField(
        label="Associated policy documents",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    other_documents = CharField(
        label="Other supporting documents",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    large_scale = yes_no_field(
        "Is the processing on a large scale?",
        "For example, a whole area's population, or many thousands of records.",
    )
    new_technology = yes_no_field(
        "Does the sharing use new technology?",
        "For example, a new shared system, matching software or artificial intelligence.",
    )

    def initial_value(self, name: str):
        if name in ("large_scale", "new_technology"):
            return _to_yes_no(getattr(self.agreement, name))
        return super().initial_value(name)


def _grouped_schedule1():
    parts = {
        1: "Part 1: employment, health and research",
        2: "Part 2: substantial public interest",
        3: "Part 3: criminal offence data",
    }
    groups = [
        (parts[part], [(k, c.label) for k, c in legal.SCHEDULE_1.items() if c.part == part])
        for part in (1, 2, 3)
    ]
    return [("", "None needed or chosen"), *groups]


class LegalBasisForm(SectionForm):
    body_label = "How the legislation empowers the sharing"
    structured = (
        "article6",
        "article9",
        "schedule1_condition",
        "article10",
        "law_enforcement",
        "consent_recording",
        "legitimate_interests_assessment",
        "common_law_basis",
        "other_statute",
    )

    article6 = forms.MultipleChoiceField(
        label="UK GDPR Article 6(1): the lawful basis for the personal data",
        choices=legal.ARTICLE_6_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Select all that apply.",
        error_messages={"invalid_choice": "Choose from the list."},
    )
    consent_recording = CharField(
        label="If you rely on consent: how it is obtained and recorded",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    legitimate_interests_assessment = CharField(
        label="If you rely on legitimate interests: the assessment's reference",
        max_length=300,
        required=False,
    )
    article9 = forms.MultipleChoiceField(
        label="UK GDPR Article 9(2): the condition for special category data",
        choices=legal.ARTICLE_9_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Only if special category data is shared. Select all that apply.",
        error_messages={"invalid_choice": "Choose from the list."},
    )
    schedule1_condition = forms.ChoiceField(
        label="DPA 2018 Schedule 1 condition",
        choices=_grouped_schedule1,
        required=False,
        help_text="Article 9(2)(b), (g), (h), (i) and (j), and Article 10, need one. "
        + legal.APPROPRIATE_POLICY_DOCUMENT,
        error_messages={"invalid_choice": "Choose a Schedule 1 condition from the list."},
    )
    article10 = forms.BooleanField(
        label="Criminal offence data is shared under Article 10 (DPA 2018 Schedule 1)",
        required=False,
        help_text=legal.ARTICLE_10.explanation,
    )
    law_enforcement = forms.BooleanField(
        label="This is law enforcement processing under DPA 2018 Part 3",
        required=False,
        help_text=legal.LAW_ENFORCEMENT.explanation,
    )
    statutes = ModelMultipleChoiceField(
        label="Legislation empowering the sharing",
        queryset=Legislation.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="From the partnership's legislation library. Select all that apply.",
        error_messages={
            "invalid_choice": "Choose from the partnership's legislation library.",
            "invalid_pk_value": "Choose from the partnership's legislation library.",
        },
    )
    other_statute = CharField(
        label="Other legislation, with its citation",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Such as “Care Act 2014, section 2: preventing needs for care and support”.",
    )
    common_law_basis = forms.ChoiceField(
        label="Common law duty of confidentiality",
        choices=[
            *legal.COMMON_LAW_CHOICES,
            ("", "Not applicable: no health or care information is shared"),
        ],
        widget=forms.RadioSelect,
        required=False,
        help_text="For health and care information given in confidence: how sharing it is "
        "justified.",
        error_messages={"invalid_choice": "Choose from the list."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["article6"].option_hints = {
            k: b.explanation for k, b in legal.ARTICLE_6.items()
        }
        self.fields["article9"].option_hints = {
            k: c.explanation for k, c in legal.ARTICLE_9.items()
        }
        self.fields["common_law_basis"].option_hints = {
            k: b.explanation for k, b in legal.COMMON_LAW_BASES.items()
        }
        self.fields["statutes"].queryset = Legislation.objects.order_by("title")
        self.fields["statutes"].label_from_instance = lambda statute: statute.title
        self.fields["statutes"].option_hints = {
            str(statute.pk): " ".join(
                part for part in (_sentence(statute.sections), statute.note) if part
            )
            for statute in self.fields["statutes"].queryset
        }
        if "statutes" not in self.initial:
            self.initial["statutes"] = [s.pk for s in self.agreement.statutes.all()]

    def initial_value(self, name: str):
        if name in ("article6", "article9"):
            return list(getattr(self.agreement, name))
        return super().initial_value(name)

    def structured_values(self) -> dict:
        values = super().structured_values()
        for name in ("article6", "article9"):
            values[name] = "".join(sorted(values.get(name) or []))
        return values

    def service_kwargs(self) -> dict:
        return {"fields": self.structured_values(), "statutes": self.cleaned_data["statutes"]}


class ResponsibilitiesForm(SectionForm):
    body_label = "Who does what"
    structured = ("joint_contact_point", "processor_contract")
    joint_contact_point = CharField(
        label="Joint controllers: the single contact point for individuals",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="A team or role, with how to reach it. Needed when there are joint controllers.",
    )
    processor_contract = CharField(
        label="Processors: the contract's reference",
        max_length=300,
        required=False,
        help_text="The written contract meeting UK GDPR Article 28. Needed when a party is a "
        "processor.",
    )


class RightsForm(SectionForm):
    """The rights that apply, ticked from the basis; a reason for each suggested right left
    unticked (`reason_<key>`, one field each, saved as the agreement's rights_reasons)."""

    body_label = "How the parties meet these rights"
    structured = ("automated_decisions", "rights", "rights_note")
    automated_decisions = CharField(
        label="Decisions made solely by automated means",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Describe any decision about people made by automated means alone, "
        "including profiling, with legal or similarly significant effects on them. Leave it "
        "blank if there is none: the rights of Article 22 then do not arise.",
    )
    rights = forms.MultipleChoiceField(
        label="Rights that apply to this sharing",
        choices=[(key, legal.RIGHT_TITLES[key]) for key, _ in RIGHTS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Ticked from the Article 6 basis chosen; the reasons are under each right. "
        "If you untick one, say why below.",
        error_messages={"invalid_choice": "Choose rights from the list."},
    )
    rights_note = CharField(
        label="Note on the rights",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Anything else about the rights, such as why you tick one the basis does "
        "not suggest.",
    )

    def __init__(self, *args, rights_rows=(), **kwargs):
        self.rights_rows = list(rights_rows)
        super().__init__(*args, **kwargs)
        self.fields["rights"].option_hints = {
            row.key: " ".join(row.reasons) for row in self.rights_rows
        }
        given = self.agreement.rights_reasons or {}
        # Automated decisions described in this very form make Article 22 apply as well.
        described = self.is_bound and str(self.data.get("automated_decisions") or "").strip()
        for row in self.rights_rows:
            if row.suggested or (row.key == "automated" and described):
                self.fields[f"reason_{row.key}"] = CharField(
                    label=f"Why it does not apply: {row.title}",
                    required=False,
                    max_length=REASON_MAX,
                    initial=given.get(row.key, ""),
                    error_messages={
                        "max_length": f"The reason must be {REASON_MAX:,} characters or fewer."
                    },
                )

    def initial_value(self, name: str):
        if name == "rights":
            return [row.key for row in self.rights_rows if row.applies]
        return super().initial_value(name)

    @property
    def reason_fields(self):
        return [self[name] for name in self.fields if name.startswith("reason_")]

    @property
    def structured_fields(self):
        return [
            self["automated_decisions"],
            self["rights"],
            *self.reason_fields,
            self["rights_note"],
        ]

    def structured_values(self) -> dict:
        values = super().structured_values()
        values["rights_reasons"] = {
            name.removeprefix("reason_"): self.cleaned_data.get(name, "")
            for name in self.fields
            if name.startswith("reason_")
        }
        return values


class TransfersForm(SectionForm):
    body_label = "Anything else about transfers"
    structured = ("international_transfers", "transfer_safeguard")
    international_transfers = yes_no_field(
        "Is any of the information transferred or stored outside the UK?",
        "Including through a supplier's cloud service.",
    )
    transfer_safeguard = CharField(
        label="If so, the safeguard relied on",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Adequacy regulations, the International Data Transfer Agreement or the UK "
        "Addendum, with a transfer risk assessment.",
    )

    def initial_value(self, name: str):
        if name == "international_transfers":
            return _to_yes_no(self.agreement.international_transfers)
        return super().initial_value(name)


class RetentionForm(SectionForm):
    body_label = "How the information is disposed of"
    structured = ("retention_period",)
    retention_period = CharField(
        label="Retention period",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Such as “Two years after the review ends, then securely destroyed”.",
    )


def _hours(label: str, help_text: str, most: int) -> IntegerField:
    return IntegerField(
        label=label,
        help_text=help_text,
        required=False,
        min_value=1,
        max_value=most,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
        error_messages={
            "invalid": "Enter a whole number of hours, such as 48.",
            "min_value": "Enter at least 1 hour.",
            "max_value": f"Enter {most} hours or fewer.",
        },
    )


class BreachesForm(SectionForm):
    body_label = "What the parties do about a breach"
    structured = ("partner_breach_hours", "ico_breach_hours")
    partner_breach_hours = _hours(
        "Tell the other parties within (hours)",
        "From when the breach is detected. Usually 48.",
        720,
    )
    ico_breach_hours = _hours(
        "Notify the ICO, where required, within (hours)",
        "From when the breach is detected: 72 at most (UK GDPR Article 33).",
        72,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ico_breach_hours"].error_messages["max_value"] = (
            "The ICO must be told within 72 hours at most (UK GDPR Article 33)."
        )


SECTION_FORMS: dict[str, type[SectionForm]] = {
    "summary": SummaryForm,
    "supporting_documents": SupportingDocumentsForm,
    "legal_basis": LegalBasisForm,
    "responsibilities": ResponsibilitiesForm,
    "rights": RightsForm,
    "transfers": TransfersForm,
    "retention": RetentionForm,
    "breaches": BreachesForm,
    "commencement": CommencementForm,
}


def section_form_class(key: str) -> type[SectionForm]:
    return SECTION_FORMS.get(key, SectionForm)


# --- Data items, comments, editors ---------------------------------------------------------


class DataItemForm(ErrorLinks, forms.Form):
    item = CharField(
        label="Data item",
        max_length=300,
        help_text="Such as “Date of birth” or “Care package at the start of the service”.",
        error_messages={"required": "Enter the data item."},
    )
    category = forms.ChoiceField(
        label="Category",
        choices=DataCategory.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the item's category.",
            "invalid_choice": "Choose the item's category.",
        },
    )
    special_category_type = forms.ChoiceField(
        label="Type of special category data",
        choices=[("", "Choose the type"), *SpecialCategoryType.choices],
        required=False,
        help_text="Only for special category data.",
        error_messages={"invalid_choice": "Choose the type from the list."},
    )
    data_subjects = CharField(
        label="Data subjects",
        max_length=300,
        help_text="Whose data it is, such as “Adults who left the reablement service”.",
        error_messages={"required": "Enter whose data it is."},
    )
    from_party = PartyChoiceField(
        label="Sent by",
        queryset=AgreementParty.objects.none(),
        empty_label="Choose the organisation",
        error_messages={
            "required": "Choose which party sends the item.",
            "invalid_choice": "Choose one of this agreement's parties: the organisation must "
            "be a party to the agreement.",
        },
    )
    to_party = PartyChoiceField(
        label="Received by",
        queryset=AgreementParty.objects.none(),
        empty_label="Choose the organisation",
        error_messages={
            "required": "Choose which party receives the item.",
            "invalid_choice": "Choose one of this agreement's parties: the organisation must "
            "be a party to the agreement.",
        },
    )
    purpose = CharField(
        label="Purpose",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What the item is used for.",
        error_messages={"required": "Enter what the item is used for."},
    )
    necessity = CharField(
        label="Why it is needed",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Why the purpose cannot be met without it, or with less.",
    )

    def __init__(self, *args, agreement: Agreement, **kwargs):
        super().__init__(*args, **kwargs)
        parties = AgreementParty.objects.filter(agreement=agreement).select_related(
            "partner__organisation"
        )
        self.fields["from_party"].queryset = parties
        self.fields["to_party"].queryset = parties
        self.fields["category"].option_hints = {
            "special": "Racial or ethnic origin, political opinions, religious or philosophical "
            "beliefs, trade union membership, genetic, biometric, health, sex life or sexual "
            "orientation.",
            "criminal": "Allegations, proceedings, offences or convictions.",
            "pseudonymised": "Still personal data: someone holds the key to re-identify it.",
            "anonymised": "No one can be identified from it, even with other information.",
        }

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("category") == DataCategory.SPECIAL and not cleaned.get(
            "special_category_type"
        ):
            self.add_error("special_category_type", "Choose the type of special category data.")
        sender, receiver = cleaned.get("from_party"), cleaned.get("to_party")
        if sender and receiver and sender.pk == receiver.pk:
            self.add_error(
                "to_party",
                "The organisation receiving the item must differ from the one sending it.",
            )
        return cleaned


class CommentForm(ErrorLinks, forms.Form):
    text = CharField(
        label="Add a comment",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "Enter your comment.",
            "max_length": "A comment must be 5,000 characters or fewer.",
        },
    )


class AutosaveForm(forms.Form):
    """What htmx posts while a section's text is typed: the version the page holds and the
    whole text (which may be empty, but must be sent)."""

    version = IntegerField(min_value=1)
    body = CharField(required=False, strip=False)

    def clean(self):
        cleaned = super().clean()
        if "body" not in self.data and "body" not in self.errors:
            self.add_error("body", "The text was not sent.")
        return cleaned

    def problem(self) -> str:
        """Why it did not save, for the status line beside the text."""
        body = self.errors.get("body")
        if body and "body" in self.data:
            return " ".join(body)
        return "reload the page and try again."


class EditorForm(ErrorLinks, forms.Form):
    member = forms.ChoiceField(
        label="Person",
        help_text="People who act for one of the parties.",
        error_messages={
            "required": "Choose the person who may edit the agreement.",
            "invalid_choice": "Choose someone who acts for one of the agreement's parties.",
        },
    )

    def __init__(self, *args, candidates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.candidates = {str(m.pk): m for m in candidates}
        self.fields["member"].choices = [("", "Choose a person")] + [
            (str(m.pk), f"{m.user.full_name or m.user.email} ({m.organisation})")
            for m in candidates
        ]

    def clean_member(self):
        return self.candidates[self.cleaned_data["member"]]


class ReasonForm(ErrorLinks, forms.Form):
    reason = CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": "Enter the reason."},
    )

    def __init__(
        self, *args, label: str = "Reason", required: bool = True, message: str = "", **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        self.fields["reason"].required = required
        if message:
            self.fields["reason"].error_messages["required"] = message


class NewVersionForm(ErrorLinks, forms.Form):
    change_summary = CharField(
        label="What changes in the new version",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Shown on the version control table, such as “Adds the GP practice as a "
        "recipient”.",
        error_messages={"required": "Say what the new version changes."},
    )


# --- The template ----------------------------------------------------------------------------


class TemplateForm(ErrorLinks, forms.Form):
    name = CharField(
        label="Template name",
        max_length=200,
        error_messages={"required": "Enter the template's name."},
    )

    dpia_for_special_category = forms.ChoiceField(
        label="Ask for a DPIA whenever special category data is shared?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        help_text="The partnership's policy, such as for any health data: the law asks for a "
        "data protection impact assessment only where the sharing is likely to be high risk, "
        "such as large-scale processing or new technology.",
        error_messages={"required": "Select whether to ask for a DPIA for special category data."},
    )

    def __init__(self, *args, template, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = list(template.sections.order_by("position", "id"))
        self.initial.setdefault("name", template.name)
        self.initial.setdefault(
            "dpia_for_special_category", "yes" if template.dpia_for_special_category else "no"
        )
        self.groups = []
        for row in self.rows:
            names = []
            for part, field in (
                ("title", CharField(label="Title", max_length=200, required=False)),
                (
                    "guidance",
                    CharField(
                        label="Guidance for the people drafting",
                        required=False,
                        strip=False,
                        widget=forms.Textarea(attrs={"rows": 4}),
                    ),
                ),
                (
                    "body",
                    CharField(
                        label="Default wording",
                        required=False,
                        strip=False,
                        widget=forms.Textarea(attrs={"rows": 6}),
                        help_text=MARKDOWN_HINT,
                    ),
                ),
            ):
                name = f"{row.key}-{part}"
                self.fields[name] = field
                self.initial.setdefault(name, getattr(row, part))
                names.append(name)
            self.groups.append({"section": row, "fields": [self[n] for n in names]})

    def sections(self) -> dict[str, dict[str, str]]:
        return {
            row.key: {
                part: self.cleaned_data.get(f"{row.key}-{part}") or ""
                for part in ("title", "guidance", "body")
            }
            for row in self.rows
        }
