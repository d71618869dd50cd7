"""Protocols figures: a 40-page protocol signed by 40 partners, its PDF and its pages.

Seeded in the large partnership after the other pages are measured (so their figures stay as
before), through the services a partnership uses: the model protocol plus annexes, approval,
sending for signature and 40 signatures. A second protocol, signed by 2 partners, is the
small side of the signatories page's query count.

Measured:
- the signed-PDF build as the background task does it (protocols' content assembly, then
  documents.pdf.stored_pdf: render, seal, store), each run for a new signing state, against
  raw WeasyPrint rendering the same HTML;
- a repeat download of the version's PDF through the app, served from storage;
- the version's signatories page at 2 and at 40 partners.

PDFs and the development seal live in a temporary directory, never in var/.
"""

from __future__ import annotations

import gc
import hashlib
import io
import random
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from . import measure, protocol_text
from .seed import FIRST_NAMES, LAST_NAMES

MANY = 40  # partners asked to sign the long protocol
FEW = 2  # partners asked to sign the short one
ANNEXES = 18  # with the model protocol's 12 sections: 30 sections, about 40 pages
PDF_RATIO_TARGET = 1.2
DOWNLOADS = 20
POSITIONS = [
    "Chief Executive",
    "Senior Information Risk Owner",
    "Caldicott Guardian",
    "Data Protection Officer",
    "Director",
]


@dataclass
class SeededProtocol:
    protocol: object
    version: object
    partners: int
    sections: int


# --- Setting up ---------------------------------------------------------------------------


@contextmanager
def pdf_files() -> Iterator[Path]:
    """Stored files and a development seal certificate in a temporary directory."""
    from django.conf import settings
    from django.test import override_settings

    from documents.seal import ensure_development_certificate

    with tempfile.TemporaryDirectory(prefix="accord-bench-") as folder:
        root = Path(folder)
        cert, key, media = root / "seal" / "cert.pem", root / "seal" / "key.pem", root / "media"
        with override_settings(
            SEAL_CERTIFICATE_FILE=str(cert),
            SEAL_KEY_FILE=str(key),
            SEAL_KEY_PASSPHRASE="",
            MEDIA_ROOT=str(media),
            STORAGES={
                **settings.STORAGES,
                "default": {
                    "BACKEND": "django.core.files.storage.FileSystemStorage",
                    "OPTIONS": {"location": str(media)},
                },
            },
        ):
            ensure_development_certificate(cert, key)
            yield root


@contextmanager
def queued_tasks() -> Iterator[Counter]:
    """Count the e-mails and PDF renders the services queue instead of queueing them.

    Rendering 40 PDFs while seeding would take minutes, and the bench has no worker: the
    build the task does is timed on its own below.
    """
    import accord.kernel.outbox
    import signatories.signables
    from accord.kernel.tasks import deliver_message
    from signatories.signables import render_pdf

    queued: Counter = Counter()
    names = {deliver_message.name: "emails", render_pdf.name: "pdf_renders"}

    def count(task, *args, **kwargs) -> None:
        queued[names.get(task.name, task.name)] += 1

    with (
        mock.patch.object(accord.kernel.outbox, "queue_on_commit", count),
        mock.patch.object(signatories.signables, "queue_on_commit", count),
    ):
        yield queued


def _signatories(rng: random.Random, partnership, partners) -> None:
    """One authorised signatory for each partner that has none, its address confirmed and on
    a mail domain of its organisation's own (so signing links may go to it)."""
    from django.utils import timezone

    from signatories.models import AuthorisedSignatory, OrganisationDomain

    having = set(
        AuthorisedSignatory.objects.filter(partner__in=partners).values_list("partner", flat=True)
    )
    wanting = [partner for partner in partners if partner.pk not in having]
    OrganisationDomain.objects.bulk_create(
        [
            OrganisationDomain(
                organisation_id=partner.organisation_id,
                domain=f"org{partner.organisation_id}.bench.example",
            )
            for partner in wanting
        ],
        ignore_conflicts=True,
    )
    AuthorisedSignatory.objects.bulk_create(
        AuthorisedSignatory(
            partnership=partnership,
            partner=partner,
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            position=rng.choice(POSITIONS),
            email=f"signatory{partner.pk}@org{partner.organisation_id}.bench.example",
            confirmed_at=timezone.now(),
        )
        for partner in wanting
    )


def _signed_protocol(partnership, requester, *, title, partners, annexes) -> SeededProtocol:
    """A protocol from the model, with `annexes` more sections, signed by every partner."""
    from protocols import services
    from signatories.models import SignatureRequest
    from signatories.signing import sign

    protocol = services.create_from_model(partnership, title=title, lead=partners[0], by=requester)
    version = protocol.versions.get()
    names = [str(p.organisation) for p in partners]
    for section_title, body in protocol_text.annexes(annexes, names):
        services.add_section(version, title=section_title, body=body, by=requester)
    version = services.submit_for_approval(version, by=requester)
    # Whoever wrote a version does not approve it: the seed approves as Accord itself.
    version = services.approve(version, by=None)
    version = services.send_for_signature(version, partners, by=requester)
    requests = (
        SignatureRequest.objects.filter(document=version.document)
        .select_related("signatory")
        .order_by("pk")
    )
    for i, request in enumerate(requests):
        sign(
            request,
            name=request.signatory.name,
            position=request.signatory.position,
            confirmed=True,
            ip_address=f"192.0.2.{i % 250 + 1}",
            user_agent="Mozilla/5.0 (Accord benchmark)",
        )
    version.refresh_from_db()
    return SeededProtocol(protocol, version, len(partners), version.sections.count())


def seed(partnership, requester, seed_value: int = 20250402) -> dict:
    """The long protocol signed by MANY partners and the short one signed by FEW."""
    from signatories.models import Partner, PartnerStatus

    rng = random.Random(seed_value)
    with scope(partnership=partnership), queued_tasks() as queued:
        partners = list(
            Partner.objects.filter(status=PartnerStatus.ACTIVE)
            .select_related("organisation")
            .order_by("pk")[:MANY]
        )
        if len(partners) < MANY:
            raise RuntimeError(f"The large partnership has only {len(partners)} active partners")
        _signatories(rng, partnership, partners)
        many = _signed_protocol(
            partnership,
            requester,
            title="Bench information sharing protocol",
            partners=partners,
            annexes=ANNEXES,
        )
        few = _signed_protocol(
            partnership,
            requester,
            title="Bench two-partner protocol",
            partners=partners[:FEW],
            annexes=0,
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"many": many, "few": few, "queued": dict(queued)}


# --- Measuring ----------------------------------------------------------------------------


class _Phases:
    """Time spent in documents.pdf's render_pdf and seal during a build, by wrapping them."""

    def __init__(self) -> None:
        self.ms: Counter = Counter()
        self.calls: Counter = Counter()

    def wrap(self, name: str, func: Callable) -> Callable:
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.ms[name] += (time.perf_counter() - start) * 1000
                self.calls[name] += 1

        return timed

    @contextmanager
    def watching(self) -> Iterator[_Phases]:
        import documents.pdf

        with (
            mock.patch.object(
                documents.pdf, "render_pdf", self.wrap("render", documents.pdf.render_pdf)
            ),
            mock.patch.object(documents.pdf, "seal", self.wrap("seal", documents.pdf.seal)),
        ):
            yield self


def _page_count(data: bytes) -> int:
    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


def _stored_count(version) -> int:
    from documents.models import RenderedPdf

    with scopes_disabled():
        return RenderedPdf.objects.filter(document_id=version.document_id).count()


def pdf_build(partnership, version, runs: int) -> dict:
    """The signed-PDF build, each time for a new state, beside raw WeasyPrint on its HTML.

    A new state each run comes from documents.pdf.LAYOUT_VERSION, which is part of every
    state key and changes nothing on the page: stored_pdf renders, seals and stores afresh,
    as after a new signature, with nothing deleted.
    """
    import weasyprint
    from django.template.loader import render_to_string

    import documents.pdf
    from documents.models import RenderedPdf
    from protocols.models import ProtocolVersion
    from protocols.pdf import pdf_content
    from signatories.signables import render_pdf

    def build_task(partnership_id: int, version_id: int) -> str:
        return render_pdf(partnership_id, "protocol", version_id)[0]

    with scope(partnership=partnership):
        content = pdf_content(ProtocolVersion.objects.get(pk=version.pk))
        html = render_to_string(documents.pdf.TEMPLATE, documents.pdf._context(content))
        sections = version.sections.count()

    # The first build stores the PDF of the real state, which the download serves later;
    # it and one bare rendering also warm WeasyPrint's fonts and caches.
    start = time.perf_counter()
    sha = build_task(partnership.pk, version.pk)
    first_ms = (time.perf_counter() - start) * 1000
    with scopes_disabled():
        stored = RenderedPdf.objects.get(document_id=version.document_id, sha256=sha)
    with stored.file.open("rb") as f:
        app_pdf = f.read()
    bare_pdf = weasyprint.HTML(string=html).write_pdf()

    rows_before = _stored_count(version)
    app, bare, phases = measure.Timing(), measure.Timing(), _Phases()
    # CPU time of this process too: rendering is single-threaded, so CPU time is steadier
    # than wall time when other work shares the machine.
    app_cpu, bare_cpu = measure.Timing(), measure.Timing()
    split: dict[str, list[float]] = {"render_pdf": [], "seal": [], "other": []}
    original = documents.pdf.LAYOUT_VERSION

    def run_app(i: int) -> None:
        documents.pdf.LAYOUT_VERSION = f"{original}-bench-{i}"
        render_before, seal_before = phases.ms["render"], phases.ms["seal"]
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        build_task(partnership.pk, version.pk)
        total = (time.perf_counter() - start) * 1000
        app_cpu.samples_ms.append((time.process_time() - cpu) * 1000)
        app.samples_ms.append(total)
        render, sealing = phases.ms["render"] - render_before, phases.ms["seal"] - seal_before
        split["render_pdf"].append(render)
        split["seal"].append(sealing)
        split["other"].append(total - render - sealing)

    def run_bare(wall: measure.Timing, cpu_time: measure.Timing, **options) -> None:
        gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        weasyprint.HTML(string=html).write_pdf(**options)
        cpu_time.samples_ms.append((time.process_time() - cpu) * 1000)
        wall.samples_ms.append((time.perf_counter() - start) * 1000)

    # Raw WeasyPrint writing the same tagged PDF/UA-1 as the app: the like-for-like figure,
    # which leaves out what the accessible tagging costs.
    bare_ua, bare_ua_cpu = measure.Timing(), measure.Timing()
    steps = [
        run_app,
        lambda i: run_bare(bare, bare_cpu),
        lambda i: run_bare(bare_ua, bare_ua_cpu, pdf_variant="pdf/ua-1"),
    ]
    try:
        with phases.watching():
            for i in range(runs):
                # Rotate which goes first, so drift on the machine hits all alike.
                for step in steps[i % 3 :] + steps[: i % 3]:
                    step(i)
    finally:
        documents.pdf.LAYOUT_VERSION = original
    new_rows = _stored_count(version) - rows_before
    ratio = app.median / bare.median
    return {
        "runs": runs,
        "sections": sections,
        "signatories": len(content.signatories),
        "signing_events": len(content.events),
        "final": content.final,
        "html_chars": len(html),
        "pages": _page_count(app_pdf),
        "pages_bare": _page_count(bare_pdf),
        "bytes": len(app_pdf),
        "bytes_bare": len(bare_pdf),
        "first_build_ms": first_ms,
        "app_ms": app.median,
        "app_min_ms": app.minimum,
        "app_samples_ms": app.samples_ms,
        "bare_ms": bare.median,
        "bare_min_ms": bare.minimum,
        "bare_samples_ms": bare.samples_ms,
        "ratio": ratio,
        "ratio_of_minimums": app.minimum / bare.minimum,
        "bare_ua_ms": bare_ua.median,
        "bare_ua_min_ms": bare_ua.minimum,
        "bare_ua_samples_ms": bare_ua.samples_ms,
        "bare_ua_cpu_ms": bare_ua_cpu.median,
        "ratio_ua": app.median / bare_ua.median,
        "ratio_ua_of_minimums": app.minimum / bare_ua.minimum,
        "cpu_ratio_ua": app_cpu.median / bare_ua_cpu.median,
        "app_cpu_ms": app_cpu.median,
        "bare_cpu_ms": bare_cpu.median,
        "cpu_ratio": app_cpu.median / bare_cpu.median,
        "ratio_target": PDF_RATIO_TARGET,
        "ratio_verdict": "OK" if ratio <= PDF_RATIO_TARGET else "SLOW",
        # Median of each part of a build: documents.pdf.render_pdf (template and WeasyPrint),
        # seal, and the rest (content assembly, state key, storage, database).
        "phases_ms": {name: statistics.median(ms) for name, ms in split.items()},
        "phases_samples_ms": split,
        "new_stored_pdfs": new_rows,
        "stored_sha256": sha,
    }


def _download(client: Client, url: str) -> bytes:
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}, not 200")
    try:
        return b"".join(response.streaming_content)
    finally:
        response.close()


def repeat_download(client: Client, version, url: str, stored_sha256: str, count: int) -> dict:
    """GET the version's PDF again and again: served from storage, nothing rendered."""
    _download(client, url)  # warm-up
    rows_before = _stored_count(version)
    phases = _Phases()
    timing = measure.Timing()
    with phases.watching():
        with CaptureQueriesContext(connection) as ctx:
            data = _download(client, url)
        # Read now: the next request empties the connection's query log.
        queries = [q["sql"] for q in ctx.captured_queries]
        gc.collect()
        for _ in range(count):
            start = time.perf_counter()
            data = _download(client, url)
            timing.samples_ms.append((time.perf_counter() - start) * 1000)
    renders = phases.calls["render"]
    new_rows = _stored_count(version) - rows_before
    served_stored = hashlib.sha256(data).hexdigest() == stored_sha256
    ok = renders == 0 and new_rows == 0 and served_stored
    return {
        "url": url,
        "requests": count,
        "ms": timing.median,
        "min_ms": timing.minimum,
        "p90_ms": timing.p90,
        "queries": len(queries),
        "queries_sql": queries,
        "bytes": len(data),
        "renders": renders,
        "new_stored_pdfs": new_rows,
        "same_file_as_stored": served_stored,
        "verdict": "OK" if ok else "RENDERED",
    }


def signatories_page(client: Client, few_url: str, many_url: str, requests: int, warmup: int):
    q_few = measure.capture(client, few_url)
    q_many = measure.capture(client, many_url)
    timings = measure.latencies(client, {"few": few_url, "many": many_url}, requests, warmup)
    return {
        "page": "Protocol signatories",
        "url_few": few_url,
        "url_many": many_url,
        "partners_few": FEW,
        "partners_many": MANY,
        "queries_few": q_few.count,
        "queries_many": q_many.count,
        "queries_verdict": "OK" if q_few.count == q_many.count else "DIFFERENT",
        "ms_few": timings["few"].median,
        "ms_many": timings["many"].median,
        "p90_ms_many": timings["many"].p90,
        "min_ms_many": timings["many"].minimum,
        "bytes_many": q_many.size,
        "queries_many_sql": q_many.queries,
        "growing_query_shapes": measure.growing_shapes(q_few.queries, q_many.queries),
    }


def run(requester, partnership, *, pdf_runs: int, requests: int, warmup: int, say) -> dict:
    """Seed the two protocols, then take every protocols figure. Call inside pdf_files()."""
    from django.urls import reverse

    start = time.perf_counter()
    seeded = seed(partnership, requester)
    seed_s = time.perf_counter() - start
    many, few = seeded["many"], seeded["few"]
    say(
        f"  Seeded protocols in {seed_s:.1f} s: {many.sections} sections signed by "
        f"{many.partners} partners, {few.sections} signed by {few.partners} "
        f"(queued, not run: {seeded['queued']})"
    )

    def url(name: str, seeded: SeededProtocol) -> str:
        return reverse(
            f"protocols:{name}",
            kwargs={
                "partnership_slug": partnership.slug,
                "protocol_id": seeded.protocol.pk,
                "version_id": seeded.version.pk,
            },
        )

    start = time.perf_counter()
    build = pdf_build(partnership, many.version, pdf_runs)
    say(
        f"  Signed PDF ({build['pages']} pages): {build['app_ms']:.0f} ms build vs "
        f"{build['bare_ms']:.0f} ms raw WeasyPrint (median of {pdf_runs})"
    )
    client = Client()
    client.force_login(requester, backend="django.contrib.auth.backends.ModelBackend")
    download = repeat_download(
        client, many.version, url("pdf", many), build["stored_sha256"], DOWNLOADS
    )
    say(
        f"  Repeat download: {download['ms']:.1f} ms, {download['renders']} renders, "
        f"{download['new_stored_pdfs']} new stored PDFs"
    )
    page = signatories_page(
        client, url("signatories", few), url("signatories", many), requests, warmup
    )
    say(
        f"  Signatories page: {page['queries_few']}/{page['queries_many']} queries, "
        f"{page['ms_many']:.1f} ms at {MANY} partners"
    )
    measure_s = time.perf_counter() - start
    return {
        "protocol": {
            "sections": many.sections,
            "partners_asked": many.partners,
            "status": many.version.status,
            "few_partners_asked": few.partners,
            "queued_while_seeding": seeded["queued"],
        },
        "pdf_build": build,
        "download": download,
        "signatories_page": page,
        "seconds": {"seed": round(seed_s, 2), "measure": round(measure_s, 2)},
    }
