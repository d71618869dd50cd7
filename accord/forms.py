"""Forms render as GOV.UK Design System components through these templates."""

from django import forms
from django.core.exceptions import ValidationError
from django.forms.renderers import DjangoTemplates


class GovUKFormRenderer(DjangoTemplates):
    form_template_name = "forms/govuk_form.html"
    field_template_name = "forms/govuk_field.html"


def add_form_errors(form: forms.Form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form: by field where it names one of the form's
    fields, else as an error of the whole form (shown at the top of the error summary)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def posted(request):
    """The submitted form data, even when empty (an unticked list is still an answer)."""
    return request.POST if request.method == "POST" else None


def report_refusal(request, exc: ValidationError) -> None:
    """Show why a service refused an action, as error messages on the next page."""
    from django.contrib import messages

    for message in exc.messages:
        messages.error(request, message)
