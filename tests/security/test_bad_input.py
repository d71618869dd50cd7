"""Values the database cannot store or compare, sent where a person or a page would send an
answer: a NUL character (PostgreSQL refuses it in any text), digits that are not ASCII ("²"
passes str.isdigit(), Arabic-Indic "١٢" passes int()), numbers past 64 bits (SQLite raises
OverflowError) and negative ids. Each is refused where it arrives, with a message or a 404,
changes nothing and never answers 500.

The forms are found by walking every module of Accord's apps, so a form added later is
covered (and held to the shared field classes of accord.kernel.forms) without editing this file."""

from __future__ import annotations

import copy
import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator

import django_filters
import pytest
from django import forms
from django.apps import apps
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_scopes import scope

import accord.kernel.forms
from accord.kernel.converters import MAX_ID, IdConverter, TextConverter, parse_id
from agreements.models import AgreementComment
from protocols.models import Legislation
from signatories.models import Organisation, Partner
from tenancy.roles import Role

from .. import test_agreements as base
from ..factories import make_member, make_protocol
from ..pages import field_error
from ..test_agreements import agreement_url, form_values, section_of, section_url
from ..test_protocols import approved, latest, version_url

pytestmark = pytest.mark.django_db

agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer

NUL = "a\x00b"
SUPERSCRIPT = "²"
ARABIC_INDIC = "١٢"
HUGE = "99999999999999999999"
NEGATIVE = "-1"
BAD_VALUES = [NUL, SUPERSCRIPT, ARABIC_INDIC, HUGE, NEGATIVE]
JUST_PAST_64_BITS = str(MAX_ID + 1)


# --- The shared rule for ids -----------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [*BAD_VALUES, JUST_PAST_64_BITS, "", " 1", "1 ", "+1", "0x1", None]
)
def test_an_id_the_database_cannot_compare_is_no_id(value):
    """Threat: an id such as "²" (isdigit() but not int()), "١٢" (int() but not ASCII) or
    one past 64 bits reaches a query. Answer: parse_id, the one rule for ids, says it is none."""
    assert parse_id(value) is None


@pytest.mark.parametrize("value, number", [("0", 0), ("12", 12), (str(MAX_ID), MAX_ID), (7, 7)])
def test_an_id_in_ascii_digits_within_64_bits_is_an_id(value, number):
    """Threat: none; the rule must not refuse real ids. Answer: they parse."""
    assert parse_id(value) == number


def test_the_url_converters_match_no_id_or_text_the_database_cannot_compare():
    """Threat: an address carrying a 20-digit id or a NUL character reaches a view. Answer:
    the converters every URLconf uses match neither, so the address is not found."""
    ids, text = IdConverter(), TextConverter()
    assert not re.fullmatch(ids.regex, HUGE)
    assert not re.fullmatch(ids.regex, SUPERSCRIPT)
    assert not re.fullmatch(ids.regex, ARABIC_INDIC)
    with pytest.raises(ValueError):
        ids.to_python(JUST_PAST_64_BITS)  # 19 digits: the regex matches, the range does not
    assert ids.to_python(str(MAX_ID)) == MAX_ID
    assert not re.fullmatch(text.regex, NUL)
    assert re.fullmatch(text.regex, "Jj-3_x.y~")


@pytest.mark.smoke  # also on SQLite, where the overflow was a 500
def test_an_id_past_64_bits_is_refused_before_any_query(alpha, django_assert_num_queries):
    """Threat: on SQLite, `pk__in=[99999999999999999999]` raises OverflowError (a 500), as the
    statutes and partners choices did. Answer: the record choice fields of accord.kernel.forms check
    each id with parse_id first, so no query runs and the answer is "not one of the options"
    on every database."""
    with scope(partnership=alpha):
        several = accord.kernel.forms.ModelMultipleChoiceField(queryset=Legislation.objects.all())
        one = accord.kernel.forms.ModelChoiceField(queryset=Partner.objects.all())
        for value in (HUGE, JUST_PAST_64_BITS, SUPERSCRIPT, ARABIC_INDIC, NEGATIVE, NUL):
            with django_assert_num_queries(0):
                with pytest.raises(forms.ValidationError) as refused:
                    several.clean(["1", value])
                assert refused.value.messages == [accord.kernel.forms.CHOOSE_FROM_LIST]
                with pytest.raises(forms.ValidationError) as refused:
                    one.clean(value)
                assert refused.value.messages == [accord.kernel.forms.CHOOSE_ONE]


# --- Every form field of Accord ------------------------------------------------------------------

# Accord's own apps: every installed app that is not an installed package.
PROJECT_APPS = [config for config in apps.get_app_configs() if "site-packages" not in config.path]
NOT_IMPORTED = {"migrations", "management", "wsgi", "asgi", "settings", "celery", "demo"}


def _modules() -> Iterator[object]:
    for config in PROJECT_APPS:
        package = importlib.import_module(config.name)
        yield package
        for info in pkgutil.walk_packages(package.__path__, config.name + "."):
            if NOT_IMPORTED & set(info.name.split(".")):
                continue
            yield importlib.import_module(info.name)


def _form_fields() -> list[tuple[str, str, forms.Field]]:
    """(form, field name, field) for every field declared by a form or filter set of
    Accord's apps (fields a form adds in __init__ are ChoiceFields and CharFields)."""
    found = []
    for module in _modules():
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            where = f"{module.__name__}.{name}"
            if issubclass(cls, forms.BaseForm):
                found.extend((where, n, f) for n, f in cls.base_fields.items())
            elif issubclass(cls, django_filters.FilterSet):
                found.extend(
                    (where, n, copy.deepcopy(f).field) for n, f in cls.base_filters.items()
                )
    return found


FORM_FIELDS = _form_fields()
# The field classes that guard a query or a number: the project's own (accord.kernel.forms).
GUARDED = [
    (forms.ModelMultipleChoiceField, accord.kernel.forms.ModelMultipleChoiceField),
    (forms.ModelChoiceField, accord.kernel.forms.ModelChoiceField),
    (forms.IntegerField, accord.kernel.forms.IntegerField),
]
# Fields whose answer is never text the database stores: an upload, a tick.
NOT_TEXT = (forms.FileField, forms.BooleanField)


def test_every_form_of_accord_was_found():
    """Threat: the walk misses forms, and so misses their fields. Answer: it finds the
    forms of every app, including those with record choices and whole numbers."""
    forms_found = {where for where, _, _ in FORM_FIELDS}
    for expected in (
        "agreements.forms.LegalBasisForm",
        "agreements.forms.BreachesForm",
        "agreements.filters.RegisterFilter",
        "protocols.forms.SendForm",
        "protocols.forms.ProtocolSettingsForm",
        "tenancy.forms.InviteForm",
        "tenancy.forms.AuditFilterForm",
        "signatories.forms.AddExistingForm",
        "accounts.forms.ProfileForm",
    ):
        assert expected in forms_found, expected


def test_every_record_choice_and_whole_number_uses_the_guarded_fields():
    """Threat: a new form uses Django's ModelChoiceField, ModelMultipleChoiceField or
    IntegerField, which query with (or store) whatever was posted. Answer: every such field
    of every form is accord.kernel.forms' own, which refuses what the database cannot compare."""
    unguarded = []
    for where, name, field in FORM_FIELDS:
        ours = next((ours for django, ours in GUARDED if isinstance(field, django)), None)
        if ours is not None and not isinstance(field, ours):
            unguarded.append(f"{where}.{name}: use accord.kernel.forms.{ours.__name__}")
    assert unguarded == []


def _field_types() -> dict[str, tuple[str, forms.Field]]:
    """One field of each class used in Accord's forms: {class name: (where, field)}."""
    types: dict[str, tuple[str, forms.Field]] = {}
    for where, name, field in FORM_FIELDS:
        kind = f"{type(field).__module__}.{type(field).__qualname__}"
        if not isinstance(field, NOT_TEXT):
            types.setdefault(kind, (f"{where}.{name}", field))
    return types


FIELD_TYPES = _field_types()


def _refused_values(field: forms.Field) -> list[str]:
    """What a field of this kind must refuse: a NUL in anything; for an answer that is not
    free text (a choice, a number, a date, a record), every bad value."""
    if isinstance(field, forms.CharField):
        return [NUL]
    values = [NUL, SUPERSCRIPT, ARABIC_INDIC, HUGE]
    if not isinstance(field, forms.IntegerField) or (
        field.min_value is not None and field.min_value >= 0
    ):
        values.append(NEGATIVE)
    return values


def test_the_field_types_include_every_kind_of_answer():
    """Threat: a kind of field escapes the test below. Answer: the walk finds them all."""
    assert {
        "CharField",
        "EmailField",
        "IntegerField",
        "ModelChoiceField",
        "ModelMultipleChoiceField",
        "DateField",
        "ChoiceField",
        "TypedChoiceField",
        "MultipleChoiceField",
    } <= {cls.__name__ for _, field in FIELD_TYPES.values() for cls in type(field).__mro__}


# Record choices whose queryset their form sets: the records they choose among.
CHOSEN = {"tenancy.forms.OrganisationChoiceField": Organisation}


@pytest.mark.parametrize("kind", sorted(FIELD_TYPES))
def test_a_value_the_database_cannot_store_is_refused_by_every_kind_of_field(alpha, kind):
    """Threat: NUL, "²", "١٢", 99999999999999999999 or -1 posted to any kind of field raises
    instead of being an answer the form can refuse. Answer: the form is invalid, with a
    message on the field, and nothing raises."""
    where, template = FIELD_TYPES[kind]
    with scope(partnership=alpha):
        field = template.__deepcopy__({})
        if isinstance(field, forms.ModelChoiceField):
            model = field.queryset.model if field.queryset is not None else CHOSEN[kind]
            field.queryset = model._default_manager.all()
        probe = type("Probe", (forms.Form,), {"answer": field})
        for value in _refused_values(field):
            data = QueryDict(mutable=True)
            data.setlist("answer", ["1", value] if _takes_several(field) else [value])
            form = probe(data)
            assert not form.is_valid(), (where, value)
            assert form.errors["answer"], (where, value)
            assert all(str(message).strip() for message in form.errors["answer"]), (where, value)


def _takes_several(field: forms.Field) -> bool:
    return isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField)


# --- The reported server errors, through the pages ---------------------------------------


@pytest.fixture
def comment(alpha, agreement, officer) -> AgreementComment:
    section = section_of(agreement, "purpose")
    with scope(partnership=alpha):
        return AgreementComment.objects.create(
            partnership=alpha, section=section, author=officer, text="Say who is in scope."
        )


@pytest.mark.parametrize("value", [*BAD_VALUES, JUST_PAST_64_BITS])
def test_resolving_a_comment_by_an_id_that_is_no_id_is_not_found(
    client, agreement, officer, comment, value
):
    """Threat: comment=² passed isdigit() and made int() fail (500); other values reach the
    query. Answer: the shared parser finds no such comment (404), and the comment stays open."""
    client.force_login(officer)

    response = client.post(
        section_url(agreement, "purpose"), {"action": "resolve", "comment": value}
    )

    assert response.status_code == 404
    with scope(partnership=agreement.partnership):
        assert AgreementComment.objects.get(pk=comment.pk).resolved_at is None


@pytest.mark.smoke  # also on SQLite, where the overflow was a 500
@pytest.mark.parametrize("value", [HUGE, JUST_PAST_64_BITS, ARABIC_INDIC, NUL])
def test_a_statute_that_is_no_record_is_refused_on_the_legal_basis_page(
    client, agreement, officer, value
):
    """Threat: a 20-digit statute id made SQLite raise OverflowError (500). Answer: the
    page shows the field's message and saves nothing."""
    client.force_login(officer)
    data = form_values(client.get(section_url(agreement, "legal_basis")))
    data.update(statutes=[value], completed=["yes"])

    response = client.post(section_url(agreement, "legal_basis"), data)

    assert response.status_code == 200
    assert field_error(response, "statutes") == (
        "Error: Choose from the partnership's legislation library."
    )
    assert section_of(agreement, "legal_basis").version == 1


@pytest.mark.smoke  # also on SQLite, where the overflow was a 500
@pytest.mark.parametrize("value", [HUGE, JUST_PAST_64_BITS, SUPERSCRIPT, NEGATIVE])
def test_a_partner_that_is_no_record_is_refused_on_the_send_page(client, alpha, value):
    """Threat: a 20-digit partner id among the partners to ask made SQLite raise
    OverflowError (500). Answer: the send page shows the field's message; nothing is sent."""
    lead = make_member(alpha, Role.ADMINISTRATOR)
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=lead.organisation)
    with scope(partnership=alpha):
        partner = Partner.objects.get(organisation=lead.organisation)
    protocol = make_protocol(alpha, lead=partner, by=lead.user)
    ready = approved(latest(protocol), lead.user, steering.user)
    client.force_login(lead.user)

    response = client.post(version_url("send", ready), {"partners": [str(partner.pk), value]})

    assert response.status_code == 200
    assert field_error(response, "partners") == (
        "Error: Choose only the partnership's active partners."
    )
    assert latest(protocol).status == "approved"


@pytest.mark.parametrize(
    "data, problem",
    [
        ({"version": "1", "body": NUL}, accord.kernel.forms.NUL_MESSAGE),
        ({"version": SUPERSCRIPT, "body": "x"}, "reload the page and try again."),
        ({"version": ARABIC_INDIC, "body": "x"}, "reload the page and try again."),
        ({"version": HUGE, "body": "x"}, "reload the page and try again."),
        ({"version": "1"}, "reload the page and try again."),
    ],
)
def test_autosave_of_text_the_database_cannot_store_says_it_did_not_save(
    client, agreement, officer, data, problem
):
    """Threat: a NUL in the text saved as it is typed made PostgreSQL refuse it (500); an odd
    version was read with int(). Answer: the status line says it did not save, and why."""
    client.force_login(officer)

    response = client.post(
        agreement_url("autosave", agreement, section_key="purpose"),
        data,
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 200
    assert f"Not saved automatically: {problem}" in response.content.decode()
    assert section_of(agreement, "purpose").version == 1


def test_a_nul_in_the_history_address_of_a_record_is_not_found(client, alice):
    """Threat: a NUL in the record key of the audit history address made PostgreSQL refuse
    the query (500). Answer: the address matches no page (404)."""
    client.force_login(alice)

    assert client.get("/p/alpha/audit/1/a%00b/").status_code == 404
    assert client.get("/p/alpha/audit/99999999999999999999/1/").status_code == 404


def test_a_nul_in_an_invitation_or_signing_link_is_not_found(client):
    """Threat: a NUL in the token of an e-mailed link reaches a query. Answer: 404."""
    assert client.get("/invitations/abc%00def/").status_code == 404
    assert client.get("/sign/abc%00def/").status_code == 404


# --- Every address with an id ----------------------------------------------------------------

PROJECT_MODULES = tuple(config.name + "." for config in PROJECT_APPS)
PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _routes(patterns, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and pattern.callback.__module__.startswith(
            PROJECT_MODULES
        ):
            yield route, pattern


ROUTES = list(_routes(get_resolver().url_patterns))


def test_every_address_of_accord_captures_ids_and_text_with_the_safe_converters():
    """Threat: a new address captures with Django's int, str or path, which pass 20-digit
    numbers or NUL characters to the view. Answer: every capture of Accord's own pages is
    <id:...>, <text:...> or <slug:...>."""
    unsafe = [
        f"{route} ({pattern.name})"
        for route, pattern in ROUTES
        for converter, _ in PLACEHOLDER.findall(route)
        if converter not in ("id", "text", "slug")
    ]
    assert unsafe == []
    assert any("<id:" in route for route, _ in ROUTES)


def _address(route: str, id_value: str) -> str:
    def fill(match: re.Match) -> str:
        converter, name = match.groups()
        if converter == "id":
            return id_value
        if name in ("partnership_slug", "slug"):
            return "alpha"
        if name == "section_key":
            return "summary"
        return "x"

    return "/" + PLACEHOLDER.sub(fill, route)


@pytest.mark.parametrize("id_value", [HUGE, JUST_PAST_64_BITS, SUPERSCRIPT])
def test_every_address_with_an_id_past_64_bits_is_not_found(alpha, alice, id_value):
    """Threat: any page's id given as 20 digits (or one past 2**63 - 1) reaches a query that
    overflows. Answer: no address matches it: 404, for every page with an id."""
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    answers = {
        _address(route, id_value): client.get(_address(route, id_value)).status_code
        for route, _ in ROUTES
        if "<id:" in route
    }
    assert answers and set(answers.values()) == {404}, answers


@pytest.mark.parametrize(
    "page, query",
    [
        ("/p/alpha/audit/", {"q": NUL}),
        ("/p/alpha/audit/", {"date_from": ARABIC_INDIC}),
        ("/p/alpha/agreements/", {"q": NUL}),
        ("/p/alpha/agreements/", {"party": HUGE}),
        ("/p/alpha/agreements/map/", {"organisation": NUL}),
        ("/p/alpha/partners/", {"status": NUL, "page": HUGE}),
        ("/p/alpha/people/", {"page": SUPERSCRIPT}),
    ],
)
def test_a_search_or_filter_the_database_cannot_compare_still_shows_the_page(
    alpha, alice, page, query
):
    """Threat: a NUL or an odd number in a search, a filter or a page number reaches a
    query. Answer: the page is shown (the filter's message where it has one), never a 500."""
    client = Client(raise_request_exception=False)
    client.force_login(alice)

    assert client.get(page, query).status_code == 200
