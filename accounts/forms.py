from allauth.account.forms import ConfirmLoginCodeForm, LoginForm, RequestLoginCodeForm
from django import forms
from django.core.exceptions import ValidationError

from .adapter import sign_in_code_minutes
from .models import User

# allauth's code for a refused attempt because too many have failed.
THROTTLED = "too_many_login_attempts"

SIGN_IN_THROTTLED_MESSAGE = (
    "Too many failed attempts to sign in with a password. Wait a few minutes and try again, "
    "or sign in now with a code sent to your e-mail address."
)
CODE_REQUEST_THROTTLED_MESSAGE = (
    "You have asked for too many sign-in codes. Wait a minute, then ask again."
)


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "job_title"]
        error_messages = {"full_name": {"required": "Enter your full name."}}


class SignInForm(LoginForm):
    """allauth's sign-in form. When failed passwords have throttled the address (or the
    network), anyone can do that to anyone, so the page offers the way in that the throttle does
    not block: a code e-mailed to the account's own address."""

    throttled = False

    def clean(self):
        try:
            return super().clean()
        except ValidationError as error:
            if error.code != THROTTLED:
                raise
            self.throttled = True
            raise ValidationError(SIGN_IN_THROTTLED_MESSAGE, code=THROTTLED) from error


class RequestSignInCodeForm(RequestLoginCodeForm):
    """The e-mail address to send a sign-in code to, with GOV.UK messages."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].error_messages.update(
            required="Enter your e-mail address",
            invalid="Enter an e-mail address in the correct format, like name@example.org",
        )

    def clean_email(self) -> str:
        try:
            return super().clean_email()
        except ValidationError as error:
            if error.code != THROTTLED:
                raise
            raise ValidationError(CODE_REQUEST_THROTTLED_MESSAGE, code=THROTTLED) from error


class ConfirmSignInCodeForm(ConfirmLoginCodeForm):
    """The code from the e-mail."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].error_messages.update(required="Enter the sign-in code from the e-mail")

    @property
    def code_minutes(self) -> int:
        return sign_in_code_minutes()
