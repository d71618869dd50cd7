"""The platform seal: a PAdES signature over each PDF, made with Accord's certificate.

The seal shows that a PDF came from Accord and has not changed since; it is not any partner's
signature (those are listed on the PDF's signature certificate page).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import io
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

FIELD_NAME = "AccordSeal"
DEVELOPMENT_NAME = "Accord development seal"
DEVELOPMENT_VALID_DAYS = 5 * 365


@dataclass(frozen=True)
class SealCheck:
    intact: bool
    signed_by: str = ""
    signed_at: datetime.datetime | None = None
    problem: str = ""


def seal_files() -> tuple[Path, Path]:
    """The configured certificate and key files."""
    return Path(settings.SEAL_CERTIFICATE_FILE), Path(settings.SEAL_KEY_FILE)


def _passphrase() -> bytes | None:
    return settings.SEAL_KEY_PASSPHRASE.encode() or None


def ensure_development_certificate(
    cert_path: str | Path | None = None, key_path: str | Path | None = None
) -> None:
    """Create a self-signed seal certificate and key where either file is missing.

    For development and tests only: production configures a real certificate.
    """
    default_cert, default_key = seal_files()
    cert_path = Path(cert_path or default_cert)
    key_path = Path(key_path or default_key)
    if cert_path.exists() and key_path.exists():
        return
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, DEVELOPMENT_NAME),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Accord"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=DEVELOPMENT_VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    passphrase = _passphrase()
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(key_pem)
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))


def ensure_configured() -> None:
    """Make sure the seal's files exist: created in development, required in production."""
    cert_path, key_path = seal_files()
    if cert_path.exists() and key_path.exists():
        return
    if settings.DEBUG:
        ensure_development_certificate()
        return
    raise ImproperlyConfigured(
        "The PDF seal needs a certificate and its private key: set SEAL_CERTIFICATE_FILE and "
        f"SEAL_KEY_FILE (now {cert_path} and {key_path}, which do not both exist)."
    )


def seal(pdf: bytes) -> bytes:
    """Append Accord's PAdES signature, covering the whole file, to `pdf`."""
    cert_path, key_path = seal_files()
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path), key_passphrase=_passphrase())
    if signer is None:
        raise ImproperlyConfigured(f"Cannot read the seal's key {key_path} or {cert_path}.")
    metadata = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="Sealed by Accord: this file has not changed since it was issued.",
        location="Accord",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    output = _outside_event_loop(signers.sign_pdf, writer, metadata, signer=signer)
    return output.getvalue()


def _outside_event_loop(func, *args, **kwargs):
    """pyHanko runs its own event loop (asyncio.run), which cannot start in a thread that is
    already running one (an ASGI worker, a browser-driving test): run it in a fresh thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func(*args, **kwargs)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func, *args, **kwargs).result()


def _trusted_context() -> ValidationContext:
    cert_path, _ = seal_files()
    certificate = load_cert_from_pemder(str(cert_path))
    return ValidationContext(trust_roots=[certificate], allow_fetching=False)


def check_seal(pdf: bytes) -> SealCheck:
    """Whether `pdf` carries Accord's seal, unbroken, over the whole file.

    Never raises for bad input: the answer says in plain words what is wrong.
    """
    ensure_configured()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_signatures)
    except Exception:  # pyHanko raises many kinds of error on malformed files
        return SealCheck(intact=False, problem="This file could not be read as a PDF.")
    if not signatures:
        return SealCheck(intact=False, problem="This PDF has no seal.")
    ours = [s for s in signatures if s.field_name == FIELD_NAME] or signatures
    embedded = ours[-1]
    context = _trusted_context()
    try:
        status = _outside_event_loop(validate_pdf_signature, embedded, context)
    except Exception:  # a damaged signature can fail in many ways while being read
        return SealCheck(intact=False, problem="The PDF's seal is damaged and cannot be checked.")
    subject = status.signing_cert.subject if status.signing_cert else None
    signed_by = (subject.native.get("common_name") or subject.human_friendly) if subject else ""
    signed_at = status.signer_reported_dt
    found = {"signed_by": signed_by, "signed_at": signed_at}
    if not (status.intact and status.valid):
        problem = "The PDF has been changed since it was sealed."
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problem = "Something was added to the PDF after it was sealed."
    elif not status.trusted:
        problem = "The PDF was sealed, but not with Accord's certificate."
    else:
        return SealCheck(intact=True, **found)
    return SealCheck(intact=False, problem=problem, **found)
