"""Forms of the breach pages. Times are typed as a UK date and a 24-hour time; when the time
happened twice (the clocks going back), the form asks whether it was BST or GMT."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accord.kernel.forms import (
    CharField,
    IntegerField,
    ModelChoiceField,
    ModelMultipleChoiceField,
    Select,
    add_form_errors,
)
from agreements.models import Agreement, AgreementStatus
from protocols.models import Protocol
from signatories.models import Partner, PartnerStatus
from tenancy.models import Partnership

from . import times
from .models import (
    MAX_COUNT,
    Assessment,
    Containment,
    Individuals,
    Likelihood,
    Severity,
    View,
)
from .services import REPORT_FIELDS, TIMES

DATE_HINT = "Date as day/month/year, such as 23/10/2026; time in 24-hour form, such as 14:30."
ASSESSED = [
    (Assessment.NOT_NOTIFIABLE, Assessment.NOT_NOTIFIABLE.label),
    (Assessment.NOTIFIABLE, Assessment.NOTIFIABLE.label),
    (Assessment.HIGH_RISK, Assessment.HIGH_RISK.label),
]
YES_NO_UNKNOWN = [("yes", "Yes"), ("no", "No"), ("", "Not yet known")]


def _text(label: str, *, required: bool = True, message: str = "", **kwargs: Any) -> CharField:
    errors = {"required": message} if message else {}
    return CharField(
        label=label,
        required=required,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages=errors,
        **kwargs,
    )


def _line(
    label: str, max_length: int, *, required: bool = True, message: str = "", **kwargs: Any
) -> CharField:
    errors = {"required": message} if message else {}
    if max_length:
        errors["max_length"] = (
            f"{label[0].upper()}{label[1:]} must be {max_length} characters or fewer."
        )
    return CharField(
        label=label, max_length=max_length, required=required, error_messages=errors, **kwargs
    )


def _radios(
    label: str, choices, *, required: bool = True, message: str = "", **kwargs: Any
) -> forms.ChoiceField:
    errors = {"required": message, "invalid_choice": message} if message else {}
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=required,
        widget=forms.RadioSelect,
        error_messages=errors,
        **kwargs,
    )


# --- UK times ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MomentSpec:
    """A time a form asks for: its name (its inputs are <name>_date, <name>_time and
    <name>_zone), its legend and hint, and the message when it is needed but blank."""

    name: str
    legend: str
    hint: str
    missing: str = ""  # blank: it may be left blank


@dataclass(frozen=True)
class Moment:
    """One time a form asks for: its legend, its three inputs and their errors together."""

    name: str
    legend: str
    hint: str
    required: bool
    date: forms.BoundField
    time: forms.BoundField
    zone: forms.BoundField
    errors: list[str]
    ask_zone: bool


def moment_fields() -> tuple[CharField, CharField, forms.ChoiceField]:
    """The date, time and BST-or-GMT fields of one time (declare them as <name>_date,
    <name>_time and <name>_zone)."""
    return (
        CharField(label="Date", required=False, max_length=20),
        CharField(label="Time", required=False, max_length=20),
        forms.ChoiceField(
            label="Was it BST or GMT?",
            choices=times.OFFSET_CHOICES,
            required=False,
            widget=forms.RadioSelect,
            error_messages={"invalid_choice": "Choose BST or GMT."},
        ),
    )


def _ambiguous(day, at) -> bool:
    try:
        times.uk_moment(day, at)
    except times.AmbiguousTime:
        return True
    except ValidationError:
        return False
    return False


class MomentsForm(forms.Form):
    """A form with UK times. Each of `MOMENTS` declares the fields <name>_date, <name>_time
    and <name>_zone (moment_fields()), read as cleaned_data["<name>_at"] (UTC; None when left
    blank). A service's error about a time names it by SERVICE_KEYS."""

    MOMENTS: tuple[MomentSpec, ...] = ()
    SERVICE_KEYS: dict[str, str] = {}

    def __init__(self, *args: Any, moments: dict[str, datetime | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.ambiguous: set[str] = set()
        for name, when in (moments or {}).items():
            if when is None:
                continue
            at = times.local(when)
            self.initial.setdefault(f"{name}_date", f"{at:%d/%m/%Y}")
            self.initial.setdefault(f"{name}_time", f"{at:%H:%M}")
            if _ambiguous(at.date(), at.time().replace(tzinfo=None)):
                self.ambiguous.add(name)
                self.initial.setdefault(f"{name}_zone", times.zone_name(when).lower())

    def _clean_moment(self, spec: MomentSpec) -> datetime | None:
        name = spec.name
        date_text = (self.cleaned_data.get(f"{name}_date") or "").strip()
        time_text = (self.cleaned_data.get(f"{name}_time") or "").strip()
        zone = self.cleaned_data.get(f"{name}_zone") or ""
        if any(f"{name}_{part}" in self.errors for part in ("date", "time", "zone")):
            return None
        if not date_text and not time_text:
            if spec.missing:
                self.add_error(f"{name}_date", spec.missing)
            return None
        day = at = None
        if not date_text:
            self.add_error(f"{name}_date", "Enter the date as well as the time.")
        else:
            try:
                day = times.parse_date(date_text)
            except ValidationError as exc:
                self.add_error(f"{name}_date", exc)
        if not time_text:
            self.add_error(f"{name}_time", "Enter the time as well as the date.")
        else:
            try:
                at = times.parse_time(time_text)
            except ValidationError as exc:
                self.add_error(f"{name}_time", exc)
        if day is None or at is None:
            return None
        if _ambiguous(day, at):
            self.ambiguous.add(name)
        try:
            return times.uk_moment(day, at, zone)
        except times.AmbiguousTime as exc:
            self.add_error(f"{name}_zone", exc)
        except ValidationError as exc:
            self.add_error(f"{name}_time", exc)
        return None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        for spec in self.MOMENTS:
            cleaned[f"{spec.name}_at"] = self._clean_moment(spec)
        return cleaned

    @property
    def moments(self) -> dict[str, Moment]:
        found = {}
        for spec in self.MOMENTS:
            name = spec.name
            date, time, zone = (self[f"{name}_{part}"] for part in ("date", "time", "zone"))
            found[name] = Moment(
                name=name,
                legend=spec.legend,
                hint=spec.hint,
                required=bool(spec.missing),
                date=date,
                time=time,
                zone=zone,
                errors=[str(e) for field in (date, time, zone) for e in field.errors],
                ask_zone=name in self.ambiguous or bool(zone.errors),
            )
        return found

    def add_service_errors(self, exc: ValidationError) -> None:
        """A service's refusal, on the field it names (a time: its date input)."""
        if hasattr(exc, "error_dict"):
            renamed = {}
            for key, errors in exc.error_dict.items():
                target = self.SERVICE_KEYS.get(key, key)
                renamed.setdefault(target, []).extend(errors)
            exc = ValidationError(renamed)
        add_form_errors(self, exc)


# --- Logging and the report --------------------------------------------------------------

REPORT_MOMENTS = (
    MomentSpec("occurred", "When it happened", f"Leave blank if not known. {DATE_HINT}"),
    MomentSpec(
        "detected",
        "When it was detected",
        f"The partners' 48 hours start here. {DATE_HINT}",
        "Enter when the breach was detected.",
    ),
    MomentSpec(
        "aware",
        "When your organisation became aware",
        "When you were reasonably certain that personal data was affected: the ICO's 72 "
        f"hours start here. Leave blank if the same as detected. {DATE_HINT}",
    ),
)
CONTACT = ("contact_name", "contact_email", "contact_phone")
REPORT_MOMENT_FIELDS = [
    f"{spec.name}_{part}" for spec in REPORT_MOMENTS for part in ("date", "time", "zone")
]
TIME_KEYS = {"occurred": "occurred_date", "detected": "detected_date", "aware": "aware_date"}


class AgreementChoiceField(ModelMultipleChoiceField):
    def label_from_instance(self, obj: Agreement) -> str:
        return f"{obj.reference}: {obj.title}"


class PartnerChoiceField(ModelMultipleChoiceField):
    def label_from_instance(self, obj: Partner) -> str:
        return obj.organisation.name


class ReportingChoiceField(ModelChoiceField):
    def label_from_instance(self, obj: Partner) -> str:
        return obj.organisation.name


class ContactFields(forms.Form):
    contact_name = _line(
        "Contact point",
        150,
        message="Enter the name of the contact point for the breach.",
        help_text="Who the ICO and the partners contact about it: usually the DPO.",
    )
    contact_email = forms.EmailField(
        label="Contact e-mail",
        max_length=254,
        error_messages={
            "required": "Enter the contact point's e-mail address.",
            "invalid": "Enter an e-mail address like name@council.gov.uk.",
        },
    )
    contact_phone = _line("Contact telephone", 40, required=False)


class LogForm(MomentsForm, ContactFields):
    """A thin first report: the rest is completed later (Article 33(4))."""

    MOMENTS = REPORT_MOMENTS
    SERVICE_KEYS = TIME_KEYS

    title = _line(
        "Short description",
        200,
        message="Enter a short description of the breach.",
        help_text="Such as: visit notes e-mailed to the wrong care provider.",
    )
    agreements = AgreementChoiceField(
        label="The agreements concerned",
        queryset=Agreement.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="The active agreements, and those out for signature, under which the "
        "information was shared.",
    )
    protocol = ModelChoiceField(
        label="The protocol concerned",
        queryset=Protocol.objects.none(),
        required=False,
        empty_label="None",
    )
    occurred_date, occurred_time, occurred_zone = moment_fields()
    detected_date, detected_time, detected_zone = moment_fields()
    aware_date, aware_time, aware_zone = moment_fields()
    what_happened = _text("What happened", message="Say what happened.")
    how_found = _text("How it was found", required=False)
    involved = PartnerChoiceField(
        label="The partners involved",
        queryset=Partner.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each is told within 48 hours of detection. If you tick none, every party "
        "of the agreements chosen above (and the protocol's lead organisation) is involved. "
        "Your own organisation always is.",
    )

    field_order = [
        "title",
        "agreements",
        "protocol",
        *REPORT_MOMENT_FIELDS,
        "what_happened",
        "how_found",
        "contact_name",
        "contact_email",
        "contact_phone",
        "involved",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agreements"].queryset = Agreement.objects.filter(
            status__in=[AgreementStatus.ACTIVE, AgreementStatus.FOR_SIGNATURE]
        ).order_by("reference", "-version")
        self.fields["protocol"].queryset = Protocol.objects.filter(
            retired_at__isnull=True
        ).order_by("title")
        self.fields["involved"].queryset = Partner.objects.filter(
            status=PartnerStatus.ACTIVE
        ).select_related("organisation")

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {
            "title": data["title"],
            "occurred_at": data["occurred_at"],
            "detected_at": data["detected_at"],
            "aware_at": data["aware_at"] or data["detected_at"],
            "what_happened": data["what_happened"],
            "how_found": data["how_found"],
            "contact_name": data["contact_name"],
            "contact_email": data["contact_email"],
            "contact_phone": data["contact_phone"],
        }
        return values


def _count(what: str) -> IntegerField:
    message = f"Enter the number of {what} as a whole number from 0 to {MAX_COUNT:,}."
    return IntegerField(
        label=f"Approximate number of {what}",
        required=False,
        min_value=0,
        max_value=MAX_COUNT,
        error_messages={"min_value": message, "max_value": message, "invalid": message},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "spellcheck": "false"}),
    )


def _tick(label: str) -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False)


class ReportForm(MomentsForm, ContactFields):
    """Every part of the report (services.REPORT_FIELDS), completed in phases."""

    MOMENTS = REPORT_MOMENTS
    SERVICE_KEYS = TIME_KEYS

    title = _line("Short description", 200, message="Enter a short description of the breach.")
    occurred_date, occurred_time, occurred_zone = moment_fields()
    detected_date, detected_time, detected_zone = moment_fields()
    aware_date, aware_time, aware_zone = moment_fields()
    what_happened = _text("What happened", message="Say what happened.")
    how_found = _text("How it was found", required=False)
    cyber_incident = _radios("Was it a cyber incident?", YES_NO_UNKNOWN, required=False)
    data_subject_categories = _text(
        "Categories of people", required=False, help_text="Such as: adults receiving care."
    )
    subjects_count = _count("people")
    subjects_estimated = _tick("The number of people is an estimate")
    data_categories = _text(
        "Categories of personal data", required=False, help_text="Such as: names, addresses."
    )
    records_count = _count("records")
    records_estimated = _tick("The number of records is an estimate")
    special_category = _tick("Special category data is involved (such as health)")
    criminal_offence = _tick("Criminal offence data is involved")
    consequences = _text("Likely consequences for the people", required=False)
    measures = _text("Measures taken or proposed", required=False)
    containment = _radios(
        "Has it been contained?",
        Containment.choices,
        required=False,
        message="Choose whether it has been contained.",
    )
    staff_involved = _text("Staff involved", required=False)
    staff_training = _text("Their data protection training", required=False)
    others_told = _text("Other organisations already told", required=False)

    field_order = [
        "title",
        *REPORT_MOMENT_FIELDS,
        *(f for f in REPORT_FIELDS if f not in (*CONTACT, "title", *TIMES)),
        *CONTACT,
    ]
    # Copied to and from the breach as they are (the times are typed in parts).
    PLAIN = [f for f in REPORT_FIELDS if f not in (*TIMES, "cyber_incident")]

    @classmethod
    def initial_for(cls, breach) -> dict[str, Any]:
        initial = {name: getattr(breach, name) for name in cls.PLAIN}
        initial["cyber_incident"] = {True: "yes", False: "no"}.get(breach.cyber_incident, "")
        return initial

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        values = {name: data[name] for name in self.PLAIN}
        values["cyber_incident"] = {"yes": True, "no": False}.get(data["cyber_incident"])
        values["occurred_at"] = data["occurred_at"]
        values["detected_at"] = data["detected_at"]
        values["aware_at"] = data["aware_at"] or data["detected_at"]
        return values


# --- Telling people ----------------------------------------------------------------------

LATE_HINT = "Needed only when the deadline has passed: it is kept with the breach."


class TellPartnersForm(forms.Form):
    late_reason = _text("Why is it late?", required=False, help_text=LATE_HINT)


class ToldForm(MomentsForm):
    """A partner, the ICO or the individuals told another way."""

    MOMENTS = (MomentSpec("told", "When were they told?", DATE_HINT, "Enter when they were told."),)
    SERVICE_KEYS = {"at": "told_date"}

    told_date, told_time, told_zone = moment_fields()
    method = _line(
        "How were they told?",
        200,
        message="Say how they were told.",
        help_text="Such as: by telephone to the DPO, or the ICO's online form.",
    )
    case_reference = _line(
        "ICO case reference", 50, required=False, help_text="From the ICO's acknowledgement."
    )
    late_reason = _text("Why is it late?", required=False, help_text=LATE_HINT)

    def __init__(self, *args: Any, ico: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not ico:
            del self.fields["case_reference"]


# --- Deciding ----------------------------------------------------------------------------


class AssessForm(forms.Form):
    likelihood = _radios(
        "How likely is harm to the people?",
        Likelihood.choices,
        message="Choose how likely harm is.",
    )
    severity = _radios(
        "How severe would it be?", Severity.choices, message="Choose how severe harm would be."
    )
    assessment = _radios(
        "Outcome",
        ASSESSED,
        message="Choose the outcome of the assessment.",
        help_text="This is your organisation's view on notifying the ICO.",
    )
    reason = _text(
        "Reasons",
        required=False,
        help_text="Needed when it is not notifiable: kept with the breach (Article 33(5)).",
    )


class ViewForm(forms.Form):
    view = _radios(
        "Should the ICO be notified?", View.choices, message="Choose whether to notify the ICO."
    )
    reason = _text("Your reasons", message="Give the reasons for your view.")


class LinkViewForm(ViewForm):
    """The view given through the e-mailed link: the person says who they are."""

    name = _line("Your name", 150, message="Enter your name.")
    position = _line(
        "Your position",
        150,
        message="Enter your position.",
        help_text="Such as: data protection officer.",
    )

    field_order = ["name", "position", "view", "reason"]


class LeadDecisionForm(forms.Form):
    decision = _radios(
        "Should the ICO be notified?", View.choices, message="Choose whether to notify the ICO."
    )
    reason = _text("Reasons for the decision", message="Give the reasons for the decision.")


class IndividualsForm(forms.Form):
    decision = _radios(
        "Will the people affected be told?",
        [(Individuals.TELL, Individuals.TELL.label), (Individuals.DO_NOT_TELL, "Do not tell them")],
        message="Choose whether to tell the individuals.",
    )
    reason = _text(
        "Why not, or the exemption that applies",
        required=False,
        help_text="Needed when they are not told: such as an exemption of Article 34(3).",
    )
    plan = _text("Who tells them, how, and what they are told", required=False)


class PartnerIndividualsForm(forms.Form):
    """An involved partner's view: who tells them and how is the reporting organisation's."""

    decision = IndividualsForm.base_fields["decision"]
    reason = _text(
        "Your reasons",
        message="Give the reasons for your view.",
        help_text="If they should not be told: the reason, or the exemption of Article 34(3).",
    )


class LinkIndividualsForm(PartnerIndividualsForm):
    """The view on telling the people affected, through the e-mailed link."""

    name = LinkViewForm.base_fields["name"]
    position = LinkViewForm.base_fields["position"]

    field_order = ["name", "position", "decision", "reason"]


class FollowUpForm(MomentsForm):
    MOMENTS = (
        MomentSpec("sent", "When was it sent to the ICO?", DATE_HINT, "Enter when it was sent."),
    )
    SERVICE_KEYS = {"sent_at": "sent_date"}

    sent_date, sent_time, sent_zone = moment_fields()
    what_changed = _text(
        "What the follow-up adds or changes",
        message="Say what the follow-up report adds or changes.",
    )


class CloseForm(forms.Form):
    """Nothing to answer: the button confirms."""


# --- The register's filters --------------------------------------------------------------

STATUS_FILTER = [
    ("", "Any status"),
    ("open", "Open (including overdue)"),
    ("overdue", "Overdue"),
    ("closed", "Closed"),
]


class RegisterFilter(forms.Form):
    status = forms.ChoiceField(
        label="Status",
        choices=STATUS_FILTER,
        required=False,
        error_messages={"invalid_choice": "Choose a status from the list."},
    )
    reporting = ReportingChoiceField(
        label="Reporting organisation",
        queryset=Partner.objects.none(),
        required=False,
        empty_label="Any organisation",
        widget=Select,
    )

    def __init__(self, *args: Any, reporters=None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if reporters is not None:
            self.fields["reporting"].queryset = reporters


class BreachSettingsForm(forms.ModelForm):
    """The partnership's own hours: when the DPO is warned, when the lead decides."""

    class Meta:
        model = Partnership
        fields = ["breach_warning_hours", "breach_lead_decides_hours"]
        field_classes = {"breach_lead_decides_hours": IntegerField}
        error_messages = {
            "breach_warning_hours": {"required": "Enter the hours, such as 24, 6, 1."},
            "breach_lead_decides_hours": {
                "required": "Enter the number of hours, such as 12.",
                "invalid": "Enter a whole number of hours, such as 12.",
                "min_value": "Enter a number of hours from 1 to 71.",
                "max_value": "Enter a number of hours from 1 to 71.",
            },
        }
