"""PDFs of frozen documents: what they show, stored once per signing state, sealed, verified."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import re
import subprocess
from unittest import mock

import pypdf
import pytest
from django.core.exceptions import ImproperlyConfigured
from django_scopes import scope
from django_scopes.exceptions import ScopeError
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

from documents import pdf as pdfs
from documents.layout import css_string, number_headings
from documents.markup import render_markdown
from documents.models import FrozenDocument, RenderedPdf
from documents.pdf import (
    PdfContent,
    RevisionRow,
    SignatoryRow,
    SigningEvent,
    render_pdf,
    state_key,
    stored_pdf,
)
from documents.seal import check_seal, ensure_development_certificate, seal
from documents.services import canonical_html, freeze, sha256_of
from documents.verify import find_by_sha256, sha256_of_bytes

SECTIONS = ["Purpose of sharing", "Legal basis", "Security & storage", "Breaches"]
MARKDOWN = "\n\n".join(
    f"# {name}\n\n" + "Partners share personal data lawfully and fairly. " * 40 + "\n\n- one\n- two"
    for name in SECTIONS
)
SIGNATORIES = (
    SignatoryRow(
        "Leeds City Council", "Priya Shah", "Chief Executive", dt.date(2026, 3, 2), "Signed"
    ),
    SignatoryRow("West Yorkshire Police", "Tom Okafor", "SIRO", None, "Awaiting signature"),
    SignatoryRow("Leeds Teaching Hospitals", "Ann Bell", "Caldicott Guardian", None, "Declined"),
)
EVENTS = (
    SigningEvent(
        dt.datetime(2026, 3, 2, 10, 15, tzinfo=dt.UTC),
        "Priya Shah",
        "Chief Executive",
        "Leeds City Council",
        "203.0.113.7",
        "Signed",
    ),
    SigningEvent(
        dt.datetime(2026, 7, 2, 10, 15, tzinfo=dt.UTC),
        "Ann Bell",
        "Caldicott Guardian",
        "Leeds Teaching Hospitals",
        "2001:db8::1",
        "Declined",
    ),
)
REVISIONS = (
    RevisionRow("1.0", dt.date(2025, 3, 1), "Jo Grant", "First version."),
    RevisionRow("1.1", dt.date(2026, 3, 1), "Jo Grant", "Retention schedule added."),
)


def content_for(document: FrozenDocument, **changes) -> PdfContent:
    values = {
        "document": document,
        "lead_organisation": "Leeds City Council",
        "status": "Awaiting signatures",
        "date_in_force": None,
        "revisions": REVISIONS,
        "signatories": SIGNATORIES,
        "events": EVENTS,
        "final": False,
    }
    return PdfContent(**{**values, **changes})


def unsaved_document() -> FrozenDocument:
    html = canonical_html(render_markdown(MARKDOWN))
    return FrozenDocument(
        kind=FrozenDocument.Kind.PROTOCOL,
        title="Leeds Information Sharing Protocol",
        version_label="1.1",
        html=html,
        sha256=sha256_of(html),
        frozen_at=dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.UTC),
    )


def pdf_text(data: bytes) -> str:
    result = subprocess.run(
        ["/usr/bin/pdftotext", "-", "-"], input=data, capture_output=True, check=True
    )
    return result.stdout.decode()


def pages_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def draft_pdf() -> bytes:
    return render_pdf(content_for(unsaved_document()))


@pytest.fixture(scope="module")
def final_pdf() -> bytes:
    signed = tuple(dataclasses.replace(row, signed_on=dt.date(2026, 3, 3)) for row in SIGNATORIES)
    return render_pdf(
        content_for(
            unsaved_document(),
            status="In force",
            date_in_force=dt.date(2026, 4, 1),
            signatories=signed,
            final=True,
        )
    )


# --- What the PDF shows ---------------------------------------------------------------------


def test_pdf_shows_cover_contents_text_tables_and_certificate(draft_pdf):
    text = pdf_text(draft_pdf)
    document = unsaved_document()
    for expected in (
        "Information sharing protocol",
        "Leeds Information Sharing Protocol",
        "Version 1.1",
        "Not yet in force",
        "Awaiting signatures",
        "Version control",
        "Contents",
        *SECTIONS,
        "Revision history",
        "Retention schedule added.",
        "Signatories",
        "Signature certificate",
        document.sha256,
        "2026-03-02T10:15:00Z",
        "2 March 2026, 10:15:00 GMT",
        "2026-07-02T10:15:00Z",
        "2 July 2026, 11:15:00 BST",  # UK summer time
        "203.0.113.7",
        "2001:db8::1",
        "Declined",
        "Awaiting signature",
        "2 March 2026",
        "Page 1 of",
    ):
        assert expected in text, expected
    for row in SIGNATORIES:
        assert row.organisation in text and row.signatory in text and row.position in text
    pages = len(pypdf.PdfReader(io.BytesIO(draft_pdf)).pages)
    assert f"Page {pages} of {pages}" in text
    assert text.count("Leeds Information Sharing Protocol · Version 1.1") >= pages


def test_contents_lists_each_section_with_its_page(draft_pdf):
    text = pdf_text(draft_pdf)
    for name in [*SECTIONS, "Revision history", "Signatories", "Signature certificate"]:
        assert re.search(rf"{re.escape(name)}\s*\.+\s*\d+", text), name


def test_draft_watermark_on_every_page_only_until_final(draft_pdf, final_pdf):
    assert all("DRAFT" in page for page in pages_text(draft_pdf))
    final_pages = pages_text(final_pdf)
    assert not any("DRAFT" in page for page in final_pages)
    assert "DRAFT" not in pdf_text(final_pdf)
    assert "1 April 2026" in pdf_text(final_pdf)
    assert "Not yet in force" not in pdf_text(final_pdf)


def test_pdf_is_tagged_titled_and_rendered_without_warnings(caplog):
    with caplog.at_level(logging.WARNING):
        data = render_pdf(content_for(unsaved_document()))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    reader = pypdf.PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "en-GB"
    assert reader.metadata.title == "Leeds Information Sharing Protocol, version 1.1"


def test_front_matter_and_user_text_are_shown_without_escaping_twice():
    document = unsaved_document()
    content = content_for(document, front_matter_html="<p>Scope: Leeds &amp; Wakefield</p>")
    text = pdf_text(render_pdf(content))
    assert "Scope: Leeds & Wakefield" in text
    assert "Security & storage" in text


def test_front_matter_is_sanitised_before_it_is_shown():
    hostile = '<p onclick="x()">Scope</p><script>alert(1)</script><img src="http://x/y.png">'
    context = pdfs._context(content_for(unsaved_document(), front_matter_html=hostile))

    assert str(context["front_matter"]) == "<p>Scope</p>"


def test_a_public_pdf_shows_no_ip_addresses_or_declines_and_names_only_if_allowed():
    document = unsaved_document()
    members = pdf_text(render_pdf(content_for(document)))
    hidden = pdf_text(render_pdf(content_for(document, public=True, show_names=False)))
    named = pdf_text(render_pdf(content_for(document, public=True, show_names=True)))

    assert "203.0.113.7" in members and "Ann Bell" in members and "Declined" in members
    for text in (hidden, named):
        for shown_only_to_members in ("203.0.113.7", "2001:db8::1", "IP address", "Declined"):
            assert shown_only_to_members not in text
        assert "Ann Bell" not in text and "Leeds Teaching Hospitals" not in text
        assert "Leeds City Council" in text and "Chief Executive" in text
        assert "West Yorkshire Police" in text  # still awaiting: not a decline
    assert "Priya Shah" not in hidden and "Tom Okafor" not in hidden
    assert "2 March 2026" in hidden
    assert "Priya Shah" in named


def test_public_and_shown_names_are_part_of_the_state_key():
    document = unsaved_document()
    members = state_key(content_for(document))
    hidden = state_key(content_for(document, public=True, show_names=False))
    named = state_key(content_for(document, public=True, show_names=True))

    assert len({members, hidden, named}) == 3
    # What a public PDF leaves out does not change it.
    without_decline = content_for(
        document, public=True, show_names=False, events=EVENTS[:1], signatories=SIGNATORIES[:2]
    )
    assert state_key(without_decline) == hidden


def test_headings_get_ids_once_and_keep_their_own():
    body, headings = number_headings(
        '<h2 id="section-1">Own</h2><p>x</p><h2>New <em>one</em></h2><h3>Not listed</h3><h2>B</h2>'
    )
    assert [(h.id, h.text) for h in headings] == [
        ("section-1", "Own"),
        ("section-2", "New one"),
        ("section-3", "B"),
    ]
    assert body.count('id="section-1"') == 1
    assert '<h2 id="section-2">New <em>one</em></h2>' in body


def test_css_string_escapes_everything_that_could_end_the_string():
    escaped = css_string('Bob\'s "plan" \\ </style> ok')
    assert '"' not in escaped and "'" not in escaped and "<" not in escaped
    assert escaped.startswith("Bob\\000027 s")


# --- State keys -----------------------------------------------------------------------------


def test_state_key_follows_what_the_pdf_shows():
    document = unsaved_document()
    base = content_for(document)
    assert state_key(base) == state_key(content_for(document))
    assert len(state_key(base)) == 64
    assert state_key(base) != state_key(content_for(document, events=EVENTS[:1]))
    assert state_key(base) != state_key(content_for(document, final=True))
    assert state_key(base) != state_key(content_for(document, status="In force"))
    assert state_key(base) != state_key(content_for(document, front_matter_html="<p>x</p>"))
    other = unsaved_document()
    other.sha256 = "0" * 64  # same fields, different text
    other_text = dataclasses.replace(base, document=other)
    assert state_key(base) != state_key(other_text)


# --- Stored, sealed, verified ---------------------------------------------------------------


@pytest.fixture
def document(alpha, alice):
    with scope(partnership=alpha):
        return freeze(
            alpha,
            kind="protocol",
            title="Leeds Information Sharing Protocol",
            version_label="1.1",
            html=render_markdown(MARKDOWN),
            by=alice,
        )


def test_stored_pdf_renders_once_per_state(alpha, document, pdf_storage):
    with (
        scope(partnership=alpha),
        mock.patch.object(pdfs, "render_pdf", wraps=pdfs.render_pdf) as render,
    ):
        first = stored_pdf(content_for(document))
        again = stored_pdf(content_for(document))
        assert again.pk == first.pk
        assert render.call_count == 1

        signed = stored_pdf(content_for(document, events=EVENTS[:1]))
        assert signed.pk != first.pk
        assert render.call_count == 2
        assert RenderedPdf.objects.count() == 2

    data = first.file.read()
    first.file.close()
    assert first.file.path.startswith(str(pdf_storage))
    assert first.sha256 == sha256_of_bytes(data)
    assert first.sealed and not first.final
    assert first.state == state_key(content_for(document))
    assert first.partnership == alpha and first.document == document


def test_stored_pdf_is_sealed_and_any_change_breaks_the_seal(alpha, document, pdf_storage):
    with scope(partnership=alpha):
        pdf = stored_pdf(content_for(document, final=True))
    with pdf.file.open("rb") as handle:
        data = handle.read()
    check = check_seal(data)
    assert check.intact, check.problem
    assert check.signed_by == "Accord development seal"
    assert check.signed_at is not None and check.problem == ""
    assert "DRAFT" not in pdf_text(data)

    # One byte changed inside the page content, well before the signature.
    position = data.index(b"stream", len(data) // 4) + 40
    tampered = bytearray(data)
    tampered[position] ^= 0x01
    broken = check_seal(bytes(tampered))
    assert broken.intact is False
    assert broken.problem == "The PDF has been changed since it was sealed."

    unsealed = pdfs.render_pdf(content_for(document))
    assert check_seal(unsealed).intact is False
    assert check_seal(unsealed).problem == "This PDF has no seal."

    assert find_by_sha256(sha256_of_bytes(bytes(tampered))) is None


def test_content_appended_after_the_seal_is_reported(alpha, document, pdf_storage):
    with scope(partnership=alpha):
        pdf = stored_pdf(content_for(document))
    with pdf.file.open("rb") as handle:
        data = handle.read()
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root["/Lang"] = generic.TextStringObject("fr-FR")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    check = check_seal(out.getvalue())
    assert check.intact is False
    assert check.problem == "Something was added to the PDF after it was sealed."


def test_a_seal_made_with_another_certificate_is_not_accords(
    alpha, document, pdf_storage, settings, tmp_path
):
    unsealed = pdfs.render_pdf(content_for(document))
    accords = settings.SEAL_CERTIFICATE_FILE, settings.SEAL_KEY_FILE
    settings.SEAL_CERTIFICATE_FILE = str(tmp_path / "other" / "cert.pem")
    settings.SEAL_KEY_FILE = str(tmp_path / "other" / "key.pem")
    ensure_development_certificate()
    forged = seal(unsealed)
    settings.SEAL_CERTIFICATE_FILE, settings.SEAL_KEY_FILE = accords
    check = check_seal(forged)
    assert check.intact is False
    assert check.problem == "The PDF was sealed, but not with Accord's certificate."


def test_verify_finds_pdfs_and_text_from_any_partnership(alpha, beta, document, pdf_storage):
    with scope(partnership=alpha):
        draft = stored_pdf(content_for(document))
        final = stored_pdf(content_for(document, final=True))
    with scope(partnership=beta):
        match = find_by_sha256(final.sha256)
    assert match is not None
    assert (match.partnership, match.document, match.pdf, match.final) == (
        alpha,
        document,
        final,
        True,
    )
    match = find_by_sha256(draft.sha256)
    assert match.pdf == draft and match.final is False
    match = find_by_sha256(document.sha256)
    assert match.document == document and match.pdf is None


def test_concurrent_renders_store_one_pdf(alpha, document, pdf_storage):
    """The call that loses the race keeps the winner's row and removes its own file."""
    real_render = pdfs.render_pdf
    calls = []

    def render_while_another_stores(content):
        calls.append(content)
        if len(calls) == 1:
            stored_pdf(content)  # the other request finishes first
        return real_render(content)

    with (
        scope(partnership=alpha),
        mock.patch.object(pdfs, "render_pdf", side_effect=render_while_another_stores),
    ):
        result = stored_pdf(content_for(document))
        assert RenderedPdf.objects.count() == 1
        assert result == RenderedPdf.objects.get()
    files = list(pdf_storage.rglob("*.pdf"))
    assert [f.name for f in files] == [result.file.name.rsplit("/", 1)[-1]]


def test_stored_pdf_needs_the_scope_and_a_seal_in_production(
    alpha, beta, document, pdf_storage, settings, tmp_path
):
    with scope(partnership=beta), pytest.raises(ScopeError):
        stored_pdf(content_for(document))
    settings.SEAL_CERTIFICATE_FILE = str(tmp_path / "missing.pem")
    settings.DEBUG = False
    with scope(partnership=alpha), pytest.raises(ImproperlyConfigured):
        stored_pdf(content_for(document))
    with scope(partnership=alpha):
        assert not RenderedPdf.objects.exists()
