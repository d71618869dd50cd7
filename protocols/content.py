"""What Accord ships as data: the model protocol's sections and the legislation library.

The model protocol is a starting point that a partnership adapts in the browser. `$partnership`,
`$lead`, `$notice_weeks` and `$review_months` in a body are filled in when a protocol is
created from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template


@dataclass(frozen=True)
class ModelSection:
    title: str
    body: str


@dataclass(frozen=True)
class Statute:
    title: str
    year: int | None
    url: str
    note: str = ""
    sections: str = ""  # the provisions that empower sharing, as an agreement cites them


MODEL_SECTIONS: tuple[ModelSection, ...] = (
    ModelSection(
        "Purpose and scope",
        """\
This protocol sets the common standards that the partner organisations of $partnership
follow whenever they share personal data with one another. It is a framework: it does not, on
its own, authorise any particular flow of data.

Each project or service that needs to share personal data regularly has its own information
sharing agreement (ISA) under this protocol. The agreement names the parties and sets out the
purpose, the data items, the lawful basis, how the data moves, how long it is kept and who to
contact. Every agreement must be consistent with this protocol. Where the two conflict, the
protocol prevails unless the steering group has agreed otherwise in writing.

### What the protocol covers

- personal data, special category data and criminal offence data about the people the partners
  serve;
- sharing between partners, whether it is routine, a one-off request or an emergency;
- information in any form: electronic records, paper files, images and recordings.

It does not cover information about the partners' own staff, which each organisation handles
under its own employment policies, or figures that cannot identify anyone.

### Why the partners share information

Partners share information so that they can:

- plan, commission and deliver health, care, housing, education and other public services;
- protect children and adults who are at risk of harm;
- prevent and detect crime and reduce disorder;
- protect life and property in an emergency;
- manage, audit and improve their services and investigate complaints;
- carry out research and analysis, using anonymised data wherever that will do.

This list describes the kinds of purpose the partnership supports. It is not a licence: each
disclosure still needs a lawful basis and must be necessary for its purpose.

### Who does what

- **Lead organisation**: $lead keeps the protocol on behalf of the partners, arranges its
  review and settles questions the partners cannot settle between them, including whether
  the Information Commissioner's Office (ICO) is told about a breach when partners disagree.
- **Steering group**: approves each new version before it goes to partners for signature and
  oversees how the protocol is monitored.
- **Information sharing manager**: keeps the protocol, the list of partners and the register
  of information sharing agreements up to date.
- **Each partner**: remains the controller of the data it holds and answers for its own
  compliance with data protection law.
""",
    ),
    ModelSection(
        "Principles",
        """\
Partners balance two duties: to keep personal information confidential, and to share it when
that is needed to serve or protect people. Holding back information can cause as much harm
as sharing it carelessly.

### Consent

Partners are open with people about how their information is used and, where it is practical
and appropriate, ask for their agreement before sharing confidential information about them.

Two different things are called consent, and they must not be confused:

- **Consent as a lawful basis** under Article 6(1)(a) of the UK GDPR must be freely given,
  specific, informed and as easy to withdraw as to give. Public bodies seldom rely on it,
  because people often cannot freely refuse a public service. A partner uses it only when the
  person has a genuine choice.
- **Consent under the common law duty of confidentiality** is a person's agreement, express
  or implied, to confidential information being disclosed. It may be needed even when the
  lawful basis under data protection law is something else.

When consent is sought, the person is told what will be shared, with whom, why, and what will
happen if they say no, and the answer is recorded. If a person lacks the capacity to decide,
the partner follows the Mental Capacity Act 2005. Decisions about children take account of
the child's age and understanding.

### Sharing without consent

Information may be shared without consent, or against a person's wishes, where the law
requires it, or where there is a lawful basis and a strong enough public interest: for
example to protect someone from serious harm, to prevent or detect a serious crime, or to
protect life in an emergency.

Each partner has a procedure for these decisions. The person deciding:

- weighs the risk of sharing against the risk of not sharing;
- shares only what is needed, and only with those who need it;
- records the decision, the reasons, the lawful basis and what was shared, including a
  decision not to share;
- tells the person, unless that would put someone at risk or harm an investigation.

When the risk is immediate, staff share first and record afterwards. Worry about data
protection law must never delay action needed to keep someone safe.

### Need to know

Only the minimum information needed for the purpose is shared, and only with the people who
need it to do their work. Partners give access to shared information by role and review that
access when people change jobs or leave.

### Duty of confidentiality

Partners treat personal information they receive from one another as confidential, whatever
form it is in. Information shared for one purpose is not used for another unless the partner
that supplied it agrees or the law requires it. A recipient does not pass shared information
to anyone else without the supplier's agreement, except where the law requires it.

If a professional asks that information be kept from the person it is about, it is withheld
only where an exemption in law allows, and the decision and the reason are recorded.

### Fact and opinion

When information is shared, it is made clear which parts are facts and which are professional
opinion or judgement, and whose opinion it is and when it was formed. A partner that finds a
fact was wrong corrects it promptly and tells the partners it shared it with.

### Anonymisation and pseudonymisation

Where a purpose can be met without identifying people (planning, performance reporting,
research), partners use anonymised data. Before releasing data as anonymous, the supplying
partner considers whether the recipient could identify people by combining it with other
information it holds or could obtain, taking particular care with small numbers.

Pseudonymised data is still personal data and is protected as such. The means of
re-identifying people stays with the supplying partner unless an agreement says otherwise.
""",
    ),
    ModelSection(
        "Legal basis",
        """\
Every sharing arrangement under this protocol identifies its lawful basis before any data
moves, and its information sharing agreement records that basis.

- **Personal data**: a condition in Article 6(1) of the UK GDPR. For public bodies this is
  usually (c) legal obligation or (e) public task. A public authority cannot rely on (f)
  legitimate interests for the tasks it performs as a public authority.
- **Special category data** (health, ethnic origin, religion, sex life or sexual orientation,
  genetic and biometric data, and others): a condition in Article 9(2) as well, with the
  matching condition in Schedule 1 to the Data Protection Act 2018 where one is required.
- **Criminal offence data**: Article 10 of the UK GDPR and a condition in Schedule 1 to the
  Data Protection Act 2018.
- **Processing by a competent authority for law enforcement purposes**: Part 3 of the Data
  Protection Act 2018 applies instead of the UK GDPR.

A public body may only act within its powers, so each partner also identifies the power that
lets it share. That power may be stated in a statute (for example section 115 of the Crime
and Disorder Act 1998) or implied by the body's functions. The partnership's legislation
library lists the statutes partners most often rely on.

Sharing must also respect:

- the **common law duty of confidentiality**, which is met by consent, by a legal duty or
  power to disclose, or by an overriding public interest;
- the **right to respect for private and family life** (Article 8 of the European Convention
  on Human Rights, given effect by the Human Rights Act 1998): any interference must be
  lawful, necessary and proportionate.

Where the basis is unclear, the partner consults its data protection officer before sharing.
""",
    ),
    ModelSection(
        "Access to information",
        """\
### Rights of the people whose information is shared

Anyone may ask a partner for a copy of the information it holds about them (a subject access
request). The partner that receives the request answers for everything it holds, including
information it received from other partners. It replies within one month, or within up to two
further months where the request is complex and the person has been told why.

Before releasing information that another partner supplied, it asks that partner whether an
exemption applies, for instance because disclosure would be likely to cause serious harm or
prejudice the prevention of crime. That partner replies within five working days; the
consultation never makes the reply late.

People may ask for inaccurate information to be corrected. Where they disagree with a
recorded opinion, their view is recorded alongside it. Whether erasure, restriction,
objection and portability apply depends on the lawful basis; each information sharing
agreement says which rights apply to it.

Each partner's privacy notice explains the sharing it takes part in.

### Freedom of information

This protocol and the partnership's agreements are not confidential, and partners may
publish them. A partner that receives a request under the Freedom of Information Act 2000 or
the Environmental Information Regulations 2004 for information another partner supplied tells
that partner promptly and takes its views into account. The decision remains with the partner
that received the request. Personal data about third parties is normally exempt from
disclosure.
""",
    ),
    ModelSection(
        "Complaints",
        """\
Each partner has a complaints procedure that covers how it handles and shares personal
information, and tells people how to use it.

A complaint about information shared under this protocol is handled by the partner that
receives it. Where the complaint involves other partners, they help: they provide the
information needed within five working days and agree the reply where it concerns their
actions. People are told that they may also complain to the Information Commissioner's
Office.

Each partner keeps a record of such complaints. A summary, without names, is shared with the
lead organisation before each review so that the partnership can see whether the protocol or
an agreement needs to change.
""",
    ),
    ModelSection(
        "Staff awareness and training",
        """\
Each partner makes sure that everyone who shares or receives personal information under this
protocol, including temporary staff, contractors and volunteers:

- knows this protocol and the information sharing agreements that apply to their work;
- completes data protection and information security training before they are given access,
  and refreshes it at least once a year;
- knows how to recognise a personal data breach and to report it at once;
- knows where to get advice: the data protection officer, the Caldicott Guardian or the
  information governance team.

Partners keep training records and can show them when asked.
""",
    ),
    ModelSection(
        "Disciplinary action",
        """\
Each partner's contracts of employment, codes of conduct and contracts with processors make
clear that misusing personal information may lead to disciplinary action, including
dismissal, or to the end of a contract. Misuse includes looking at records without a work
reason, disclosing information without a lawful basis and failing to protect it.

Knowingly or recklessly obtaining or disclosing personal data without the controller's
consent can also be a criminal offence under section 170 of the Data Protection Act 2018.

A partner investigating possible misuse of information shared under this protocol tells the
partner that supplied the information, so that each can take the action open to it.
""",
    ),
    ModelSection(
        "Security",
        """\
Partners protect shared information with measures suited to the risk, as Article 32 of the
UK GDPR requires. As a minimum, each partner:

- holds a current assessment suited to its sector, such as the Data Security and Protection
  Toolkit for organisations that use NHS patient data, or Cyber Essentials;
- moves personal data only by the secure means set in the relevant agreement, such as
  encrypted e-mail, secure file transfer or a shared system with role-based access, and never
  by unencrypted removable media or personal e-mail accounts;
- gives each user their own log-in, limits access by role and keeps audit trails for systems
  holding shared information;
- keeps paper records locked away and disposes of them as confidential waste;
- keeps shared information no longer than the agreement allows, then deletes or destroys it
  securely and can confirm that it has done so;
- uses processors only under a written contract that meets Article 28 of the UK GDPR;
- does not send shared information outside the United Kingdom without the supplying partner's
  agreement and a lawful transfer mechanism.

A partner tells the others at once of any change that weakens the protection of shared
information.
""",
    ),
    ModelSection(
        "Personal data breaches",
        """\
A personal data breach is any breach of security that leads to personal data being lost,
destroyed, altered or disclosed, or being accessed by someone who should not see it, whether
by accident or on purpose.

When a partner detects a breach involving information shared under this protocol or one of
its agreements:

1. It acts at once to contain the breach and keeps any evidence.
2. It tells every partner whose information is involved **within 48 hours of detecting the
   breach**, through the contacts named in the agreement. It passes on what it knows then
   and follows up as it learns more.
3. The partners involved assess the risk to the people concerned. Where the breach is likely
   to result in a risk to their rights and freedoms, the ICO is told **within 72 hours of
   detection** (Article 33 of the UK GDPR). The 72 hours run without a break, through nights,
   weekends and bank holidays.
4. The partners agree who tells the ICO, normally the partner where the breach happened. If
   they cannot agree in time, **the lead organisation decides**, so that the deadline is met.
5. Where the risk to people is high, they are told without undue delay (Article 34), in words
   the partners involved have agreed.
6. Every breach is recorded, including those not reported to the ICO: what happened, its
   effects, what was done and, where the ICO was not told, why not.

A breach leads to a review of the agreement concerned and, if it shows a weakness in this
protocol, to an early review of the protocol.
""",
    ),
    ModelSection(
        "Monitoring and review",
        """\
The steering group oversees how the protocol works in practice.

### Monitoring

- Within three months of signing, each partner confirms to the lead organisation that it has
  the procedures this protocol requires.
- Complaints and breaches involving shared information are examined to see whether the
  protocol or an agreement needs to change.
- The register of information sharing agreements is kept up to date, with each agreement's
  review date.

### Review

The protocol is reviewed every $review_months months, and sooner if the law changes, after a
serious breach or when partners ask for it. One month before the review date, every partner
is asked for feedback on how the protocol has worked and for any changes it proposes.

The steering group considers the feedback and decides on one of three outcomes:

- **no change**: the next review date is set;
- **minor amendment**: corrections and clarifications that do not change what partners have
  agreed to do, such as contact details or references to new guidance, are issued as a new
  minor version (for example 2.1) without signing again;
- **major amendment**: any change to what partners have agreed to do becomes a new major
  version (for example 3.0), which every partner signs again.

Each version records what changed in the revision table.
""",
    ),
    ModelSection(
        "Withdrawal",
        """\
A partner may withdraw from this protocol by giving the lead organisation at least
$notice_weeks weeks' notice in writing, with its reasons. During the notice period it
continues to meet the protocol in full.

When the withdrawal takes effect:

- the partner stops receiving information under the partnership's agreements, which are
  amended or ended as needed;
- information it has already received stays protected by this protocol and the agreement
  under which it was shared, and is returned or destroyed as that agreement says;
- its duties of confidentiality continue.

The lead organisation tells the other partners. The protocol continues between the remaining
partners.

If a partner repeatedly fails to meet this protocol, the steering group may, after hearing
from it, ask it to leave the partnership.
""",
    ),
    ModelSection(
        "Adoption and signing",
        """\
The protocol takes effect for each partner when that partner's authorised signatory signs
it. The signatory is the chief executive or someone with equivalent delegated authority, such
as the Senior Information Risk Owner, the Caldicott Guardian or the data protection officer.
The signature commits the organisation, not only the person signing.

By signing, each partner confirms that it:

- adopts this protocol as the standard for sharing personal information with the other
  partners;
- will make it known to its staff and put in place the procedures it requires;
- will make sure every information sharing agreement it enters with other partners is
  consistent with it.

An organisation that joins the partnership later signs the version then in force. The
signatories table records each organisation, its signatory, their position and the date of
signing. The partners may publish the protocol and the list of signatories.
""",
    ),
)


def model_sections(
    *, partnership: str, lead: str, notice_weeks: int, review_months: int
) -> list[ModelSection]:
    """The model protocol's sections with this partnership's details filled in."""
    values = {
        "partnership": partnership,
        "lead": lead,
        "notice_weeks": str(notice_weeks),
        "review_months": str(review_months),
    }
    return [
        ModelSection(section.title, Template(section.body).safe_substitute(values))
        for section in MODEL_SECTIONS
    ]


def _act(year: int, chapter: int) -> str:
    return f"https://www.legislation.gov.uk/ukpga/{year}/{chapter}/contents"


LEGISLATION: tuple[Statute, ...] = (
    Statute(
        "Data Protection Act 2018",
        2018,
        _act(2018, 12),
        "Supplements the UK GDPR: Schedule 1 conditions for special category and criminal "
        "offence data, Part 3 for law enforcement processing, and offences such as section 170.",
        sections="Part 3 and Schedule 1",
    ),
    Statute(
        "UK General Data Protection Regulation (retained Regulation (EU) 2016/679)",
        2016,
        "https://www.legislation.gov.uk/eur/2016/679/contents",
        "The principles of processing, the lawful bases (Articles 6, 9 and 10), people's "
        "rights and breach notification (Articles 33 and 34).",
        sections="Articles 6, 9 and 10",
    ),
    Statute(
        "Human Rights Act 1998",
        1998,
        _act(1998, 42),
        "Article 8: any interference with private and family life must be lawful, necessary "
        "and proportionate.",
        sections="Schedule 1, Article 8",
    ),
    Statute(
        "Freedom of Information Act 2000",
        2000,
        _act(2000, 36),
        "Requests for information held by public authorities, and the exemptions that apply.",
    ),
    Statute(
        "Crime and Disorder Act 1998",
        1998,
        _act(1998, 37),
        "Section 115: a power to disclose to relevant authorities to reduce crime and disorder; "
        "section 17: the duty to consider crime and disorder.",
        sections="sections 17 and 115",
    ),
    Statute(
        "Children Act 1989",
        1989,
        _act(1989, 41),
        "Sections 17 and 47: children in need and enquiries where a child may be at risk of "
        "significant harm.",
        sections="sections 17 and 47",
    ),
    Statute(
        "Children Act 2004",
        2004,
        _act(2004, 31),
        "Sections 10 and 11: cooperation to improve children's well-being and arrangements to "
        "safeguard and promote their welfare.",
        sections="sections 10 and 11",
    ),
    Statute(
        "Care Act 2014",
        2014,
        _act(2014, 23),
        "Section 2: preventing, reducing or delaying needs for care and support; sections 6 "
        "and 7 on cooperation, and sections 42 to 45 on safeguarding adults, including the duty "
        "to supply information to a Safeguarding Adults Board.",
        sections="sections 2, 6, 7 and 42 to 45",
    ),
    Statute(
        "Health and Social Care Act 2012",
        2012,
        _act(2012, 7),
        "Functions of health bodies; section 251B (added in 2015) on sharing for direct care.",
        sections="section 251B",
    ),
    Statute(
        "Health and Social Care (Safety and Quality) Act 2015",
        2015,
        _act(2015, 28),
        "Introduced the duty to share information about a person where that supports their "
        "care, and to use a consistent identifier (the NHS number).",
        sections="section 3",
    ),
    Statute(
        "National Health Service Act 2006",
        2006,
        _act(2006, 41),
        "Section 251 and its regulations: setting aside the duty of confidence for approved "
        "purposes outside direct care.",
        sections="section 251",
    ),
    Statute(
        "Mental Capacity Act 2005",
        2005,
        _act(2005, 9),
        "Deciding for people who lack capacity, in their best interests.",
        sections="sections 1 to 4",
    ),
    Statute(
        "Mental Health Act 1983",
        1983,
        _act(1983, 20),
        "Assessment, treatment and aftercare; information for nearest relatives and victims.",
        sections="section 117",
    ),
    Statute(
        "Local Government Act 2000",
        2000,
        _act(2000, 22),
        "Local authorities' powers and functions.",
    ),
    Statute(
        "Localism Act 2011",
        2011,
        _act(2011, 20),
        "Section 1: the general power of competence of local authorities.",
        sections="section 1",
    ),
    Statute(
        "Education Act 1996",
        1996,
        _act(1996, 56),
        "School attendance, special educational needs and pupil information.",
    ),
    Statute(
        "Education Act 2002",
        2002,
        _act(2002, 32),
        "Section 175: the safeguarding duties of local authorities and schools.",
        sections="section 175",
    ),
    Statute(
        "Criminal Justice Act 2003",
        2003,
        _act(2003, 44),
        "Section 325: Multi-Agency Public Protection Arrangements (MAPPA) and the duty to "
        "cooperate.",
        sections="sections 325 to 327",
    ),
    Statute(
        "Police Act 1996",
        1996,
        _act(1996, 16),
        "The organisation and functions of police forces in England and Wales.",
    ),
    Statute(
        "Fire and Rescue Services Act 2004",
        2004,
        _act(2004, 21),
        "Functions of fire and rescue authorities, including fire safety and prevention work.",
        sections="sections 6 to 9",
    ),
    Statute(
        "Computer Misuse Act 1990",
        1990,
        _act(1990, 18),
        "Offences of unauthorised access to computer material.",
    ),
    Statute(
        "Digital Economy Act 2017",
        2017,
        _act(2017, 30),
        "Part 5: powers to share information between public authorities for specified purposes "
        "such as public service delivery, debt and fraud.",
        sections="Part 5",
    ),
    Statute(
        "Privacy and Electronic Communications (EC Directive) Regulations 2003",
        2003,
        "https://www.legislation.gov.uk/uksi/2003/2426/contents",
        "Rules on electronic marketing, cookies and the confidentiality of communications.",
    ),
    Statute(
        "Civil Contingencies Act 2004",
        2004,
        _act(2004, 36),
        "Sharing information between responders to plan for and respond to emergencies.",
    ),
    Statute(
        "Equality Act 2010",
        2010,
        _act(2010, 15),
        "The public sector equality duty (section 149), relevant when monitoring data is shared.",
        sections="section 149",
    ),
    Statute(
        "Common Law Duty of Confidentiality",
        None,
        "",
        "Not a statute: information given in confidence may be disclosed only with consent, "
        "under a legal duty or power, or in the overriding public interest.",
    ),
)
