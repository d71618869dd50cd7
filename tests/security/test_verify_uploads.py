"""Threats to the public verify page: uploads and PDFs made to stall the server."""

from __future__ import annotations

import contextlib
import io
import multiprocessing
import re
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, FakePayload, encode_multipart
from django.urls import reverse
from pyhanko.pdf_utils import misc as pyhanko_misc
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from documents import seal
from signatories import forms as signatory_forms
from signatories import signing_views

from ..pages import field_error, page_text

pytestmark = pytest.mark.django_db

VERIFY = reverse("signing:verify")
CANNOT_BE_CHECKED = "Accord's seal Not checked. This PDF's seal cannot be checked"
TOO_LARGE = "Error: The file must be smaller than 20 MB."


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("protocol.pdf", content, content_type="application/pdf")


class CountingPayload(FakePayload):
    """A request body that counts the bytes the server reads from it."""

    def __init__(self, content: bytes) -> None:
        super().__init__(content)
        self.bytes_read = 0

    def read(self, size=-1, /):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size=-1, /):
        line = super().readline(size)
        self.bytes_read += len(line)
        return line


def post_counting(client, data: dict, **extra):
    """POST `data` to the verify page; the response and the body as the server read it."""
    body = encode_multipart(BOUNDARY, data)
    payload = CountingPayload(body)
    response = client.generic(
        "POST", VERIFY, body, content_type=MULTIPART_CONTENT, **{"wsgi.input": payload}, **extra
    )
    return response, payload


@pytest.fixture(autouse=True)
def _generous_rate_limit(monkeypatch):
    monkeypatch.setattr(signing_views, "VERIFY_LOOKUPS_PER_MINUTE", 10_000)


@pytest.fixture(scope="module")
def plain_pdf() -> bytes:
    from weasyprint import HTML

    return HTML(string="<h1>Bedfordshire Protocol</h1><p>Signed by every partner.</p>").write_pdf()


@pytest.fixture
def sealed(pdf_storage, plain_pdf) -> bytes:
    return seal.seal(plain_pdf)


@pytest.fixture
def hashed(monkeypatch) -> list[int]:
    """The sizes of the pieces of file pyHanko hashes, as it hashes them."""
    pieces: list[int] = []
    digest = pyhanko_misc.chunked_digest

    class Counted:
        def __init__(self, md) -> None:
            self.md = md

        def update(self, data) -> None:
            pieces.append(len(data))
            self.md.update(data)

    def counted(temp_buffer, stream, md, max_read=None):
        return digest(temp_buffer, stream, Counted(md), max_read=max_read)

    monkeypatch.setattr(pyhanko_misc, "chunked_digest", counted)
    return pieces


def byte_range_of(sealed: bytes) -> tuple[int, int, int, int]:
    found = re.search(rb"/ByteRange \[(\d+) (\d+) (\d+) (\d+)\]", sealed)
    return tuple(int(n) for n in found.groups())


def with_byte_range(sealed: bytes, numbers: str) -> bytes:
    """`sealed` with its /ByteRange array written as `numbers`, every object kept at its offset
    (room for a longer array is taken from the zeros that pad the signature's /Contents)."""
    start = sealed.index(b"/ByteRange [")
    end = sealed.index(b"]", start) + 1
    while sealed[end : end + 1] == b" ":
        end += 1
    array = b"/ByteRange [" + numbers.encode() + b"]"
    short = max(0, len(array) - (end - start))
    take = short + short % 2  # hex digits come in pairs
    closing = sealed.rindex(b">", 0, start)  # the end of /Contents, just before /ByteRange
    assert sealed[closing - take : closing] == b"0" * take, "not enough padding to take from"
    crafted = (
        sealed[: closing - take]
        + sealed[closing:start]
        + array.ljust(end - start + take)
        + sealed[end:]
    )
    assert len(crafted) == len(sealed)
    return crafted


def repeating_the_whole_file(sealed: bytes, times: int = 100) -> bytes:
    return with_byte_range(sealed, " ".join(f"0 {len(sealed)}" for _ in range(times)))


MALFORMED = {
    "the whole file many times": lambda s, a, b, c: " ".join(f"0 {len(s)}" for _ in range(100)),
    "five integers": lambda s, a, b, c: f"0 {a} {b} {c} 0",
    "a negative length": lambda s, a, b, c: f"0 {a} {b} -{c}",
    "not starting at 0": lambda s, a, b, c: f"1 {a - 1} {b} {c}",
    "beyond the end of the file": lambda s, a, b, c: f"0 {a} {b} {c + 1000}",
    "overlapping ranges": lambda s, a, b, c: f"0 {b} {a} {c}",
    "a real number": lambda s, a, b, c: f"0 {a}.0 {b} {c}",
    "a gap that is not the seal's contents": lambda s, a, b, c: f"0 {a - 10} {b} {c}",
}


# A /ByteRange made to be hashed over and over


def test_a_byte_range_listing_the_whole_file_many_times_is_refused_without_hashing(
    settings, sealed, hashed
):
    """Threat: a seal's /ByteRange names the whole file N times, to be hashed N times.
    Answer: the ranges are checked first and refused, and nothing is hashed."""
    crafted = repeating_the_whole_file(sealed)
    certificate = settings.SEAL_CERTIFICATE_FILE

    genuine = seal.inspect_seal(sealed, certificate)
    hashed_for_genuine = sum(hashed)
    hashed.clear()
    refused = seal.inspect_seal(crafted, certificate)

    assert genuine.intact
    assert 0 < hashed_for_genuine <= len(sealed)
    assert not refused.intact
    assert refused.problem.startswith("This PDF's seal cannot be checked")
    assert sum(hashed) == 0


@pytest.mark.parametrize("shape", list(MALFORMED))
def test_a_malformed_byte_range_is_refused_in_plain_words(client, sealed, shape):
    """Threat: a seal whose /ByteRange does not describe its own file (extra numbers, negative,
    off the start, past the end, overlapping, not spanning the seal). Answer: the page says the
    seal cannot be checked, with a 200."""
    crafted = with_byte_range(sealed, MALFORMED[shape](sealed, *byte_range_of(sealed)[1:]))

    response = client.post(VERIFY, {"file": upload(crafted)})

    assert response.status_code == 200
    assert CANNOT_BE_CHECKED in page_text(response)


def test_a_pdf_with_more_signatures_than_a_seal_has_is_refused_unexamined(client, settings, sealed):
    """Threat: a PDF carrying many signatures, each to be read and hashed. Answer: beyond
    MAX_SIGNATURES none is examined and the seal cannot be checked."""
    signer = signers.SimpleSigner.load(settings.SEAL_KEY_FILE, settings.SEAL_CERTIFICATE_FILE)
    data = sealed
    for number in range(seal.MAX_SIGNATURES):
        metadata = signers.PdfSignatureMetadata(
            field_name=f"Witness{number}", subfilter=fields.SigSeedSubFilter.PADES
        )
        writer = IncrementalPdfFileWriter(io.BytesIO(data))
        # pyHanko starts its own event loop: outside any the browser tests left running.
        data = seal._outside_event_loop(signers.sign_pdf, writer, metadata, signer=signer)
        data = data.getvalue()

    response = client.post(VERIFY, {"file": upload(data)})

    assert response.status_code == 200
    assert CANNOT_BE_CHECKED in page_text(response)


def test_a_genuine_seal_is_checked_outside_the_web_process_and_found_intact(
    client, sealed, monkeypatch
):
    """Threat: a check that stalls stalls the web process running it. Answer: checks run in a
    child process, and a genuine seal still reads as intact there."""

    def in_the_web_process(*args, **kwargs):
        raise AssertionError("the seal was checked in the web process")

    monkeypatch.setattr(seal, "inspect_seal", in_the_web_process)

    response = client.post(VERIFY, {"file": upload(sealed)})

    assert response.status_code == 200
    assert "Accord's seal Intact: the file has not changed since Accord sealed it" in (
        page_text(response)
    )


def test_a_seal_check_that_overruns_its_time_is_stopped_and_answered(client, sealed, monkeypatch):
    """Threat: a PDF that pyHanko is slow to read (a long junk line before its end marker, read
    back a byte at a time). Answer: the check is stopped at its time limit, the page says so,
    and no process is left running."""
    slow = sealed + b"%" + b"0" * (8 * 1024 * 1024) + b"\n%%EOF\n"
    monkeypatch.setattr(seal, "SEAL_CHECK_SECONDS", 0.3)

    response = client.post(VERIFY, {"file": upload(slow)})

    assert response.status_code == 200
    assert "This PDF's seal could not be checked in time." in page_text(response)
    assert multiprocessing.active_children() == []


def test_seal_checks_beyond_the_servers_share_are_turned_away_at_once(client, sealed):
    """Threat: many slow checks at once, taking every web worker. Answer: only CHECKS_AT_ONCE
    run in the whole server; another is answered "try again" without waiting, and the
    lookup itself still works."""
    with contextlib.ExitStack() as running:
        for _ in range(seal.CHECKS_AT_ONCE):
            assert running.enter_context(seal._check_slot()) is not None

        response = client.post(VERIFY, {"file": upload(sealed)})

    assert response.status_code == 200
    text = page_text(response)
    assert "This PDF's seal could not be checked now, as others are being checked." in text
    assert "This file does not match any document signed in Accord." in text
    assert "Intact" in page_text(client.post(VERIFY, {"file": upload(sealed)}))


# Uploads larger than the limit


def test_an_upload_declared_over_the_limit_is_refused_before_its_body_is_read(client):
    """Threat: a body far over 20 MB, stored to disk in full before the form refuses it.
    Answer: the declared length is over the limit, so none of the body is read."""
    huge = b"%PDF-1.7\n" + b"0" * (21 * 1024 * 1024)

    response, body = post_counting(client, {"file": upload(huge)})

    assert response.status_code == 200
    assert field_error(response, "file") == TOO_LARGE
    assert body.bytes_read == 0


def test_an_upload_growing_past_the_limit_is_not_stored_beyond_it(client, settings, monkeypatch):
    """Threat: a file whose size is only found out by reading it. Answer: storing stops at the
    limit, nothing more is read, and the form says the file is too big."""
    limit = 256 * 1024
    monkeypatch.setattr(signatory_forms, "MAX_PDF_BYTES", limit)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file
    stored: list[int] = []
    store = TemporaryFileUploadHandler.receive_data_chunk

    def counted(handler, raw_data, start):
        stored.append(len(raw_data))
        return store(handler, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counted)
    over = b"%PDF-1.7\n" + b"0" * (limit + 20 * 1024)

    response, _body = post_counting(client, {"file": upload(over)})

    assert response.status_code == 200
    assert field_error(response, "file") == TOO_LARGE
    assert 0 < sum(stored) <= limit
    assert response.wsgi_request.upload_handlers[0].exceeded


def test_a_visitor_over_the_rate_limit_is_answered_before_the_upload_is_read(
    client, sealed, monkeypatch
):
    """Threat: uploads sent faster than the rate limit, each read and stored before the limit
    applies. Answer: the 429 comes first; none of the body is read."""
    monkeypatch.setattr(signing_views, "VERIFY_LOOKUPS_PER_MINUTE", 0)
    address = f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"  # this run's own

    response, body = post_counting(client, {"file": upload(sealed)}, REMOTE_ADDR=address)

    assert response.status_code == 429
    assert "Too many checks from your address in the last minute." in page_text(response)
    assert body.bytes_read == 0


def test_a_lookup_posted_from_another_site_is_still_refused(sealed):
    """Threat: the page checks CSRF itself now (after limiting the upload), and could forget
    to. Answer: a POST without the form's token is refused; one with it is answered."""
    browser = Client(enforce_csrf_checks=True)
    token = browser.get(VERIFY).cookies["csrftoken"].value

    forged = browser.post(VERIFY, {"file": upload(sealed)})
    genuine = browser.post(VERIFY, {"file": upload(sealed), "csrfmiddlewaretoken": token})

    assert forged.status_code == 403
    assert genuine.status_code == 200
    assert "Accord's seal Intact" in page_text(genuine)
