from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError

from accord.kernel.forms import ModelChoiceField, Select

from .audit import ACTIONS
from .models import Partnership
from .roles import ROLE_HINTS, Role


class RolesField(forms.MultipleChoiceField):
    widget = forms.CheckboxSelectMultiple
    option_hints = {str(role.value): hint for role, hint in ROLE_HINTS.items()}

    def __init__(self, **kwargs):
        kwargs.setdefault("choices", Role.choices)
        kwargs.setdefault("label", "Roles")
        kwargs.setdefault("help_text", "Select all that apply.")
        kwargs.setdefault("error_messages", {"required": "Choose at least one role."})
        super().__init__(**kwargs)


class OrganisationChoiceField(ModelChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("empty_label", "Choose an organisation")
        kwargs.setdefault(
            "error_messages",
            {
                "required": "Choose the organisation the person acts for.",
                "invalid_choice": "Choose one of the partnership's organisations.",
            },
        )
        super().__init__(queryset=None, **kwargs)


class PartnershipCreateForm(forms.ModelForm):
    organisation = OrganisationChoiceField(label="Organisation you act for", required=False)
    new_organisation = forms.CharField(
        label="Or the name of an organisation not listed", max_length=200, required=False
    )

    class Meta:
        model = Partnership
        fields = ["name", "slug", "description"]
        error_messages = {
            "name": {"required": "Enter the partnership's name."},
            "slug": {
                "required": "Enter a short name for web addresses.",
                "unique": "A partnership already uses this short name. Choose another.",
            },
        }

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations

    def clean(self):
        data = super().clean()
        if not data.get("organisation") and not (data.get("new_organisation") or "").strip():
            raise ValidationError({"organisation": "Choose your organisation or enter its name."})
        return data


class PartnershipSettingsForm(forms.ModelForm):
    class Meta:
        model = Partnership
        fields = [
            "name",
            "description",
            "public_page_enabled",
            "public_signatory_names",
            "mfa_required",
        ]
        error_messages = {"name": {"required": "Enter the partnership's name."}}


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="E-mail address",
        max_length=254,  # what Invitation.email and User.email store
        error_messages={
            "required": "Enter the person's e-mail address.",
            "invalid": "Enter an e-mail address like name@example.gov.uk.",
        },
    )
    full_name = forms.CharField(label="Full name", max_length=150, required=False)
    organisation = OrganisationChoiceField(label="Organisation they act for")
    roles = RolesField()

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class MembershipForm(forms.Form):
    organisation = OrganisationChoiceField(label="Organisation they act for")
    roles = RolesField()

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations


class AcceptInvitationForm(forms.Form):
    full_name = forms.CharField(
        label="Full name", max_length=150, error_messages={"required": "Enter your full name."}
    )
    password1 = forms.CharField(
        label="Create a password",
        widget=forms.PasswordInput,
        help_text="At least 10 characters; not a common password.",
        error_messages={"required": "Create a password."},
    )
    password2 = forms.CharField(
        label="Confirm your password",
        widget=forms.PasswordInput,
        error_messages={"required": "Enter the password again."},
    )

    def __init__(self, *args, email: str = "", **kwargs):
        self.email = email
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The passwords do not match.")
        elif p1:
            user = get_user_model()(email=self.email, full_name=data.get("full_name", ""))
            try:
                password_validation.validate_password(p1, user)
            except ValidationError as exc:
                self.add_error("password1", exc)
        return data


class AuditFilterForm(forms.Form):
    q = forms.CharField(
        label="Search", required=False, help_text="Words in the description or the record's name."
    )
    # Every kind of action Accord records: a long list, written without a template an option.
    action = forms.ChoiceField(label="Action", required=False, widget=Select)
    actor = forms.CharField(label="Person (name or e-mail)", required=False)
    date_from = forms.DateField(
        label="From (dd/mm/yyyy)",
        required=False,
        error_messages={"invalid": "Enter a date like 31/03/2026."},
    )
    date_to = forms.DateField(
        label="To (dd/mm/yyyy)",
        required=False,
        error_messages={"invalid": "Enter a date like 31/03/2026."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Any action")] + sorted(
            ACTIONS.items(), key=lambda item: item[1]
        )

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The 'to' date must be on or after the 'from' date.")
        return data
