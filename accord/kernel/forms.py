"""Forms render as GOV.UK Design System components through these templates.

Every answer must be one the database can store and compare. Accord's own field classes
below check the raw value before anything reaches a query, and every form of the project
uses them for ids and whole numbers (tests/security/test_bad_input.py walks the forms):

- a record's id (ModelChoiceField, ModelMultipleChoiceField): ASCII digits, at most 2**63 - 1
  (accord.kernel.converters.parse_id, the rule of the `<id:...>` URL converter too). "²", "١٢",
  "-1" or 99999999999999999999 are "not one of the options"; no query runs, so SQLite never
  raises OverflowError and PostgreSQL is never asked to compare what it cannot.
- a whole number (IntegerField): ASCII digits with an optional sign, within 64 bits.
- text (CharField): no NUL character, which PostgreSQL refuses in any text; Django's fields
  refuse it too, ours with a message people can act on.

Views that read a posted value without a form use `posted_id` (ids) or a small form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.forms.renderers import DjangoTemplates
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .converters import MAX_ID, parse_id

NUL_MESSAGE = (
    "Remove the invisible character from your answer. It may have come with text copied from "
    "another program."
)
CHOOSE_ONE = "Choose one of the options."
CHOOSE_FROM_LIST = "Choose only options from the list."
WHOLE_NUMBER = "Enter a whole number, using the digits 0 to 9."
MIN_INTEGER = -MAX_ID - 1
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class GovUKFormRenderer(DjangoTemplates):
    form_template_name = "forms/govuk_form.html"
    field_template_name = "forms/govuk_field.html"


# --- What the database can store ---------------------------------------------------------


def has_nul(value: Any) -> bool:
    """Whether a submitted value (text, or a list of them) holds a NUL character."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(has_nul(item) for item in value)
    return False


def refuse_nul(value: Any) -> None:
    """Raise the field error for a NUL character in `value`."""
    if has_nul(value):
        raise ValidationError(NUL_MESSAGE, code="null_characters_not_allowed")


def posted_id(data: Mapping[str, Any], name: str) -> int | None:
    """The record id posted (or in the query string) as `name`, or None when there is none
    or it is not one the database can compare (see parse_id)."""
    return parse_id(data.get(name))


def _key_is_integer(queryset: models.QuerySet, to_field_name: str | None) -> bool:
    meta = queryset.model._meta
    field = meta.get_field(to_field_name) if to_field_name else meta.pk
    while field.is_relation:  # a primary key that is a link to a parent's
        field = field.target_field
    return isinstance(field, models.IntegerField)


def _refuse_key(field: forms.ModelChoiceField, value: Any, code: str) -> None:
    """Raise `code` (the field's "not one of the options") unless `value` is a key the
    database can compare for `field`'s records: an id (parse_id) for integer keys, text
    without NUL for any other. Nobody types these keys, so no message speaks of typing."""
    if isinstance(value, models.Model):
        return
    integer = _key_is_integer(field.queryset, field.to_field_name)
    if has_nul(value) or (integer and parse_id(value) is None):
        params = {"pk": value} if code == "invalid_pk_value" else {"value": value}
        raise ValidationError(field.error_messages[code], code=code, params=params)


# --- Field classes every form uses -------------------------------------------------------


SELECTED = mark_safe(" selected")


class Select(forms.Select):
    """A select of many options (every partner of a large partnership, in a filter): the
    same HTML as Django's, each option written in place rather than through a template of
    its own, which costs a template render an option. Options carry no attributes. (Named
    Select, so that its widget_type stays "select" for the GOV.UK field template.)"""

    template_name = "forms/select.html"

    def render(self, name: str, value: Any, attrs: dict | None = None, renderer=None) -> str:
        # Written in Python: a template loop costs some 30 microseconds an option, and a
        # partnership's list of partners runs to hundreds (forms/select.html is the same HTML).
        widget = self.get_context(name, value, attrs)["widget"]
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('\n  <optgroup label="{}">', group_name))
            parts.extend(
                format_html(
                    '\n  <option value="{}"{}>{}</option>',
                    str(option["value"]),
                    SELECTED if option["selected"] else "",
                    option["label"],
                )
                for option in options
            )
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>")
        return mark_safe("".join(parts))  # noqa: S308 (every part escaped by format_html)


class ModelChoiceField(forms.ModelChoiceField):
    """A choice of one record; its key is checked before the query (see _refuse_key)."""

    default_error_messages = {"invalid_choice": CHOOSE_ONE}

    def to_python(self, value: Any) -> Any:
        if value not in self.empty_values:
            _refuse_key(self, value, "invalid_choice")
        return super().to_python(value)


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A choice of records; every key is checked before the query (see _refuse_key)."""

    default_error_messages = {
        "invalid_choice": CHOOSE_FROM_LIST,
        "invalid_pk_value": CHOOSE_FROM_LIST,
    }

    def clean(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            for item in value:
                _refuse_key(self, item, "invalid_pk_value")
        return super().clean(value)


class IntegerField(forms.IntegerField):
    """A whole number: ASCII digits with an optional sign (not "١٢", "²" or "4.0"), within the
    64 bits the database stores. Out of that range it is the field's "invalid" error, unless
    the field's own bounds (min_value, max_value) already say why."""

    default_error_messages = {"invalid": WHOLE_NUMBER}

    def to_python(self, value: Any) -> int | None:
        if isinstance(value, str) and value.strip() not in self.empty_values:
            refuse_nul(value)
            if not _WHOLE_NUMBER.fullmatch(value.strip()):
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        number = super().to_python(value)
        if number is not None and not MIN_INTEGER <= number <= MAX_ID:
            bounded = (self.max_value is not None and number > self.max_value) or (
                self.min_value is not None and number < self.min_value
            )
            if not bounded:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
        return number


class CharField(forms.CharField):
    """Text, refusing a NUL character with a message people can act on."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [
            ProhibitNullCharactersValidator(message=NUL_MESSAGE)
            if isinstance(validator, ProhibitNullCharactersValidator)
            else validator
            for validator in self.validators
        ]


# --- Helpers of the views ----------------------------------------------------------------


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
    for message in exc.messages:
        messages.error(request, message)
