"""What a review cycle is about, whether a protocol or an agreement: its title, lead, parties,
sections and pages, asked the same way."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils.safestring import mark_safe

from agreements.models import Agreement, AgreementStatus
from documents.markup import render_markdown
from protocols.models import Protocol, ProtocolVersion
from protocols.services import in_force_version
from signatories.models import Partner, PartnerStatus

from .models import ReviewCycle

BOUND = (PartnerStatus.ACTIVE, PartnerStatus.WITHDRAWING)


@dataclass(frozen=True)
class SectionText:
    key: str
    position: int
    title: str
    body: str

    @property
    def html(self) -> str:
        """The section as the document shows it: its Markdown, sanitised."""
        return mark_safe(render_markdown(self.body))  # noqa: S308 (sanitised by nh3)


def title_of(cycle: ReviewCycle) -> str:
    if cycle.protocol_id:
        return cycle.protocol.title
    return f"{cycle.agreement.reference} {cycle.agreement.title}"


def kind_label(cycle: ReviewCycle) -> str:
    return "Protocol" if cycle.protocol_id else "Agreement"


def lead_of(cycle: ReviewCycle) -> Partner:
    return cycle.document.lead


def document_path(cycle: ReviewCycle) -> str:
    slug = cycle.partnership.slug
    if cycle.protocol_id:
        return reverse(
            "protocols:detail", kwargs={"partnership_slug": slug, "protocol_id": cycle.protocol_id}
        )
    return reverse(
        "agreements:detail", kwargs={"partnership_slug": slug, "agreement_id": cycle.agreement_id}
    )


def cycle_link(cycle: ReviewCycle) -> str:
    return settings.SITE_URL + reverse(
        "reviews:cycle",
        kwargs={"partnership_slug": cycle.partnership.slug, "cycle_id": cycle.pk},
    )


def version_in_force(cycle: ReviewCycle) -> ProtocolVersion | Agreement | None:
    if cycle.protocol_id:
        return in_force_version(cycle.protocol)
    return cycle.agreement if cycle.agreement.status == AgreementStatus.ACTIVE else None


def version_label(cycle: ReviewCycle) -> str:
    current = version_in_force(cycle)
    if current is None:
        return ""
    return current.number if cycle.protocol_id else current.version_label


def sections(cycle: ReviewCycle, current=None) -> list[SectionText]:
    """The sections of the version in force, in order: what parties comment on."""
    current = current if current is not None else version_in_force(cycle)
    if current is None:
        return []
    if cycle.protocol_id:
        rows = current.sections.order_by("position", "id")
        return [SectionText(str(s.pk), i, s.title, s.body) for i, s in enumerate(rows, 1)]
    rows = current.sections.order_by("position", "id")
    return [SectionText(s.key, i, s.title, s.body) for i, s in enumerate(rows, 1)]


def parties(cycle: ReviewCycle) -> list[Partner]:
    """Who is asked for feedback: a protocol's partners, an agreement's parties, while they are
    active or still bound through their notice of withdrawal."""
    active = Partner.objects.filter(status__in=BOUND).select_related("organisation")
    if cycle.protocol_id:
        return list(active.order_by("organisation__name"))
    ids = cycle.agreement.parties.values_list("partner_id", flat=True)
    return list(active.filter(pk__in=ids).order_by("organisation__name"))


def is_party(cycle: ReviewCycle, partner: Partner) -> bool:
    return partner.status in BOUND and any(p.pk == partner.pk for p in parties(cycle))


def cycle_of(document: Protocol | Agreement) -> ReviewCycle | None:
    field = "protocol" if isinstance(document, Protocol) else "agreement"
    return ReviewCycle.objects.filter(**{field: document}).first()
