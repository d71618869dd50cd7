"""The platform seal: a PAdES signature over each PDF, made with Accord's certificate.

The seal shows that a PDF came from Accord and has not changed since; it is not any partner's
signature (those are listed on the PDF's signature certificate page).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime
import fcntl
import io
import itertools
import logging
import math
import multiprocessing
import os
import re
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

logger = logging.getLogger(__name__)

FIELD_NAME = "AccordSeal"
DEVELOPMENT_NAME = "Accord development seal"
DEVELOPMENT_VALID_DAYS = 5 * 365

# Checking an uploaded PDF's seal: how long it may take (checking a genuine 20 MB PDF takes
# a fraction of a second), how many signatures are looked at (Accord seals once), and how many
# checks one server (its web processes and threads) runs at once: another is answered "try
# again" without waiting, so checks never occupy every web worker. Keep CHECKS_AT_ONCE below
# the number of web workers.
SEAL_CHECK_SECONDS = 5.0
MAX_SIGNATURES = 4
CHECKS_AT_ONCE = 2
# Memory a check may use (checking a 20 MB PDF takes under 100 MB); a file that unpacks into
# more is answered as one that could not be checked.
SEAL_CHECK_MEMORY = 512 * 1024 * 1024
CANNOT_CHECK = "This PDF's seal cannot be checked: it does not describe the file it is in."
NOT_IN_TIME = "This PDF's seal could not be checked in time."
BUSY = "This PDF's seal could not be checked now, as others are being checked. Try again soon."
COULD_NOT_CHECK = "This PDF's seal could not be checked."
_HEX = re.compile(rb"(?:[0-9A-Fa-f]{2})*")


@dataclass(frozen=True)
class SealCheck:
    intact: bool
    signed_by: str = ""
    signed_at: datetime.datetime | None = None
    problem: str = ""
    # False when the check could not be made at all (malformed, busy, out of time): the seal
    # is then neither intact nor broken as far as Accord can say.
    checked: bool = True


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


def check_seal(pdf: bytes) -> SealCheck:
    """Whether `pdf` carries Accord's seal, unbroken, over the whole file.

    The check runs in a child process stopped after SEAL_CHECK_SECONDS, and no more than
    CHECKS_AT_ONCE run in the server, so a file made to be slow to check costs a bounded time
    and never holds the server. Never raises for bad input: the answer says in plain words
    what is wrong.
    """
    ensure_configured()
    cert_path, _ = seal_files()
    return _in_child_process(pdf, str(cert_path), SEAL_CHECK_SECONDS)


def inspect_seal(pdf: bytes, cert_path: str | Path) -> SealCheck:
    """The seal check itself, in this process and without a time limit (see check_seal).

    Every signature's /ByteRange is checked against the file before anything is hashed, so
    hashing covers at most the file once.
    """
    if pdf.count(b"/ByteRange") > MAX_SIGNATURES:
        return SealCheck(intact=False, problem=CANNOT_CHECK, checked=False)
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        found = list(
            itertools.islice(enumerate_sig_fields(reader, filled_status=True), 1 + MAX_SIGNATURES)
        )
    except MemoryError:
        raise
    except Exception:  # pyHanko raises many kinds of error on malformed files
        return SealCheck(intact=False, problem="This file could not be read as a PDF.")
    if not found:
        return SealCheck(intact=False, problem="This PDF has no seal.")
    try:
        sound = len(found) <= MAX_SIGNATURES and all(
            _byte_range_is_sound(pdf, sig_object.get_object())
            for _name, sig_object, _field in found
        )
    except MemoryError:
        raise
    except Exception:  # an unreadable signature dictionary
        sound = False
    if not sound:
        return SealCheck(intact=False, problem=CANNOT_CHECK, checked=False)
    try:
        signatures = list(reader.embedded_signatures)
    except MemoryError:
        raise
    except Exception:
        return SealCheck(intact=False, problem="This file could not be read as a PDF.")
    if not signatures:
        return SealCheck(intact=False, problem="This PDF has no seal.")
    ours = [s for s in signatures if s.field_name == FIELD_NAME] or signatures
    embedded = ours[-1]
    certificate = load_cert_from_pemder(str(cert_path))
    context = ValidationContext(trust_roots=[certificate], allow_fetching=False)
    try:
        status = _outside_event_loop(validate_pdf_signature, embedded, context)
    except MemoryError:
        raise
    except Exception:  # a damaged signature can fail in many ways while being read
        return SealCheck(intact=False, problem="The PDF's seal is damaged and cannot be checked.")
    subject = status.signing_cert.subject if status.signing_cert else None
    signed_by = (subject.native.get("common_name") or subject.human_friendly) if subject else ""
    signed_at = status.signer_reported_dt
    found_by = {"signed_by": signed_by, "signed_at": signed_at}
    if not (status.intact and status.valid):
        problem = "The PDF has been changed since it was sealed."
    elif status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        problem = "Something was added to the PDF after it was sealed."
    elif not status.trusted:
        problem = "The PDF was sealed, but not with Accord's certificate."
    else:
        return SealCheck(intact=True, **found_by)
    return SealCheck(intact=False, problem=problem, **found_by)


def _byte_range_is_sound(pdf: bytes, signature: object) -> bool:
    """A signature's /ByteRange is [0 a b c]: the file from its start to a, then from b for c
    bytes, ending within the file, with exactly the signature's own /Contents from a to b."""
    if not isinstance(signature, generic.DictionaryObject):
        return False
    byte_range = signature.raw_get("/ByteRange")
    if not isinstance(byte_range, generic.ArrayObject) or len(byte_range) != 4:
        return False
    if not all(isinstance(value, generic.NumberObject) for value in byte_range):
        return False  # reals and indirect references are not byte offsets
    start, first_length, second_start, second_length = (int(value) for value in byte_range)
    if start != 0 or not 0 <= first_length < second_start or second_length < 0:
        return False
    if second_start + second_length > len(pdf):
        return False
    contents = signature.raw_get("/Contents", decrypt=generic.EncryptedObjAccess.RAW)
    if not isinstance(contents, generic.ByteStringObject | generic.TextStringObject):
        return False
    expected = contents.original_bytes
    if second_start - first_length != 2 * len(expected) + 2:
        return False
    gap = pdf[first_length:second_start]
    return (
        gap[:1] == b"<"
        and gap[-1:] == b">"
        and _HEX.fullmatch(gap, 1, len(gap) - 1) is not None
        and bytes.fromhex(gap[1:-1].decode("ascii")) == expected
    )


# A check runs in a process forked from a small server process that has already imported
# this module (multiprocessing's "forkserver"): starting one takes milliseconds, the server
# runs no threads (so forking it is safe where the web process runs several), and a check
# that overruns is killed outright, holding neither the web process nor a CPU. As with any
# multiprocessing start method but "fork", the program's main script must guard what it runs
# with `if __name__ == "__main__"` (manage.py, gunicorn's and pytest's do).
_processes = multiprocessing.get_context("forkserver")


def _in_child_process(pdf: bytes, cert_path: str, seconds: float) -> SealCheck:
    with _check_slot() as slot:
        if slot is None:
            return SealCheck(intact=False, problem=BUSY, checked=False)
        deadline = time.monotonic() + seconds
        _processes.set_forkserver_preload([__name__])
        answers, sender = _processes.Pipe(duplex=False)
        with answers:
            process = _processes.Process(
                target=_check_for_parent, args=(pdf, cert_path, seconds, sender), daemon=True
            )
            try:
                process.start()
            except Exception:  # no process can be started here: say so, never a 500
                logger.exception("Cannot start a process to check a PDF's seal")
                return SealCheck(intact=False, problem=COULD_NOT_CHECK, checked=False)
            finally:
                sender.close()
            try:
                if answers.poll(max(0.0, deadline - time.monotonic())):
                    return answers.recv()
                return SealCheck(intact=False, problem=NOT_IN_TIME, checked=False)
            except (EOFError, OSError):  # the child died without answering
                return SealCheck(intact=False, problem=COULD_NOT_CHECK, checked=False)
            finally:
                _end(process)


def slots_folder() -> Path:
    """Where the lock files counting the checks running in this server are: one folder for
    the server's process group (gunicorn's workers, runserver's threads)."""
    return Path(tempfile.gettempdir()) / f"accord-seal-checks-{os.getuid()}-{os.getpgrp()}"


@contextlib.contextmanager
def _check_slot():
    """One of CHECKS_AT_ONCE slots shared by the server's processes and threads, taken without
    waiting: None when all are taken. A slot is an exclusive lock on a file, so a process that
    dies frees its slot."""
    try:
        handle = _take_slot()
    except OSError:  # no usable folder: check without counting
        logger.warning("Cannot count seal checks in %s", slots_folder(), exc_info=True)
        yield True
        return
    if handle is None:
        yield None
        return
    with handle:
        yield handle


def _take_slot():
    folder = slots_folder()
    folder.mkdir(mode=0o700, exist_ok=True)
    for number in range(CHECKS_AT_ONCE):
        handle = open(folder / f"{number}.lock", "a+b")  # noqa: SIM115 - held while checking
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            if isinstance(exc, BlockingIOError):
                continue  # taken
            raise
        return handle
    return None


def _end(process: multiprocessing.process.BaseProcess) -> None:
    if process.exitcode is None:
        process.kill()
    process.join(timeout=5)
    if process.exitcode is not None:
        process.close()


def _check_for_parent(pdf: bytes, cert_path: str, seconds: float, answer) -> None:
    """In the child: answer the check, within a CPU-time limit of its own in case the parent
    is gone before it can stop the child."""
    try:
        cpu = math.ceil(seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_DATA, (SEAL_CHECK_MEMORY, SEAL_CHECK_MEMORY))
    except (ImportError, ValueError, OSError):
        pass
    try:
        result = inspect_seal(pdf, cert_path)
    except Exception:  # MemoryError included: too much to check
        result = SealCheck(intact=False, problem=COULD_NOT_CHECK, checked=False)
    with answer:
        answer.send(result)
