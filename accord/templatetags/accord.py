from django import template
from django.utils.html import format_html_join

register = template.Library()


@register.filter
def option_hint(bound_field, value) -> str:
    hints = getattr(bound_field.field, "option_hints", {}) or {}
    return hints.get(str(value), "")


@register.simple_tag
def govuk_widget(bound_field, css_class: str):
    """Render a field's widget with the GOV.UK class and the ARIA links to its hint and error."""
    attrs = {"class": css_class + (f" {css_class}--error" if bound_field.errors else "")}
    described = []
    if bound_field.help_text:
        described.append(f"{bound_field.auto_id}-hint")
    if bound_field.errors:
        described.append(f"{bound_field.auto_id}-error")
        attrs["aria-invalid"] = "true"
    if described:
        attrs["aria-describedby"] = " ".join(described)
    return bound_field.as_widget(attrs=attrs)


@register.simple_tag
def tag_list(items) -> str:
    return format_html_join(" ", '<strong class="govuk-tag govuk-tag--grey">{}</strong>',
                            ((i,) for i in items))
