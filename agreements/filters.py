"""The register's and the data-flow map's filters (django-filter), and the annotated query
behind the register, shared by the page and its CSV and Excel exports.

Everything a register row shows comes from one query for the page (annotations: special
category data, the latest signature) plus one prefetch of the parties, so the page runs the
same number of queries at 10 rows as at 10,000.
"""

from __future__ import annotations

from datetime import date, timedelta

import django_filters
from django import forms
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import IsNull
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from signatories.models import Partner, Signature

from .legal import ARTICLE_6, ARTICLE_6_CHOICES
from .models import (
    ENDED_STATUSES,
    Agreement,
    AgreementParty,
    AgreementStatus,
    DataCategory,
    DataItem,
)

# A review date within this many days (today included) is due; before today, overdue.
DUE_WITHIN_DAYS = 30
DUE = "due"
OVERDUE = "overdue"
REVIEW_CHOICES = [
    (DUE, f"Due in the next {DUE_WITHIN_DAYS} days"),
    (OVERDUE, "Overdue"),
]

SEARCH_MAX_LENGTH = 200


def basis_labels(article6: str) -> list[str]:
    """'ce' -> ['6(1)(c) Legal obligation', '6(1)(e) Public task']."""
    return [ARTICLE_6[letter].label for letter in sorted(set(article6)) if letter in ARTICLE_6]


def review_state(status: str, review_date: date | None, today: date) -> str:
    """DUE, OVERDUE or "" for an agreement. Ended agreements (expired, terminated,
    superseded) are never due for review."""
    if review_date is None or status in ENDED_STATUSES:
        return ""
    if review_date < today:
        return OVERDUE
    if review_date <= today + timedelta(days=DUE_WITHIN_DAYS):
        return DUE
    return ""


def review_q(state: str, today: date) -> Q:
    """The same rule as review_state, as a database filter."""
    live = ~Q(status__in=ENDED_STATUSES) & Q(review_date__isnull=False)
    if state == OVERDUE:
        return live & Q(review_date__lt=today)
    return live & Q(
        review_date__gte=today, review_date__lte=today + timedelta(days=DUE_WITHIN_DAYS)
    )


def special_category() -> Case:
    """Whether an agreement shares special category data: one of its data items is; or,
    while it has no data items yet, it names an Article 9 condition (as the map draws it).

    Written as "(SELECT id ... LIMIT 1) IS NOT NULL" rather than EXISTS: PostgreSQL plans an
    EXISTS in the select list as a hash of every data item of the partnership (tens of
    thousands), while a scalar subquery is probed through the agreement's index for just the
    page's rows, once the sort and limit have picked them.
    """
    items = DataItem.objects.filter(agreement_id=OuterRef("pk")).order_by()
    special = Subquery(items.filter(category=DataCategory.SPECIAL).values("pk")[:1])
    any_item = Subquery(items.values("pk")[:1])
    return Case(
        When(IsNull(special, False), then=Value(True)),
        When(IsNull(any_item, True) & ~Q(article9=""), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def register_queryset() -> QuerySet[Agreement]:
    """Every agreement of the partnership in scope, with what the register shows.

    `special`: special category data (special_category()); `last_signed`: the time of the
    latest signature on the agreement's frozen document. Parties come from a prefetch (one
    query for the whole page).
    """
    signed = (
        Signature.objects.filter(
            document_id=OuterRef("document_id"), outcome=Signature.Outcome.SIGNED
        )
        .order_by("-at")
        .values("at")[:1]
    )
    parties = AgreementParty.objects.select_related("partner__organisation").order_by(
        "partner__organisation__name", "pk"
    )
    return (
        Agreement.objects.annotate(special=special_category(), last_signed=Subquery(signed))
        .prefetch_related(Prefetch("parties", queryset=parties))
        .order_by("reference", "-version", "pk")
    )


class SelectWidget(forms.Select):
    """A <select> written in Python rather than through Django's templates (one per
    option): the same markup, without option groups, but a list of 300 organisations costs
    well under a millisecond instead of some twenty, which was half the register's time.
    (Named so that its widget_type is "select", which the GOV.UK field template styles.)"""

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        chosen = set(self.format_value(value))
        options = []
        for option_value, label in self.choices:
            if isinstance(label, list | tuple):
                raise ValueError("SelectWidget does not draw option groups.")
            text = "" if option_value is None else str(option_value)
            selected = " selected" if text in chosen else ""
            options.append(f'<option value="{escape(text)}"{selected}>{escape(label)}</option>')
        return mark_safe(  # noqa: S308 (every value is escaped)
            f'<select name="{escape(name)}"{_attributes(self.build_attrs(self.attrs, attrs))}>'
            + "".join(options)
            + "</select>"
        )


def _attributes(attrs: dict) -> str:
    """As django/forms/widgets/attrs.html writes them."""
    return "".join(
        f" {escape(key)}" if value is True else f' {escape(key)}="{escape(value)}"'
        for key, value in attrs.items()
        if value is not False and value is not None
    )


class PartnerChoiceFilter(django_filters.ChoiceFilter):
    """A partner of the partnership (its id), shown by its organisation's name. The choices
    are the partnership's partners, read by PartnerChoices in one light query."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", SelectWidget)
        kwargs.setdefault("choices", ())
        kwargs.setdefault(
            "error_messages", {"invalid_choice": "Choose an organisation from the list."}
        )
        super().__init__(*args, **kwargs)


class PartnerChoices:
    """Mixin for a FilterSet with a PartnerChoiceFilter named `partner_filter`: loads the
    partnership's partners (id, organisation's name and id) once, as plain tuples, so that
    another partnership's partner is not a valid choice and no model objects are built."""

    partner_filter = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        rows = Partner.objects.order_by("organisation__name", "pk").values_list(
            "pk", "organisation__name", "organisation_id"
        )
        self.partners = {str(pk): (organisation_id, name) for pk, name, organisation_id in rows}
        self.filters[self.partner_filter].extra["choices"] = [
            (pk, name) for pk, (_organisation_id, name) in self.partners.items()
        ]

    def filter_party(self, queryset, name, value):
        """Agreements the partner is a party to."""
        return queryset.filter(
            Exists(AgreementParty.objects.filter(agreement_id=OuterRef("pk"), partner_id=value))
        )


class RegisterFilter(PartnerChoices, django_filters.FilterSet):
    partner_filter = "party"

    q = django_filters.CharFilter(
        label="Search",
        method="search",
        max_length=SEARCH_MAX_LENGTH,
        help_text="Words in the title or reference, or a party's name.",
        error_messages={
            "max_length": f"Enter at most {SEARCH_MAX_LENGTH} characters to search for."
        },
    )
    status = django_filters.ChoiceFilter(
        label="Status",
        widget=SelectWidget,
        choices=AgreementStatus.choices,
        empty_label="Any status",
        error_messages={"invalid_choice": "Choose a status from the list."},
    )
    party = PartnerChoiceFilter(
        label="Party", method="filter_party", empty_label="Any organisation"
    )
    basis = django_filters.ChoiceFilter(
        widget=SelectWidget,
        label="Legal basis",
        choices=ARTICLE_6_CHOICES,
        method="filter_basis",
        empty_label="Any basis",
        error_messages={"invalid_choice": "Choose a legal basis from the list."},
    )
    review = django_filters.ChoiceFilter(
        widget=SelectWidget,
        label="Review",
        choices=REVIEW_CHOICES,
        method="filter_review",
        empty_label="All",
        error_messages={"invalid_choice": "Choose due, overdue or all."},
    )

    class Meta:
        model = Agreement
        fields: list[str] = []

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        party_named = AgreementParty.objects.filter(
            agreement_id=OuterRef("pk"), partner__organisation__name__icontains=value
        )
        return queryset.filter(
            Q(title__icontains=value) | Q(reference__icontains=value) | Exists(party_named)
        )

    def filter_basis(self, queryset, name, value):
        return queryset.filter(article6__contains=value)

    def filter_review(self, queryset, name, value):
        return queryset.filter(review_q(value, timezone.localdate()))


class MapFilter(PartnerChoices, django_filters.FilterSet):
    """Which agreements the data-flow map draws: by status (active unless chosen otherwise)
    and by an organisation that is a party."""

    status = django_filters.ChoiceFilter(
        label="Status of agreements",
        widget=SelectWidget,
        choices=AgreementStatus.choices,
        empty_label="Any status",
        error_messages={"invalid_choice": "Choose a status from the list."},
    )
    organisation = PartnerChoiceFilter(
        label="Organisation", method="filter_party", empty_label="Every organisation"
    )
    partner_filter = "organisation"

    class Meta:
        model = Agreement
        fields: list[str] = []

    def __init__(self, data=None, *args, **kwargs):
        # Active agreements unless the person asked for another status (or for any: "").
        if data is None or "status" not in data:
            data = data.copy() if data is not None else {}
            data["status"] = AgreementStatus.ACTIVE
        super().__init__(data, *args, **kwargs)
