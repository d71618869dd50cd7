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

from documents.pdf import renders_on_demand
from protocols import demo as protocols_demo
from protocols.models import Legislation
from signatories.models import RequestStatus, SignatureRequest
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
        items: tuple[tuple[str, str, str], ...],
        data_subjects: str,
        todo: tuple[str, ...] = (),
    ) -> Agreement:
        today = timezone.localdate()
        lead_partner, other_partner = self.helper.partner(lead), self.helper.partner(other)
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
            step("transfers", fields={"international_transfers": False})
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
                "transfers",
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
            items=(("Name", "personal", ""), ("Address", "personal", "")),
            data_subjects="Adults reported missing after leaving hospital",
            todo=BEDFORDSHIRE_TODO,
        )
