"""Demo protocols for `manage.py seed_demo`: one overarching protocol per demo partnership.

Runs after signatories.demo has added the partnerships, partners and people. For each
partnership it adds an authorised signatory for every partner (the demo person with the
signatory role signs for their own organisation, so they find the request in their signing
tasks; everyone else is invented, on example.org addresses), then, if the partnership does not
have its demo protocol yet, takes it through the same services the pages use, so the audit
log, the frozen documents and the signing records are real:

- Bedfordshire: version 1.0 sent to every active partner and signed by all but two, which
  are still being chased (one has opened the request; both have had reminders). As in the
  group's own signatories table, a few partners had still to sign.
- Leicestershire: version 1.0 (the Data Sharing Protocol of 2003) signed by every partner;
  version 2.0, renamed the Information Sharing Protocol, approved by the steering group and
  referred to every partner for signature, as in the 2006 report. A handful have signed.
- The Wider Eastern Information Stakeholder Forum: version 1.0 signed by both partners.
- Leeds: version 1.0 still in draft, being adapted by the information sharing manager.

The lead organisations follow the documents where they name one (Essex County Council,
Leeds City Council, Leicestershire County Council); the Bedfordshire protocol names none, so
Central Bedfordshire Council, where the group's administrator works, leads it. Names,
positions and e-mail addresses of signatories are invented; the positions are those such
documents list. E-mails are queued as usual (seed_demo sends them nowhere); no PDF is
rendered here: each is rendered the first time it is downloaded.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.text import slugify
from django_scopes import scope

from accord.kernel.context import acting
from documents.pdf import renders_on_demand
from signatories import addresses, demo_data, signing
from signatories.affiliations import add_domain
from signatories.models import (
    AuthorisedSignatory,
    OrganisationDomain,
    Partner,
    PartnerStatus,
    RequestStatus,
    SignatureRequest,
    email_domain,
)
from signatories.services import add_signatory
from tenancy.models import Membership, Partnership
from tenancy.roles import Role

from . import services
from .models import Protocol, ProtocolVersion, VersionStatus

User = get_user_model()

SIGNED_FROM = "Accord demo data"  # the "browser" recorded with the demo signatures

# Invented authorised signatories, one a partner, by organisation (see demo_data.ORGANISATIONS).
# Partners whose demo person has the signatory role are not listed: that person signs.
SIGNATORIES: dict[str, tuple[str, str]] = {
    # Bedfordshire
    "Bedford Borough Council": ("Martin Ashdown", "Chief Executive"),
    "Bedfordshire Clinical Commissioning Group": ("Dr Harriet Lomax", "Chair"),
    "Bedfordshire Fire and Rescue Service": ("Stuart Pennington", "Deputy Chief Fire Officer"),
    "Bedfordshire NHS Hospital Trust": (
        "Alison Marchetti",
        "Director of Finance and Senior Information Risk Owner (SIRO)",
    ),
    "Bedfordshire Police": ("Neil Hargreaves", "Deputy Chief Constable"),
    "Bedfordshire Prison Service": ("Denise Okoro", "Governor"),
    "Cambridgeshire Community Services": ("Philippa Drummond", "Chief Executive"),
    "Central Bedfordshire Council": ("Tobias Wren", "Chief Information Officer"),
    "East & North Hertfordshire Clinical Commissioning Group": (
        "Simon Achebe",
        "Accountable Officer",
    ),
    "East Anglia Ambulance Trust": ("Dr Helena Sowerby", "Caldicott Guardian"),
    "East London NHS Foundation Trust": (
        "Dr Ravi Menon",
        "Medical Director and Caldicott Guardian",
    ),
    "Hertfordshire Valley Clinical Commissioning Group": ("Dr Julia Fenwick", "Chair"),
    "Luton Clinical Commissioning Group": ("Dr Oluwaseun Adeyemi", "Chair"),
    "South Essex Partnership University NHS Foundation Trust": (
        "Dr Keith Ambrose",
        "Caldicott Guardian",
    ),
    "Virgin Health": ("Carl Jessop", "Managing Director"),
    # Leicestershire
    "Blaby District Council": ("Gillian Thorne", "Chief Executive"),
    "British Transport Police": ("Marcus Delaney", "Assistant Chief Constable"),
    "Charnwood & North West Leicestershire PCT": ("Dr Peter Ransome", "Caldicott Guardian"),
    "Charnwood Borough Council": ("Deborah Kingsley", "Chief Executive"),
    "Connexions Leicestershire": ("Yusuf Patel", "Chief Executive"),
    "CVS Partnership": ("Hazel Brookes", "Chief Officer"),
    "De Montfort University": ("Colin Mayhew", "Registrar and Secretary"),
    "Eastern Leicester PCT": ("Dr Anjali Rao", "Caldicott Guardian"),
    "East Midlands Ambulance Service NHS Trust": (
        "Dr Tomasz Nowak",
        "Medical Director and Caldicott Guardian",
    ),
    "Environ": ("Rebecca Holloway", "Chief Executive"),
    "Harborough District Council": ("Ian Carver", "Chief Executive"),
    "Hinckley & Bosworth District Council": ("Stephanie Lowther", "Chief Executive"),
    "LCIL": ("Dev Sharma", "Chief Executive"),
    "Leicestershire & Rutland Probation Area": ("Maureen Tate", "Chief Officer"),
    "Leicester City Council": (
        "Howard Quinlan",
        "Director of Corporate Resources and Senior Information Risk Owner (SIRO)",
    ),
    "Leicestershire Constabulary": ("Karen Ashworth", "Deputy Chief Constable"),
    "Leicestershire County Council": ("Richard Elmhirst", "Chief Executive"),
    "Leicester Equality & Diversity Partnership": ("Nasreen Akhtar", "Director"),
    "Leicestershire Economic Partnership": ("Oliver Strand", "Chief Executive"),
    "Leicestershire Fire & Rescue Service": ("Lee Whitcombe", "Deputy Chief Fire Officer"),
    "Leicestershire Learning and Skills Council": ("Janet Oduya", "Executive Director"),
    "Leicestershire Partnership NHS Trust": ("Dr Ewan Forsyth", "Caldicott Guardian"),
    "Leicestershire, Northamptonshire & Rutland Strategic Health Authority": (
        "Christine Bellamy",
        "Director of Finance and Senior Information Risk Owner (SIRO)",
    ),
    "Loughborough University": ("Nigel Prentice", "Chief Operating Officer"),
    "Melton Borough Council": ("Susan Fairclough", "Chief Executive"),
    "Melton, Rutland & Harborough PCT": ("Dr Aidan Kerr", "Caldicott Guardian"),
    "New Parks Sure Start": ("Michelle Dunmore", "Programme Manager"),
    "NHS Direct East Midlands": ("Dr Lorna Hext", "Caldicott Guardian"),
    "North West Leicestershire District Council": ("Adrian Fleet", "Chief Executive"),
    "Oadby & Wigston Borough Council": ("Wendy Sallis", "Chief Executive"),
    "Rural Community Council – Leicestershire & Rutland": ("Jeremy Noakes", "Chief Executive"),
    "Rutland County Council": ("Philip Rainsford", "Chief Executive"),
    "South Leicestershire PCT": ("Dr Meera Joshi", "Caldicott Guardian"),
    "The University of Leicester": ("Duncan Mellor", "Registrar and Secretary"),
    # Leeds
    "Leeds Teaching Hospitals Trust": ("Dr Iain McLeod", "Caldicott Guardian"),
    "West Leeds Primary Care Trust": ("Sandra Hepworth", "Chief Executive"),
    "North West Leeds PCT": ("Trevor Akroyd", "Chief Executive"),
    "North East Leeds PCT": ("Dr Nadia Rahman", "Caldicott Guardian"),
    "East Leeds PCT": ("Gordon Lister", "Chief Executive"),
    "South Leeds PCT": ("Pauline Greenwood", "Chief Executive"),
    "Leeds City Council": (
        "Hugh Stanbridge",
        "Director of Resources and Senior Information Risk Owner (SIRO)",
    ),
    "Education Leeds": ("Rosalind Barker", "Chief Executive"),
    "West Yorkshire Police": ("Alan Threlfall", "Deputy Chief Constable"),
}

BEDFORDSHIRE_TITLE = "Bedfordshire Overarching Information Sharing Protocol"
LEICESTERSHIRE_TITLES = (
    "Leicestershire Data Sharing Protocol",  # version 1.0, October 2003
    "Leicestershire Information Sharing Protocol",  # the name version 2.0 gives it
)
WEISF_TITLE = "Wider Eastern Information Sharing Protocol"
LEEDS_TITLE = "Leeds Inter-Agency Information Sharing Protocol"

# The partners whose demo signatories have not signed yet, so they can sign from their tasks.
BEDFORDSHIRE_CHASED = ("Luton Borough Council", "Luton & Dunstable Hospital Foundation Trust")
# The partners that have signed Leicestershire's version 2.0 so far; Leicester City Council is
# still approving it (it has opened the request) and the others have yet to answer.
LEICESTERSHIRE_SIGNED_2 = (
    "Leicestershire County Council",
    "Leicestershire Constabulary",
    "Leicestershire Partnership NHS Trust",
    "Blaby District Council",
    "Loughborough University",
    "Rutland County Council",
)

EMERGENCY_SECTION = """\
In an emergency, when someone's life or safety is at immediate risk or a major incident has
been declared, staff share the information needed to protect people without waiting for the
procedures of an information sharing agreement.

Before sharing, the member of staff asks themselves:

1. Is there a real and immediate risk of harm to someone, or has a major incident been
   declared under the Civil Contingencies Act 2004?
2. Is the information needed now to reduce that risk?
3. Would less information, or information that identifies nobody, be enough?

If the answer to the first two questions is yes, they share what is needed with the person
who needs it, by the quickest secure means available, and tell their line manager as soon as
they can.

Afterwards they record what was shared, with whom, when and why. The partner's information
governance team reviews the decision within five working days.
"""

MEETINGS_SECTION = """\
Meetings held under an information sharing agreement often discuss named people. At the start
of each meeting the chair reminds those present that what is said is confidential. Minutes
name people only where that is necessary, and papers that identify anyone are collected at
the end or destroyed as confidential waste. Anyone attending who does not work for a partner
agrees to the same terms before the meeting starts.
"""

INDEMNITY_SECTION = """\
Each partner answers for its own use of the information it receives under this protocol. A
partner that causes loss to another by sharing or using information in breach of this
protocol, or of data protection law, indemnifies that partner against the claims, costs and
penalties that follow, to the extent that its breach caused them. No partner answers for
another partner's breach.

Where an organisation taking part in an agreement cannot give this indemnity, for instance a
small voluntary group, the agreement says so and records what the other partners have
accepted instead.
"""

AGREEMENT_REVIEW_SECTION = """\
Each information sharing agreement names an owner and a review date no more than a year after
it is signed. The information sharing manager keeps a register of every agreement made under
this protocol, showing the partners involved, what is shared, the lawful basis and the review
date, so that the partnership always has an overview of what it shares.

Each year the steering group checks a sample of agreements to confirm that they are complete
and consistent with this protocol, and asks their owners to put right what is missing.
"""

LEICESTERSHIRE_CHANGES = (
    "Renamed the Information Sharing Protocol, since it covers every kind of information the "
    "partners exchange, not only personal data. Adds a confidentiality statement for meetings, "
    "an indemnity between partners and guidance on reviewing agreements and keeping a register "
    "of them; reflects the partners' duties under the Freedom of Information Act 2000."
)

CONSENT_SECTION = """\
### Asking for consent

Where consent is the basis for sharing, staff explain to the person what will be shared, with
whom and why, and that they may refuse or change their mind later. They record the answer and
check that it still stands before each new disclosure.

Staff do not ask for consent when the information will be shared whatever the answer, for
instance to protect a child from harm: asking would mislead the person.

### Sharing without consent

Information may be shared without consent where the law requires it, where it is needed to
protect someone from serious harm or to prevent or detect a serious crime, or where another
lawful basis applies. A manager takes or confirms the decision and the reasons are recorded.
The person is told, unless telling them would put someone at risk or prejudice an
investigation.
"""

FIRST_REVIEW = (
    "The first review takes place between six and twelve months after the protocol is "
    "adopted; after that, the protocol is reviewed every"
)


def domain_for(organisation: str) -> str:
    """An invented organisation's own mail domain: luton-borough-council.example.org."""
    return f"{slugify(organisation)[:63].strip('-')}.example.org"


def email_for(name: str, organisation: str) -> str:
    """An invented signatory's address on their organisation's domain: "Dr Ravi Menon" of
    Luton Borough Council is ravi.menon@luton-borough-council.example.org."""
    words = [w for w in name.split() if w.rstrip(".").lower() != "dr"]
    return ".".join(slugify(w) for w in words) + "@" + domain_for(organisation)


def seed() -> str:
    """Add the demo signatories and protocols that are missing, in the caller's transaction;
    returns what was added in a sentence ("" for nothing). Queues no PDF renders."""
    seeder = ProtocolSeeder()
    with renders_on_demand():
        seeder.run()
    return seeder.report()


def progress() -> str:
    """One line a demo partnership: its protocol's latest version and who has signed it."""
    lines = ["", "Protocols:"]
    slugs = [spec.slug for spec in demo_data.PARTNERSHIPS]
    for partnership in Partnership.objects.filter(slug__in=slugs).order_by("name"):
        with scope(partnership=partnership):
            protocols = list(Protocol.objects.filter(retired_at__isnull=True).order_by("pk"))
            if not protocols:
                lines.append(f"  {partnership.name}: no protocol yet")
            for protocol in protocols:
                lines.append(f"  {partnership.name}: {_progress(protocol)}")
    return "\n".join(lines) + "\n"


def _progress(protocol: Protocol) -> str:
    latest = services.latest_version(protocol)
    if latest is None:
        return "no version yet"
    text = f"protocol {latest.number}"
    if latest.status in (VersionStatus.FOR_SIGNATURE, VersionStatus.SIGNED):
        counts = services.signing_counts([latest]).get(latest.pk, {})
        state = "in force" if latest.status == VersionStatus.SIGNED else "out for signature"
        text += f" {state}, signed by {counts.get('signed', 0)} of {counts.get('asked', 0)}"
        if counts.get("declined"):
            text += f" ({counts['declined']} declined)"
    else:
        text += f", {latest.get_status_display().lower()}"
    in_force = (
        protocol.versions.filter(status=VersionStatus.SIGNED).order_by("-major", "-minor").first()
    )
    if in_force is not None and in_force.pk != latest.pk:
        text += f"; version {in_force.number} in force"
    return text


class ProtocolSeeder:
    """Adds the missing demo signatories and protocols and counts what it added."""

    def __init__(self) -> None:
        self.added: Counter[str] = Counter()
        self.people = {p.email: p for p in demo_data.PEOPLE}
        self.plans: dict[str, tuple[tuple[str, ...], Callable[[Partnership], None]]] = {
            "bedfordshire-isp": ((BEDFORDSHIRE_TITLE,), self.bedfordshire),
            "leicestershire-isp": (LEICESTERSHIRE_TITLES, self.leicestershire),
            "weisf": ((WEISF_TITLE,), self.weisf),
            "leeds-isp": ((LEEDS_TITLE,), self.leeds),
        }

    def run(self) -> None:
        for spec in demo_data.PARTNERSHIPS:
            partnership = Partnership.objects.filter(slug=spec.slug).first()
            if partnership is None:
                continue
            titles, plan = self.plans[spec.slug]
            with scope(partnership=partnership):
                self.signatories(spec)
                if not Protocol.objects.filter(title__in=titles).exists():
                    plan(partnership)

    # --- Who acts ------------------------------------------------------------------------

    def user(self, email: str) -> Any:
        return User.objects.get(email__iexact=email)

    @contextmanager
    def as_member(self, email: str) -> Iterator[Any]:
        """Act as the demo person, for the organisation they belong to in this partnership."""
        membership = Membership.objects.select_related("user", "organisation").get(
            user__email__iexact=email
        )
        with acting(user=membership.user, organisation=membership.organisation):
            yield membership.user

    def partner(self, organisation: str) -> Partner:
        return Partner.objects.select_related("organisation").get(
            organisation__name__iexact=organisation
        )

    # --- Authorised signatories ----------------------------------------------------------

    def signatories(self, spec: demo_data.PartnershipSpec) -> None:
        """Each partner's signatory: its demo person with the signatory role, else an
        invented one. Someone already on the list (active or not) is left as they are."""
        wanted: dict[str, list[tuple[str, str, str]]] = {}
        for person in demo_data.PEOPLE:
            for membership in person.memberships:
                if membership.partnership == spec.slug and Role.SIGNATORY in membership.roles:
                    wanted.setdefault(membership.organisation, []).append(
                        (person.full_name, person.job_title, person.email)
                    )
        for partner_spec in spec.partners:
            if partner_spec.organisation not in wanted and partner_spec.organisation in (
                SIGNATORIES
            ):
                name, position = SIGNATORIES[partner_spec.organisation]
                wanted[partner_spec.organisation] = [
                    (name, position, email_for(name, partner_spec.organisation))
                ]
        with self.as_member(spec.founder):
            for partner_spec in spec.partners:
                partner = self.partner(partner_spec.organisation)
                for name, position, email in wanted.get(partner_spec.organisation, []):
                    domain = email_domain(email)
                    if (
                        domain.endswith(".example.org")
                        and not OrganisationDomain.objects.filter(domain=domain).exists()
                    ):
                        # As Accord's operator lists a body's domain, so that the
                        # organisation vouches for its signatories' addresses.
                        add_domain(partner.organisation, domain)
                    listed = AuthorisedSignatory.objects.filter(
                        partner=partner, email__iexact=email
                    ).first()
                    if listed is None:
                        listed = add_signatory(partner, name=name, position=position, email=email)
                        self.added["authorised signatories"] += 1
                    if listed.confirmed_at is None:
                        # As the signatory would, from the link in the e-mail just sent.
                        confirmation = listed.confirmations.order_by("-created_at").first()
                        if confirmation is None or confirmation.state != "pending":
                            confirmation = addresses.ask_signatory(listed)
                        addresses.confirm(confirmation)

    # --- Steps every protocol takes --------------------------------------------------------

    def start(self, partnership: Partnership, title: str, lead: str, author: str):
        with self.as_member(author) as by:
            protocol = services.create_from_model(
                partnership, title=title, lead=self.partner(lead), by=by
            )
        self.added["protocols"] += 1
        self.added["protocol versions"] += 1
        return protocol, services.latest_version(protocol)

    def approve_and_send(
        self, version: ProtocolVersion, *, author: str, approver: str
    ) -> dict[str, SignatureRequest]:
        """Submit, approve and send to every active partner; the requests by organisation."""
        with self.as_member(author) as by:
            services.submit_for_approval(version, by=by)
        with self.as_member(approver) as by:
            services.approve(version, by=by)
        with self.as_member(author) as by:
            partners = Partner.objects.filter(status=PartnerStatus.ACTIVE).order_by("pk")
            version = services.send_for_signature(version, partners, by=by)
        requests = SignatureRequest.objects.filter(
            document=version.document, status=RequestStatus.SENT
        ).select_related("partnership", "document", "partner__organisation", "signatory")
        return {str(r.partner.organisation): r for r in requests}

    def sign(self, request: SignatureRequest) -> None:
        """The request's signatory signs: in Accord when they are a demo person, else by the
        e-mailed link (no one signed in)."""
        signatory = request.signatory
        person = self.people.get(request.email)
        user = self.user(person.email) if person else None
        with acting(user=None, organisation=None):
            signing.sign(
                request,
                name=person.full_name if person else signatory.name,
                position=person.job_title if person else signatory.position,
                confirmed=True,
                ip_address=None,
                user_agent=SIGNED_FROM,
                user=user,
            )
        self.added["signatures"] += 1

    def open(self, request: SignatureRequest) -> None:
        with acting(user=None, organisation=None):
            signing.mark_opened(request)

    def remind(self, request: SignatureRequest, times: int) -> None:
        with acting(user=None, organisation=None):
            for _ in range(times):
                if signing.remind_now(request):
                    self.added["reminders"] += 1

    # --- The four partnerships -------------------------------------------------------------

    def bedfordshire(self, partnership: Partnership) -> None:
        admin = "admin.bedfordshire@example.org"
        _, version = self.start(
            partnership, BEDFORDSHIRE_TITLE, "Central Bedfordshire Council", admin
        )
        with self.as_member(admin) as by:
            services.add_section(
                version, title="Sharing information in an emergency", body=EMERGENCY_SECTION, by=by
            )
        requests = self.approve_and_send(
            version, author=admin, approver="steering.bedfordshire@example.org"
        )
        for organisation, request in requests.items():
            if organisation not in BEDFORDSHIRE_CHASED:
                self.sign(request)
        opened, unopened = (requests.get(name) for name in BEDFORDSHIRE_CHASED)
        if opened is not None:
            self.open(opened)
            self.remind(opened, 2)
        if unopened is not None:
            self.remind(unopened, 1)

    def leicestershire(self, partnership: Partnership) -> None:
        admin, steering = "admin.leicestershire@example.org", "steering.leicestershire@example.org"
        protocol, first = self.start(
            partnership, LEICESTERSHIRE_TITLES[0], "Leicestershire County Council", admin
        )
        for request in self.approve_and_send(first, author=admin, approver=steering).values():
            self.sign(request)
        with self.as_member(admin) as by:
            second = services.new_version(
                protocol, major=True, change_summary=LEICESTERSHIRE_CHANGES, by=by
            )
            services.update_settings(protocol, title=LEICESTERSHIRE_TITLES[1], by=by)
        self.added["protocol versions"] += 1
        with self.as_member("ig.leicestershire@example.org") as by:
            for title, body in (
                ("Confidentiality of meetings", MEETINGS_SECTION),
                ("Indemnity", INDEMNITY_SECTION),
                ("Reviewing information sharing agreements", AGREEMENT_REVIEW_SECTION),
            ):
                services.add_section(second, title=title, body=body, by=by)
        requests = self.approve_and_send(second, author=admin, approver=steering)
        for organisation in LEICESTERSHIRE_SIGNED_2:
            if organisation in requests:
                self.sign(requests[organisation])
        if "Leicester City Council" in requests:
            self.open(requests["Leicester City Council"])

    def weisf(self, partnership: Partnership) -> None:
        admin = "admin.weisf@example.org"
        _, version = self.start(partnership, WEISF_TITLE, "Essex County Council", admin)
        requests = self.approve_and_send(
            version, author=admin, approver="steering.weisf@example.org"
        )
        for request in requests.values():
            self.sign(request)

    def leeds(self, partnership: Partnership) -> None:
        admin = "admin.leeds@example.org"
        _, version = self.start(partnership, LEEDS_TITLE, "Leeds City Council", admin)
        with self.as_member(admin) as by:
            review = version.sections.get(title="Monitoring and review")
            body = review.body.replace("The protocol is reviewed every", FIRST_REVIEW, 1)
            if body != review.body:
                services.update_section(review, title=review.title, body=body, by=by)
        with self.as_member("ig.leeds@example.org") as by:
            services.add_section(
                version, title="Consent and sharing without consent", body=CONSENT_SECTION, by=by
            )

    def report(self) -> str:
        order = [
            "protocols",
            "protocol versions",
            "authorised signatories",
            "signatures",
            "reminders",
        ]
        parts = [f"{self.added[key]} {key}" for key in order if self.added[key]]
        return "Added " + ", ".join(parts) + "." if parts else ""
