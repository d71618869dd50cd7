"""Accord's default ISA template: the sections of a project-specific information sharing
agreement, with guidance for the people drafting it and default wording.

The structure follows a completed agreement between a county council and a care provider (a
summary sheet, then fifteen numbered sections) and the ICO's data sharing code of practice.
The wording is Accord's own. A partnership's default template is copied from this the first
time it is needed; the partnership may then change its copy, and every agreement copies the
template again when it is created, so neither change reaches an existing agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .facts import SECTIONS

DEFAULT_TEMPLATE_NAME = "Accord information sharing agreement"

# The placeholders the default wording leaves for the people drafting to replace, written in
# the text in italics (*describe the transfer method*). An agreement whose text still holds
# one is not complete (agreements/rules.py).
TRANSFER_METHOD = "describe the transfer method"
SHARING_FORMAT = "how the information is shared"
SHARING_FREQUENCY = "how often it is shared"
PLACEHOLDERS: tuple[str, ...] = (TRANSFER_METHOD, SHARING_FORMAT, SHARING_FREQUENCY)

# The sections whose own text holds the parties' terms, so it must be written (and free of
# placeholders) before the agreement is complete. The other sections are recorded in fields
# and tables (the parties, supporting documents, data items, legal basis, transfers), their
# text optional.
TEXT_REQUIRED: frozenset[str] = frozenset(
    {
        "purpose",
        "responsibilities",
        "rights",
        "security",
        "format_frequency",
        "retention",
        "accuracy",
        "breaches",
        "complaints",
        "commencement",
        "withdrawal",
        "approval",
    }
)

# The longest time from the agreement coming into force to its next review, as the guidance
# of "Commencement and review" says: a later review date is not accepted.
REVIEW_WITHIN_YEARS = 3
_YEARS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def _placeholder_pattern(phrase: str) -> re.Pattern[str]:
    """A placeholder still in the text: in italics (*phrase* or _phrase_), or left as the whole
    answer after a colon with its italics removed ("Format: how the information is shared")."""
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return re.compile(
        rf"[*_]\s*{words}\s*[*_]|:[ \t]*{words}[ \t]*\.?[ \t]*$", re.IGNORECASE | re.MULTILINE
    )


_PLACEHOLDER_PATTERNS = {phrase: _placeholder_pattern(phrase) for phrase in PLACEHOLDERS}


def placeholders_in(text: str) -> tuple[str, ...]:
    """The template's placeholders still in a section's text, in the order of PLACEHOLDERS."""
    return tuple(
        phrase for phrase, pattern in _PLACEHOLDER_PATTERNS.items() if pattern.search(text or "")
    )


@dataclass(frozen=True)
class DefaultSection:
    key: str
    title: str
    guidance: str
    body: str


_GUIDANCE: dict[str, str] = {
    "summary": (
        "Name the agreement so that someone outside the project would recognise it, and give "
        "it the partnership's reference. Choose the lead organisation: it keeps the agreement, "
        "starts its reviews and decides when the parties cannot agree (for example on telling "
        "the ICO about a breach).\n\n"
        "Add every organisation that sends or receives the information, with its role. The "
        "summary sheet of the signed agreement lists each party's address, data protection "
        "officer and ICO registration reference from its organisation record, so check those "
        "records are up to date before the agreement goes for signature.\n\n"
        "Say whether this is a one-off exchange or ongoing sharing, and the dates it runs "
        "between."
    ),
    "version_control": (
        "Accord fills in the version, the lead organisation and the date of the next review "
        "(set under “Commencement and review”), and keeps the revision history of signed "
        "versions. Use the text to record who drew the agreement up, with their roles."
    ),
    "supporting_documents": (
        "List the documents that stand behind this sharing: the data protection impact "
        "assessment (DPIA), any standard operating procedure, the contract it supports, and "
        "the policies each party relies on.\n\n"
        "A DPIA is required before processing that is likely to result in a high risk to "
        "people: in particular special category or criminal offence data, processing on a "
        "large scale, or new technology. Tick the boxes that apply so the completeness check "
        "can ask for the DPIA reference."
    ),
    "purpose": (
        "Explain, in plain English, why the information is being shared: the problem it helps "
        "solve, who benefits, and what would happen without it. Be specific: a purpose such as "
        "“to improve services” is too vague to judge whether the sharing is necessary and "
        "proportionate. Say what will happen to the information once the purpose is met (for "
        "example, anonymised for service planning)."
    ),
    "information": (
        "List each item of information to be shared, one row each: what it is, which category "
        "it falls in, whose data it is, which party sends it and which receives it, what it is "
        "used for, and why the purpose cannot be met without it.\n\n"
        "Share only what the purpose needs (data minimisation). Where an identifier will do, "
        "do not share names; where aggregate figures will do, do not share records about "
        "individuals."
    ),
    "legal_basis": (
        "Choose the lawful basis under UK GDPR Article 6 for the personal data. Public "
        "authorities usually rely on public task (e) for what they do as public authorities, "
        "not on legitimate interests.\n\n"
        "For special category data also choose an Article 9 condition and, where Article 9 "
        "asks for one, the DPA 2018 Schedule 1 condition. For criminal offence data say how "
        "Article 10 is met; for processing by competent authorities for law enforcement "
        "purposes, DPA 2018 Part 3 applies instead.\n\n"
        "Name the legislation that gives each party the power or the duty to share, with its "
        "section where you can. For health and care records, say how the common law duty of "
        "confidentiality is met."
    ),
    "responsibilities": (
        "Each party's role follows from what it decides: a controller decides why and how the "
        "information is processed; joint controllers decide that together; a processor acts "
        "only on a controller's written instructions, under a contract.\n\n"
        "Joint controllers must set out who does what, in particular who answers people "
        "exercising their rights, and give people a single contact point. Processors need a "
        "contract meeting UK GDPR Article 28: give its reference."
    ),
    "rights": (
        "Which rights apply depends on the lawful basis: Accord ticks the rights that follow "
        "from the Article 6 basis chosen and says why. Untick one only with a reason, given in "
        "the box for that right: it is printed in the agreement's rights table. Every party "
        "must be able to meet the rights that apply and answer a request within one month.\n\n"
        "The rights about automated decision-making (Article 22) arise only where a decision "
        "with legal or similarly significant effects on someone is made by automated means "
        "alone, including profiling: describe any such decision and Accord ticks them.\n\n"
        "Public authorities among the parties also answer requests under the Freedom of "
        "Information Act 2000 and the Environmental Information Regulations 2004: say in the "
        "text how a party that receives one consults the party the information came from."
    ),
    "security": (
        "Describe how the information is kept secure when it is sent and once it is held: the "
        "transfer method (secure e-mail, managed file transfer, shared system), encryption, "
        "who may see it, and the training and vetting of the people who do. Security should "
        "match the sensitivity and volume of the information (UK GDPR Article 32)."
    ),
    "transfers": (
        "Say whether any of the information will be transferred to, or stored in, a country "
        "outside the UK (including through a supplier's cloud service). If it will, name the "
        "safeguard relied on: UK adequacy regulations, the International Data Transfer "
        "Agreement or the UK Addendum to the EU standard contractual clauses, with a transfer "
        "risk assessment."
    ),
    "format_frequency": (
        "Say in what form the information is shared (an extract file, access to a shared "
        "system, a meeting, verbally) and how often (once, monthly, as cases arise). If a "
        "shared system is used, name it and its owner."
    ),
    "retention": (
        "Say how long each party keeps the information it receives and what happens at the "
        "end: secure destruction, return, or anonymisation. A period tied to an event (such as "
        "“two years after the case is closed”) is fine; “as long as necessary” on its own is "
        "not a retention period."
    ),
    "accuracy": (
        "Explain how the parties keep the information accurate and up to date, and how a "
        "party that finds an error tells the others so every copy is corrected."
    ),
    "breaches": (
        "A personal data breach linked to this sharing starts two clocks when it is detected: "
        "the other parties must be told within the partner window, and where it must be "
        "reported, the ICO within 72 hours (UK GDPR Article 33). The windows are wall-clock "
        "hours, weekends included. Partnerships usually set 48 hours for telling partners."
    ),
    "complaints": (
        "Say how complaints and requests from the public about this sharing are handled, and "
        "how a party that receives one involves the others."
    ),
    "commencement": (
        "Say when the agreement takes effect (usually once every party has signed) and when "
        "and how it is reviewed. Set the date of the next review: the ICO expects "
        "arrangements to be reviewed regularly, most partnerships within a year and never "
        f"later than {_YEARS[REVIEW_WITHIN_YEARS]} years after the agreement comes into force. "
        "A breach or a change in the law brings the review forward."
    ),
    "withdrawal": (
        "Say how a party may leave the agreement, the notice it must give, and what happens "
        "to the information it already holds."
    ),
    "approval": (
        "Say who approves the agreement for each party: a person with the authority to commit "
        "the organisation, such as the Senior Information Risk Owner, the Caldicott Guardian "
        "or the Data Protection Officer. Signatures are collected online in Accord."
    ),
}

_BODY: dict[str, str] = {
    "summary": "",
    "version_control": "",
    "supporting_documents": "",
    "purpose": "",
    "information": "",
    "legal_basis": "",
    "responsibilities": (
        "Each party remains the controller of the information it holds for its own "
        "purposes before it is shared. The responsibilities for the sharing under this "
        "agreement are set out in the table above."
    ),
    "rights": (
        "Each party makes sure it can meet every right that applies to the sharing and has the "
        "processes to do so. A party that receives a request to exercise a right responds "
        "within one month and, where the request concerns information shared under this "
        "agreement, tells the other parties promptly so they can act on it too.\n\n"
        "Requests under the Freedom of Information Act 2000 or the Environmental Information "
        "Regulations 2004 for information shared under this agreement are answered by the "
        "party that receives them, which consults the party the information came from before "
        "releasing it."
    ),
    "security": (
        "Each party applies technical and organisational security measures suited to the "
        "sensitivity and volume of the information, as UK GDPR Article 32 requires. Each party "
        "receiving information under this agreement will:\n\n"
        "- train the people who handle it in their duties of confidentiality and data "
        "protection;\n"
        "- keep it physically and electronically secure;\n"
        "- give access only to the people who need it for the purpose, and check that they "
        "are suitable to have it;\n"
        "- keep a current policy on handling personal data that its staff can read;\n"
        "- have a process for managing personal data breaches;\n"
        "- use a processor only where this agreement names it, under a written contract.\n\n"
        f"The information is protected in transit by: *{TRANSFER_METHOD}*."
    ),
    "transfers": "",
    "format_frequency": (
        f"- Format: *{SHARING_FORMAT}*\n"
        f"- Frequency: *{SHARING_FREQUENCY}*\n"
        "- Shared system (if any) and its owner: not applicable"
    ),
    "retention": (
        "Each party keeps the information it receives no longer than the period above and "
        "then destroys it securely, in line with its published retention schedule."
    ),
    "accuracy": (
        "Each party has processes to check that the information it shares is accurate and up "
        "to date. A party that finds an error in information shared under this agreement "
        "tells the party that sent it, and every party holding a copy corrects it."
    ),
    "breaches": (
        "Where a personal data breach involving information shared under this agreement is "
        "likely to affect the people it is about, the party that detects it tells every other "
        "party within the partner window above, counted from when the breach was detected, "
        "using the contact details on the summary sheet.\n\n"
        "The decision to report the breach to the Information Commissioner's Office is taken "
        "after consulting the other parties affected; a report that is needed is made within "
        "the ICO window above. Where the parties cannot agree in time, the lead organisation "
        "decides. The parties also agree whether, when, how and by whom the people affected "
        "are told; where they cannot agree, the lead organisation decides.\n\n"
        "Every party keeps a record of each breach, including those not reported and why, and "
        "a breach brings the review of this agreement forward."
    ),
    "complaints": (
        "Each party handles complaints from the public about sharing under this agreement "
        "through its own complaints procedure, and involves any other party the complaint "
        "concerns."
    ),
    "commencement": (
        "This agreement comes into effect once every party has signed it. Information may be "
        "shared under it from that date. It is reviewed by the date on the version control "
        "table, or sooner after a breach or a change in the law or in the sharing; the lead "
        "organisation starts each review."
    ),
    "withdrawal": (
        "A party may withdraw from this agreement by giving four weeks' written notice to the "
        "lead organisation, which tells the other parties. A party that withdraws continues to "
        "meet the terms of this agreement for the information it has already received, and "
        "returns or securely destroys information it no longer needs."
    ),
    "approval": (
        "Each party approves this agreement through a person authorised to commit it, such as "
        "its Senior Information Risk Owner, Caldicott Guardian or Data Protection Officer. "
        "Their signatures, with the date and time of each, are recorded online and form part "
        "of this agreement; the lead organisation keeps the signed copy for the life of the "
        "agreement and two years after."
    ),
}

DEFAULT_SECTIONS: tuple[DefaultSection, ...] = tuple(
    DefaultSection(key=key, title=title, guidance=_GUIDANCE[key], body=_BODY[key])
    for key, title in SECTIONS
)
