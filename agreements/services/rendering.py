"""The agreement as one HTML document: what is frozen and signed, summary sheet included.

The summary sheet (the agreement's dates and lead organisation, and each party's role,
address, telephone, data protection e-mail, data protection officer and ICO registration
reference) is the first section of the text, so the signing page shows it and the SHA-256
covers it.

Structured sections (parties, data items, legal basis, responsibilities, rights, ...) are
rendered from the agreement's fields as tables, tick boxes included, followed by the
section's own Markdown text; every other section is its Markdown text. The result is
sanitised in the spelling that freezing stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import date as date_format
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from documents.markup import render_markdown, sanitise_html

from .. import legal, rules
from ..facts import JOINT_CONTROLLER, PROCESSOR, RECIPIENT, RIGHTS, SOLE_CONTROLLER
from ..models import Agreement, AgreementParty

TICK = "✓"
CROSS = "✗"


@dataclass(frozen=True)
class RightRow:
    key: str
    label: str
    applies: bool
    reasons: tuple[str, ...]
    suggested: bool  # what the rules say for the Article 6 basis
    provision: str = ""  # "Article 15" ("" for the requests for information)
    not_applied_because: str = ""  # the parties' reason for leaving a suggested right unticked

    @property
    def title(self) -> str:
        """The right with its provision, such as "Article 15 Right of access"."""
        return f"{self.provision} {self.label}".strip()


def suggested_rights(article6: str, automated_decisions: str = "") -> dict[str, Any]:
    """{right key: RightOutcome} from the rules for these Article 6 letters and the
    automated decisions described ("" for none)."""
    outcomes = rules.rights_for(
        sorted(set(article6)), automated_decisions=bool(automated_decisions.strip())
    )
    return {outcome.key: outcome for outcome in outcomes}


def rights_rows(agreement: Agreement) -> list[RightRow]:
    """Every right, whether it applies (as confirmed on the rights page, else as the rules
    suggest from the Article 6 basis and the automated decisions described), why, and the
    parties' reason for leaving a right the rules suggest unticked."""
    suggested = suggested_rights(agreement.article6, agreement.automated_decisions)
    chosen = set(agreement.rights) if agreement.rights is not None else None
    reasons_given = agreement.rights_reasons or {}
    rows = []
    for key, label in RIGHTS:
        outcome = suggested.get(key)
        suggests = bool(outcome and outcome.applies)
        applies = (key in chosen) if chosen is not None else suggests
        rows.append(
            RightRow(
                key=key,
                label=outcome.label if outcome else label,
                applies=applies,
                reasons=tuple(outcome.reasons) if outcome else (),
                suggested=suggests,
                provision=legal.RIGHT_PROVISIONS[key],
                not_applied_because="" if applies else str(reasons_given.get(key, "")).strip(),
            )
        )
    return rows


# How the agreement's end reads when it has no end date.
ENDS_WITH_THE_EXCHANGE = "None: a one-off exchange"
ENDS_WHEN_TERMINATED = "None: until terminated"


def end_wording(agreement: Agreement) -> str:
    """The agreement's end in words, the same wherever it is shown: its end date ("31 March
    2027"), else "None: a one-off exchange" or "None: until terminated"."""
    if agreement.end_date:
        return date_format(agreement.end_date, "j F Y")
    return ENDS_WHEN_TERMINATED if agreement.ongoing else ENDS_WITH_THE_EXCHANGE


def parties_of(agreement: Agreement) -> list[AgreementParty]:
    return list(
        agreement.parties.select_related("partner__organisation").order_by(
            "partner__organisation__name"
        )
    )


def roles_table(parties: list[AgreementParty]) -> list[dict[str, Any]]:
    """The responsibilities tick-box table: one row a role, ticked when a party holds it."""
    rows = []
    for role, label in (
        (SOLE_CONTROLLER, "The sole controller for this sharing is"),
        (JOINT_CONTROLLER, "The joint controllers for this sharing are"),
        (PROCESSOR, "Processors acting for the controllers are"),
        (RECIPIENT, "Recipients (controllers of the copies they receive) are"),
    ):
        names = [str(p.partner.organisation) for p in parties if p.role == role]
        rows.append({"label": label, "ticked": bool(names), "names": names})
    return rows


def legal_basis(agreement: Agreement) -> dict[str, Any]:
    statutes = list(agreement.statutes.order_by("title")) if agreement.pk else []
    condition = legal.SCHEDULE_1.get(agreement.schedule1_condition)
    common_law = legal.COMMON_LAW_BASES.get(agreement.common_law_basis)
    return {
        "article6": [legal.ARTICLE_6[letter] for letter in agreement.article6_letters],
        "article9": [legal.ARTICLE_9[letter] for letter in agreement.article9_letters],
        "schedule1": condition,
        "schedule1_other": agreement.schedule1_condition if condition is None else "",
        "article10": legal.ARTICLE_10 if agreement.article10 else None,
        "law_enforcement": legal.LAW_ENFORCEMENT if agreement.law_enforcement else None,
        "statutes": statutes,
        "other_statute": agreement.other_statute,
        "common_law": common_law,
    }


def document_context(agreement: Agreement) -> dict[str, Any]:
    """What the agreement's document template reads."""
    parties = parties_of(agreement)
    sections = list(agreement.sections.order_by("position", "id"))
    for section in sections:
        section.html = mark_safe(render_markdown(section.body))  # noqa: S308 (sanitised)
    items = list(
        agreement.data_items.select_related(
            "from_party__partner__organisation", "to_party__partner__organisation"
        ).order_by("position", "id")
    )
    return {
        "agreement": agreement,
        "lead": agreement.lead.organisation,
        "parties": parties,
        "sections": sections,
        "items": items,
        "ends": end_wording(agreement),
        "roles": roles_table(parties),
        "legal": legal_basis(agreement),
        "rights": rights_rows(agreement),
        "TICK": TICK,
        "CROSS": CROSS,
        "today": timezone.localdate(),
    }


def render_agreement_html(agreement: Agreement) -> str:
    """The agreement's text as one HTML document, sanitised as freezing stores it."""
    html = render_to_string("agreements/document/agreement.html", document_context(agreement))
    return sanitise_html(html)


def render_section_html(agreement: Agreement, section) -> str:
    """One section as the agreement's document shows it (tables and text), without its
    title: for reading it on its page."""
    context = document_context(agreement)
    context["sections"] = [s for s in context["sections"] if s.key == section.key]
    context["without_titles"] = True
    html = render_to_string("agreements/document/agreement.html", context)
    return sanitise_html(html)


def render_summary_sheet(agreement: Agreement) -> str:
    """The summary sheet's tables as the agreement's first section shows them: the
    agreement's dates and lead organisation, and each party's role, address, contacts, data
    protection officer and ICO registration reference from its organisation record."""
    html = render_to_string(
        "agreements/document/summary_sheet.html",
        {
            "agreement": agreement,
            "lead": agreement.lead.organisation,
            "parties": parties_of(agreement),
            "ends": end_wording(agreement),
        },
    )
    return sanitise_html(html)
