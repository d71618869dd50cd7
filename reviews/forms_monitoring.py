"""Forms of monitoring: a complaint about a disclosure, a partner's yearly confirmation
through its link, and the year of the annual review pack."""

from __future__ import annotations

from django import forms

from accord.kernel.forms import CharField, ModelChoiceField, Select
from signatories.models import Partner, PartnerStatus


class ComplaintForm(forms.Form):
    partner = ModelChoiceField(
        label="Partner the complaint is about",
        queryset=Partner.objects.none(),
        empty_label="Choose a partner",
        widget=Select,
        error_messages={"required": "Choose the partner the complaint is about."},
    )
    received_on = forms.DateField(
        label="Date received",
        help_text="For example, 27/03/2026",
        error_messages={
            "required": "Enter the date the complaint was received.",
            "invalid": "Enter a real date, like 27/03/2026.",
        },
        widget=forms.DateInput(attrs={"class": "govuk-input--width-10"}),
    )
    summary = CharField(
        label="What the complaint is about",
        help_text="What was disclosed, to whom, and the concern. Do not include the "
        "complainant's personal details.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={
            "required": "Describe the complaint: what was disclosed, and the concern.",
            "max_length": "Keep the description to 5,000 characters or fewer.",
        },
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = (
            Partner.objects.exclude(status=PartnerStatus.INVITED)
            .select_related("organisation")
            .order_by("organisation__name")
        )
        self.fields["partner"].label_from_instance = lambda p: p.organisation.name


class ConfirmForm(forms.Form):
    in_place = forms.BooleanField(
        label="I confirm that the protocol's procedures are in place at my organisation",
        error_messages={
            "required": "Tick the box to confirm that the protocol's procedures are in place."
        },
    )
    name = CharField(
        label="Your name",
        max_length=200,
        error_messages={
            "required": "Enter your name.",
            "max_length": "Enter a name of 200 characters or fewer.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    role = CharField(
        label="Your role",
        help_text="For example, Chief Executive, SIRO or Data Protection Officer.",
        max_length=200,
        error_messages={
            "required": "Enter your role, such as Chief Executive or Data Protection Officer.",
            "max_length": "Enter a role of 200 characters or fewer.",
        },
        widget=forms.TextInput(attrs={"autocomplete": "organization-title"}),
    )
    note = CharField(
        label="Anything the steering group should know (optional)",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Keep the note to 5,000 characters or fewer."},
    )


class PackYearForm(forms.Form):
    year = forms.TypedChoiceField(
        label="Year",
        coerce=int,
        choices=[],
        error_messages={
            "invalid_choice": "Choose one of the years listed.",
            "required": "Choose the year of the pack.",
        },
    )

    def __init__(self, *args, years: list[int], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(str(y), str(y)) for y in years]
