from django import forms

from accord.kernel.forms import ModelChoiceField
from documents.verify import normalise_sha256

from .models import (
    AuthorisedSignatory,
    Organisation,
    PartnerStatus,
    ico_reference_validator,
    normalise_ico_reference,
)
from .services import notice_date_problem
from .signing import NAME_MAX_LENGTH, REASON_MAX_LENGTH

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

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields[
            "data_protection_email"
        ].help_text = (
            "A new address is used once someone there follows the link Accord sends to it."
        )

    class Meta(OrganisationForm.Meta):
        fields = [*OrganisationForm.Meta.fields, "deputy_dpo_name", "deputy_dpo_email"]
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
    organisation = ModelChoiceField(
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

    def clean_notice_given_on(self):
        value = self.cleaned_data.get("notice_given_on")
        if value is not None and (problem := notice_date_problem(value)):
            raise forms.ValidationError(problem)
        return value


class SignatoryForm(forms.Form):
    name = forms.CharField(
        label="Full name",
        max_length=150,
        error_messages={
            "required": "Enter the signatory's full name.",
            "max_length": "The name must be 150 characters or fewer.",
        },
    )
    position = forms.ChoiceField(
        label="Position",
        choices=AuthorisedSignatory.Position.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the signatory's position."},
    )
    other_position = forms.CharField(
        label="Position, if other",
        max_length=150,
        required=False,
        help_text="Only when you chose Other, such as Director of Adult Social Care.",
        error_messages={"max_length": "The position must be 150 characters or fewer."},
    )
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,
        help_text="Documents to sign are sent here.",
        error_messages={
            "required": "Enter the signatory's e-mail address.",
            "invalid": "Enter an e-mail address like name@example.gov.uk.",
        },
    )

    @classmethod
    def initial_for(cls, signatory: AuthorisedSignatory) -> dict:
        known = signatory.position in AuthorisedSignatory.Position.values
        return {
            "name": signatory.name,
            "position": signatory.position if known else AuthorisedSignatory.Position.OTHER,
            "other_position": "" if known else signatory.position,
            "email": signatory.email,
        }

    def clean(self):
        data = super().clean()
        if data.get("position") == AuthorisedSignatory.Position.OTHER:
            other = (data.get("other_position") or "").strip()
            if other:
                data["position"] = other
            elif "other_position" not in self.errors:
                self.add_error("other_position", "Enter the position.")
        return data

    def values(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("name", "position", "email")}


class SigningForm(forms.Form):
    """Sign or decline: one form, two buttons (action=sign or action=decline). The page shows
    the signer's fields and Sign, then the reason and Decline (templates/signatories/sign.html).
    The reason is required to decline, and only then."""

    ACTIONS = ("sign", "decline")

    name = forms.CharField(
        label="Your full name",
        max_length=NAME_MAX_LENGTH,
        error_messages={
            "required": "Enter your full name.",
            "max_length": f"Your full name must be {NAME_MAX_LENGTH} characters or fewer.",
        },
    )
    position = forms.CharField(
        label="Your position",
        max_length=NAME_MAX_LENGTH,
        help_text="For example, Chief Executive or Senior Information Risk Owner (SIRO).",
        error_messages={
            "required": "Enter your position.",
            "max_length": f"Your position must be {NAME_MAX_LENGTH} characters or fewer.",
        },
    )
    confirmed = forms.BooleanField(required=False)
    reason = forms.CharField(
        label="Your reason for declining",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="You must give a reason to decline. It is shared with the lead organisation.",
        error_messages={
            "required": "Enter the reason for declining.",
            "max_length": f"The reason must be {REASON_MAX_LENGTH:,} characters or fewer.",
        },
    )

    def __init__(self, *args, organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        self.fields[
            "confirmed"
        ].label = f"I confirm I am authorised to sign this on behalf of {organisation}"
        # The reason is required to decline only: never marked `required` in the page, and
        # not required when signing (or when neither button was pressed).
        self.fields["reason"].widget.use_required_attribute = lambda initial: False
        if self.is_bound and self.action != "decline":
            self.fields["reason"].required = False

    @property
    def action(self) -> str:
        return self.data.get("action", "") if self.is_bound else ""

    def clean(self):
        data = super().clean()
        if self.action not in self.ACTIONS:
            raise forms.ValidationError("Choose Sign or Decline.")
        if self.action == "sign" and not data.get("confirmed"):
            self.add_error(
                "confirmed", f"Confirm that you are authorised to sign for {self.organisation}"
            )
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why is the organisation withdrawing?",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The other partners will see this in the notice.",
        error_messages={
            "required": "Enter the reason for withdrawing.",
            "max_length": "The reason must be 5,000 characters or fewer.",
        },
    )


MAX_PDF_BYTES = 20 * 1024 * 1024


class VerifyForm(forms.Form):
    file = forms.FileField(
        label="Upload the PDF",
        required=False,
        help_text="Up to 20 MB.",
        error_messages={"empty": "The chosen file is empty."},
    )
    sha256 = forms.CharField(
        label="Or enter its SHA-256 fingerprint",
        required=False,
        max_length=200,
        help_text="64 characters, letters a to f and digits 0 to 9, as printed on the document.",
        error_messages={"max_length": "A SHA-256 fingerprint is 64 characters long."},
    )

    def __init__(self, *args, upload_too_large: bool = False, **kwargs) -> None:
        """`upload_too_large`: the upload was stopped at the size limit, before it was stored."""
        super().__init__(*args, **kwargs)
        self.upload_too_large = upload_too_large

    @staticmethod
    def max_file_bytes() -> int:
        """The largest file accepted; the view stops reading an upload beyond it."""
        return MAX_PDF_BYTES

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if self.upload_too_large or (upload and upload.size > MAX_PDF_BYTES):
            raise forms.ValidationError("The file must be smaller than 20 MB.")
        if not upload:
            return None
        upload.seek(0)
        if upload.read(5) != b"%PDF-":
            raise forms.ValidationError("The file is not a PDF")
        upload.seek(0)
        return upload

    def clean_sha256(self):
        value = "".join((self.cleaned_data.get("sha256") or "").split()).replace(":", "")
        if not value:
            return ""
        try:
            return normalise_sha256(value)
        except ValueError as exc:
            raise forms.ValidationError(
                "Enter the SHA-256 as 64 characters, letters a to f and digits 0 to 9."
            ) from exc

    def clean(self):
        data = super().clean()
        has_file, has_hash = bool(data.get("file")), bool(data.get("sha256"))
        if self.errors:
            return data
        if has_file and has_hash:
            self.add_error("sha256", "Upload a PDF or enter a SHA-256 fingerprint, not both.")
        elif not has_file and not has_hash:
            self.add_error("file", "Choose a PDF to upload, or enter its SHA-256 fingerprint.")
        return data


class DomainForm(forms.Form):
    domain = forms.CharField(
        label="Add a domain",
        max_length=253,
        help_text="Your own address's domain, such as essex.gov.uk. People invited with an "
        "address on it are verified for the organisation at once.",
        error_messages={"required": "Enter a domain like essex.gov.uk."},
    )

    @staticmethod
    def id_from(value: str | None) -> int | None:
        """A record id from a posted value: ASCII digits that fit the database, else None."""
        value = (value or "").strip()
        if not value.isascii() or not value.isdigit() or len(value) > 18:
            return None
        return int(value)


class DecisionForm(forms.Form):
    ACTIONS = {
        "approve": "Approve",
        "refuse": "Refuse",
        "revoke": "Remove",
    }

    action = forms.ChoiceField(
        choices=list(ACTIONS.items()), error_messages={"required": "Choose an answer."}
    )
    reason = forms.CharField(
        label="Reason (optional)",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": "The reason must be 500 characters or fewer."},
    )

    def __init__(self, *args, allowed=tuple(ACTIONS), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(a, self.ACTIONS[a]) for a in allowed]
        self.fields["action"].error_messages["invalid_choice"] = "Choose an answer."
