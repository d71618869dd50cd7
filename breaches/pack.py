"""The ICO report pack: every answer the ICO's online personal data breach report form asks,
in its order, filled in from the breach log, so the DPO can copy them into the form (which
cannot be saved part-way) in one sitting.

`build` is pure: from a breach (its reporting organisation loaded) and its obligations (each
involved partner's organisation loaded) it makes the sections of (question, answer) rows and
the completeness meter against UK GDPR Article 33(3)(a) to (d). `load` fetches what `build`
needs in one query. Answers are plain text: the page and the PDF escape them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from .models import (
    Assessment,
    BreachReport,
    Containment,
    Individuals,
    Likelihood,
    Obligation,
    ObligationState,
    Recipient,
    Severity,
    View,
)
from .services import ICO_HOURS
from .times import shown

NOT_YET = "Not yet recorded"


@dataclass(frozen=True)
class Row:
    question: str
    answer: str

    @property
    def recorded(self) -> bool:
        return self.answer != NOT_YET


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple[Row, ...]

    @property
    def anchor(self) -> str:
        return "part-" + "-".join(self.title.lower().replace("(", "").replace(")", "").split())


@dataclass(frozen=True)
class Part:
    """One of Article 33(3)'s points (a) to (d): what is still missing from it."""

    letter: str
    label: str
    missing: tuple[str, ...]

    @property
    def answered(self) -> bool:
        return not self.missing

    @property
    def summary(self) -> str:
        return f"({self.letter}) {self.label}: " + ", ".join(self.missing)


@dataclass(frozen=True)
class Meter:
    parts: tuple[Part, ...]

    @property
    def answered(self) -> int:
        return sum(1 for part in self.parts if part.answered)

    @property
    def total(self) -> int:
        return len(self.parts)

    @property
    def complete(self) -> bool:
        return self.answered == self.total

    @property
    def summary(self) -> str:
        """“3 of 4 parts of Article 33(3) answered”."""
        return f"{self.answered} of {self.total} parts of Article 33(3) answered"

    @property
    def missing(self) -> list[str]:
        """“(a) the nature of the breach: the approximate number of records”, one a part."""
        return [part.summary for part in self.parts if not part.answered]


@dataclass(frozen=True)
class Pack:
    breach: BreachReport
    sections: tuple[Section, ...]
    meter: Meter
    follow_up: bool
    late: bool
    prepared_at: datetime

    @property
    def rows(self) -> list[Row]:
        return [row for section in self.sections for row in section.rows]


# --- Answers in words ----------------------------------------------------------------------


def _text(value: str | None) -> str:
    value = (value or "").strip()
    return value or NOT_YET


def _yes_no(value: bool | None) -> str:
    if value is None:
        return NOT_YET
    return "Yes" if value else "No"


def _when(moment: datetime | None, now: datetime) -> str:
    return shown(moment, now) if moment is not None else NOT_YET


def _count(value: int | None, estimated: bool) -> str:
    if value is None:
        return NOT_YET
    return f"{value:,}" + (" (an estimate)" if estimated else "")


def _label(choices, value: str) -> str:
    return choices(value).label if value else NOT_YET


def _obligation_of(obligations: Sequence[Obligation], recipient: str) -> Obligation | None:
    return next((o for o in obligations if o.recipient == recipient), None)


def _told(obligation: Obligation, now: datetime) -> str:
    """“told at 19:00 on Tuesday 1 September 2026 (Telephone), within its deadline”."""
    if obligation.state == ObligationState.NOT_NEEDED:
        return "not needed" + (f": {obligation.reason}" if obligation.reason else "")
    if obligation.done_at is None:
        due = f", due by {shown(obligation.due_at, now)}" if obligation.due_at else ""
        return f"not yet told{due}"
    method = f" ({obligation.method})" if obligation.method else ""
    timing = ", after its deadline" if obligation.state == ObligationState.LATE else ""
    return f"told at {shown(obligation.done_at, now)}{method}{timing}"


# --- The sections, in the ICO form's order --------------------------------------------------


def _report(breach: BreachReport, ico: Obligation | None, now: datetime) -> Section:
    follow_up = ico is not None and ico.done_at is not None
    if follow_up:
        rows = [
            Row("Report type", "Follow-up report: more about a breach already reported"),
            Row("ICO case reference", _text(breach.ico_case_reference)),
        ]
    else:
        rows = [Row("Report type", "Initial report")]
    if breach.assessment:
        assessed = Assessment(breach.assessment).label
        if breach.assessment_reason:
            assessed += f". {breach.assessment_reason.strip()}"
    else:
        assessed = NOT_YET
    rows.append(Row("Our assessment of the risk", assessed))
    if breach.ico_decision:
        decision = View(breach.ico_decision).label
        if breach.ico_decided_by_lead:
            decision += f", decided by the lead organisation, {breach.lead_partner.organisation}"
        elif breach.ico_decision_reason:
            decision += f": {breach.ico_decision_reason.strip()}"
    else:
        decision = NOT_YET
    rows.append(Row("Decision to notify the ICO", decision))
    return Section("About your report", tuple(rows))


def _organisation(breach: BreachReport) -> Section:
    organisation = breach.reporting_partner.organisation
    return Section(
        "About your organisation",
        (
            Row("Organisation name", organisation.name),
            Row("Registered address", _text(organisation.address)),
            Row("ICO registration reference", _text(organisation.ico_reference)),
            Row("Sector", organisation.get_sector_display()),
            Row("Data protection officer", _text(organisation.dpo_name)),
            Row("Contact point for this breach", _text(breach.contact_name)),
            Row("Contact e-mail", _text(breach.contact_email)),
            Row("Contact telephone", _text(breach.contact_phone)),
        ),
    )


def _breach(breach: BreachReport, now: datetime) -> Section:
    return Section(
        "About the breach",
        (
            Row("What has happened", _text(breach.what_happened)),
            Row("Was the breach caused by a cyber incident?", _yes_no(breach.cyber_incident)),
            Row("When did the breach happen?", _when(breach.occurred_at, now)),
            Row("When did you discover the breach?", _when(breach.detected_at, now)),
            Row("When did the organisation become aware of it?", _when(breach.aware_at, now)),
            Row("How did you find out about the breach?", _text(breach.how_found)),
        ),
    )


def _data(breach: BreachReport) -> Section:
    return Section(
        "Personal data and people affected",
        (
            Row("Categories of personal data", _text(breach.data_categories)),
            Row("Special category data", _yes_no(breach.special_category)),
            Row("Criminal offence data", _yes_no(breach.criminal_offence)),
            Row(
                "Approximate number of personal data records",
                _count(breach.records_count, breach.records_estimated),
            ),
            Row("Categories of people affected", _text(breach.data_subject_categories)),
            Row(
                "Approximate number of people affected",
                _count(breach.subjects_count, breach.subjects_estimated),
            ),
        ),
    )


def _consequences(breach: BreachReport) -> Section:
    return Section(
        "Likely consequences",
        (
            Row("Likely consequences for the people affected", _text(breach.consequences)),
            Row("How likely harm to them is", _label(Likelihood, breach.likelihood)),
            Row("How severe the harm would be", _label(Severity, breach.severity)),
        ),
    )


def _measures(breach: BreachReport) -> Section:
    return Section(
        "Measures taken or proposed",
        (
            Row("Measures taken or proposed", _text(breach.measures)),
            Row("Has the breach been contained?", _label(Containment, breach.containment)),
        ),
    )


def _staff(breach: BreachReport) -> Section:
    return Section(
        "Staff involved",
        (
            Row("Staff involved", _text(breach.staff_involved)),
            Row("Their data protection training", _text(breach.staff_training)),
        ),
    )


def _others(breach: BreachReport, obligations: Sequence[Obligation], now: datetime) -> Section:
    partners = [o for o in obligations if o.recipient == Recipient.PARTNER]
    partners.sort(key=lambda o: str(o.who).casefold())
    if partners:
        told = "\n".join(f"{o.who}: {_told(o, now)}" for o in partners)
    else:
        told = "None: no other partner is involved"
    return Section(
        "Who else has been told",
        (
            Row("Partners in the sharing arrangement", told),
            Row(
                "Other organisations told (police, other regulators ...)", _text(breach.others_told)
            ),
        ),
    )


def _individuals(breach: BreachReport, individuals: Obligation | None, now: datetime) -> Section:
    if breach.individuals == Individuals.TELL:
        answer = "Yes: they are being told"
        if individuals is not None and individuals.done_at is not None:
            answer = f"Yes: {_told(individuals, now)}"
        rows = [
            Row("Have the people affected been told, or will they be?", answer),
            Row("Who tells them, how, and what they are told", _text(breach.individuals_plan)),
        ]
    elif breach.individuals == Individuals.DO_NOT_TELL:
        rows = [
            Row(
                "Have the people affected been told, or will they be?",
                f"No: {_text(breach.individuals_reason)}",
            )
        ]
    else:
        rows = [Row("Have the people affected been told, or will they be?", NOT_YET)]
    return Section("Telling the people affected (Article 34)", tuple(rows))


def _timing(breach: BreachReport, ico: Obligation | None, now: datetime) -> tuple[Section, bool]:
    """Within 72 hours of becoming aware, or the reasons it is later (Article 33(1))."""
    deadline = breach.aware_at + timedelta(hours=ICO_HOURS)
    done = ico.done_at if ico is not None else None
    late = (done or now) > deadline
    rows = [Row("The 72 hours from becoming aware end", shown(deadline, now))]
    if done is not None:
        rows.append(Row("Reported to the ICO", shown(done, now)))
    if late:
        reason = ico.reason if ico is not None and ico.done_at is not None else ""
        rows.append(Row("Reasons the report is later than 72 hours", _text(reason)))
    elif done is not None:
        rows.append(Row("Reported within 72 hours", "Yes"))
    return Section("Reporting within 72 hours", tuple(rows)), late


# --- Article 33(3) ---------------------------------------------------------------------------


def meter(breach: BreachReport) -> Meter:
    """Which of Article 33(3)(a) to (d) the log answers, naming what each still lacks."""
    nature = []
    if not breach.what_happened.strip():
        nature.append("what happened")
    if not breach.data_subject_categories.strip():
        nature.append("the categories of people")
    if breach.subjects_count is None:
        nature.append("the approximate number of people")
    if not breach.data_categories.strip():
        nature.append("the categories of personal data")
    if breach.records_count is None:
        nature.append("the approximate number of records")
    contact = []
    if not breach.contact_name.strip():
        contact.append("the contact point's name")
    if not (breach.contact_email.strip() or breach.contact_phone.strip()):
        contact.append("an e-mail address or telephone number")
    return Meter(
        (
            Part("a", "the nature of the breach", tuple(nature)),
            Part("b", "the DPO or other contact point", tuple(contact)),
            Part(
                "c",
                "the likely consequences",
                () if breach.consequences.strip() else ("the likely consequences",),
            ),
            Part(
                "d",
                "the measures taken or proposed",
                () if breach.measures.strip() else ("the measures taken or proposed",),
            ),
        )
    )


def build(
    breach: BreachReport, obligations: Sequence[Obligation], now: datetime | None = None
) -> Pack:
    """The pack for `breach` as its log stands, read at `now` (for the time zone words)."""
    now = now or timezone.now()
    ico = _obligation_of(obligations, Recipient.ICO)
    individuals = _obligation_of(obligations, Recipient.INDIVIDUALS)
    timing, late = _timing(breach, ico, now)
    sections = (
        _report(breach, ico, now),
        _organisation(breach),
        _breach(breach, now),
        _data(breach),
        _consequences(breach),
        _measures(breach),
        _staff(breach),
        _others(breach, obligations, now),
        _individuals(breach, individuals, now),
        timing,
    )
    return Pack(
        breach=breach,
        sections=sections,
        meter=meter(breach),
        follow_up=ico is not None and ico.done_at is not None,
        late=late,
        prepared_at=now,
    )


def load(breach: BreachReport, now: datetime | None = None) -> Pack:
    """The pack, with the breach's obligations fetched in one query (the breach itself comes
    with its reporting and lead organisations loaded)."""
    obligations = list(
        Obligation.objects.filter(breach=breach)
        .select_related("involved__partner__organisation")
        .order_by("pk")
    )
    return build(breach, obligations, now)
