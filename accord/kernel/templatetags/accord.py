from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

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
    return format_html_join(
        " ", '<strong class="govuk-tag govuk-tag--grey">{}</strong>', ((i,) for i in items)
    )


@register.filter
def changes_list(changes: dict) -> str:
    """An audit entry's {field: [before, after]} as a definition list, before struck through."""
    if not changes:
        return ""
    rows = []
    for field, pair in changes.items():
        before, after = (list(pair) + [None, None])[:2]
        rows.append(
            format_html(
                '<dt class="govuk-!-font-weight-bold">{}</dt>'
                '<dd class="govuk-!-margin-left-0 govuk-!-margin-bottom-1">'
                '{}<ins class="accord-diff-after">{}</ins></dd>',
                field.replace("_", " "),
                format_html('<del class="accord-diff-before">{}</del> → ', _text(before))
                if before is not None
                else "",
                _text(after) if after is not None else "(removed)",
            )
        )
    return format_html('<dl class="govuk-!-margin-0">{}</dl>', mark_safe("".join(rows)))  # noqa: S308


def _text(value) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)
