"""A fingerprint names one document version: the frozen text opens with the version's identity
(partnership, kind, reference, title and version), so versions with the same text still differ,
and the verify page names the version whose fingerprint was given."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from django_scopes import scope

from documents import verify
from documents.markup import render_markdown
from documents.services import canonical_html, freeze
from protocols import services
from signatories import signing
from signatories.models import SignatureRequest
from tenancy.roles import Role

from .factories import (
    PartnershipFactory,
    make_document,
    make_member,
    make_partner,
    make_protocol,
    make_signatory,
)
from .pages import page_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("pdf_storage")]

VERIFY = reverse("signing:verify")
BODY = render_markdown("# Purpose\n\nThe partners share information lawfully and securely.")


def frozen(partnership, *, kind="protocol", title="Alpha protocol", version="1.0", **extra):
    with scope(partnership=partnership):
        return freeze(
            partnership,
            kind=kind,
            title=title,
            version_label=version,
            html=extra.pop("html", BODY),
            by=None,
            **extra,
        )


def body_of(document) -> str:
    """The frozen text after its identity block."""
    return document.html.split("</div>\n", 1)[1]


# --- Protocol versions with the same text -------------------------------------------------


@pytest.fixture
def partners(alpha):
    """Two active partners with a signatory each; the first leads."""
    partners = [make_partner(alpha), make_partner(alpha)]
    for number, partner in enumerate(partners, start=1):
        make_signatory(partner, name=f"Sam Lee {number}", position="SIRO")
    return partners


@pytest.fixture
def people(alpha, partners):
    lead = partners[0].organisation
    manager = make_member(alpha, Role.ADMINISTRATOR, organisation=lead).user
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=lead).user
    return manager, steering


def send(version, partners, manager, steering):
    with scope(partnership=version.partnership):
        services.submit_for_approval(version, by=manager)
        services.approve(version, by=steering)
        services.send_for_signature(version, partners, by=manager)
        version.refresh_from_db()
        return version


def sign(version, partner) -> None:
    with scope(partnership=version.partnership):
        request = SignatureRequest.objects.get(document_id=version.document_id, partner=partner)
        signatory = partner.signatories.first()
    signing.sign(
        request,
        name=signatory.name,
        position=signatory.position,
        confirmed=True,
        ip_address="192.0.2.10",
        user_agent="Test browser",
    )


@pytest.fixture
def two_versions(alpha, partners, people):
    """Version 1.0 signed by both partners; version 2.0, its sections unchanged, sent to both
    and signed by the first only."""
    manager, steering = people
    protocol = make_protocol(alpha, title="Alpha protocol", lead=partners[0], by=manager)
    with scope(partnership=alpha):
        first = services.latest_version(protocol)
    first = send(first, partners, manager, steering)
    for partner in partners:
        sign(first, partner)
    with scope(partnership=alpha):
        second = services.new_version(protocol, major=True, change_summary="Review", by=manager)
    second = send(second, partners, manager, steering)
    sign(second, partners[0])
    with scope(partnership=alpha):
        return first.document, second.document


def test_two_protocol_versions_with_the_same_sections_have_different_fingerprints(two_versions):
    first, second = two_versions

    assert body_of(first) == body_of(second), "the sections did not change"
    assert first.sha256 != second.sha256
    assert "<dt>Version</dt><dd>1.0</dd>" in first.html
    assert "<dt>Version</dt><dd>2.0</dd>" in second.html


def test_the_newer_versions_fingerprint_names_the_newer_version_on_the_verify_page(
    client, partners, two_versions
):
    first, second = two_versions

    text = page_text(client.post(VERIFY, {"sha256": second.sha256}))

    assert "This matches a document signed in Accord" in text
    assert "Version 2.0" in text
    assert "Version 1.0" not in text
    assert "Yes: this version has not been replaced." in text
    # Only version 2.0's signature: the second partner signed 1.0 alone.
    assert partners[0].organisation.name in text
    assert partners[1].organisation.name not in text

    older = page_text(client.post(VERIFY, {"sha256": first.sha256}))
    assert "Version 1.0" in older and "Version 2.0" not in older
    assert partners[1].organisation.name in older


# --- Agreements with the same text ---------------------------------------------------------


def test_two_agreements_with_the_same_text_but_different_references_differ(alpha):
    one = frozen(alpha, kind="agreement", title="Reablement review", reference="ISA-001")
    two = frozen(alpha, kind="agreement", title="Reablement review", reference="ISA-002")

    assert body_of(one) == body_of(two)
    assert one.sha256 != two.sha256
    assert "<dt>Reference</dt><dd>ISA-001</dd>" in one.html
    assert "<dt>Reference</dt><dd>ISA-002</dd>" in two.html


# --- What is stored and hashed -------------------------------------------------------------


def test_the_stored_text_starts_with_the_identity_and_the_fingerprint_is_its_sha256(alpha):
    document = frozen(alpha, kind="agreement", reference="ISA-7", title="Hospital discharge")

    assert document.html.startswith(
        '<div class="document-identity">\n<dl>\n'
        "<dt>Document</dt><dd>Information sharing agreement</dd>\n"
        "<dt>Partnership</dt><dd>Alpha Partnership</dd>\n"
        "<dt>Reference</dt><dd>ISA-7</dd>\n"
        "<dt>Title</dt><dd>Hospital discharge</dd>\n"
        "<dt>Version</dt><dd>1.0</dd>\n"
        "</dl>\n</div>\n"
    )
    assert document.html.endswith(canonical_html(BODY))
    assert document.sha256 == hashlib.sha256(document.html.encode("utf-8")).hexdigest()


def test_a_protocol_has_no_reference_line(alpha):
    document = frozen(alpha)

    assert "<dt>Document</dt><dd>Information sharing protocol</dd>" in document.html
    assert "Reference" not in document.html


def test_markup_in_a_title_or_name_is_stored_as_text_not_run(alpha):
    """A title, name or reference holding markup could inject script into the signing page,
    or pass for another line of the identity: every value is escaped."""
    alpha.name = "Alpha <b>Partnership</b>"
    alpha.save()

    document = frozen(
        alpha,
        kind="agreement",
        title='<script>alert("x")</script> & more',
        reference="ISA-1</dd><dt>Version</dt><dd>9.9",
    )

    assert "<script" not in document.html and "<b>" not in document.html
    assert "<dd>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more</dd>" in document.html
    assert "<dd>Alpha &lt;b&gt;Partnership&lt;/b&gt;</dd>" in document.html
    assert document.html.count("<dt>Version</dt>") == 1


def test_the_same_identity_and_text_in_another_partnership_still_differ(alpha):
    namesake = PartnershipFactory(name=alpha.name, slug="alpha-namesake")

    first = frozen(alpha)
    second = frozen(namesake)
    third = frozen(alpha)  # another protocol with the same title, same version and text

    assert len({first.sha256, second.sha256, third.sha256}) == 3
    assert "<dt>Frozen</dt>" not in first.html
    assert "<dt>Frozen</dt>" in second.html and "<dt>Frozen</dt>" in third.html
    for document in (first, second, third):
        assert document.sha256 == hashlib.sha256(document.html.encode("utf-8")).hexdigest()


# --- Fingerprints shared by versions frozen before -----------------------------------------


def test_a_fingerprint_shared_by_earlier_versions_lists_each_newest_first(client, alpha):
    """Versions frozen when only the text was hashed can share a fingerprint."""
    text = "<h2>Purpose</h2><p>The same text in both versions.</p>"
    older = make_document(alpha, title="Alpha protocol", version_label="2.0", html=text)
    newer = make_document(alpha, title="Alpha protocol", version_label="3.0", html=text)

    assert [m.document for m in verify.find_all_by_sha256(newer.sha256)] == [newer, older]
    assert verify.find_by_sha256(newer.sha256).document == newer

    page = page_text(client.post(VERIFY, {"sha256": newer.sha256}))

    assert "This matches 2 documents signed in Accord" in page
    assert "listed newest first" in page
    three = page.index("Information sharing protocol: Alpha protocol, version 3.0")
    two = page.index("Information sharing protocol: Alpha protocol, version 2.0")
    assert three < two
    assert page.count("No partner has signed version") == 2
