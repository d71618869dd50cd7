from __future__ import annotations

from django import forms

from accord.kernel.forms import IntegerField, ModelChoiceField, ModelMultipleChoiceField
from documents.markup import MAX_BODY_CHARS
from signatories.models import Partner, PartnerStatus

from .models import Legislation, Protocol

DATE_ERROR = {"invalid": "Enter a date like 31/03/2026."}


def active_partners():
    return Partner.objects.filter(status=PartnerStatus.ACTIVE).select_related("organisation")


class PartnerChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: Partner) -> str:
        return obj.organisation.name


class PartnersField(ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj: Partner) -> str:
        return obj.organisation.name


class ProtocolCreateForm(forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=300,
        help_text="Such as “Information sharing protocol for Bedfordshire partners”.",
        error_messages={"required": "Enter the protocol's title."},
    )
    lead = PartnerChoiceField(
        label="Lead organisation",
        queryset=Partner.objects.none(),
        empty_label="Choose the lead organisation",
        help_text="Keeps the protocol for the partners and decides when they cannot agree.",
        error_messages={
            "required": "Choose the lead organisation.",
            "invalid_choice": "Choose one of the partnership's active partners.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lead"].queryset = active_partners()


class ProtocolSettingsForm(forms.ModelForm):
    lead = PartnerChoiceField(
        label="Lead organisation",
        queryset=Partner.objects.none(),
        empty_label="Choose the lead organisation",
        error_messages={
            "required": "Choose the lead organisation.",
            "invalid_choice": "Choose one of the partnership's active partners.",
        },
    )

    class Meta:
        model = Protocol
        fields = [
            "title",
            "lead",
            "purposes",
            "date_in_force",
            "notice_weeks",
            "review_months",
            "remind_every_days",
            "max_reminders",
        ]
        labels = {
            "purposes": "Purposes of sharing",
            "date_in_force": "Date in force (dd/mm/yyyy)",
            "notice_weeks": "Notice period for withdrawal (weeks)",
            "review_months": "Review every (months)",
            "remind_every_days": "Remind partners who have not signed every (days)",
            "max_reminders": "Reminders at most",
        }
        help_texts = {
            "purposes": "The purposes the partners have agreed to share information for.",
            "date_in_force": "Set when every partner asked has signed the first version.",
            "review_months": "Once the protocol is in force, its review page keeps its schedule.",
        }
        widgets = {"purposes": forms.Textarea(attrs={"rows": 5})}
        field_classes = dict.fromkeys(
            ("notice_weeks", "review_months", "remind_every_days", "max_reminders"), IntegerField
        )
        error_messages = {
            "title": {"required": "Enter the protocol's title."},
            "date_in_force": DATE_ERROR,
            "notice_weeks": {
                "required": "Enter the notice period in weeks.",
                "invalid": "Enter the notice period as a whole number of weeks.",
                "max_value": "The notice period can be 52 weeks at most.",
                "min_value": "The notice period cannot be negative.",
            },
            "review_months": {
                "required": "Enter how often the protocol is reviewed, in months.",
                "invalid": "Enter the review period as a whole number of months.",
                "max_value": "Review the protocol at least every 120 months.",
                "min_value": "The review period must be at least 1 month.",
            },
            "remind_every_days": {
                "required": "Enter how often to remind partners, in days.",
                "invalid": "Enter a whole number of days.",
                "max_value": "Remind partners at least every 60 days.",
                "min_value": "Remind partners at most once a day.",
            },
            "max_reminders": {
                "required": "Enter the most reminders to send.",
                "invalid": "Enter a whole number.",
                "max_value": "Send 20 reminders at most.",
                "min_value": "The number of reminders cannot be negative.",
            },
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        choices = active_partners()
        if self.instance.lead_id:
            choices = choices | Partner.objects.filter(pk=self.instance.lead_id)
        self.fields["lead"].queryset = choices.select_related("organisation").distinct()


class SectionForm(forms.Form):
    title = forms.CharField(
        label="Section title",
        max_length=200,
        error_messages={
            "required": "Enter the section's title.",
            "max_length": "The section's title must be 200 characters or fewer.",
        },
    )
    body = forms.CharField(
        label="Text",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 20}),
        help_text="Markdown: a blank line starts a paragraph, “- ” starts a list item, "
        "“### ” a sub-heading, **bold** for emphasis.",
    )

    def clean_body(self) -> str:
        body = self.cleaned_data.get("body") or ""
        if len(body) > MAX_BODY_CHARS:
            raise forms.ValidationError(
                f"The section is too long: it has {len(body):,} characters and the most a "
                f"section can have is {MAX_BODY_CHARS:,}. Split it into several sections."
            )
        return body


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        error_messages={"required": "Enter the reason."},
    )

    def __init__(self, *args, label: str = "Reason", required_message: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = label
        if required_message:
            self.fields["reason"].error_messages["required"] = required_message


class SendForm(forms.Form):
    partners = PartnersField(
        label="Partners to ask",
        queryset=Partner.objects.none(),
        help_text="Every active partner is ticked. Untick any that should not sign now.",
        error_messages={
            "required": "Choose at least one partner to sign.",
            "invalid_choice": "Choose only the partnership's active partners.",
            "invalid_pk_value": "Choose only the partnership's active partners.",
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        partners = active_partners()
        self.fields["partners"].queryset = partners
        if not self.is_bound:
            self.initial["partners"] = [p.pk for p in partners]


class AskToSignForm(forms.Form):
    """Ask partners to sign a version in force (or out for signature) that they have not
    signed: partners that joined later, and partners that declined, asked again."""

    partners = PartnersField(
        label="Partners to ask",
        queryset=Partner.objects.none(),
        help_text="Active partners who have not signed this version. Each one's authorised "
        "signatory gets an e-mail with a link to sign it; nobody else is asked again.",
        error_messages={
            "required": "Choose at least one partner to ask to sign.",
            "invalid_choice": "Choose only partners who have not signed this version.",
            "invalid_pk_value": "Choose only partners who have not signed this version.",
        },
    )

    def __init__(self, *args, candidates, declined: dict[int, str], **kwargs):
        """`candidates`: the partners that may be asked; `declined`: {partner id: the
        version it declined}, for those asked again."""
        super().__init__(*args, **kwargs)
        field = self.fields["partners"]
        field.queryset = candidates
        field.option_hints = {
            str(pk): f"Declined version {number}: ask again" for pk, number in declined.items()
        }


class NewVersionForm(forms.Form):
    KINDS = [
        ("minor", "Minor: corrections and clarifications, issued without signing again"),
        ("major", "Major: changes what partners agreed to, every partner signs again"),
    ]
    kind = forms.ChoiceField(
        label="What kind of change is it?",
        choices=KINDS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether this is a minor or a major change."},
    )
    change_summary = forms.CharField(
        label="What changes in this version",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Shown in the revision table, such as “Updated breach contacts”.",
        error_messages={"required": "Say what this version changes."},
    )


class HttpsURLField(forms.URLField):
    def __init__(self, **kwargs):
        kwargs.setdefault("assume_scheme", "https")
        super().__init__(**kwargs)


class LegislationForm(forms.ModelForm):
    class Meta:
        model = Legislation
        fields = ["title", "year", "url", "sections", "note"]
        labels = {"url": "Address on legislation.gov.uk", "note": "Why it matters"}
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"url": HttpsURLField, "year": IntegerField}
        error_messages = {
            "title": {"required": "Enter the legislation's title."},
            "year": {
                "invalid": "Enter the year as 4 digits, such as 2018.",
                "max_value": "Enter the year as 4 digits, such as 2018.",
                "min_value": "Enter the year as 4 digits, such as 2018.",
            },
            "url": {"invalid": "Enter an address like https://www.legislation.gov.uk/..."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].widget = forms.TextInput(attrs={"inputmode": "numeric"})
        self.fields["year"].help_text = "Leave blank for common law."

    def clean_year(self):
        year = self.cleaned_data.get("year")
        if year is not None and not 1200 <= year <= 2200:
            raise forms.ValidationError("Enter the year as 4 digits, such as 2018.")
        return year


class CompareForm(forms.Form):
    a = forms.TypedChoiceField(label="Earlier version", coerce=int)
    b = forms.TypedChoiceField(label="Later version", coerce=int)

    def __init__(self, *args, versions=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (v.pk, f"Version {v.number} ({v.get_status_display().lower()})") for v in versions
        ]
        self.fields["a"].choices = choices
        self.fields["b"].choices = choices
        for name in ("a", "b"):
            self.fields[name].error_messages["invalid_choice"] = "Choose one of the versions."
