"""Drafting rules for information sharing agreements, as pure functions over AgreementFacts.

Two questions, both answered from the facts alone (no database; the clock is read only when
facts.today is None):

- Which data subject rights apply? `rights_for(article6)` reads the RIGHTS_BY_BASIS table
  (the ICO's summary of how the lawful basis affects each right); the rights about automated
  decision-making arise only where such decisions are described.
- What is missing or inconsistent before the agreement can go for signature? `check(facts)`
  runs every rule in RULES; each rule is one small function returning zero or more Messages.
  Any "blocking" message stops `can_send_for_signature`; a "warning" is advice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from . import legal
from .facts import (
    ARTICLE_6,
    COMPLETED,
    CRIMINAL,
    HEALTH,
    IN_PROGRESS,
    JOINT_CONTROLLER,
    PERSONAL,
    PROCESSOR,
    PSEUDONYMISED,
    RIGHTS,
    SECTION_KEYS,
    SECTIONS,
    SPECIAL,
    AgreementFacts,
)
from .templates_content import REVIEW_WITHIN_YEARS, TEXT_REQUIRED, placeholders_in

BLOCKING = "blocking"
WARNING = "warning"
SEVERITIES = (BLOCKING, WARNING)

SECTION_LABELS: dict[str, str] = dict(SECTIONS)
RIGHT_LABELS: dict[str, str] = dict(RIGHTS)

NO_BASIS_REASON = "Choose the Article 6 basis first"
NO_AUTOMATED_DECISIONS_REASON = (
    "No automated decision-making is described: Article 22 arises only where a decision with "
    "legal or similarly significant effects on someone is made by automated means alone, so "
    "describe any such decision for it to apply."
)

# The longest gap between reviews (the template's maximum), and the ICO's deadline for a
# notifiable breach.
MAX_REVIEW_YEARS = REVIEW_WITHIN_YEARS
ICO_DEADLINE_HOURS = 72

# Categories that are personal data under the UK GDPR: pseudonymised data still is; only
# anonymised data is not.
PERSONAL_CATEGORIES = frozenset({PERSONAL, SPECIAL, CRIMINAL, PSEUDONYMISED})

# --------------------------------------------------------------------------------------------
# Data subject rights by Article 6 basis
# --------------------------------------------------------------------------------------------

_INFORMED = (True, "people must be told who holds their data, why, and on what basis.")
_ACCESS = (True, "people can ask for a copy of the data held about them.")
_RECTIFICATION = (True, "people can have inaccurate data corrected and incomplete data completed.")
_RESTRICTION = (
    True,
    "people can ask for use of their data to be paused, for example while its accuracy or an "
    "objection is looked into.",
)
_AUTOMATED = (
    True,
    "people must not be subject to decisions made solely by automated means that have legal "
    "or similarly significant effects on them, unless an Article 22 exception applies.",
)
_NOTIFICATION = (
    True,
    "each party tells everyone it shared the data with of any rectification, erasure or "
    "restriction, unless that proves impossible or takes disproportionate effort, and tells "
    "the person who they are if asked.",
)
_FOI_EIR = (
    True,
    "a party that is a public authority answers a request for the information under the "
    "Freedom of Information Act 2000 or the Environmental Information Regulations 2004 itself, "
    "after consulting the party it came from about any exemption or exception.",
)
_PORTABILITY_YES = (
    True,
    "people can have data they provided given to them, or sent to another organisation, in a "
    "machine-readable format, where it is processed by automated means.",
)
_PORTABILITY_NO = (False, "data portability applies only where the basis is consent or contract.")
_OBJECTION_NOT_SUBJECT = (
    "people cannot object on this basis, though they can always object to direct marketing."
)
_WITHDRAW_NO = (False, "withdrawing consent arises only where the basis is consent.")

# Article 6 letter -> right key -> (applies, reason). Every letter of facts.ARTICLE_6 and
# every right of facts.RIGHTS appears exactly once.
RIGHTS_BY_BASIS: dict[str, dict[str, tuple[bool, str]]] = {
    "a": {
        "informed": _INFORMED,
        "access": _ACCESS,
        "rectification": _RECTIFICATION,
        "erasure": (
            True,
            "people can have their data erased, in particular once they withdraw consent.",
        ),
        "restriction": _RESTRICTION,
        "notification": _NOTIFICATION,
        "portability": _PORTABILITY_YES,
        "objection": (
            False,
            "there is no right to object to processing based on consent: the person withdraws "
            "consent instead (they can always object to direct marketing).",
        ),
        "automated": _AUTOMATED,
        "withdraw_consent": (
            True,
            "people can withdraw consent at any time, as easily as they gave it, and the "
            "sharing must then stop.",
        ),
        "foi_eir": _FOI_EIR,
    },
    "b": {
        "informed": _INFORMED,
        "access": _ACCESS,
        "rectification": _RECTIFICATION,
        "erasure": (
            True,
            "people can ask for erasure, for example once the data is no longer needed for the "
            "contract.",
        ),
        "restriction": _RESTRICTION,
        "notification": _NOTIFICATION,
        "portability": _PORTABILITY_YES,
        "objection": (False, _OBJECTION_NOT_SUBJECT),
        "automated": _AUTOMATED,
        "withdraw_consent": _WITHDRAW_NO,
        "foi_eir": _FOI_EIR,
    },
    "c": {
        "informed": _INFORMED,
        "access": _ACCESS,
        "rectification": _RECTIFICATION,
        "erasure": (
            False,
            "there is no right to erasure of data the law requires the organisation to process.",
        ),
        "restriction": _RESTRICTION,
        "notification": _NOTIFICATION,
        "portability": _PORTABILITY_NO,
        "objection": (
            False,
            "there is no right to object to processing the law requires (people can always "
            "object to direct marketing).",
        ),
        "automated": _AUTOMATED,
        "withdraw_consent": _WITHDRAW_NO,
        "foi_eir": _FOI_EIR,
    },
    "d": {
        "informed": _INFORMED,
        "access": _ACCESS,
        "rectification": _RECTIFICATION,
        "erasure": (
            True,
            "people can ask for erasure, usually once the emergency has passed and the data is "
            "no longer needed to protect anyone's life.",
        ),
        "restriction": _RESTRICTION,
        "notification": _NOTIFICATION,
        "portability": _PORTABILITY_NO,
        "objection": (False, _OBJECTION_NOT_SUBJECT),
        "automated": _AUTOMATED,
        "withdraw_consent": _WITHDRAW_NO,
        "foi_eir": _FOI_EIR,
    },
    "e": {
        "informed": _INFORMED,
        "access": _ACCESS,
        "rectification": _RECTIFICATION,
        "erasure": (
            False,
            "there is no right to erasure of data needed for a public task or official function.",
        ),
        "restriction": _RESTRICTION,
        "notification": _NOTIFICATION,
        "portability": _PORTABILITY_NO,
        "objection": (
            True,
            "people can object on grounds of their particular situation, and the processing "
            "must stop unless there are compelling legitimate grounds to continue.",
        ),
        "automated": _AUTOMATED,
        "withdraw_consent": _WITHDRAW_NO,
        "foi_eir": _FOI_EIR,
    },
    "f": {
        "informed": _INFORMED,
        "access": _ACCESS,
        "rectification": _RECTIFICATION,
        "erasure": (
            True,
            "people can ask for erasure, and must get it when they object and no overriding "
            "legitimate grounds remain.",
        ),
        "restriction": _RESTRICTION,
        "notification": _NOTIFICATION,
        "portability": _PORTABILITY_NO,
        "objection": (
            True,
            "people can object, and the processing must stop unless compelling legitimate "
            "grounds override their interests (and always stop for direct marketing).",
        ),
        "automated": _AUTOMATED,
        "withdraw_consent": _WITHDRAW_NO,
        "foi_eir": _FOI_EIR,
    },
}


@dataclass(frozen=True)
class RightOutcome:
    key: str  # a right key of facts.RIGHTS
    label: str
    applies: bool
    reasons: tuple[str, ...]  # one per chosen basis that decides it, "<basis label>: <why>"

    @property
    def title(self) -> str:
        """The right with its provision: "Article 15 Right of access"."""
        return legal.RIGHT_TITLES[self.key]


def _article6_letters(article6: Iterable[str]) -> list[str]:
    chosen = set(article6)
    unknown = chosen - set(ARTICLE_6)
    if unknown:
        raise ValueError(f"Unknown Article 6(1) letter(s): {', '.join(sorted(unknown))}")
    return [letter for letter in ARTICLE_6 if letter in chosen]


def rights_for(article6: Iterable[str], *, automated_decisions: bool = False) -> list[RightOutcome]:
    """The rights that apply under the chosen Article 6 bases, in the order of facts.RIGHTS.

    A right applies if any chosen basis gives it; its reasons then name those bases. A right
    that no chosen basis gives lists every chosen basis's reason. The rights about automated
    decision-making apply only when `automated_decisions` (some are described). With no basis
    chosen, no right is known yet. Raises ValueError for a letter outside Article 6(1)(a)-(f).
    """
    letters = _article6_letters(article6)
    outcomes = []
    for key, label in RIGHTS:
        if not letters:
            outcomes.append(RightOutcome(key, label, False, (NO_BASIS_REASON,)))
            continue
        if key == "automated" and not automated_decisions:
            outcomes.append(RightOutcome(key, label, False, (NO_AUTOMATED_DECISIONS_REASON,)))
            continue
        verdicts = [(letter, *RIGHTS_BY_BASIS[letter][key]) for letter in letters]
        applies = any(gives for _, gives, _ in verdicts)
        reasons = tuple(
            f"{legal.ARTICLE_6[letter].label}: {reason}"
            for letter, gives, reason in verdicts
            if gives == applies
        )
        outcomes.append(RightOutcome(key, label, applies, reasons))
    return outcomes


# --------------------------------------------------------------------------------------------
# Completeness and consistency checks
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    code: str  # stable id of the rule's finding
    section: str  # a key of facts.SECTION_KEYS: where the IG officer fixes it
    severity: str  # BLOCKING or WARNING
    text: str

    def __post_init__(self) -> None:
        if self.section not in SECTION_KEYS:
            raise ValueError(f"Unknown section {self.section!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"Unknown severity {self.severity!r}")

    @property
    def is_blocking(self) -> bool:
        return self.severity == BLOCKING

    @property
    def section_label(self) -> str:
        return SECTION_LABELS[self.section]


Rule = Callable[[AgreementFacts], list[Message]]


def _in(section: str) -> str:
    return f"‘{SECTION_LABELS[section]}’"


def _names(names: Iterable[str]) -> str:
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _today(facts: AgreementFacts) -> date:
    return facts.today or datetime.now(ZoneInfo("Europe/London")).date()


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, into a year that has none
        return day.replace(year=day.year + years, day=28)


def _blank(value: str) -> bool:
    return not value.strip()


# Summary sheet.


def too_few_parties(facts: AgreementFacts) -> list[Message]:
    count = len(facts.parties)
    if count >= 2:
        return []
    named = "no party is named" if count == 0 else "only one party is named"
    return [
        Message(
            "too_few_parties",
            "summary",
            BLOCKING,
            f"An agreement needs at least two parties and {named}: add the organisations "
            f"sharing the data in {_in('summary')}.",
        )
    ]


# What the summary sheet gives for each party, from its organisation record.
PARTY_CONTACTS: tuple[tuple[str, str], ...] = (
    ("address", "head office address"),
    ("phone", "telephone number"),
    ("email", "confirmed data protection e-mail"),
    ("dpo_name", "data protection officer"),
)


def party_contacts_missing(facts: AgreementFacts) -> list[Message]:
    """One message a party whose organisation record lacks a contact detail the summary sheet
    gives (the breach clause has the parties reach each other through them)."""
    messages = []
    for party in facts.parties:
        missing = [what for name, what in PARTY_CONTACTS if _blank(getattr(party, name))]
        if not missing:
            continue
        messages.append(
            Message(
                "party_contacts_missing",
                "summary",
                BLOCKING,
                f"{party.name} has no {_names(missing)} on its organisation record, and the "
                f"parties reach each other through the summary sheet's details about a breach: "
                f"ask {party.name} to complete its record, then check {_in('summary')}.",
            )
        )
    return messages


# Supporting documents.


def dpia_missing(facts: AgreementFacts) -> list[Message]:
    if not _blank(facts.dpia_reference):
        return []
    because = []
    if facts.large_scale:
        because.append("is large-scale processing")
    if facts.new_technology:
        because.append("uses new technology")
    policy = SPECIAL in facts.categories and facts.dpia_for_special_category
    if not because and not policy:
        return []
    add = f"add the DPIA reference in {_in('supporting_documents')}."
    asks = (
        "Your partnership's template asks for a DPIA whenever special category data, such "
        "as health data, is shared"
    )
    if not because:
        text = f"{asks}: {add}"
    else:
        text = f"The sharing {_names(because)}, so it needs a data protection impact assessment"
        text += f" (and {asks[0].lower()}{asks[1:]}): {add}" if policy else f": {add}"
    return [Message("dpia_missing", "supporting_documents", BLOCKING, text)]


# Information to be shared.


def no_data_items(facts: AgreementFacts) -> list[Message]:
    if facts.categories:
        return []
    return [
        Message(
            "no_data_items",
            "information",
            BLOCKING,
            f"No information to be shared is listed: add the data items, with their "
            f"categories, in {_in('information')}.",
        )
    ]


# Legal basis.


def article6_missing(facts: AgreementFacts) -> list[Message]:
    if facts.article6 or not facts.categories & PERSONAL_CATEGORIES:
        return []
    if facts.law_enforcement:
        return [
            Message(
                "article6_missing_part3",
                "legal_basis",
                WARNING,
                f"No UK GDPR Article 6 basis is chosen: that is right only if every party "
                f"processes the data under DPA 2018 Part 3 (law enforcement); otherwise choose "
                f"the Article 6 basis in {_in('legal_basis')}.",
            )
        ]
    return [
        Message(
            "article6_missing",
            "legal_basis",
            BLOCKING,
            f"Personal data is shared but no UK GDPR Article 6 basis is chosen: choose at "
            f"least one Article 6(1) basis in {_in('legal_basis')}.",
        )
    ]


def special_without_article9(facts: AgreementFacts) -> list[Message]:
    if SPECIAL not in facts.categories or facts.article9:
        return []
    return [
        Message(
            "special_without_article9",
            "legal_basis",
            BLOCKING,
            f"The information includes special category data but no UK GDPR Article 9 "
            f"condition is chosen: choose one in {_in('legal_basis')}.",
        )
    ]


def _schedule1_wanted(letters: Iterable[str]) -> str:
    """Each Article 9 condition with the Schedule 1 paragraphs it takes, for example
    "9(2)(h) Health or social care (paragraph 2)"."""
    parts = []
    for letter in letters:
        condition = legal.ARTICLE_9[letter]
        paragraphs = condition.schedule1
        if len(paragraphs) == 1:
            which = f"paragraph {paragraphs[0]}"
        elif paragraphs == legal.SCHEDULE_1_PART_2:
            which = "a Part 2 paragraph"
        else:
            which = f"one of paragraphs {_names(paragraphs)}"
        parts.append(f"{condition.label} ({which})")
    return _names(parts)


def schedule1_missing(facts: AgreementFacts) -> list[Message]:
    if SPECIAL not in facts.categories or not _blank(facts.schedule1_condition):
        return []
    letters = legal.needs_schedule1(facts.article9)
    if not letters:
        return []
    return [
        Message(
            "schedule1_missing",
            "legal_basis",
            BLOCKING,
            f"{_schedule1_wanted(letters)} {'needs' if len(letters) == 1 else 'need'} a DPA "
            f"2018 Schedule 1 condition as well: choose it in {_in('legal_basis')}.",
        )
    ]


def schedule1_mismatch(facts: AgreementFacts) -> list[Message]:
    """A Schedule 1 Part 1 or Part 2 paragraph that none of the chosen Article 9 conditions
    goes with (free-text conditions are not second-guessed)."""
    paragraph = facts.schedule1_condition.strip()
    condition = legal.SCHEDULE_1.get(paragraph)
    letters = legal.needs_schedule1(facts.article9)
    if SPECIAL not in facts.categories or condition is None or condition.part == 3:
        return []
    if not letters or any(paragraph in legal.ARTICLE_9[x].schedule1 for x in letters):
        return []
    return [
        Message(
            "schedule1_mismatch",
            "legal_basis",
            WARNING,
            f"{condition.label} does not go with {_schedule1_wanted(letters)}: correct the "
            f"Schedule 1 condition or the Article 9 condition in {_in('legal_basis')}.",
        )
    ]


def criminal_without_basis(facts: AgreementFacts) -> list[Message]:
    if CRIMINAL not in facts.categories or facts.article10 or facts.law_enforcement:
        return []
    return [
        Message(
            "criminal_without_basis",
            "legal_basis",
            BLOCKING,
            f"The information includes criminal offence data but neither Article 10 with a "
            f"DPA 2018 Schedule 1 condition nor DPA 2018 Part 3 (law enforcement) is chosen: "
            f"choose the one that applies in {_in('legal_basis')}.",
        )
    ]


def common_law_duty_not_confirmed(facts: AgreementFacts) -> list[Message]:
    """Health data with the common law duty of confidentiality left at "not applicable":
    health and care information is usually given in confidence, so that is to be confirmed
    rather than assumed."""
    if HEALTH not in facts.special_types or not _blank(facts.common_law_basis):
        return []
    return [
        Message(
            "common_law_duty_not_confirmed",
            "legal_basis",
            WARNING,
            f"The information includes health data but the common law duty of "
            f"confidentiality is not answered: choose the basis for setting the duty aside "
            f"(consent, an overriding public interest or a legal requirement), or confirm that "
            f"it does not apply because none of it was given in confidence, in "
            f"{_in('legal_basis')}.",
        )
    ]


def consent_not_recorded(facts: AgreementFacts) -> list[Message]:
    if not _blank(facts.consent_recording):
        return []
    relied_on = []
    if "a" in facts.article6:
        relied_on.append("consent (6(1)(a))")
    if "a" in facts.article9:
        relied_on.append("explicit consent (9(2)(a))")
    if not relied_on:
        return []
    return [
        Message(
            "consent_not_recorded",
            "legal_basis",
            BLOCKING,
            f"The sharing relies on {_names(relied_on)} but the agreement does not say how "
            f"consent is obtained and recorded: describe it in {_in('legal_basis')}.",
        )
    ]


def legitimate_interests_assessment_missing(facts: AgreementFacts) -> list[Message]:
    if "f" not in facts.article6 or not _blank(facts.legitimate_interests_assessment):
        return []
    return [
        Message(
            "legitimate_interests_assessment_missing",
            "legal_basis",
            BLOCKING,
            f"The sharing relies on legitimate interests (6(1)(f)) but no legitimate interests "
            f"assessment is referenced: add its reference in {_in('legal_basis')}.",
        )
    ]


def legitimate_interests_public_authority(facts: AgreementFacts) -> list[Message]:
    public = [party.name for party in facts.parties if party.is_public_authority]
    if "f" not in facts.article6 or not public:
        return []
    verb = "is a public authority" if len(public) == 1 else "are public authorities"
    return [
        Message(
            "legitimate_interests_public_authority",
            "legal_basis",
            WARNING,
            f"{_names(public)} {verb}, and a public authority cannot rely on legitimate "
            f"interests (6(1)(f)) for its public tasks: use public task (6(1)(e)) for that "
            f"part of the sharing in {_in('legal_basis')}.",
        )
    ]


# Responsibilities of the parties.


def joint_contact_point_missing(facts: AgreementFacts) -> list[Message]:
    joint = [party.name for party in facts.parties if party.role == JOINT_CONTROLLER]
    if not joint or not _blank(facts.joint_contact_point):
        return []
    role = "is a joint controller" if len(joint) == 1 else "are joint controllers"
    return [
        Message(
            "joint_contact_point_missing",
            "responsibilities",
            BLOCKING,
            f"{_names(joint)} {role} but no single contact point for the people whose data is "
            f"shared is named: name it in {_in('responsibilities')}.",
        )
    ]


def processor_contract_missing(facts: AgreementFacts) -> list[Message]:
    processors = [party.name for party in facts.parties if party.role == PROCESSOR]
    if not processors or not _blank(facts.processor_contract):
        return []
    role = "acts as a processor" if len(processors) == 1 else "act as processors"
    return [
        Message(
            "processor_contract_missing",
            "responsibilities",
            BLOCKING,
            f"{_names(processors)} {role} but no processor contract (UK GDPR Article 28) is "
            f"referenced: add its reference in {_in('responsibilities')}.",
        )
    ]


# International transfers.


def transfer_safeguard_missing(facts: AgreementFacts) -> list[Message]:
    if not facts.international_transfers or not _blank(facts.transfer_safeguard):
        return []
    return [
        Message(
            "transfer_safeguard_missing",
            "transfers",
            BLOCKING,
            f"The data is transferred outside the UK but no safeguard is recorded (such as UK "
            f"adequacy regulations or the International Data Transfer Agreement): record it in "
            f"{_in('transfers')}.",
        )
    ]


# Retention and disposal.


def retention_missing(facts: AgreementFacts) -> list[Message]:
    if not _blank(facts.retention_period):
        return []
    return [
        Message(
            "retention_missing",
            "retention",
            BLOCKING,
            f"No retention period is set: say how long the shared data is kept and how it is "
            f"disposed of in {_in('retention')}.",
        )
    ]


# Data subject rights.


def right_unticked_without_reason(facts: AgreementFacts) -> list[Message]:
    """A right that applies to the sharing, left unticked on the rights page with no reason
    (also after a change of basis, or of the automated decisions, made it apply)."""
    if facts.rights is None:
        return []
    outcomes = rights_for(facts.article6, automated_decisions=not _blank(facts.automated_decisions))
    return [
        Message(
            "right_unticked_without_reason",
            "rights",
            BLOCKING,
            f"“{outcome.title}” applies to this sharing but is not ticked, and no reason is "
            f"given: tick it, or say why it does not apply, in {_in('rights')}.",
        )
        for outcome in outcomes
        if outcome.applies
        and outcome.key not in facts.rights
        and _blank(facts.rights_reasons.get(outcome.key, ""))
    ]


# Personal data breaches.


def partner_breach_hours_missing(facts: AgreementFacts) -> list[Message]:
    if facts.partner_breach_hours is not None:
        return []
    return [
        Message(
            "partner_breach_hours_missing",
            "breaches",
            BLOCKING,
            f"The number of hours within which partners must be told of a breach is not set: "
            f"set it (usually 48) in {_in('breaches')}.",
        )
    ]


def ico_breach_hours_missing(facts: AgreementFacts) -> list[Message]:
    if facts.ico_breach_hours is not None:
        return []
    return [
        Message(
            "ico_breach_hours_missing",
            "breaches",
            BLOCKING,
            f"The number of hours within which the ICO must be told of a notifiable breach is "
            f"not set: set it (at most {ICO_DEADLINE_HOURS}) in {_in('breaches')}.",
        )
    ]


def ico_breach_hours_too_long(facts: AgreementFacts) -> list[Message]:
    hours = facts.ico_breach_hours
    if hours is None or hours <= ICO_DEADLINE_HOURS:
        return []
    return [
        Message(
            "ico_breach_hours_too_long",
            "breaches",
            BLOCKING,
            f"The ICO must be told of a notifiable breach within {ICO_DEADLINE_HOURS} hours of "
            f"its detection, but the agreement allows {hours}: set {ICO_DEADLINE_HOURS} hours "
            f"or fewer in {_in('breaches')}.",
        )
    ]


def partners_told_after_ico(facts: AgreementFacts) -> list[Message]:
    partner, ico = facts.partner_breach_hours, facts.ico_breach_hours
    if partner is None or ico is None or partner <= ico:
        return []
    return [
        Message(
            "partners_told_after_ico",
            "breaches",
            WARNING,
            f"Partners are to be told of a breach within {partner} hours, later than the ICO "
            f"({ico} hours), so they cannot be consulted on notifying it: shorten the partners' "
            f"time in {_in('breaches')}.",
        )
    ]


# Commencement and review.


def review_date_missing(facts: AgreementFacts) -> list[Message]:
    if facts.review_date is not None:
        return []
    return [
        Message(
            "review_date_missing",
            "commencement",
            BLOCKING,
            f"No review date is set: set one in {_in('commencement')}.",
        )
    ]


def review_date_in_past(facts: AgreementFacts) -> list[Message]:
    today = _today(facts)
    if facts.review_date is None or facts.review_date >= today:
        return []
    return [
        Message(
            "review_date_in_past",
            "commencement",
            BLOCKING,
            f"The review date, {_long_date(facts.review_date)}, is in the past: set a date "
            f"from today, {_long_date(today)}, onwards in {_in('commencement')}.",
        )
    ]


def review_date_before_start(facts: AgreementFacts) -> list[Message]:
    """A review on or before the start date (one in the past has its own message)."""
    review, start = facts.review_date, facts.start_date
    if review is None or start is None or review > start or review < _today(facts):
        return []
    return [
        Message(
            "review_date_before_start",
            "commencement",
            BLOCKING,
            f"The review date, {_long_date(review)}, is not after the start date, "
            f"{_long_date(start)}: set a review date after the agreement starts in "
            f"{_in('commencement')}.",
        )
    ]


def review_date_too_far(facts: AgreementFacts) -> list[Message]:
    """A review later than the template allows after the agreement comes into force: the
    start date, or today while that is later or not set."""
    if facts.review_date is None:
        return []
    today = _today(facts)
    start = max(today, facts.start_date) if facts.start_date else today
    latest = _years_after(start, MAX_REVIEW_YEARS)
    if facts.review_date <= latest:
        return []
    since = "today" if start == today else f"the start date, {_long_date(start)}"
    return [
        Message(
            "review_date_too_far",
            "commencement",
            BLOCKING,
            f"The review date, {_long_date(facts.review_date)}, is more than "
            f"{MAX_REVIEW_YEARS} years after {since}, the longest the template allows: bring "
            f"it forward to {_long_date(latest)} or earlier in {_in('commencement')}.",
        )
    ]


# Every section.


def section_text_missing(facts: AgreementFacts) -> list[Message]:
    """A section whose text holds the parties' terms, left empty (whatever its tick)."""
    return [
        Message(
            "section_text_missing",
            key,
            BLOCKING,
            f"{_in(key)} has no text: write what the parties agree in it; marking it as "
            f"completed is not enough.",
        )
        for key in SECTION_KEYS
        if key in TEXT_REQUIRED and _blank(facts.section_texts.get(key, ""))
    ]


def placeholders_left(facts: AgreementFacts) -> list[Message]:
    """A section whose text still holds the template's placeholders (whatever its tick)."""
    messages = []
    for key in SECTION_KEYS:
        found = placeholders_in(facts.section_texts.get(key, ""))
        if not found:
            continue
        several = len(found) > 1
        messages.append(
            Message(
                "placeholder_left",
                key,
                BLOCKING,
                f"{_in(key)} still has the template's placeholder{'s' if several else ''} "
                f"{_names(f'“{phrase}”' for phrase in found)}: replace "
                f"{'them' if several else 'it'} with what the parties actually do.",
            )
        )
    return messages


def sections_not_completed(facts: AgreementFacts) -> list[Message]:
    messages = []
    for key in SECTION_KEYS:
        state = facts.section_states.get(key)
        if state == COMPLETED:
            continue
        now = "it is still in progress" if state == IN_PROGRESS else "it has not been started"
        messages.append(
            Message("section_not_completed", key, BLOCKING, f"Mark {_in(key)} as completed: {now}.")
        )
    return messages


# Every rule, in the order of the sections they concern. check() sorts by section anyway.
RULES: tuple[Rule, ...] = (
    too_few_parties,
    party_contacts_missing,
    dpia_missing,
    no_data_items,
    article6_missing,
    special_without_article9,
    schedule1_missing,
    schedule1_mismatch,
    criminal_without_basis,
    common_law_duty_not_confirmed,
    consent_not_recorded,
    legitimate_interests_assessment_missing,
    legitimate_interests_public_authority,
    joint_contact_point_missing,
    processor_contract_missing,
    right_unticked_without_reason,
    transfer_safeguard_missing,
    retention_missing,
    partner_breach_hours_missing,
    ico_breach_hours_missing,
    ico_breach_hours_too_long,
    partners_told_after_ico,
    review_date_missing,
    review_date_in_past,
    review_date_before_start,
    review_date_too_far,
    section_text_missing,
    placeholders_left,
    sections_not_completed,
)

_SECTION_ORDER = {key: index for index, key in enumerate(SECTION_KEYS)}


def check(facts: AgreementFacts) -> list[Message]:
    """Every message of every rule, in section order (rule order within a section)."""
    messages = [message for rule in RULES for message in rule(facts)]
    return sorted(messages, key=lambda message: _SECTION_ORDER[message.section])


def blocking(messages: Iterable[Message]) -> list[Message]:
    return [message for message in messages if message.severity == BLOCKING]


def warnings(messages: Iterable[Message]) -> list[Message]:
    return [message for message in messages if message.severity == WARNING]


def by_section(messages: Iterable[Message]) -> dict[str, list[Message]]:
    """Messages grouped by section key, sections in template order, empty sections left out."""
    grouped: dict[str, list[Message]] = {}
    for message in sorted(messages, key=lambda message: _SECTION_ORDER[message.section]):
        grouped.setdefault(message.section, []).append(message)
    return grouped


def blocking_in_section(facts: AgreementFacts, key: str) -> list[Message]:
    """What still blocks the section `key` itself, apart from its not being completed: a
    section with any of these cannot be marked as completed."""
    return [
        message
        for message in blocking(check(facts))
        if message.section == key and message.code != "section_not_completed"
    ]


def can_send_for_signature(facts: AgreementFacts) -> bool:
    return not blocking(check(facts))
