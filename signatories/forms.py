from django import forms

from .models import Organisation, PartnerStatus, ico_reference_validator, normalise_ico_reference

ORGANISATION_ERRORS = {
    "name": {"required": "Enter the organisation's name."},
    "ico_reference": {
        "unique": "An organisation with this ICO registration reference already exists. "
        "Search for it and add that record instead.",
    },
    "data_protection_email": {"invalid": "Enter an e-mail address like dpo@example.gov.uk."},
}


class OrganisationForm(forms.ModelForm):
    class Meta:
        model = Organisation
        fields = [
            "name",
            "ico_reference",
            "sector",
            "address",
            "phone",
            "data_protection_email",
            "dpo_name",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
        error_messages = ORGANISATION_ERRORS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Spaces and case are tidied in clean_ico_reference: the 8 characters are checked
        # there, not on what was typed (" z603 4810 " is a good reference).
        field = self.fields["ico_reference"]
        field.max_length = None
        field.validators = [v for v in field.validators if v.code != "max_length"]
        field.widget.attrs.pop("maxlength", None)

    def clean_ico_reference(self):
        value = normalise_ico_reference(self.cleaned_data.get("ico_reference"))
        if value:
            ico_reference_validator(value)
        return value


class OrganisationEditForm(OrganisationForm):
    """An organisation's own people updating its record."""

    class Meta(OrganisationForm.Meta):
        error_messages = {
            **ORGANISATION_ERRORS,
            "ico_reference": {
                "unique": "Another organisation's record already uses this ICO registration "
                "reference. Check the reference on the ICO's register.",
            },
        }


class OrganisationSearchForm(forms.Form):
    q = forms.CharField(
        label="Organisation name or ICO registration reference", max_length=200, required=False
    )


class AddExistingForm(forms.Form):
    organisation = forms.ModelChoiceField(
        queryset=Organisation.objects.all(),
        error_messages={"invalid_choice": "That organisation no longer exists. Search again."},
    )


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: name, ICO reference, DPO, e-mail, sector. "
        "One row a partner; up to 5 MB.",
        error_messages={
            "required": "Choose a CSV file to upload.",
            "empty": "The chosen file is empty.",
        },
    )


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        label="New status", choices=PartnerStatus.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="Reason (needed when withdrawing)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    notice_given_on = forms.DateField(
        label="Notice given on (dd/mm/yyyy)",
        required=False,
        help_text="For a withdrawal: the date notice was given. Today if left blank.",
        error_messages={"invalid": "Enter a date like 31/03/2026."},
    )

    def __init__(self, *args, allowed=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(s, PartnerStatus(s).label) for s in allowed]
        self.fields["status"].error_messages["required"] = "Choose the new status."
