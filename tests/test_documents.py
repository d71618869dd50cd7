"""Frozen documents: safe Markdown, canonical text and its hash, immutability, the seal's files,
and looking a document up by its SHA-256 from any partnership."""

from __future__ import annotations

import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from django.core.checks import WARNING, Tags, run_checks
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django_scopes import scope, scopes_disabled
from django_scopes.exceptions import ScopeError

from documents import seal
from documents.markup import MAX_BODY_CHARS, render_markdown
from documents.models import FrozenDocument
from documents.services import canonical_html, freeze, sha256_of
from documents.verify import find_by_sha256, normalise_sha256, sha256_of_bytes
from tenancy.audit import ACTIONS
from tenancy.models import AuditEntry

BODY = "<h2>Purpose</h2>\r\n<p>Café  \r\n</p>\n\n"


def frozen(partnership, by=None, html=BODY, title="Leeds protocol", version="1.0"):
    with scope(partnership=partnership):
        return freeze(
            partnership, kind="protocol", title=title, version_label=version, html=html, by=by
        )


def identity(partnership: str, title: str, version: str) -> str:
    """The identity block a protocol's frozen text opens with (its fingerprint covers it)."""
    return (
        '<div class="document-identity">\n<dl>\n'
        "<dt>Document</dt><dd>Information sharing protocol</dd>\n"
        f"<dt>Partnership</dt><dd>{partnership}</dd>\n"
        f"<dt>Title</dt><dd>{title}</dd>\n"
        f"<dt>Version</dt><dd>{version}</dd>\n"
        "</dl>\n</div>\n"
    )


# --- Markdown -------------------------------------------------------------------------------


def test_markdown_keeps_lists_tables_headings_and_safe_links():
    html = render_markdown(
        "# Purpose\n\n## Scope\n\n1. one\n2. two\n\n- a\n- b\n\n"
        "| Data item | Owner |\n|---|---|\n| Name | Lead |\n\n"
        "**bold** *it* `code` [ICO](https://ico.org.uk) [mail](mailto:dpo@example.org)\n\n"
        "> quoted\n\n---\n"
    )
    for fragment in (
        "<h2>Purpose</h2>",  # the document title is the only h1
        "<h2>Scope</h2>",
        "<ol>",
        "<ul>",
        "<li>a</li>",
        "<table>",
        "<thead>",
        "<th>Data item</th>",
        "<td>Lead</td>",
        "<strong>bold</strong>",
        "<em>it</em>",
        "<code>code</code>",
        '<a href="https://ico.org.uk" rel="noopener">ICO</a>',
        '<a href="mailto:dpo@example.org" rel="noopener">mail</a>',
        "<blockquote>",
        "<hr>",
    ):
        assert fragment in html


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script>",
        '<img src="x" onerror="alert(1)">',
        "[click](javascript:alert(1))",
        '<a href="javascript:alert(1)">click</a>',
        '<p onclick="alert(1)">x</p>',
        '<iframe src="https://example.org"></iframe>',
        '<p style="background:url(javascript:alert(1))">x</p>',
        "<style>p { color: red }</style>",
        '<svg onload="alert(1)"></svg>',
    ],
)
def test_markdown_strips_scripts_handlers_styles_and_frames(hostile):
    html = render_markdown(f"Before\n\n{hostile}\n\nAfter").lower()
    for banned in ("<script", "alert(1)", "onerror", "onclick", "onload", "javascript:"):
        assert banned not in html
    for banned in ("<iframe", "style=", "<style", "<svg", "<img"):
        assert banned not in html
    assert "before" in html and "after" in html


def test_body_size_limit_is_exported():
    assert MAX_BODY_CHARS == 200_000


# --- Canonical text and freezing -----------------------------------------------------------


def test_canonical_html_normalises_unicode_line_ends_and_spaces():
    decomposed = "Cafe\u0301"  # e + combining acute accent
    assert canonical_html(f"  <p>{decomposed}  \r\nline\t\rend</p>\n\n") == (
        "<p>Caf\u00e9\nline\nend</p>"
    )
    assert sha256_of(f"<p>{decomposed}</p>\r\n") == sha256_of("<p>Caf\u00e9</p>")
    expected = hashlib.sha256("<p>Caf\u00e9</p>".encode()).hexdigest()
    assert sha256_of("<p>Caf\u00e9</p>") == expected


def test_freeze_stores_canonical_text_its_hash_and_an_audit_entry(alpha, alice):
    document = frozen(alpha, by=alice)

    canonical = identity("Alpha Partnership", "Leeds protocol", "1.0") + (
        "<h2>Purpose</h2>\n<p>Café\n</p>"
    )
    assert document.html == canonical
    assert document.sha256 == hashlib.sha256(canonical.encode()).hexdigest()
    assert document.sha256 == sha256_of(document.html)
    assert document.frozen_by == alice
    with scope(partnership=alpha):
        stored = FrozenDocument.objects.get(pk=document.pk)
        entry = AuditEntry.objects.get(action="document.frozen")
    assert stored.html == canonical and stored.sha256 == document.sha256
    assert entry.object_id == str(document.pk)
    assert entry.actor == alice
    assert "Leeds protocol" in entry.summary and "1.0" in entry.summary
    assert entry.changes["sha256"] == [None, document.sha256]
    assert ACTIONS["document.frozen"] == "Document version frozen"


def test_freeze_sanitises_what_it_is_given_before_hashing(alpha):
    hostile = (
        '<h2 onclick="steal()">Purpose</h2><script>alert(1)</script>'
        '<p style="x">Shared <a href="javascript:alert(1)">here</a></p><iframe src="x"></iframe>'
    )

    document = frozen(alpha, html=hostile)

    for banned in ("<script", "alert(1)", "onclick", "javascript:", "style=", "<iframe"):
        assert banned not in document.html
    assert document.html.endswith('<h2>Purpose</h2><p>Shared <a rel="noopener">here</a></p>')
    assert document.sha256 == hashlib.sha256(document.html.encode()).hexdigest()


def test_freezing_sanitised_html_keeps_it_as_it_is(alpha):
    html = render_markdown("# Purpose\n\nPartners' data & *more* [ICO](https://ico.org.uk)")
    assert frozen(alpha, html=html).html.endswith("</div>\n" + canonical_html(html))


def test_freeze_rejects_bad_values_and_writes_nothing(alpha):
    with pytest.raises(ValidationError):
        frozen(alpha, title="x" * 301)
    with scope(partnership=alpha), pytest.raises(ValidationError):
        freeze(alpha, kind="memo", title="T", version_label="1", html="<p>x</p>", by=None)
    with scope(partnership=alpha):
        assert not FrozenDocument.objects.exists()
        assert not AuditEntry.objects.filter(action="document.frozen").exists()


def test_freeze_must_run_in_the_partnerships_scope(alpha, beta):
    with pytest.raises(ScopeError):
        freeze(alpha, kind="protocol", title="T", version_label="1", html="<p>x</p>", by=None)
    with scope(partnership=beta), pytest.raises(ScopeError):
        freeze(alpha, kind="protocol", title="T", version_label="1", html="<p>x</p>", by=None)


def test_frozen_document_refuses_changes_in_model_queryset_and_database(alpha):
    document = frozen(alpha)
    with scope(partnership=alpha):
        document.title = "Changed"
        with pytest.raises(PermissionError):
            document.save()
        with pytest.raises(PermissionError):
            document.delete()
        with pytest.raises(PermissionError):
            FrozenDocument.objects.filter(pk=document.pk).update(title="Changed")
        with pytest.raises(PermissionError):
            FrozenDocument.objects.filter(pk=document.pk).delete()

    for sql in (
        "UPDATE documents_frozendocument SET title = 'x'",
        "UPDATE documents_frozendocument SET html = 'x', sha256 = 'y'",
        "DELETE FROM documents_frozendocument",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)

    with scope(partnership=alpha):
        assert FrozenDocument.objects.get(pk=document.pk).title == "Leeds protocol"


# --- Verification by SHA-256 ----------------------------------------------------------------


def test_sha256_input_is_normalised_and_validated():
    digest = "A" * 64
    assert normalise_sha256(f"  {digest}\n") == "a" * 64
    for bad in ("", "abc", "g" * 64, "a" * 63, "a" * 65, "a" * 32 + " " + "a" * 31):
        with pytest.raises(ValueError):
            find_by_sha256(bad)
    assert sha256_of_bytes(b"") == hashlib.sha256(b"").hexdigest()


def test_find_by_content_hash_crosses_partnerships(alpha, beta):
    document = frozen(alpha)
    for context in (scope(partnership=beta), scopes_disabled()):
        with context:
            match = find_by_sha256(document.sha256.upper())
        assert match is not None
        assert match.document == document
        assert match.partnership == alpha
        assert match.pdf is None and match.final is False
    assert find_by_sha256("0" * 64) is None


# --- The seal's certificate -----------------------------------------------------------------


def test_development_certificate_is_made_once_with_signing_key_usage(settings, tmp_path, capsys):
    settings.SEAL_CERTIFICATE_FILE = str(tmp_path / "seal" / "cert.pem")
    settings.SEAL_KEY_FILE = str(tmp_path / "seal" / "key.pem")
    call_command("make_seal_certificate")
    assert "Created" in capsys.readouterr().out

    cert_path, key_path = tmp_path / "seal" / "cert.pem", tmp_path / "seal" / "key.pem"
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert "Accord development seal" in certificate.subject.rfc4514_string()
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime.days >= 5 * 365
    key = load_pem_private_key(key_path.read_bytes(), password=None)
    assert key.key_size == 2048
    assert key_path.stat().st_mode & 0o077 == 0

    before = cert_path.read_bytes()
    call_command("make_seal_certificate")
    assert "Already present" in capsys.readouterr().out
    assert cert_path.read_bytes() == before


def test_missing_seal_files_are_made_in_development_and_refused_in_production(settings, tmp_path):
    settings.SEAL_CERTIFICATE_FILE = str(tmp_path / "cert.pem")
    settings.SEAL_KEY_FILE = str(tmp_path / "key.pem")
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="SEAL_CERTIFICATE_FILE"):
        seal.ensure_configured()
    settings.DEBUG = True
    seal.ensure_configured()
    assert (tmp_path / "cert.pem").exists() and (tmp_path / "key.pem").exists()


@pytest.mark.parametrize(
    "data",
    [b"", b"not a pdf at all", b"%PDF-1.7\n%%EOF", bytes(range(256)) * 10],
)
def test_check_seal_answers_in_plain_words_for_unreadable_bytes(pdf_storage, data):
    check = seal.check_seal(data)
    assert check.intact is False
    assert check.problem
    assert check.signed_at is None


# --- The seal's files: a system check ---------------------------------------------------------


def test_missing_seal_files_are_a_warning_outside_development(settings, tmp_path):
    settings.SEAL_CERTIFICATE_FILE = str(tmp_path / "cert.pem")
    settings.SEAL_KEY_FILE = str(tmp_path / "key.pem")
    settings.DEBUG = False

    (warning,) = [m for m in run_checks(tags=[Tags.security]) if m.id == "documents.W001"]

    assert warning.level == WARNING
    assert str(tmp_path / "cert.pem") in warning.msg and "make_seal_certificate" in warning.hint
    call_command("make_seal_certificate")
    assert [m for m in run_checks() if m.id == "documents.W001"] == []


def test_missing_seal_files_are_no_warning_in_development(settings, tmp_path):
    settings.SEAL_CERTIFICATE_FILE = str(tmp_path / "cert.pem")
    settings.SEAL_KEY_FILE = str(tmp_path / "key.pem")
    settings.DEBUG = True

    assert [m for m in run_checks() if m.id == "documents.W001"] == []
