"""Demo agreements for `manage.py seed_demo`: runs after protocols.demo.

- The Wider Eastern Information Stakeholder Forum ("weisf"): an information sharing agreement
  between Essex County Council (lead) and Essex Cares Ltd for a review of the adult social
  care reablement service, modelled on the forum's completed agreement (seed 002): joint
  controllers with one contact point, Article 6(1)(e) with Article 9(2)(h) and Schedule 1
  paragraph 2, the Care Act 2014 from the partnership's legislation library. Every section is
  completed; it is sent for signature and signed by both parties' demo signatories, so it
  is active.
- Bedfordshire: a draft between Central Bedfordshire Council and Bedfordshire Police with a
  couple of sections still to do, so the task list and the blocking messages show something.

Before drafting, each party's organisation record is given the contact details its summary
sheet shows (address, telephone, data protection e-mail, confirmed from itself, and DPO) where
it has none, by one of the organisation's own verified people, as the template's guidance asks.
The Essex addresses are those of the forum's completed agreement, the Bedfordshire ones the
bodies' public head offices; telephone numbers are from Ofcom's range for drama (01632
960xxx), e-mail addresses are on example.org, and the DPOs are invented people.

Everything goes through agreements.services and signatories.signing, as the pages do. An
agreement whose reference already exists is left alone. E-mails are queued as usual (seed_demo
sends them nowhere); no PDF is queued: each is rendered when first downloaded. The wording is
Accord's own; the people are the invented demo people.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from django_scopes import scope

from accord.kernel.context import acting
from documents.pdf import renders_on_demand
from protocols import demo as protocols_demo
from protocols.models import Legislation
from signatories import addresses
from signatories.affiliations import verified_people
from signatories.models import Organisation, RequestStatus, SignatureRequest
from signatories.services import update_organisation
from tenancy.models import Partnership

from . import services
from .facts import SECTION_KEYS
from .models import Agreement, AgreementStatus

ESSEX_REFERENCE = "WEISF-ISA-001"
ESSEX_TITLE = "Reablement service review"
BEDFORDSHIRE_REFERENCE = "BISG-ISA-001"
BEDFORDSHIRE_TITLE = "Missing persons: hospital discharge alerts"
# The Bedfordshire draft's sections left to do.
BEDFORDSHIRE_TODO = ("retention", "breaches")

ESSEX_PURPOSE = """\
Essex County Council and Essex Cares Ltd review the adult social care reablement service
together: which adults leave it, when and why, and what support they receive afterwards. The
review helps both organisations plan reablement so that more people regain their independence
and fewer need long-term care packages.
"""

ESSEX_SECURITY = """\
Each party applies technical and organisational security measures suited to the sensitivity
and volume of the information, as UK GDPR Article 32 requires. Each party receiving
information under this agreement will:

- train the people who handle it in their duties of confidentiality and data protection;
- keep it physically and electronically secure;
- give access only to the people who need it for the review, and check that they are suitable
  to have it;
- keep a current policy on handling personal data that its staff can read;
- have a process for managing personal data breaches;
- use a processor only where this agreement names it, under a written contract.

The information is protected in transit by being shared only in review meetings between the
two organisations' named staff, in person or by the council's video calling service; the
council's review team records what it needs directly in its own case records, and nothing is
sent by e-mail or on removable media.
"""

ESSEX_FORMAT = """\
- Format: verbally, in review meetings between the two organisations' named staff
- Frequency: once, for this review
- Shared system (if any) and its owner: not applicable
"""

BEDFORDSHIRE_SECURITY = """\
Each party applies technical and organisational security measures suited to the sensitivity
of the information, as UK GDPR Article 32 requires, gives access only to the officers working
on a missing person case, and keeps a record of what it shared, with whom and why.

The information is protected in transit by secure e-mail between the council's adult social
care duty team and the police missing persons unit, both on government secure e-mail
services, and by telephone between named officers when a person is at immediate risk.
"""

BEDFORDSHIRE_FORMAT = """\
- Format: a short written alert by secure e-mail, followed by telephone calls while the
  person is missing
- Frequency: as cases arise, whenever an adult is reported missing within 72 hours of leaving
  hospital
- Shared system (if any) and its owner: not applicable
"""

# The summary sheet's details of each demo party: (head office address, telephone, data
# protection e-mail, data protection officer).
CONTACTS: dict[str, tuple[str, str, str, str]] = {
    "Essex County Council": (
        "County Hall, Market Road, Chelmsford CM1 1QH",
        "01632 960410",
        "data.protection@essex-county-council.example.org",
        "Harriet Okafor",
    ),
    "Essex Cares Ltd": (
        "Seax House, Victoria Road, Chelmsford CM1 1QH",
        "01632 960438",
        "data.protection@essex-cares-ltd.example.org",
        "Imran Siddiqui",
    ),
    "Central Bedfordshire Council": (
        "Priory House, Monks Walk, Chicksands, Shefford SG17 5TQ",
        "01632 960512",
        "data.protection@central-bedfordshire-council.example.org",
        "Marcus Bell",
    ),
    "Bedfordshire Police": (
        "Police Headquarters, Woburn Road, Kempston, Bedford MK43 9AX",
        "01632 960599",
        "data.protection@bedfordshire-police.example.org",
        "Sunita Rao",
    ),
}

ESSEX_ITEMS = (
    ("Name", "personal", ""),
    ("Address", "personal", ""),
    ("NHS number", "personal", ""),
    ("Care needs and reablement outcomes", "special", "health"),
)


def seed() -> str:
    """Add the demo agreements that are missing; what was added in a sentence ("" for
    nothing)."""
    seeder = AgreementSeeder()
    with renders_on_demand():
        seeder.run()
    return seeder.report()


def progress() -> str:
    """One line: where the demo agreements stand."""
    parts = []
    for slug, label in (("weisf", "Essex forum"), ("bedfordshire-isp", "Bedfordshire")):
        partnership = Partnership.objects.filter(slug=slug).first()
        if partnership is None:
            continue
        with scope(partnership=partnership):
            agreements = list(Agreement.objects.values_list("status", flat=True))
        counted: dict[str, int] = {}
        for status in agreements:
            word = AgreementStatus(status).label.lower()
            counted[word] = counted.get(word, 0) + 1
        text = ", ".join(f"{n} {word}" for word, n in counted.items()) or "none"
        parts.append(f"{label} {text}")
    return "Agreements: " + "; ".join(parts)


class AgreementSeeder:
    def __init__(self) -> None:
        self.helper = protocols_demo.ProtocolSeeder()  # who acts, partners, signing
        self.added = 0

    def run(self) -> None:
        for slug, reference, plan in (
            ("weisf", ESSEX_REFERENCE, self.essex),
            ("bedfordshire-isp", BEDFORDSHIRE_REFERENCE, self.bedfordshire),
        ):
            partnership = Partnership.objects.filter(slug=slug).first()
            if partnership is None:
                continue
            with scope(partnership=partnership):
                if not Agreement.objects.filter(reference=reference).exists():
                    plan(partnership)
                    self.added += 1

    def report(self) -> str:
        if not self.added:
            return ""
        return f"Added {self.added} agreement{'s' if self.added != 1 else ''}."

    # --- Steps ---------------------------------------------------------------------------

    def contacts(self, organisation: Organisation) -> None:
        """Give the organisation's record the summary sheet's details it lacks, as one of its
        verified people would, and confirm the data protection address from itself."""
        address, phone, email, dpo = CONTACTS[organisation.name]
        wanted = {
            name: value
            for name, value in (("address", address), ("phone", phone), ("dpo_name", dpo))
            if not getattr(organisation, name).strip()
        }
        if not organisation.data_protection_email:
            wanted["data_protection_email"] = email
        if not wanted and organisation.confirmed_data_protection_email:
            return
        person = verified_people(organisation).first()
        if person is None:
            return
        with acting(user=person, organisation=organisation):
            if wanted:
                organisation = update_organisation(
                    organisation, by=person, ico_reference=organisation.ico_reference, **wanted
                )
            pending = addresses.pending_data_protection(organisation)
            if pending is None and not organisation.confirmed_data_protection_email:
                pending = addresses.ask_data_protection(
                    organisation, organisation.data_protection_email, by=person
                )
            if pending is not None:
                # As someone at the address would, from the link in the e-mail just sent.
                addresses.confirm(pending)

    def save(self, agreement: Agreement, key: str, by, *, completed: bool = True, **kw: Any):
        section = agreement.sections.get(key=key)
        services.save_section(
            section, expected_version=section.version, completed=completed, by=by, **kw
        )

    def draft(
        self,
        partnership: Partnership,
        *,
        title: str,
        reference: str,
        lead: str,
        other: str,
        author: str,
        purpose: str,
        security: str,
        format_frequency: str,
        items: tuple[tuple[str, str, str], ...],
        data_subjects: str,
        todo: tuple[str, ...] = (),
    ) -> Agreement:
        today = timezone.localdate()
        lead_partner, other_partner = self.helper.partner(lead), self.helper.partner(other)
        for partner in (lead_partner, other_partner):
            self.contacts(partner.organisation)
        with self.helper.as_member(author) as by:
            agreement = services.create_agreement(
                partnership, title=title, reference=reference, lead=lead_partner, by=by
            )
            done = set(todo)

            def step(key: str, **kw: Any) -> None:
                self.save(agreement, key, by, completed=key not in done, **kw)

            step(
                "summary",
                fields={"start_date": today, "ongoing": False},
                parties={lead_partner.pk: "joint_controller", other_partner.pk: "joint_controller"},
            )
            step("commencement", fields={"review_date": today + timedelta(days=365)})
            step(
                "supporting_documents",
                fields={
                    "dpia_reference": "DPIA-ASC-2023-07",
                    "large_scale": False,
                    "new_technology": False,
                },
            )
            step("purpose", body=purpose)
            care_act = Legislation.objects.filter(title="Care Act 2014")
            step(
                "legal_basis",
                fields={
                    "article6": "e",
                    "article9": "h",
                    "schedule1_condition": "2",
                    "other_statute": "Care Act 2014, section 2: preventing or delaying needs "
                    "for care and support.",
                },
                statutes=list(care_act),
            )
            parties = {p.partner_id: p for p in agreement.parties.all()}
            for name, category, special in items:
                services.save_data_item(
                    agreement,
                    values={
                        "item": name,
                        "category": category,
                        "special_category_type": special,
                        "data_subjects": data_subjects,
                        "from_party": parties[other_partner.pk],
                        "to_party": parties[lead_partner.pk],
                        "purpose": "To follow each person's journey through the service",
                        "necessity": "The review cannot be done without it",
                    },
                    by=by,
                )
            step("information")
            step(
                "responsibilities",
                fields={"joint_contact_point": f"Information Governance team, {lead}"},
            )
            step("rights")
            step("security", body=security)
            step("transfers", fields={"international_transfers": False})
            step("format_frequency", body=format_frequency)
            step(
                "retention",
                fields={
                    "retention_period": "Until the review ends, then anonymised or "
                    "securely destroyed."
                },
            )
            step("breaches", fields={"partner_breach_hours": 48, "ico_breach_hours": 72})
            structured = {
                "summary",
                "commencement",
                "supporting_documents",
                "purpose",
                "legal_basis",
                "information",
                "responsibilities",
                "rights",
                "security",
                "transfers",
                "format_frequency",
                "retention",
                "breaches",
            }
            for key in SECTION_KEYS:
                if key not in structured:
                    step(key)
        return Agreement.objects.get(pk=agreement.pk)

    # --- The two partnerships ------------------------------------------------------------

    def essex(self, partnership: Partnership) -> None:
        author = "ig.weisf@example.org"
        agreement = self.draft(
            partnership,
            title=ESSEX_TITLE,
            reference=ESSEX_REFERENCE,
            lead="Essex County Council",
            other="Essex Cares Ltd",
            author=author,
            purpose=ESSEX_PURPOSE,
            security=ESSEX_SECURITY,
            format_frequency=ESSEX_FORMAT,
            items=ESSEX_ITEMS,
            data_subjects="Adults who used the reablement service",
        )
        with self.helper.as_member(author) as by:
            services.submit_for_review(agreement, by=by)
            services.send_for_signature(Agreement.objects.get(pk=agreement.pk), by=by)
        agreement = Agreement.objects.get(pk=agreement.pk)
        requests = SignatureRequest.objects.filter(
            document_id=agreement.document_id, status=RequestStatus.SENT
        ).select_related("partnership", "document", "partner__organisation", "signatory")
        for request in requests:
            self.helper.sign(request)

    def bedfordshire(self, partnership: Partnership) -> None:
        self.draft(
            partnership,
            title=BEDFORDSHIRE_TITLE,
            reference=BEDFORDSHIRE_REFERENCE,
            lead="Central Bedfordshire Council",
            other="Bedfordshire Police",
            author="admin.bedfordshire@example.org",
            purpose="Central Bedfordshire Council's adult social care teams and Bedfordshire "
            "Police share what each knows when a vulnerable adult goes missing soon after "
            "leaving hospital, so they can be found quickly and safely.\n",
            security=BEDFORDSHIRE_SECURITY,
            format_frequency=BEDFORDSHIRE_FORMAT,
            items=(("Name", "personal", ""), ("Address", "personal", "")),
            data_subjects="Adults reported missing after leaving hospital",
            todo=BEDFORDSHIRE_TODO,
        )
