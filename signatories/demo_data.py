"""Demo data for `manage.py seed_demo`: four partnerships drawn from real UK documents.

Organisation names, sectors and ICO registration references come from the reference documents
in the shared seeds folder (only the two references printed there are used; every other
organisation has none). The partnership descriptions are our own wording. Every person below
is invented: none of the private individuals named in those documents appears here.
"""

from __future__ import annotations

from dataclasses import dataclass

from signatories.models import PartnerStatus, Sector
from tenancy.roles import Role

ACTIVE = PartnerStatus.ACTIVE
INVITED = PartnerStatus.INVITED


@dataclass(frozen=True)
class OrganisationSpec:
    name: str
    sector: str
    ico_reference: str | None = None


@dataclass(frozen=True)
class PartnerSpec:
    organisation: str  # an OrganisationSpec name
    status: str = ACTIVE


@dataclass(frozen=True)
class PartnershipSpec:
    slug: str
    name: str
    description: str
    founder: str  # the e-mail of the person who creates it and becomes its first administrator
    partners: tuple[PartnerSpec, ...]


@dataclass(frozen=True)
class MembershipSpec:
    partnership: str  # a PartnershipSpec slug
    organisation: str  # the organisation the person acts for; must be one of its partners
    roles: tuple[str, ...]


@dataclass(frozen=True)
class PersonSpec:
    email: str
    full_name: str
    job_title: str
    memberships: tuple[MembershipSpec, ...]


LA = Sector.LOCAL_AUTHORITY
NHS = Sector.NHS
POLICE = Sector.POLICE
FIRE = Sector.FIRE
EDUCATION = Sector.EDUCATION
VOLUNTARY = Sector.VOLUNTARY
PRIVATE = Sector.PRIVATE
OTHER = Sector.OTHER

# One record per real body. Names follow the documents, with capitals tidied.
ORGANISATIONS: tuple[OrganisationSpec, ...] = (
    # Bedfordshire protocol, appendix 1 (17 partner organisations).
    OrganisationSpec("Bedford Borough Council", LA),
    OrganisationSpec("Bedfordshire Clinical Commissioning Group", NHS),
    OrganisationSpec("Bedfordshire Fire and Rescue Service", FIRE),
    OrganisationSpec("Bedfordshire NHS Hospital Trust", NHS),
    OrganisationSpec("Bedfordshire Police", POLICE),
    OrganisationSpec("Bedfordshire Prison Service", OTHER),
    OrganisationSpec("Cambridgeshire Community Services", NHS),
    OrganisationSpec("Central Bedfordshire Council", LA),
    OrganisationSpec("East & North Hertfordshire Clinical Commissioning Group", NHS),
    OrganisationSpec("East Anglia Ambulance Trust", NHS),
    OrganisationSpec("East London NHS Foundation Trust", NHS),
    OrganisationSpec("Hertfordshire Valley Clinical Commissioning Group", NHS),
    OrganisationSpec("Luton Clinical Commissioning Group", NHS),
    OrganisationSpec("Luton & Dunstable Hospital Foundation Trust", NHS),
    OrganisationSpec("Luton Borough Council", LA),
    OrganisationSpec("South Essex Partnership University NHS Foundation Trust", NHS),
    OrganisationSpec("Virgin Health", PRIVATE),
    # Leicestershire report, appendix A (its current signatories).
    OrganisationSpec("Blaby District Council", LA),
    OrganisationSpec("British Transport Police", POLICE),
    OrganisationSpec("Charnwood & North West Leicestershire PCT", NHS),
    OrganisationSpec("Charnwood Borough Council", LA),
    OrganisationSpec("Connexions Leicestershire", OTHER),
    OrganisationSpec("CVS Partnership", VOLUNTARY),
    OrganisationSpec("De Montfort University", EDUCATION),
    OrganisationSpec("Eastern Leicester PCT", NHS),
    OrganisationSpec("East Midlands Ambulance Service NHS Trust", NHS),
    OrganisationSpec("Environ", VOLUNTARY),
    OrganisationSpec("Harborough District Council", LA),
    OrganisationSpec("Hinckley & Bosworth District Council", LA),
    OrganisationSpec("LCIL", VOLUNTARY),
    OrganisationSpec("Leicestershire & Rutland Probation Area", OTHER),
    OrganisationSpec("Leicester City Council", LA),
    OrganisationSpec("Leicestershire Constabulary", POLICE),
    OrganisationSpec("Leicestershire County Council", LA),
    OrganisationSpec("Leicester Equality & Diversity Partnership", VOLUNTARY),
    OrganisationSpec("Leicestershire Economic Partnership", OTHER),
    OrganisationSpec("Leicestershire Fire & Rescue Service", FIRE),
    OrganisationSpec("Leicestershire Learning and Skills Council", EDUCATION),
    OrganisationSpec("Leicestershire Partnership NHS Trust", NHS),
    OrganisationSpec("Leicestershire, Northamptonshire & Rutland Strategic Health Authority", NHS),
    OrganisationSpec("Loughborough University", EDUCATION),
    OrganisationSpec("Melton Borough Council", LA),
    OrganisationSpec("Melton, Rutland & Harborough PCT", NHS),
    OrganisationSpec("New Parks Sure Start", OTHER),
    OrganisationSpec("NHS Direct East Midlands", NHS),
    OrganisationSpec("North West Leicestershire District Council", LA),
    OrganisationSpec("Oadby & Wigston Borough Council", LA),
    OrganisationSpec("Rural Community Council – Leicestershire & Rutland", VOLUNTARY),
    OrganisationSpec("Rutland County Council", LA),
    OrganisationSpec("South Leicestershire PCT", NHS),
    OrganisationSpec("The University of Leicester", EDUCATION),
    OrganisationSpec("University Hospitals of Leicester NHS Trust", NHS),
    # Essex (WEISF) agreement summary sheet, with the ICO references it gives.
    OrganisationSpec("Essex County Council", LA, "Z6034810"),
    OrganisationSpec("Essex Cares Ltd", PRIVATE, "Z1801658"),
    # Leeds protocol, section 1.2 (the ten parties).
    OrganisationSpec("Leeds Teaching Hospitals Trust", NHS),
    OrganisationSpec("Leeds Mental Health Service Trust", NHS),
    OrganisationSpec("West Leeds Primary Care Trust", NHS),
    OrganisationSpec("North West Leeds PCT", NHS),
    OrganisationSpec("North East Leeds PCT", NHS),
    OrganisationSpec("East Leeds PCT", NHS),
    OrganisationSpec("South Leeds PCT", NHS),
    OrganisationSpec("Leeds City Council", LA),
    OrganisationSpec("Education Leeds", EDUCATION),
    OrganisationSpec("West Yorkshire Police", POLICE),
)

_BEDFORDSHIRE_INVITED = {
    # Not yet signed in the protocol's signatories table: e-mails sent, contacts being chased.
    "Bedfordshire Clinical Commissioning Group",
    "East & North Hertfordshire Clinical Commissioning Group",
    "East Anglia Ambulance Trust",
    "Hertfordshire Valley Clinical Commissioning Group",
    "Virgin Health",
}
# Seven of Leeds' ten parties had approved by October 2002; the document does not say which
# three had not, so this choice is invented.
_LEEDS_INVITED = {"East Leeds PCT", "South Leeds PCT", "Education Leeds"}


def _partners(first: str, last: str, invited: set[str] | None = None) -> tuple[PartnerSpec, ...]:
    """The organisations from `first` to `last` in ORGANISATIONS, in that order."""
    names = [spec.name for spec in ORGANISATIONS]
    chosen = names[names.index(first) : names.index(last) + 1]
    return tuple(
        PartnerSpec(name, INVITED if name in (invited or ()) else ACTIVE) for name in chosen
    )


PARTNERSHIPS: tuple[PartnershipSpec, ...] = (
    PartnershipSpec(
        slug="bedfordshire-isp",
        name="Bedfordshire Information Sharing Group",
        description=(
            "Seventeen councils, NHS bodies, emergency services and the prison service that "
            "serve people in Bedfordshire. They work to one overarching protocol, reviewed "
            "every year, and agree a separate information sharing agreement for each project. "
            "A few partners have still to sign the latest version."
        ),
        founder="admin.bedfordshire@example.org",
        partners=_partners("Bedford Borough Council", "Virgin Health", _BEDFORDSHIRE_INVITED),
    ),
    PartnershipSpec(
        slug="leicestershire-isp",
        name="Leicestershire Local Strategic Partnership",
        description=(
            "Councils, police, universities, NHS trusts and voluntary groups across Leicester, "
            "Leicestershire and Rutland. Their data sharing protocol started in October 2003; "
            "version 2.0 (2006) renames it the Information Sharing Protocol and is referred to "
            "every partner for signature."
        ),
        founder="admin.leicestershire@example.org",
        partners=_partners("Blaby District Council", "University Hospitals of Leicester NHS Trust"),
    ),
    PartnershipSpec(
        slug="weisf",
        name="Wider Eastern Information Stakeholder Forum",
        description=(
            "A forum for project-specific information sharing protocols in Essex. Essex County "
            "Council is the lead organisation; its first protocol with Essex Cares Ltd supports "
            "a one-off review of adult reablement and runs from March 2023 to March 2026."
        ),
        founder="admin.weisf@example.org",
        partners=_partners("Essex County Council", "Essex Cares Ltd"),
    ),
    PartnershipSpec(
        slug="leeds-isp",
        name="Leeds Information Sharing Partnership",
        description=(
            "Health and social care organisations in Leeds with the city council, education "
            "service and police. An inter-agency steering group oversees their October 2002 "
            "protocol: first review within a year of adoption, then annually."
        ),
        founder="admin.leeds@example.org",
        partners=_partners(
            "Leeds Teaching Hospitals Trust", "West Yorkshire Police", _LEEDS_INVITED
        ),
    ),
)

ADMIN = Role.ADMINISTRATOR
STEERING = Role.STEERING_GROUP
IG = Role.IG_OFFICER
SIGNATORY = Role.SIGNATORY
DPO = Role.DPO
VIEWER = Role.VIEWER


def _person(email: str, full_name: str, job_title: str, *memberships: MembershipSpec) -> PersonSpec:
    return PersonSpec(email, full_name, job_title, memberships)


def _in(partnership: str, organisation: str, *roles: str) -> MembershipSpec:
    return MembershipSpec(partnership, organisation, roles)


# Invented people. Founders come first in each partnership.
PEOPLE: tuple[PersonSpec, ...] = (
    # Bedfordshire
    _person(
        "admin.bedfordshire@example.org",
        "Priya Chandran",
        "Information Governance Manager",
        _in("bedfordshire-isp", "Central Bedfordshire Council", ADMIN),
    ),
    _person(
        "multi@example.org",
        "Owen Fairbrother",
        "Information Sharing Coordinator",
        _in("bedfordshire-isp", "Bedford Borough Council", ADMIN),
        _in("leeds-isp", "Leeds City Council", VIEWER),
    ),
    _person(
        "steering.bedfordshire@example.org",
        "Helen Okafor",
        "Head of Information Management",
        _in("bedfordshire-isp", "Bedfordshire Police", STEERING),
    ),
    _person(
        "ig.bedfordshire@example.org",
        "Daniel Whitmore",
        "Information Governance Officer",
        _in("bedfordshire-isp", "Bedfordshire NHS Hospital Trust", IG),
    ),
    _person(
        "signatory.bedfordshire@example.org",
        "Rachel Ferreira",
        "Chief Executive",
        _in("bedfordshire-isp", "Luton Borough Council", SIGNATORY),
    ),
    _person(
        "caldicott.bedfordshire@example.org",
        "Dr Amrit Sandhu",
        "Medical Director and Caldicott Guardian",
        _in("bedfordshire-isp", "Luton & Dunstable Hospital Foundation Trust", SIGNATORY, STEERING),
    ),
    _person(
        "dpo.bedfordshire@example.org",
        "Gareth Pryce",
        "Data Protection Officer",
        _in("bedfordshire-isp", "Bedfordshire Fire and Rescue Service", DPO),
    ),
    _person(
        "viewer.bedfordshire@example.org",
        "Joanne Kirkby",
        "Records Manager",
        _in("bedfordshire-isp", "Bedford Borough Council", VIEWER),
    ),
    # Leicestershire
    _person(
        "admin.leicestershire@example.org",
        "Sunita Mistry",
        "Information Management Lead",
        _in("leicestershire-isp", "Leicestershire County Council", ADMIN, STEERING),
    ),
    _person(
        "steering.leicestershire@example.org",
        "Andrew Beaumont",
        "Head of Information Assurance",
        _in("leicestershire-isp", "Leicestershire Constabulary", STEERING),
    ),
    _person(
        "ig.leicestershire@example.org",
        "Kerry Walsh",
        "Information Governance Officer",
        _in("leicestershire-isp", "Leicester City Council", IG),
    ),
    _person(
        "ig.lpt@example.org",
        "Farhan Qureshi",
        "Information Governance Lead",
        _in("leicestershire-isp", "Leicestershire Partnership NHS Trust", IG),
    ),
    _person(
        "signatory.leicestershire@example.org",
        "Eleanor Hartley",
        "Senior Information Risk Owner (SIRO)",
        _in("leicestershire-isp", "University Hospitals of Leicester NHS Trust", SIGNATORY),
    ),
    _person(
        "dpo.leicestershire@example.org",
        "Martin Cole",
        "Data Protection Officer",
        _in("leicestershire-isp", "De Montfort University", DPO),
    ),
    _person(
        "viewer.leicestershire@example.org",
        "Bethany Rowe",
        "Community Development Officer",
        _in("leicestershire-isp", "Rural Community Council – Leicestershire & Rutland", VIEWER),
    ),
    # Wider Eastern Information Stakeholder Forum
    _person(
        "admin.weisf@example.org",
        "Claire Donovan",
        "Information Governance Manager",
        _in("weisf", "Essex County Council", ADMIN),
    ),
    _person(
        "steering.weisf@example.org",
        "Nathan Osei",
        "Head of Quality and Assurance",
        _in("weisf", "Essex Cares Ltd", STEERING),
    ),
    _person(
        "ig.weisf@example.org",
        "Lucy Brennan",
        "Senior Information Governance Officer",
        _in("weisf", "Essex County Council", IG),
    ),
    _person(
        "signatory.weisf@example.org",
        "Graham Tulloch",
        "Senior Information Risk Owner (SIRO)",
        _in("weisf", "Essex County Council", SIGNATORY),
    ),
    _person(
        "signatory.essexcares@example.org",
        "Fiona McAllister",
        "Chief Executive",
        _in("weisf", "Essex Cares Ltd", SIGNATORY),
    ),
    _person(
        "dpo.weisf@example.org",
        "Imran Siddiqui",
        "Data Protection Officer",
        _in("weisf", "Essex Cares Ltd", DPO),
    ),
    _person(
        "viewer.weisf@example.org",
        "Tessa Greaves",
        "Reablement Service Manager",
        _in("weisf", "Essex Cares Ltd", VIEWER),
    ),
    # Leeds
    _person(
        "admin.leeds@example.org",
        "Jonathan Pickersgill",
        "Information Sharing Manager",
        _in("leeds-isp", "North West Leeds PCT", ADMIN, STEERING),
    ),
    _person(
        "steering.leeds@example.org",
        "Angela Moorhouse",
        "Head of Adult Social Care Commissioning",
        _in("leeds-isp", "Leeds City Council", STEERING),
    ),
    _person(
        "ig.leeds@example.org",
        "Samir Haddad",
        "Information Governance Officer",
        _in("leeds-isp", "Leeds Teaching Hospitals Trust", IG),
    ),
    _person(
        "signatory.leeds@example.org",
        "Dr Catherine Ellwood",
        "Caldicott Guardian",
        _in("leeds-isp", "Leeds Mental Health Service Trust", SIGNATORY),
    ),
    _person(
        "dpo.leeds@example.org",
        "Ruth Armitage",
        "Data Protection Officer",
        _in("leeds-isp", "Leeds City Council", DPO),
    ),
    _person(
        "viewer.leeds@example.org",
        "Liam Baxter",
        "Community Safety Analyst",
        _in("leeds-isp", "West Yorkshire Police", VIEWER),
    ),
)


def problems() -> list[str]:
    """Inconsistencies in the data above (empty when it is sound); checked before seeding."""
    found: list[str] = []
    organisations = [spec.name.lower() for spec in ORGANISATIONS]
    if len(set(organisations)) != len(organisations):
        found.append("An organisation is listed twice.")
    partnerships = {spec.slug: spec for spec in PARTNERSHIPS}
    emails = [person.email for person in PEOPLE]
    if len(set(emails)) != len(emails):
        found.append("A person is listed twice.")
    for spec in PARTNERSHIPS:
        partners = {p.organisation: p.status for p in spec.partners}
        for name in partners:
            if name.lower() not in organisations:
                found.append(f"{spec.slug}: {name} is not in ORGANISATIONS.")
        members = [(p, m) for p in PEOPLE for m in p.memberships if m.partnership == spec.slug]
        for person, membership in members:
            if membership.organisation not in partners:
                found.append(f"{person.email} acts for a non-partner of {spec.slug}.")
        founders = [m for p, m in members if p.email == spec.founder]
        if not founders or ADMIN not in founders[0].roles:
            found.append(f"{spec.slug}: the founder must be one of its administrators.")
        elif partners.get(founders[0].organisation) != ACTIVE:
            found.append(f"{spec.slug}: the founder's organisation must be an active partner.")
        covered = {role for _, m in members for role in m.roles}
        for role in Role:
            if role not in covered:
                found.append(f"{spec.slug}: nobody has the role {role.label}.")
    for person in PEOPLE:
        for membership in person.memberships:
            if membership.partnership not in partnerships:
                found.append(f"{person.email}: no partnership {membership.partnership}.")
    return found
