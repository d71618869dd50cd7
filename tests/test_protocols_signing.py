"""Protocols going for signature: freezing, asking every partner, signing and declining,
major and minor versions, the signatories table, the PDF and the public page."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from documents.models import FrozenDocument, RenderedPdf
from documents.seal import ensure_development_certificate
from documents.services import canonical_html, sha256_of
from protocols import services
from protocols.models import LOCKED_MESSAGE, ProtocolVersion, VersionStatus
from protocols.pdf import version_pdf
from signatories import signables, signing
from signatories.models import PartnerStatus, RequestStatus, Signature, SignatureRequest
from signatories.services import change_partner_status, notice_period
from signatories.signables import render_pdf
from tenancy.roles import Role

from .factories import (
    PartnershipFactory,
    make_member,
    make_partner,
    make_protocol,
    make_signatory,
)
from .pages import field_error, messages_of, page_text
from .test_protocols import approved, audit, fresh, latest, url, version_url

pytestmark = pytest.mark.django_db


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seal_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("seal")
    cert, key = folder / "cert.pem", folder / "key.pem"
    ensure_development_certificate(cert, key)
    return cert, key


@pytest.fixture(autouse=True)
def _pdf_storage(settings, tmp_path, seal_files):
    """PDFs go to a temporary media folder, sealed with a throwaway certificate."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SEAL_CERTIFICATE_FILE, settings.SEAL_KEY_FILE = map(str, seal_files)
    settings.SEAL_KEY_PASSPHRASE = ""
    ensure_development_certificate()


def partners_with_signatories(partnership, count: int, first=None):
    partners = [first] if first else []
    while len(partners) < count:
        partners.append(make_partner(partnership))
    for partner in partners:
        # Short names: a long one could be hyphenated across lines in the PDF.
        make_signatory(
            partner, name=f"Sam Lee {partner.pk}", position="Senior Information Risk Owner"
        )
    return partners


@pytest.fixture
def partners(alpha):
    """Four active partners, each with an authorised signatory; the first leads."""
    return partners_with_signatories(alpha, 4)


@pytest.fixture
def lead(partners):
    return partners[0]


@pytest.fixture
def manager(alpha, lead):
    return make_member(alpha, Role.ADMINISTRATOR, organisation=lead.organisation).user


@pytest.fixture
def steering(alpha, lead):
    return make_member(alpha, Role.STEERING_GROUP, organisation=lead.organisation).user


@pytest.fixture
def protocol(alpha, lead, manager):
    return make_protocol(alpha, title="Alpha information sharing protocol", lead=lead, by=manager)


@pytest.fixture
def ready(protocol, manager, steering) -> ProtocolVersion:
    """Version 1.0, approved by the steering group."""
    return approved(latest(protocol), manager, steering)


def send(version: ProtocolVersion, partners, by) -> ProtocolVersion:
    with scope(partnership=version.partnership):
        return services.send_for_signature(version, partners, by=by)


def request_of(version: ProtocolVersion, partner) -> SignatureRequest:
    with scope(partnership=version.partnership):
        return SignatureRequest.objects.get(document_id=version.document_id, partner=partner)


def answer(version: ProtocolVersion, partner, *, decline: str = "") -> Signature:
    request = request_of(fresh(version), partner)
    with scope(partnership=partner.partnership):
        signatory = partner.signatories.first()
    who = {"name": signatory.name, "position": signatory.position}
    common = {"ip_address": "192.0.2.10", "user_agent": "Test browser"}
    if decline:
        return signing.decline(request, reason=decline, **who, **common)
    return signing.sign(request, confirmed=True, **who, **common)


def sign_all(version: ProtocolVersion, partners) -> None:
    for partner in partners:
        answer(version, partner)


def signed_version(protocol, partners, manager, steering) -> ProtocolVersion:
    version = approved(latest(protocol), manager, steering)
    send(version, partners, manager)
    sign_all(version, partners)
    return fresh(version)


def signatory_name(partner) -> str:
    with scope(partnership=partner.partnership):
        return partner.signatories.first().name


# --- Sending for signature -----------------------------------------------------------------


def test_every_active_partner_is_ticked_on_the_send_page(client, alpha, ready, manager, partners):
    make_partner(alpha, status="withdrawn")
    client.force_login(manager)

    response = client.get(version_url("send", ready))

    content = response.content.decode()
    assert content.count('name="partners"') == 4
    assert content.count(" checked>") == 4


def test_sending_freezes_the_text_and_asks_each_chosen_partner(
    client, alpha, ready, manager, partners, django_capture_on_commit_callbacks
):
    chosen, unticked = partners[:3], partners[3]
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(version_url("send", ready), {"partners": [p.pk for p in chosen]})

    assert response.status_code == 302
    version = fresh(ready)
    assert version.status == VersionStatus.FOR_SIGNATURE
    assert version.sent_at is not None
    with scope(partnership=alpha):
        document = version.document
        rendered = services.render_version_html(version)
        asked = set(
            SignatureRequest.objects.filter(document=document).values_list("partner", flat=True)
        )
    # The text as rendered, after the version's identity; the fingerprint covers both.
    assert document.html.endswith(canonical_html(rendered))
    assert "<dt>Title</dt><dd>Alpha information sharing protocol</dd>" in document.html
    assert "<dt>Version</dt><dd>1.0</dd>" in document.html
    assert document.sha256 == sha256_of(document.html)
    assert "<h2>Purpose and scope</h2>" in document.html
    assert asked == {p.pk for p in chosen}
    requests = [m for m in mail.outbox if "/sign/" in m.body]
    assert len(requests) == 3
    with scope(partnership=alpha):
        emails = {p.signatories.first().email for p in chosen}
        unticked_email = unticked.signatories.first().email
    assert {m.to[0] for m in requests} == emails
    assert unticked_email not in {m.to[0] for m in mail.outbox}
    assert audit(alpha, "protocol.version_sent")[0].actor == manager


def test_nothing_is_sent_when_a_partner_cannot_be_asked(client, alpha, ready, manager, partners):
    nobody = make_partner(alpha)  # no signatory, no data protection e-mail
    client.force_login(manager)

    response = client.post(
        version_url("send", ready), {"partners": [p.pk for p in [*partners, nobody]]}
    )

    assert response.status_code == 200
    assert f"{nobody.organisation} has no authorised signatory" in page_text(response)
    version = fresh(ready)
    assert version.status == VersionStatus.APPROVED
    assert version.document_id is None
    with scope(partnership=alpha):
        assert not FrozenDocument.objects.exists()
        assert not SignatureRequest.objects.exists()


def test_sending_needs_at_least_one_partner(client, ready, manager):
    client.force_login(manager)
    response = client.post(version_url("send", ready), {})
    assert field_error(response, "partners") == "Error: Choose at least one partner to sign."


def test_only_an_approved_version_can_be_sent(client, alpha, protocol, manager, partners):
    client.force_login(manager)
    draft = latest(protocol)

    response = client.get(version_url("send", draft), follow=True)

    assert messages_of(response) == [
        "Version 1.0 is draft: only an approved version can be sent for signature."
    ]
    with scope(partnership=alpha), pytest.raises(Exception, match="only an approved version"):
        services.send_for_signature(draft, partners, by=manager)


def test_people_of_other_organisations_cannot_send_for_the_lead(client, alpha, ready, partners):
    officer = make_member(alpha, Role.IG_OFFICER, organisation=partners[1].organisation).user
    client.force_login(officer)
    assert client.get(version_url("send", ready)).status_code == 403
    assert client.post(version_url("issue", ready)).status_code == 403


def test_a_frozen_version_never_changes(alpha, ready, manager, partners):
    version = send(ready, partners, manager)
    with scope(partnership=alpha):
        version = ProtocolVersion.objects.get(pk=version.pk)
        version.change_summary = "Rewritten after sending"
        with pytest.raises(Exception, match="start a new version") as caught:
            version.save()
    assert LOCKED_MESSAGE in str(caught.value)


# --- Signing -------------------------------------------------------------------------------


def test_when_every_partner_signs_the_version_is_signed_and_in_force(
    alpha, protocol, ready, manager, partners
):
    send(ready, partners, manager)
    sign_all(ready, partners[:-1])
    assert fresh(ready).status == VersionStatus.FOR_SIGNATURE

    answer(ready, partners[-1])

    version = fresh(ready)
    protocol = fresh(protocol)
    today = timezone.localdate()
    assert version.status == VersionStatus.SIGNED
    assert version.signed_at is not None
    assert protocol.date_in_force == today
    # Its review cycle starts: the first review 6 months on (the partnership's setting).
    assert protocol.next_review_on == services.add_months(today, 6)
    assert audit(alpha, "protocol.version_signed")


def test_a_decline_keeps_the_version_out_for_signature_and_shows_why(
    client, alpha, ready, manager, partners
):
    send(ready, partners, manager)
    sign_all(ready, partners[:-1])
    answer(ready, partners[-1], decline="Our board meets next month.")

    assert fresh(ready).status == VersionStatus.FOR_SIGNATURE
    client.force_login(manager)
    response = client.get(version_url("signatories", ready))

    text = page_text(response)
    assert "3 of 4 partners asked have signed; 1 declined." in text
    assert 'govuk-tag--red">Declined</strong>' in response.content.decode()
    assert "Reason: Our board meets next month." in text
    assert "A partner has declined to sign" in text


def test_the_signatories_table_shows_who_signed_and_who_is_being_chased(
    client, alpha, ready, manager, partners
):
    send(ready, partners, manager)
    answer(ready, partners[0])
    client.force_login(make_member(alpha, Role.VIEWER, organisation=partners[0].organisation).user)

    response = client.get(version_url("signatories", ready))

    content = response.content.decode()
    assert content.count('govuk-tag--green">Signed</strong>') == 1
    assert content.count('govuk-tag--blue">Sent</strong>') == 3
    text = page_text(response)
    assert f"{partners[0].organisation} {signatory_name(partners[0])} Senior Information" in text


def _signatories_page_queries(count: int) -> int:
    from django.test import Client

    partnership = PartnershipFactory()
    partners = partners_with_signatories(partnership, count)
    manager = make_member(partnership, Role.ADMINISTRATOR, organisation=partners[0].organisation)
    steering = make_member(partnership, Role.STEERING_GROUP, organisation=partners[0].organisation)
    protocol = make_protocol(partnership, lead=partners[0], by=manager.user)
    version = approved(latest(protocol), manager.user, steering.user)
    send(version, partners, manager.user)
    for partner in partners[: count // 2]:
        answer(version, partner)
    answer(version, partners[-1], decline="Not yet.")
    client = Client()
    client.force_login(manager.user)
    page = url(
        "signatories",
        partnership=partnership.slug,
        protocol_id=protocol.pk,
        version_id=version.pk,
    )
    client.get(page)  # warm up: sessions, content types
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page)
    assert response.status_code == 200
    assert page_text(response).count("Senior Information Risk Owner") >= count // 2
    return len(queries)


def test_the_signatories_page_runs_the_same_queries_for_2_and_40_partners(db):
    assert _signatories_page_queries(2) == _signatories_page_queries(40)


def test_the_protocol_list_runs_the_same_queries_for_1_and_5_protocols(
    client, alpha, protocol, manager, steering, partners
):
    send(approved(latest(protocol), manager, steering), partners, manager)
    client.force_login(manager)
    client.get(url("list"))
    with CaptureQueriesContext(connection) as one:
        client.get(url("list"))
    for n in range(4):
        make_protocol(alpha, title=f"Protocol {n}", lead=partners[0], by=manager)
    with CaptureQueriesContext(connection) as five:
        response = client.get(url("list"))
    assert len(one) == len(five)
    assert "0 of 4 partners (version 1.0)" in page_text(response)


# --- New versions after signing ------------------------------------------------------------


def test_a_new_major_version_is_signed_again_and_supersedes_the_old_one(
    alpha, protocol, manager, steering, partners
):
    first = signed_version(protocol, partners, manager, steering)
    in_force_since = fresh(protocol).date_in_force
    with scope(partnership=alpha):
        second = services.new_version(
            protocol, major=True, change_summary="New breach rules", by=manager
        )
    approved(second, manager, steering)
    send(second, partners, manager)
    sign_all(second, partners[:2])

    assert fresh(first).status == VersionStatus.SIGNED, "in force until 2.0 is signed"
    assert fresh(second).status == VersionStatus.FOR_SIGNATURE

    sign_all(second, partners[2:])

    assert fresh(second).status == VersionStatus.SIGNED
    assert fresh(first).status == VersionStatus.SUPERSEDED
    assert fresh(protocol).date_in_force == in_force_since
    assert signing.is_superseded(fresh(first).document)
    assert not signing.is_superseded(fresh(second).document)
    assert audit(alpha, "protocol.version_superseded")


def test_a_new_minor_version_is_issued_and_partners_are_told(
    client, alpha, protocol, manager, steering, partners, django_capture_on_commit_callbacks
):
    first = signed_version(protocol, partners, manager, steering)
    with scope(partnership=alpha):
        minor = services.new_version(
            protocol, major=False, change_summary="Corrected contact details", by=manager
        )
    approved(minor, manager, steering)
    mail.outbox.clear()
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(version_url("issue", minor), follow=True)

    assert "Version 1.1 has been issued" in messages_of(response)[-1]
    minor = fresh(minor)
    assert minor.status == VersionStatus.SIGNED
    assert minor.issued_at is not None
    assert minor.carries_signatures_of_id == first.pk
    assert fresh(first).status == VersionStatus.SUPERSEDED
    with scope(partnership=alpha):
        assert not SignatureRequest.objects.filter(document_id=minor.document_id).exists()
        emails = {p.signatories.first().email for p in partners}
    told = [m for m in mail.outbox if "version 1.1 issued" in m.subject]
    assert {m.to[0] for m in told} == emails
    assert "Corrected contact details" in told[0].body
    table = page_text(client.get(version_url("signatories", minor)))
    assert "These are the signatures given to version 1.0" in table
    for partner in partners:
        assert signatory_name(partner) in table
    assert "4 of 4 partners asked have signed" in table


def test_a_minor_version_waits_for_its_major_version_to_be_signed(
    client, alpha, protocol, ready, manager, steering, partners
):
    send(ready, partners, manager)
    with scope(partnership=alpha):
        minor = services.new_version(protocol, major=False, change_summary="Typos", by=manager)
    approved(minor, manager, steering)
    client.force_login(manager)

    response = client.post(version_url("issue", minor), follow=True)

    assert "No version 1.x has been signed by every partner yet" in messages_of(response)[-1]
    assert fresh(minor).status == VersionStatus.APPROVED


def test_a_major_version_cannot_be_issued_without_signatures(alpha, ready, manager):
    with scope(partnership=alpha), pytest.raises(Exception, match="send it for signature"):
        services.issue_minor_version(ready, by=manager)


def test_the_notice_period_comes_from_the_protocol_in_force(
    alpha, protocol, manager, steering, partners
):
    with scope(partnership=alpha):
        services.update_settings(protocol, notice_weeks=8, by=manager)
        assert notice_period(alpha) == timedelta(weeks=4)
    signed_version(protocol, partners, manager, steering)
    with scope(partnership=alpha):
        assert notice_period(alpha) == timedelta(weeks=8)


# --- The PDF -----------------------------------------------------------------------------


def pdf_text(response, tmp_path) -> str:
    path = tmp_path / "download.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return result.stdout


def test_the_signed_pdf_holds_the_text_the_signatories_and_the_hash(
    client, alpha, protocol, manager, steering, partners, tmp_path
):
    version = signed_version(protocol, partners, manager, steering)
    client.force_login(make_member(alpha, Role.VIEWER, organisation=partners[1].organisation).user)

    response = client.get(version_url("pdf", version))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="alpha-information-sharing-protocol-v1.0.pdf"'
    )
    text = pdf_text(response, tmp_path)
    flat = re.sub(r"\s+", "", text)
    assert "Alpha information sharing protocol" in text
    assert "1.0" in text
    with scope(partnership=alpha):
        headings = list(version.sections.values_list("title", flat=True))
        document = fresh(version).document
    for heading in headings:
        assert re.sub(r"\s+", "", heading) in flat, heading
    for partner in partners:
        assert re.sub(r"\s+", "", signatory_name(partner)) in flat
        assert re.sub(r"\s+", "", partner.organisation.name) in flat
    assert document.sha256 in flat


def test_the_pdf_is_served_from_storage_the_second_time(client, alpha, ready, manager, partners):
    version = send(ready, partners, manager)
    client.force_login(manager)

    first = client.get(version_url("pdf", version))
    b"".join(first.streaming_content)
    second = client.get(version_url("pdf", version))
    b"".join(second.streaming_content)

    with scope(partnership=alpha):
        assert RenderedPdf.objects.filter(document_id=version.document_id).count() == 1


def test_the_render_task_stores_the_pdf_the_download_then_serves(
    client, alpha, ready, manager, partners
):
    version = send(ready, partners, manager)
    answer(version, partners[0])

    sha = render_pdf.delay(alpha.pk, "protocol", version.pk).get()[0]

    client.force_login(manager)
    response = client.get(version_url("pdf", version))
    b"".join(response.streaming_content)
    with scope(partnership=alpha):
        stored = RenderedPdf.objects.filter(document_id=version.document_id)
        assert [p.sha256 for p in stored] == [sha]


def test_a_version_that_was_never_frozen_has_no_pdf(client, protocol, manager):
    client.force_login(manager)

    response = client.get(version_url("pdf", latest(protocol)), follow=True)

    assert messages_of(response) == [
        "Version 1.0 has no PDF yet: a version gets one when it is sent for signature or issued."
    ]


# --- The public page -----------------------------------------------------------------------


def public(slug: str = "alpha") -> str:
    return f"/public/{slug}/"


def test_the_public_page_is_404_unless_the_partnership_publishes_it(
    client, alpha, protocol, manager, steering, partners
):
    signed_version(protocol, partners, manager, steering)

    assert client.get(public()).status_code == 404
    assert client.get(f"{public()}protocols/{protocol.pk}/pdf/").status_code == 404
    assert client.get(public("no-such-partnership")).status_code == 404


def test_the_public_page_lists_the_signing_organisations_without_names(
    client, alpha, protocol, manager, steering, partners
):
    signed_version(protocol, partners, manager, steering)
    alpha.description = "Councils, health and police in Alphashire."
    alpha.public_page_enabled = True
    alpha.save()

    response = client.get(public())

    assert response.status_code == 200
    text = page_text(response)
    assert "Councils, health and police in Alphashire." in text
    assert "Alpha information sharing protocol" in text
    assert "Version 1.0" in text
    assert timezone.localdate().strftime("%-d %B %Y") in text
    for partner in partners:
        assert partner.organisation.name in text
        assert signatory_name(partner) not in text
    assert text.count("Senior Information Risk Owner") == 4
    assert f'href="/public/alpha/protocols/{protocol.pk}/pdf/"' in response.content.decode()


def test_the_public_page_shows_names_when_the_partnership_allows(
    client, alpha, protocol, manager, steering, partners
):
    signed_version(protocol, partners, manager, steering)
    alpha.public_page_enabled = alpha.public_signatory_names = True
    alpha.save()

    text = page_text(client.get(public()))

    for partner in partners:
        assert signatory_name(partner) in text


def test_the_public_page_leaves_out_protocols_not_in_force(
    client, alpha, protocol, ready, manager, partners
):
    send(ready, partners, manager)
    alpha.public_page_enabled = True
    alpha.save()

    assert "No protocol is in force yet." in page_text(client.get(public()))
    assert client.get(f"{public()}protocols/{protocol.pk}/pdf/").status_code == 404


def test_anyone_downloads_the_signed_pdf_from_the_public_page(
    client,
    alpha,
    protocol,
    manager,
    steering,
    partners,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    signed_version(protocol, partners, manager, steering)
    alpha.public_page_enabled = True
    alpha.save()
    link = f"{public()}protocols/{protocol.pk}/pdf/"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.get(link).status_code == 202  # queued; the worker makes it

    response = client.get(link)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "Alpha information sharing protocol" in pdf_text(response, tmp_path)


def test_the_settings_form_offers_to_show_signatories_names(client, alpha, manager):
    client.force_login(manager)
    content = client.get(f"/p/{alpha.slug}/settings/").content.decode()
    assert "show signatories&#x27; names on the public page" in content.lower()


# --- Versions that stop collecting signatures ------------------------------------------------


def test_a_version_completes_when_the_last_partner_yet_to_sign_withdraws(
    alpha, protocol, manager, steering, partners, django_capture_on_commit_callbacks
):
    first = signed_version(protocol, partners, manager, steering)
    with scope(partnership=alpha):
        second = services.new_version(protocol, major=True, change_summary="Breaches", by=manager)
    approved(second, manager, steering)
    send(second, partners, manager)
    sign_all(second, partners[:-1])
    leaving = partners[-1]
    with scope(partnership=alpha):
        change_partner_status(leaving, PartnerStatus.WITHDRAWING, reason="Merged")
    assert fresh(second).status == VersionStatus.FOR_SIGNATURE, "a partner until notice ends"

    with (
        scope(partnership=alpha),
        django_capture_on_commit_callbacks() as queued,
        mock.patch.object(signables, "queue_on_commit") as render,
    ):
        change_partner_status(leaving, PartnerStatus.WITHDRAWN)

    second = fresh(second)
    assert second.status == VersionStatus.SIGNED
    assert second.signed_at is not None
    assert fresh(first).status == VersionStatus.SUPERSEDED
    # A new version in force keeps the cycle the protocol's first version started.
    assert fresh(protocol).next_review_on == services.add_months(timezone.localdate(), 6)
    (entry,) = [e for e in audit(alpha, "protocol.version_signed") if "2.0" in e.summary]
    assert entry.summary == f"Every partner asked has signed {second}"
    assert mock.call(render_pdf, alpha.pk, "protocol", second.pk) in render.call_args_list
    assert queued  # the withdrawal e-mails


def test_a_withdrawal_completes_nothing_while_others_have_not_signed(
    alpha, ready, manager, partners
):
    send(ready, partners, manager)
    sign_all(ready, partners[:2])
    with scope(partnership=alpha):
        change_partner_status(partners[3], PartnerStatus.WITHDRAWING, reason="Merged")
        change_partner_status(partners[3], PartnerStatus.WITHDRAWN)

    assert fresh(ready).status == VersionStatus.FOR_SIGNATURE


def test_sending_a_later_version_supersedes_one_out_for_signature_and_closes_its_links(
    alpha, protocol, ready, manager, steering, partners
):
    send(ready, partners, manager)
    answer(ready, partners[0])
    with scope(partnership=alpha):
        later = services.new_version(protocol, major=False, change_summary="Fixes", by=manager)
    approved(later, manager, steering)

    send(later, partners, manager)

    assert fresh(ready).status == VersionStatus.SUPERSEDED
    assert fresh(later).status == VersionStatus.FOR_SIGNATURE
    with scope(partnership=alpha):
        old = dict(
            SignatureRequest.objects.filter(document_id=fresh(ready).document_id).values_list(
                "partner_id", "status"
            )
        )
    assert old == {
        partners[0].pk: RequestStatus.SIGNED,
        **{p.pk: RequestStatus.VOID for p in partners[1:]},
    }
    assert signing.problem_with(request_of(fresh(ready), partners[1])) == signing.REPLACED
    assert len(audit(alpha, "signature.voided")) == 3
    (superseded,) = audit(alpha, "protocol.version_superseded")
    assert superseded.summary == f"{fresh(ready)} was superseded by version 1.1"


def test_retiring_closes_each_version_and_its_open_requests_with_an_audit_entry(
    alpha, protocol, ready, manager, steering, partners
):
    send(ready, partners, manager)
    answer(ready, partners[0])

    with scope(partnership=alpha):
        services.retire(protocol, reason="Replaced by a regional protocol.", by=steering)

    assert fresh(ready).status == VersionStatus.RETIRED
    (entry,) = audit(alpha, "protocol.version_retired")
    assert entry.changes["status"] == ["For signature", "Retired"]
    with scope(partnership=alpha):
        statuses = sorted(
            SignatureRequest.objects.filter(document_id=fresh(ready).document_id).values_list(
                "status", flat=True
            )
        )
    assert statuses == [RequestStatus.SIGNED] + [RequestStatus.VOID] * 3
    assert all("the protocol was retired" in e.summary for e in audit(alpha, "signature.voided"))


def test_an_answer_to_a_version_replaced_meanwhile_is_undone(
    alpha, ready, manager, partners, monkeypatch
):
    send(ready, partners, manager)
    request = request_of(fresh(ready), partners[0])
    # Replaced after the signing page checked the link, before the answer was saved.
    monkeypatch.setattr(signing, "is_superseded", lambda document: False)
    with scope(partnership=alpha):
        ProtocolVersion.objects.filter(pk=ready.pk).update(status=VersionStatus.SUPERSEDED)

    with pytest.raises(ValidationError, match="This version has been replaced") as caught:
        answer(ready, partners[0])

    assert caught.value.code == "unavailable"
    with scope(partnership=alpha):
        assert not Signature.objects.exists()
    assert request_of(fresh(ready), partners[0]).status == request.status == RequestStatus.SENT


# --- Counting and the version in force -----------------------------------------------------


def test_withdrawn_partners_count_in_no_signing_figure(alpha, ready, manager, partners):
    send(ready, partners, manager)
    answer(ready, partners[0])
    answer(ready, partners[1], decline="Not yet.")
    answer(ready, partners[2])
    with scope(partnership=alpha):
        for partner in partners[:2]:
            change_partner_status(partner, PartnerStatus.WITHDRAWING, reason="Merged")
            change_partner_status(partner, PartnerStatus.WITHDRAWN)
        counts = services.signing_counts([fresh(ready)])

    assert counts[ready.pk] == {"asked": 2, "signed": 1, "declined": 0}


def test_the_version_in_force_is_the_latest_signed_one(
    alpha, protocol, manager, steering, partners
):
    with scope(partnership=alpha):
        assert services.in_force_version(fresh(protocol)) is None
    first = signed_version(protocol, partners, manager, steering)
    with scope(partnership=alpha):
        second = services.new_version(protocol, major=True, change_summary="More", by=manager)
    approved(second, manager, steering)
    send(second, partners, manager)

    with scope(partnership=alpha):
        assert services.in_force_version(fresh(protocol)) == first
        services.retire(protocol, reason="Gone", by=steering)
        assert services.in_force_version(fresh(protocol)) is None


# --- The public page and its PDF -----------------------------------------------------------


def publish(partnership, *, names: bool = False) -> None:
    partnership.public_page_enabled = True
    partnership.public_signatory_names = names
    partnership.save()


def test_the_public_page_runs_the_same_queries_for_1_and_4_protocols(
    client, alpha, protocol, manager, steering, partners
):
    signed_version(protocol, partners, manager, steering)
    publish(alpha)
    client.get(public())
    with CaptureQueriesContext(connection) as one:
        client.get(public())
    for n in range(3):
        other = make_protocol(alpha, title=f"Protocol {n}", lead=partners[0], by=manager)
        signed_version(other, partners, manager, steering)
    with CaptureQueriesContext(connection) as four:
        response = client.get(public())

    assert len(one) == len(four)
    assert page_text(response).count("(PDF)") == 4


def test_the_public_page_leaves_out_partners_that_have_withdrawn(
    client, alpha, protocol, manager, steering, partners
):
    signed_version(protocol, partners, manager, steering)
    publish(alpha)
    with scope(partnership=alpha):
        change_partner_status(partners[3], PartnerStatus.WITHDRAWING, reason="Merged")
        change_partner_status(partners[3], PartnerStatus.WITHDRAWN)

    text = page_text(client.get(public()))

    assert partners[2].organisation.name in text
    assert partners[3].organisation.name not in text


def stored_text(stored: RenderedPdf, tmp_path) -> str:
    path = tmp_path / f"{stored.sha256}.pdf"
    with stored.file.open("rb") as source:
        path.write_bytes(source.read())
    result = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return re.sub(r"\s+", "", result.stdout)


def test_the_public_pdf_has_no_ip_addresses_and_names_only_if_published(
    alpha, protocol, manager, steering, partners, tmp_path
):
    version = signed_version(protocol, partners, manager, steering)
    names = [re.sub(r"\s+", "", signatory_name(p)) for p in partners]
    publish(alpha, names=False)
    with scope(partnership=alpha):
        members = stored_text(version_pdf(version), tmp_path)
        hidden = stored_text(version_pdf(version, public=True), tmp_path)
    publish(alpha, names=True)
    with scope(partnership=alpha):
        shown = stored_text(version_pdf(fresh(version), public=True), tmp_path)

    assert "192.0.2.10" in members and all(n in members for n in names)
    assert "192.0.2.10" not in hidden and "IPaddress" not in hidden
    assert not any(n in hidden for n in names)
    assert all(re.sub(r"\s+", "", p.organisation.name) in hidden for p in partners)
    assert "SeniorInformationRiskOwner" in hidden
    assert "192.0.2.10" not in shown and all(n in shown for n in names)


def test_the_public_pdf_is_prepared_in_the_background_not_in_the_request(
    client,
    alpha,
    protocol,
    manager,
    steering,
    partners,
    tmp_path,
    django_capture_on_commit_callbacks,
):
    version = signed_version(protocol, partners, manager, steering)
    publish(alpha)
    link = f"{public()}protocols/{protocol.pk}/pdf/"

    with (
        django_capture_on_commit_callbacks() as queued,
        mock.patch("documents.pdf.render_pdf", side_effect=AssertionError("rendered")),
    ):
        waiting = client.get(link)
        again = client.get(link)

    assert waiting.status_code == again.status_code == 202
    assert waiting["Retry-After"] == "60"
    assert "The PDF is being prepared" in page_text(waiting)
    assert "try again in a minute" in page_text(waiting).lower()
    assert len(queued) == 1, "one render queued however many ask"
    with scope(partnership=alpha):
        assert not RenderedPdf.objects.filter(document_id=version.document_id).exists()

    queued[0]()  # the worker renders it

    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response, tmp_path)
    assert "Alpha information sharing protocol" in text
    assert "192.0.2.10" not in text
