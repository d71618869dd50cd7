"""Forms render as GOV.UK Design System components through these templates."""

from django.forms.renderers import DjangoTemplates


class GovUKFormRenderer(DjangoTemplates):
    form_template_name = "forms/govuk_form.html"
    field_template_name = "forms/govuk_field.html"
