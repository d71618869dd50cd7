"""Agreements: the default template and its edits, starting an agreement from it (a copy
that later template edits never reach), the facts the rules read, and the document that is
frozen. Helpers and fixtures here are shared by the other test_agreements_* modules."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django_scopes import scope

from agreements import services
from agreements.facts import SECTION_KEYS, SECTIONS, AgreementFacts
from agreements.models import (
    Agreement,
    AgreementParty,
    AgreementSection,
    AgreementTemplate,
    DataItem,
)
from agreements.templates_content import DEFAULT_SECTIONS
from protocols.models import Legislation
from signatories.models import Organisation, Sector
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .factories import (
    OrganisationFactory,
    make_agreement,
    make_member,
    make_partner,
    make_signatory,
)
from .pages import field_error, page_text

pytestmark = pytest.mark.django_db


# --- Helpers ---------------------------------------------------------------------------------


def url(name: str, partnership: str = "alpha", **kwargs) -> str:
    return reverse(f"agreements:{name}", kwargs={"partnership_slug": partnership, **kwargs})


def agreement_url(name: str, agreement: Agreement, **kwargs) -> str:
    return url(name, agreement.partnership.slug, agreement_id=agreement.pk, **kwargs)


def section_url(agreement: Agreement, key: str) -> str:
    return agreement_url("section", agreement, section_key=key)


def fresh(agreement: Agreement) -> Agreement:
    with scope(partnership=agreement.partnership):
        return Agreement.objects.select_related("lead__organisation", "document").get(
            pk=agreement.pk
        )


def section_of(agreement: Agreement, key: str) -> AgreementSection:
    with scope(partnership=agreement.partnership):
        section = AgreementSection.objects.get(agreement=agreement, key=key)
    section.agreement = fresh(agreement)
    return section


def audit(partnership, action: str) -> list[AuditEntry]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.filter(action=action).order_by("id"))


class _FormReader(HTMLParser):
    """The values a browser would submit from each <form> of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[list[tuple[str, str]]] = []
        self._form: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._option: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = []
        if self._form is None:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.append((a["name"], a.get("value", "on")))
            elif kind not in ("submit", "button"):
                self._form.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = a.get("name"), None, False
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self._form.append((self._select, value))
                self._select_chosen = True
        elif tag == "textarea" and a.get("name") and "readonly" not in a:
            self._textarea, self._text = a["name"], []

    def handle_data(self, data):
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._form is None:
            return
        if tag == "select" and self._select:
            if not self._select_chosen and self._select_first is not None:
                self._form.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            text = "".join(self._text)
            self._form.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "form":
            self.forms.append(self._form)
            self._form = None


def form_values(response, containing: str = "version") -> dict[str, list[str]]:
    """What the page's form holding a field named `containing` would submit, as a browser."""
    reader = _FormReader()
    reader.feed(response.content.decode())
    for fields in reader.forms:
        if any(name == containing for name, _ in fields):
            values: dict[str, list[str]] = {}
            for name, value in fields:
                values.setdefault(name, []).append(value)
            return values
    raise AssertionError(f"No form with a {containing!r} field on the page.")


def post_section(client, agreement: Agreement, key: str, completed: bool = True, **changes):
    """Open a section's page, change some fields as a person would, and save it."""
    page = client.get(section_url(agreement, key))
    assert page.status_code == 200, page.status_code
    data = form_values(page)
    for name, value in changes.items():
        data[name] = value if isinstance(value, list) else [value]
    data["completed"] = ["yes" if completed else "no"]
    return client.post(section_url(agreement, key), data)


# --- Fixtures: the seed-002 agreement's two parties ---------------------------------------------


def organisation(name: str, ico: str, sector: str, **fields) -> Organisation:
    return OrganisationFactory(name=name, ico_reference=ico, sector=sector, **fields)


@pytest.fixture
def ecc(alpha):
    """The lead: a county council, a public authority."""
    org = organisation(
        "Essex County Council",
        "Z6034810",
        Sector.LOCAL_AUTHORITY,
        address="County Hall, Market Road, Chelmsford CM1 1QH",
        phone="0345 743 0430",
        data_protection_email="dpo@example.gov.uk",
        dpo_name="Priya Shah",
    )
    partner = make_partner(alpha, org)
    make_signatory(partner, name="Ann Lee", position="Senior Information Risk Owner")
    return partner


@pytest.fixture
def ecl(alpha):
    """The other party: a care provider owned by the council."""
    org = organisation(
        "Essex Cares Ltd",
        "Z1801658",
        Sector.PRIVATE,
        address="Seax House, Victoria Road, Chelmsford CM1 1QH",
        phone="0333 013 5438",
        data_protection_email="dataprotection@example.org",
        dpo_name="Tom Reid",
    )
    partner = make_partner(alpha, org)
    make_signatory(partner, name="Bo Khan", position="Data Protection Officer")
    return partner


@pytest.fixture
def officer(alpha, ecc):
    """An IG officer acting for the lead organisation."""
    return make_member(alpha, Role.IG_OFFICER, organisation=ecc.organisation).user


@pytest.fixture
def agreement(alpha, ecc, ecl, officer) -> Agreement:
    """A draft led by ECC, both parties joint controllers, one data item."""
    return make_agreement(
        alpha,
        lead=ecc,
        others=[ecl],
        title="Reablement review",
        reference="ISA-2023-004",
        by=officer,
    )


# --- The default template ---------------------------------------------------------------


def test_accords_default_template_follows_the_section_keys():
    assert [s.key for s in DEFAULT_SECTIONS] == list(SECTION_KEYS)
    assert [s.title for s in DEFAULT_SECTIONS] == [title for _, title in SECTIONS]
    assert all(s.guidance for s in DEFAULT_SECTIONS), "every section has guidance"


def test_the_partnerships_default_template_is_copied_once_on_first_use(alpha):
    with scope(partnership=alpha):
        assert not AgreementTemplate.objects.exists()
        first = services.ensure_default_template(alpha)
        again = services.ensure_default_template(alpha)
        assert first.pk == again.pk
        assert AgreementTemplate.objects.count() == 1
        assert [s.key for s in first.sections.all()] == list(SECTION_KEYS)
    assert len(audit(alpha, "agreement_template.created")) == 1


def test_creating_an_agreement_copies_the_templates_sections(alpha, ecc, officer):
    with scope(partnership=alpha):
        agreement = services.create_agreement(
            alpha, title="Reablement review", reference="ISA-1", lead=ecc, by=officer
        )
        template = services.default_template(alpha)
        copied = list(agreement.sections.values_list("key", "title", "guidance", "body", "state"))
        original = list(template.sections.values_list("key", "title", "guidance", "body"))
        assert [row[:4] for row in copied] == original
        assert {row[4] for row in copied} == {"not_started"}
        assert agreement.template_id == template.pk and agreement.template_version == 1
        assert list(agreement.parties.values_list("partner", flat=True)) == [ecc.pk]
        # The legislation library is ready for the legal basis page.
        assert Legislation.objects.filter(title="Care Act 2014").exists()
    assert audit(alpha, "agreement.created")[0].object_id == str(agreement.pk)


def test_editing_the_template_later_leaves_an_existing_agreement_unchanged(
    client, alpha, agreement, officer
):
    with scope(partnership=alpha):
        before = list(agreement.sections.order_by("position").values_list("title", "body"))
    client.force_login(officer)
    page = client.get(url("template"))
    data = form_values(page, containing="name")
    data["security-title"] = ["Keeping it safe"]
    data["security-body"] = ["Everything is encrypted."]

    response = client.post(url("template"), data)

    assert response.status_code == 302
    with scope(partnership=alpha):
        template = services.default_template(alpha)
        assert template.version == 2
        assert template.sections.get(key="security").title == "Keeping it safe"
        assert list(agreement.sections.order_by("position").values_list("title", "body")) == before
        later = services.create_agreement(
            alpha, title="Another", reference="ISA-2", lead=agreement.lead, by=officer
        )
        assert later.sections.get(key="security").body == "Everything is encrypted."
        assert later.template_version == 2
    assert audit(alpha, "agreement_template.changed")[0].changes["version"] == [1, 2]


def test_a_template_section_needs_a_title(client, alpha, officer):
    client.force_login(officer)
    data = form_values(client.get(url("template")), containing="name")
    data["purpose-title"] = [""]

    response = client.post(url("template"), data)

    assert response.status_code == 200
    assert (
        field_error(response, "purpose-title") == "Error: Enter a title for the section “Purpose”."
    )
    with scope(partnership=alpha):
        assert services.default_template(alpha) is None  # nothing was copied or saved


def test_a_viewer_cannot_edit_the_template(client, alpha, bob):
    client.force_login(bob)
    assert client.get(url("template")).status_code == 403


# --- Starting an agreement in the browser ---------------------------------------------------


def test_an_ig_officer_starts_an_agreement_for_their_organisation(client, alpha, ecc, officer):
    client.force_login(officer)
    page = client.get(url("create"))
    assert f'<option value="{ecc.pk}" selected>' in page.content.decode()

    response = client.post(
        url("create"), {"title": "Reablement review", "reference": "ISA-7", "lead": ecc.pk}
    )

    with scope(partnership=alpha):
        agreement = Agreement.objects.get(reference="ISA-7")
    assert response["Location"] == agreement_url("detail", agreement)
    page = client.get(agreement_url("detail", agreement))
    text = page_text(page)
    assert "You have completed 0 of 18 sections" in text
    for _, title in SECTIONS:
        assert title in text


def test_a_reference_is_used_once(client, alpha, agreement, officer, ecc):
    client.force_login(officer)
    response = client.post(
        url("create"), {"title": "Again", "reference": "isa-2023-004", "lead": ecc.pk}
    )
    assert field_error(response, "reference") == (
        "Error: Another agreement already has this reference."
    )


def test_the_lead_must_be_an_active_partner(client, alpha, officer):
    withdrawn = make_partner(alpha, status="withdrawn")
    client.force_login(officer)
    response = client.post(url("create"), {"title": "T", "reference": "R-1", "lead": withdrawn.pk})
    assert (
        field_error(response, "lead") == "Error: Choose one of the partnership's active partners."
    )


def test_a_creator_who_does_not_act_for_the_lead_becomes_a_named_editor(alpha, ecc, ecl):
    other = make_member(alpha, Role.IG_OFFICER, organisation=ecl.organisation).user
    with scope(partnership=alpha):
        agreement = services.create_agreement(alpha, title="T", reference="R-2", lead=ecc, by=other)
        assert services.is_named_editor(other, agreement)
        assert services.can_edit(other, agreement)


# --- Facts for the rules --------------------------------------------------------------------


def test_facts_read_the_parties_items_legal_basis_and_section_states(alpha, agreement):
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=agreement.pk).update(
            article6="e", article9="h", schedule1_condition="2", dpia_reference="DPIA-1"
        )
        AgreementSection.objects.filter(agreement=agreement, key="purpose").update(
            state="completed"
        )
        facts = Agreement.objects.get(pk=agreement.pk).facts()
    assert isinstance(facts, AgreementFacts)
    assert {(p.name, p.role, p.is_public_authority) for p in facts.parties} == {
        ("Essex County Council", "joint_controller", True),
        ("Essex Cares Ltd", "joint_controller", False),
    }
    assert facts.categories == frozenset({"personal"})
    assert facts.article6 == frozenset("e") and facts.article9 == frozenset("h")
    assert facts.schedule1_condition == "2" and facts.dpia_reference == "DPIA-1"
    assert facts.partner_breach_hours == 48 and facts.ico_breach_hours == 72
    assert facts.section_states["purpose"] == "completed"
    assert facts.section_states["summary"] == "not_started"
    assert set(facts.section_states) == set(SECTION_KEYS)


@pytest.mark.parametrize(
    ("sector", "public"),
    [
        (Sector.LOCAL_AUTHORITY, True),
        (Sector.NHS, True),
        (Sector.POLICE, True),
        (Sector.FIRE, True),
        (Sector.EDUCATION, True),
        (Sector.VOLUNTARY, False),
        (Sector.PRIVATE, False),
        (Sector.OTHER, False),
    ],
)
def test_a_party_is_a_public_authority_by_its_organisations_sector(alpha, sector, public):
    lead = make_partner(alpha)
    Organisation.objects.filter(pk=lead.organisation_id).update(sector=sector)
    agreement = make_agreement(alpha, lead=lead, others=[])
    with scope(partnership=alpha):
        (party,) = Agreement.objects.get(pk=agreement.pk).facts().parties
    assert party.is_public_authority is public


# --- The document that is frozen ---------------------------------------------------------------


def test_the_document_holds_every_section_the_tables_and_no_script(alpha, agreement):
    with scope(partnership=alpha):
        AgreementSection.objects.filter(agreement=agreement, key="purpose").update(
            body="A review.<script>alert('x')</script> <img src=x onerror=alert(1)>"
        )
        Agreement.objects.filter(pk=agreement.pk).update(article6="e", article9="h")
        document = services.render_agreement_html(Agreement.objects.get(pk=agreement.pk))
        summary = services.render_summary_sheet(Agreement.objects.get(pk=agreement.pk))
    for _, title in SECTIONS:
        assert f"<h2>{title}</h2>" in document
    assert "<script" not in document and "onerror" not in document and "alert" not in document
    assert "6(1)(e) Public task" in document and "9(2)(h) Health or social care" in document
    assert "Right to erasure</td><td>✗ No" in document
    assert "Right of access</td><td>✓ Yes" in document
    assert "The joint controllers for this sharing are</td><td>☒</td>" in document
    assert "The sole controller for this sharing is</td><td>☐</td>" in document
    assert "Z6034810" in summary and "Z1801658" in summary
    assert "Priya Shah" in summary and "County Hall" in summary


def test_every_tenant_row_of_an_agreement_belongs_to_its_partnership(alpha, agreement):
    with scope(partnership=alpha):
        for model in (AgreementParty, AgreementSection, DataItem):
            assert set(model.objects.values_list("partnership", flat=True)) == {alpha.pk}


def test_the_drafts_page_runs_the_same_queries_for_any_number_of_agreements(
    client, alpha, ecc, ecl, officer
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_agreement(alpha, lead=ecc, others=[ecl], reference="A-1")
    client.force_login(officer)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("drafts")).status_code == 200
    for n in range(2, 7):
        make_agreement(alpha, lead=ecc, others=[ecl], reference=f"A-{n}")
    with CaptureQueriesContext(connection) as six:
        page = client.get(url("drafts"))
    assert page_text(page).count("Reablement review") == 6
    assert len(six) == len(one)
