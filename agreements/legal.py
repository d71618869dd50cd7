"""The legal-basis library: UK GDPR Articles 6, 9 and 10, DPA 2018 Schedule 1 and Part 3, and
the common law duty of confidentiality, as plain data.

Drafting pages offer these as choices and show the explanations as guidance; the drafting
rules (agreements/rules.py) read them to decide what else an agreement must record. The
wording is Accord's own plain-English summary, not legal text: it points the IG officer to the
right provision, and the ICO's guidance and the legislation itself remain the authority.

Keys:
- Article 6 and Article 9 choices are keyed by their letter ("e", "h"), as in
  agreements.facts.ARTICLE_6 and ARTICLE_9.
- Schedule 1 conditions are keyed by their paragraph number as a string ("2", "18", "29"):
  paragraph numbers are unique across the whole Schedule, so the key also says the Part.
- Common law bases are keyed as in agreements.models.CommonLawBasis.
- Rights are keyed as in agreements.facts.RIGHTS.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from .facts import RIGHTS


class Article6Basis(NamedTuple):
    label: str  # "6(1)(e) Public task"
    explanation: str  # one plain-English sentence


class Article9Condition(NamedTuple):
    label: str  # "9(2)(h) Health or social care"
    explanation: str
    schedule1: tuple[str, ...]  # Schedule 1 paragraphs that go with it; () if none is needed


class Schedule1Condition(NamedTuple):
    part: int  # 1, 2 or 3
    label: str  # "Schedule 1 paragraph 2: Health or social care purposes"
    explanation: str


class Article10Basis(NamedTuple):
    label: str
    explanation: str
    schedule1: tuple[str, ...]  # the extra Part 3 conditions (Parts 1 and 2 also serve)


class Basis(NamedTuple):
    label: str
    explanation: str


# UK GDPR Article 6(1): the lawful basis for processing any personal data.
ARTICLE_6: dict[str, Article6Basis] = {
    "a": Article6Basis(
        "6(1)(a) Consent",
        "Each person has freely given a clear, specific and informed agreement to this use of "
        "their data and can take it back at any time; it rarely suits a public body, because "
        "people may feel unable to refuse it.",
    ),
    "b": Article6Basis(
        "6(1)(b) Contract",
        "The sharing is needed to carry out a contract with the person, or to take steps they "
        "have asked for before entering into one.",
    ),
    "c": Article6Basis(
        "6(1)(c) Legal obligation",
        "The sharing is needed to meet a specific duty placed on the organisation by law (not "
        "by a contract), and the agreement should name that law.",
    ),
    "d": Article6Basis(
        "6(1)(d) Vital interests",
        "The sharing is needed to protect someone's life, usually in an emergency, when no "
        "other basis can reasonably be used.",
    ),
    "e": Article6Basis(
        "6(1)(e) Public task",
        "The sharing is needed to perform a task in the public interest or an official "
        "function that has a clear basis in law, which is the usual basis for public bodies.",
    ),
    "f": Article6Basis(
        "6(1)(f) Legitimate interests",
        "The sharing is needed for a genuine interest of the organisation or a third party and "
        "the person's own interests and rights do not outweigh it, but a public authority "
        "cannot use it for its public tasks.",
    ),
}

# DPA 2018 Schedule 1 Part 1: conditions for employment, health and research purposes.
# Part 2: substantial public interest conditions (the ones partnerships use most; Part 2 has
# paragraphs 6 to 28). Part 3: the extra conditions for criminal offence data.
SCHEDULE_1: dict[str, Schedule1Condition] = {
    "1": Schedule1Condition(
        1,
        "Schedule 1 paragraph 1: Employment, social security and social protection",
        "The processing is needed to meet a duty or use a right that employment, social "
        "security or social protection law gives the organisation or the person, and an "
        "appropriate policy document is in place.",
    ),
    "2": Schedule1Condition(
        1,
        "Schedule 1 paragraph 2: Health or social care purposes",
        "The processing is for health or social care purposes, such as assessment, diagnosis, "
        "treatment or the running of services, and is done by or under the responsibility of "
        "a health or social work professional or someone else who owes a duty of "
        "confidentiality.",
    ),
    "3": Schedule1Condition(
        1,
        "Schedule 1 paragraph 3: Public health",
        "The processing is needed for reasons of public health and is done by or under the "
        "responsibility of a health professional or someone else who owes a duty of "
        "confidentiality.",
    ),
    "4": Schedule1Condition(
        1,
        "Schedule 1 paragraph 4: Research, statistics and archiving",
        "The processing is needed for archiving, scientific or historical research or "
        "statistics, is in the public interest and follows the safeguards of Article 89(1) "
        "and section 19 of the DPA 2018.",
    ),
    "6": Schedule1Condition(
        2,
        "Schedule 1 paragraph 6: Statutory and government purposes",
        "The processing is needed, for reasons of substantial public interest, to carry out a "
        "function given by law or a function of the Crown, a minister or a government "
        "department.",
    ),
    "8": Schedule1Condition(
        2,
        "Schedule 1 paragraph 8: Equality of opportunity or treatment",
        "The processing is needed to find or keep under review whether people of different "
        "groups get equal opportunity or treatment, so that equality can be promoted or kept.",
    ),
    "10": Schedule1Condition(
        2,
        "Schedule 1 paragraph 10: Preventing or detecting unlawful acts",
        "The processing is needed, for reasons of substantial public interest, to prevent or "
        "detect an unlawful act, and asking the person's consent would undermine that aim.",
    ),
    "11": Schedule1Condition(
        2,
        "Schedule 1 paragraph 11: Protecting the public",
        "The processing is needed, for reasons of substantial public interest, to protect the "
        "public from dishonesty, malpractice, seriously improper conduct, unfitness, "
        "incompetence or mismanagement, and asking consent would undermine that protection.",
    ),
    "12": Schedule1Condition(
        2,
        "Schedule 1 paragraph 12: Regulatory requirements",
        "The processing is needed, for reasons of substantial public interest, to meet or help "
        "another body meet a regulatory requirement to find out whether someone has acted "
        "unlawfully or dishonestly, where consent cannot reasonably be sought.",
    ),
    "16": Schedule1Condition(
        2,
        "Schedule 1 paragraph 16: Support for people with a particular disability or "
        "medical condition",
        "A not-for-profit body that supports people with a particular disability or medical "
        "condition needs the processing to raise awareness or give support, and consent "
        "cannot reasonably be obtained.",
    ),
    "18": Schedule1Condition(
        2,
        "Schedule 1 paragraph 18: Safeguarding of children and of individuals at risk",
        "The processing is needed to protect a child or an adult at risk from neglect or "
        "physical, mental or emotional harm, or to protect their well-being, where consent "
        "cannot be given, cannot reasonably be obtained or would put that protection at risk.",
    ),
    "29": Schedule1Condition(
        3,
        "Schedule 1 paragraph 29: Consent",
        "The person has consented to the processing of the information about their offences "
        "or convictions.",
    ),
    "30": Schedule1Condition(
        3,
        "Schedule 1 paragraph 30: Protecting someone's vital interests",
        "The processing is needed to protect someone's life and the person cannot give consent.",
    ),
    "31": Schedule1Condition(
        3,
        "Schedule 1 paragraph 31: Not-for-profit bodies",
        "A not-for-profit body with a political, philosophical, religious or trade union aim "
        "processes information about its members or regular contacts and keeps it within the "
        "body.",
    ),
    "32": Schedule1Condition(
        3,
        "Schedule 1 paragraph 32: Made public by the person",
        "The person has deliberately made the information public themselves.",
    ),
    "33": Schedule1Condition(
        3,
        "Schedule 1 paragraph 33: Legal claims",
        "The processing is needed for legal proceedings, for legal advice or to establish, "
        "use or defend legal rights.",
    ),
    "34": Schedule1Condition(
        3,
        "Schedule 1 paragraph 34: Judicial acts",
        "A court or tribunal does the processing when acting in its judicial capacity.",
    ),
    "35": Schedule1Condition(
        3,
        "Schedule 1 paragraph 35: Accounts used for indecency offences involving children",
        "The processing concerns a payment card account used in an offence involving indecent "
        "images of children and is needed to administer that account.",
    ),
    "36": Schedule1Condition(
        3,
        "Schedule 1 paragraph 36: Part 2 conditions without the substantial public interest",
        "The processing meets one of the Part 2 conditions apart from its requirement of "
        "substantial public interest.",
    ),
    "37": Schedule1Condition(
        3,
        "Schedule 1 paragraph 37: Insurance",
        "The insurance condition of Part 2 (paragraph 20) applies to the information about "
        "offences or convictions.",
    ),
}

SCHEDULE_1_PART_1: tuple[str, ...] = tuple(k for k, c in SCHEDULE_1.items() if c.part == 1)
SCHEDULE_1_PART_2: tuple[str, ...] = tuple(k for k, c in SCHEDULE_1.items() if c.part == 2)
SCHEDULE_1_PART_3: tuple[str, ...] = tuple(k for k, c in SCHEDULE_1.items() if c.part == 3)

APPROPRIATE_POLICY_DOCUMENT = (
    "Paragraph 1 and most Part 2 and Part 3 conditions also need an appropriate policy "
    "document: a short record of how the organisation complies with the data protection "
    "principles and how long it keeps the data."
)

# UK GDPR Article 9(2): the condition for processing special category data. It comes on top
# of an Article 6 basis; (b), (g), (h), (i) and (j) also need a DPA 2018 Schedule 1 condition.
ARTICLE_9: dict[str, Article9Condition] = {
    "a": Article9Condition(
        "9(2)(a) Explicit consent",
        "Each person has given explicit consent, confirmed in a clear statement, to this use "
        "of their special category data.",
        (),
    ),
    "b": Article9Condition(
        "9(2)(b) Employment, social security and social protection",
        "The processing is needed to meet duties or use rights under employment, social "
        "security or social protection law.",
        ("1",),
    ),
    "c": Article9Condition(
        "9(2)(c) Vital interests",
        "The processing is needed to protect someone's life when the person is physically or "
        "legally unable to give consent.",
        (),
    ),
    "d": Article9Condition(
        "9(2)(d) Not-for-profit bodies",
        "A charity, trade union or other not-for-profit body with a political, philosophical, "
        "religious or trade union aim processes data about its members or regular contacts "
        "and does not pass it on without their consent.",
        (),
    ),
    "e": Article9Condition(
        "9(2)(e) Made public by the person",
        "The person has deliberately and plainly made the information public themselves.",
        (),
    ),
    "f": Article9Condition(
        "9(2)(f) Legal claims or judicial acts",
        "The processing is needed to establish, bring or defend legal claims, or is done by a "
        "court acting in its judicial capacity.",
        (),
    ),
    "g": Article9Condition(
        "9(2)(g) Substantial public interest",
        "The processing is needed for a reason of substantial public interest that UK law sets "
        "out, which means one of the conditions in Part 2 of Schedule 1 to the DPA 2018.",
        SCHEDULE_1_PART_2,
    ),
    "h": Article9Condition(
        "9(2)(h) Health or social care",
        "The processing is needed for preventive or occupational medicine, diagnosis, care or "
        "treatment, or managing health or social care services, by or under the "
        "responsibility of a professional who owes a duty of confidentiality.",
        ("2",),
    ),
    "i": Article9Condition(
        "9(2)(i) Public health",
        "The processing is needed for public health reasons, such as guarding against serious "
        "threats to health or keeping health care, medicines and medical devices safe and of "
        "high quality.",
        ("3",),
    ),
    "j": Article9Condition(
        "9(2)(j) Archiving, research and statistics",
        "The processing is needed for archiving in the public interest, scientific or "
        "historical research or statistics, with safeguards for the people concerned.",
        ("4",),
    ),
}

# UK GDPR Article 10: criminal offence data.
ARTICLE_10 = Article10Basis(
    "Article 10 Criminal offence data",
    "Information about criminal allegations, proceedings, offences or convictions may be "
    "processed only under official authority or where UK law allows it, which means an "
    "Article 6 basis plus a condition in Schedule 1 to the DPA 2018: any Part 1 or Part 2 "
    "condition, or one of the extra Part 3 conditions.",
    SCHEDULE_1_PART_3,
)

# DPA 2018 Part 3: law enforcement processing.
LAW_ENFORCEMENT = Basis(
    "DPA 2018 Part 3 (law enforcement)",
    "A competent authority, such as a police force or another body given law enforcement "
    "functions by law, that processes data to prevent, investigate, detect or prosecute "
    "crime or carry out criminal penalties does so under Part 3 of the DPA 2018 instead of "
    "the UK GDPR, and its sensitive processing needs a Schedule 8 condition.",
)

# The common law duty of confidentiality (health and care information given in confidence):
# data protection law does not set it aside, so the agreement records how it is met.
COMMON_LAW_BASES: dict[str, Basis] = {
    "consent": Basis(
        "Consent (implied or explicit)",
        "Implied consent covers sharing within a person's direct care that they have been told "
        "about and can reasonably expect, while anything else needs their explicit agreement, "
        "given orally or in writing, knowing what is shared, with whom and why.",
    ),
    "public_interest": Basis(
        "Overriding public interest",
        "Sharing without consent is justified when the public interest in it, such as "
        "preventing serious harm or serious crime, outweighs both the person's interest and "
        "the public interest in keeping confidences, decided case by case with the reasons "
        "written down.",
    ),
    "legal_requirement": Basis(
        "Legal requirement or court order",
        "A law requires the disclosure or a court has ordered it, so the duty of confidence "
        "does not stand in the way, provided only what the law or order covers is shared.",
    ),
    "not_confidential": Basis(
        "Does not apply: none of the information was given in confidence",
        "The parties have checked that, although health or care information is shared, none "
        "of it was given in confidence (for example, it is already public or was collected "
        "for this sharing with the person's knowledge).",
    ),
}

# Where each right the agreement records is found in UK GDPR ("" for the requests for
# information, which come from the Freedom of Information Act 2000 and the Environmental
# Information Regulations 2004 that their label names).
RIGHT_PROVISIONS: dict[str, str] = {
    "informed": "Articles 13 and 14",
    "access": "Article 15",
    "rectification": "Article 16",
    "erasure": "Article 17",
    "restriction": "Article 18",
    "notification": "Article 19",
    "portability": "Article 20",
    "objection": "Article 21",
    "automated": "Article 22",
    "withdraw_consent": "Article 7(3)",
    "foi_eir": "",
}

# Each right with its provision, as the rights page and the agreement's rights table show it:
# "Article 15 Right of access".
RIGHT_TITLES: dict[str, str] = {
    key: f"{RIGHT_PROVISIONS[key]} {label}".strip() for key, label in RIGHTS
}

ARTICLE_6_CHOICES: tuple[tuple[str, str], ...] = tuple((k, b.label) for k, b in ARTICLE_6.items())
ARTICLE_9_CHOICES: tuple[tuple[str, str], ...] = tuple((k, c.label) for k, c in ARTICLE_9.items())
COMMON_LAW_CHOICES: tuple[tuple[str, str], ...] = tuple(
    (k, b.label) for k, b in COMMON_LAW_BASES.items()
)


def needs_schedule1(article9: Iterable[str]) -> tuple[str, ...]:
    """The chosen Article 9 letters that need a Schedule 1 condition, in letter order."""
    chosen = set(article9)
    return tuple(letter for letter, c in ARTICLE_9.items() if letter in chosen and c.schedule1)


def schedule1_choices(article9: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """Schedule 1 conditions to offer for the chosen Article 9 letters (all of Parts 1 and 2
    when none of them narrows the list), as (paragraph, label) pairs in paragraph order."""
    keys = {key for letter in needs_schedule1(article9) for key in ARTICLE_9[letter].schedule1}
    if not keys:
        keys = set(SCHEDULE_1_PART_1 + SCHEDULE_1_PART_2)
    return tuple((k, c.label) for k, c in SCHEDULE_1.items() if k in keys)
