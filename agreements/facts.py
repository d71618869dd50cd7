"""The facts of an agreement that the drafting rules read (see agreements/rules.py).

Plain data, so the rules are pure functions that are easy to test exhaustively; the models
build one with `Agreement.facts()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

# Section keys, in the order of the default template (seed 002's structure and the ICO's
# data sharing code).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary sheet"),
    ("version_control", "Version control"),
    ("supporting_documents", "Supporting documents"),
    ("purpose", "Purpose"),
    ("information", "Information to be shared"),
    ("legal_basis", "Legal basis"),
    ("responsibilities", "Responsibilities of the parties"),
    ("rights", "Data subject rights"),
    ("security", "Security"),
    ("transfers", "International transfers"),
    ("format_frequency", "Format and frequency of sharing"),
    ("retention", "Retention and disposal"),
    ("accuracy", "Accuracy of information"),
    ("breaches", "Personal data breaches"),
    ("complaints", "Complaints and requests"),
    ("commencement", "Commencement and review"),
    ("withdrawal", "Withdrawal and termination"),
    ("approval", "Approval"),
)
SECTION_KEYS = tuple(key for key, _ in SECTIONS)

ARTICLE_6 = ("a", "b", "c", "d", "e", "f")  # UK GDPR Article 6(1)(a)-(f)
ARTICLE_9 = ("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")  # Article 9(2)(a)-(j)

# Data item categories.
PERSONAL = "personal"
SPECIAL = "special"
# The kind of special category data that is health data (models.SpecialCategoryType).
HEALTH = "health"
CRIMINAL = "criminal"
PSEUDONYMISED = "pseudonymised"
ANONYMISED = "anonymised"

# Party roles.
SOLE_CONTROLLER = "sole_controller"
JOINT_CONTROLLER = "joint_controller"
PROCESSOR = "processor"
RECIPIENT = "recipient"

# Section states.
NOT_STARTED = "not_started"
IN_PROGRESS = "in_progress"
COMPLETED = "completed"

# What the agreement records about people's rights: the rights of data subjects (UK GDPR
# Articles 13-22, and withdrawing consent, Article 7(3)), then how the parties answer requests
# for information under the Freedom of Information Act 2000 and the Environmental Information
# Regulations 2004. The provision of each is in agreements.legal.RIGHT_PROVISIONS.
RIGHTS: tuple[tuple[str, str], ...] = (
    ("informed", "Right to be informed"),
    ("access", "Right of access"),
    ("rectification", "Right to rectification"),
    ("erasure", "Right to erasure"),
    ("restriction", "Right to restrict processing"),
    ("notification", "Notification of rectification, erasure or restriction"),
    ("portability", "Right to data portability"),
    ("objection", "Right to object"),
    ("automated", "Rights related to automated decision-making"),
    ("withdraw_consent", "Right to withdraw consent"),
    (
        "foi_eir",
        "Requests under the Freedom of Information Act 2000 or the Environmental Information "
        "Regulations 2004",
    ),
)


@dataclass(frozen=True)
class Party:
    name: str
    role: str  # one of the party roles above
    is_public_authority: bool
    # The contact details the summary sheet gives for the party, from its organisation
    # record ("" when not recorded): the parties reach each other there about a breach.
    address: str = ""
    phone: str = ""
    email: str = ""  # the data protection e-mail, once confirmed from itself
    dpo_name: str = ""


@dataclass(frozen=True)
class AgreementFacts:
    parties: tuple[Party, ...] = ()
    categories: frozenset[str] = frozenset()  # categories of the data items
    special_types: frozenset[str] = frozenset()  # kinds of the special category data items
    article6: frozenset[str] = frozenset()  # letters of Article 6(1)
    article9: frozenset[str] = frozenset()  # letters of Article 9(2)
    schedule1_condition: str = ""  # DPA 2018 Schedule 1 condition relied on
    article10: bool = False  # criminal offence data under Article 10 + Schedule 1 Part 3
    law_enforcement: bool = False  # DPA 2018 Part 3 processing
    common_law_basis: str = ""  # how the common law duty of confidentiality is met ("" n/a)
    consent_recording: str = ""  # how consent is obtained and recorded
    legitimate_interests_assessment: str = ""  # reference of the assessment
    joint_contact_point: str = ""  # single point of contact for joint controllers
    processor_contract: str = ""  # reference of the processor contract
    international_transfers: bool = False
    transfer_safeguard: str = ""
    retention_period: str = ""
    dpia_reference: str = ""
    # The partnership's template asks for a DPIA whenever special category data (such as
    # health data) is shared: its policy, beyond what UK GDPR Article 35 requires.
    dpia_for_special_category: bool = True
    large_scale: bool = False
    new_technology: bool = False
    start_date: date | None = None  # when the agreement comes into force, if set
    review_date: date | None = None
    today: date | None = None
    partner_breach_hours: int | None = None
    ico_breach_hours: int | None = None
    section_states: dict[str, str] = field(default_factory=dict)  # key -> section state
    section_texts: dict[str, str] = field(default_factory=dict)  # key -> the section's text
    # Rights: the keys ticked on the rights page, or None until someone confirms them (the
    # rules' suggestion applies meanwhile); why each suggested right left unticked does not
    # apply (key -> reason); and any decision made about people solely by automated means.
    rights: frozenset[str] | None = None
    rights_reasons: dict[str, str] = field(default_factory=dict)
    automated_decisions: str = ""
