"""Realistic Markdown for the benchmark's long protocol: annexes, one a sharing arrangement.

Each annex has paragraphs, a bulleted and a numbered list, and a table of data items, as a
partnership's own annexes do. Deterministic: the same text on every run, so the page count
and the timings compare from run to run.
"""

from __future__ import annotations

import random


def _rows(text: str) -> list[tuple[str, ...]]:
    """Table rows written one a line, cells separated by " | "."""
    return [tuple(cell.strip() for cell in line.split(" | ")) for line in text.splitlines()]


# (service, the team that receives referrals, who the sharing is about)
SERVICES = _rows(
    """\
Early help for families | Children's Services | families who need support early
Safeguarding children | the Multi-Agency Safeguarding Hub | children at risk of harm
Safeguarding adults | Adult Social Care | adults with care and support needs
Domestic abuse (MARAC) | the MARAC coordinator | victims at high risk of serious harm
Hospital discharge | the Integrated Discharge Team | patients ready to leave hospital
Mental health crisis care | the Crisis Resolution Team | people in a mental health crisis
Youth justice | the Youth Justice Service | children in the youth justice system
Homelessness prevention | the Housing Options Team | households at risk of homelessness
Fire safety home visits | the Fire and Rescue Service | residents at high risk of fire
School attendance | the Education Welfare Service | pupils missing education
Substance misuse treatment | the Recovery Service | people in drug or alcohol treatment
Integrated offender management | the IOM Unit | people who offend most often
Carers' support | the Carers' Hub | unpaid carers
Special educational needs | the SEND Team | children with education, health and care plans
Continuing healthcare | the Integrated Care Board | people eligible for continuing care
Falls prevention | the Community Therapy Team | older people at risk of falling
Anti-social behaviour | the Community Safety Partnership | victims of repeat anti-social behaviour
Emergency planning | the Local Resilience Forum | vulnerable people in an emergency
Vaccination uptake | the Public Health Team | people not yet vaccinated
Troubled families | the Supporting Families Programme | families with multiple needs
Missing children | the Missing Persons Coordinator | children who go missing from home or care
Prevent | the Channel Panel | people at risk of radicalisation
Modern slavery | the Single Competent Authority liaison | potential victims of modern slavery
""",
)

# (data item, why it is needed, lawful basis, how long it is kept)
DATA_ITEMS = _rows(
    """\
Name, date of birth and address | Identification | Article 6(1)(e) | 7 years
NHS number | Matching records | Article 6(1)(e) | 7 years
Household members | Assessing the household | Article 6(1)(e) | 7 years
Health condition relevant to the referral | Planning care | Article 9(2)(h) | 8 years
Criminal convictions | Managing risk | Article 10, Schedule 1 Part 2 | 6 years
Social care involvement | Coordinating support | Article 6(1)(e) | 7 years
School and attendance | Education support | Article 6(1)(e) | Until age 25
Ethnicity | Equality monitoring | Article 9(2)(g) | Anonymised after 1 year
Risk assessment outcome | Prioritising cases | Article 6(1)(e) | 7 years
Contact with services in the last 12 months | Understanding need | Article 6(1)(e) | 3 years
""",
)

_SENTENCE_TEXT = """\
Each partner shares only the data items listed in this annex, and only when the referral meets
the threshold agreed by the partners.

Practitioners record every disclosure in their own case management system, with the date, what
was shared, with whom and why.

Where the person has capacity and it is safe to do so, practitioners tell them what will be
shared and with whom before sharing it.

Consent is not the lawful basis for this sharing, but the person's views are recorded and taken
into account in every decision.

Information is sent by secure e-mail between approved addresses or through the shared case
management system, never by ordinary post.

A partner that receives information it did not need deletes it securely and tells the sender, so
that the arrangement can be corrected.

The arrangement is reviewed every year by the steering group, and sooner if the law, the service
or the partners taking part change.

Each partner's information governance lead answers questions about this annex and handles
requests from the people whose data is shared.

Requests for access, rectification or erasure are passed to the partner that holds the data
within two working days of receipt.

A suspected breach involving this sharing is reported to the sending partner within 24 hours so
that it can assess whether to tell the ICO.

Data is kept no longer than the retention period in the table of data items and then destroyed
securely, with a record kept of the destruction.

Anonymised figures about the arrangement are reported to the steering group each quarter, so
that it can see that the sharing is working.

Staff who share information under this annex complete data protection training every year and
know where to find the protocol.

Where a partner is unsure whether a disclosure is lawful, it asks its data protection officer
before sharing rather than after.

Decisions not to share are recorded too, with the reason, because failing to share can put
people at risk as much as sharing wrongly.

The lead partner for the arrangement keeps a list of the practitioners who may make and receive
referrals and reviews it every quarter.
"""
# One sentence a paragraph above, its lines joined.
SENTENCES = [" ".join(text.split()) for text in _SENTENCE_TEXT.split("\n\n")]

STEPS = [
    "The referring practitioner checks that the referral meets the threshold.",
    "They complete the referral form, including only the data items listed in this annex.",
    "They send it to the receiving team by the secure route agreed by the partners.",
    "The receiving team acknowledges it within one working day.",
    "The receiving team decides whether to act and tells the referrer the outcome.",
    "Both partners record the disclosure and the decision in their own systems.",
]


def _paragraph(rng: random.Random, sentences: int) -> str:
    return " ".join(rng.sample(SENTENCES, sentences))


def annex(number: int, rng: random.Random, partners: list[str]) -> tuple[str, str]:
    """(title, Markdown body) of one annex: the sharing arrangement for one service."""
    service, team, who = SERVICES[(number - 1) % len(SERVICES)]
    sharing = rng.sample(partners, min(4, len(partners)))
    items = rng.sample(DATA_ITEMS, 7)
    lines = [
        f"This annex sets out how the partners share information about {who} so that "
        f"{team} can offer the right support at the right time. It forms part of the protocol "
        "and is read with it. " + _paragraph(rng, 2),
        "",
        "### Partners taking part",
        "",
        *(f"- {name}" for name in sharing),
        "",
        "### Purpose and lawful basis",
        "",
        _paragraph(rng, 4),
        "",
        _paragraph(rng, 3),
        "",
        "### Data items shared",
        "",
        "| Data item | Why it is needed | Lawful basis | Kept for |",
        "| --- | --- | --- | --- |",
        *(f"| {item} | {why} | {basis} | {kept} |" for item, why, basis, kept in items),
        "",
        "### How a referral is made",
        "",
        *(f"{i}. {step}" for i, step in enumerate(STEPS, start=1)),
        "",
        "### Safeguards",
        "",
        _paragraph(rng, 4),
        "",
        f"> Questions about this annex go first to {team}, then to the lead organisation.",
    ]
    return f"Annex {number}: {service}", "\n".join(lines) + "\n"


def annexes(count: int, partners: list[str], seed: int = 40) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [annex(n, rng, partners) for n in range(1, count + 1)]
