"""Signatures given on more than one version, partners asked to sign later, and the signing
figures that the version page, the signatories page, the table and the PDF all show alike."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pypdf
import pytest
from django.core import mail
from django.utils import formats, timezone
from django_scopes import scope

from protocols import services
from protocols.models import ProtocolVersion, VersionStatus
from signatories import signing
from signatories.models import (
    PartnerStatus,
    RequestStatus,
    Signature,
    SignatureRequest,
)
from signatories.services import change_partner_status
from signatories.tables import signing_table
from tenancy.roles import Role

from .factories import make_member, make_protocol
from .pages import field_error, messages_of, page_html, page_text
from .test_protocols import approved, audit, fresh, latest, version_url
from .test_protocols_signing import partners_with_signatories, send, sign_all, signatory_name

pytestmark = pytest.mark.django_db

FIGURES = re.compile(r"(\d+) of (\d+) partners")


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _pdfs(settings, pdf_storage):
    settings.SEAL_KEY_PASSPHRASE = ""


@pytest.fixture
def partners(alpha):
    """Four active partners, each with an authorised signatory; the first leads."""
    return partners_with_signatories(alpha, 4)


@pytest.fixture
def manager(alpha, partners):
    return make_member(alpha, Role.ADMINISTRATOR, organisation=partners[0].organisation).user


@pytest.fixture
def steering(alpha, partners):
    return make_member(alpha, Role.STEERING_GROUP, organisation=partners[0].organisation).user


@pytest.fixture
def protocol(alpha, partners, manager):
    return make_protocol(
        alpha, title="Alpha information sharing protocol", lead=partners[0], by=manager
    )


@pytest.fixture
def signed(protocol, partners, manager, steering) -> ProtocolVersion:
    """Version 1.0, signed by the four partners: in force."""
    version = approved(latest(protocol), manager, steering)
    send(version, partners, manager)
    sign_all(version, partners)
    version = fresh(version)
    assert version.status == VersionStatus.SIGNED
    return version


@pytest.fixture
def newcomer(alpha):
    """A partner that joined after version 1.0 was signed."""
    (partner,) = partners_with_signatories(alpha, 1)
    return partner


# --- Helpers -----------------------------------------------------------------------------


def live_request(version: ProtocolVersion, partner) -> SignatureRequest:
    """The partner's unanswered request to sign the version (asked again: the newest)."""
    with scope(partnership=partner.partnership):
        return SignatureRequest.objects.get(
            document_id=version.document_id,
            partner=partner,
            status__in=[RequestStatus.SENT, RequestStatus.OPENED],
        )


def answer(version: ProtocolVersion, partner, *, decline: str = "") -> Signature:
    request = live_request(version, partner)
    with scope(partnership=partner.partnership):
        signatory = partner.signatories.first()
    common = {
        "name": signatory.name,
        "position": signatory.position,
        "ip_address": "192.0.2.10",
        "user_agent": "Test browser",
    }
    if decline:
        return signing.decline(request, reason=decline, **common)
    return signing.sign(request, confirmed=True, **common)


def ask(client, version: ProtocolVersion, partners, capture):
    with capture(execute=True):
        return client.post(
            version_url("ask", version), {"partners": [p.pk for p in partners]}, follow=True
        )


def requests_for(version: ProtocolVersion) -> list[tuple[int, str]]:
    with scope(partnership=version.partnership):
        return sorted(
            SignatureRequest.objects.filter(document_id=version.document_id).values_list(
                "partner_id", "status"
            )
        )


def pdf_text(client, version: ProtocolVersion) -> str:
    """The members' PDF of the version, read back as text with its spaces taken out (a
    table cell may wrap)."""
    response = client.get(version_url("pdf", version))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def uk_date(value) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y")


def answers_of(version: ProtocolVersion, partner) -> list[Signature]:
    with scope(partnership=partner.partnership):
        return list(
            Signature.objects.filter(partner=partner, document__in=_documents(version)).order_by(
                "at", "pk"
            )
        )


def _documents(version: ProtocolVersion) -> list[int]:
    with scope(partnership=version.partnership):
        return services.signing_documents(fresh(version))


def checkbox_values(response) -> set[int]:
    found = re.findall(r'name="partners" type="checkbox" value="(\d+)"', page_html(response))
    return {int(value) for value in found}


def table_rows(response) -> dict[str, list[str]]:
    """The signatories table: {organisation: the text of each of its row's cells}."""
    body = response.content.decode().split('<tbody class="govuk-table__body">')[1]
    body = body.split("</tbody>")[0]
    rows = {}
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
        cells = [
            " ".join(re.sub(r"<[^>]+>", " ", cell).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        ]
        rows[cells[0]] = cells
    return rows


# --- A partner joining later signs the version in force -----------------------------------


def test_a_partner_that_joins_later_is_asked_to_sign_the_version_in_force_and_nobody_else(
    client, alpha, signed, partners, newcomer, manager, django_capture_on_commit_callbacks
):
    client.force_login(manager)
    page = client.get(version_url("signatories", signed))
    assert "Ask partners to sign this version" in page_text(page)
    assert checkbox_values(page) == {newcomer.pk}, "only the partner that has not signed"
    before = requests_for(signed)
    mail.outbox.clear()

    response = ask(client, signed, [newcomer], django_capture_on_commit_callbacks)

    assert messages_of(response)[-1] == (
        f"{newcomer.organisation} has been asked to sign version 1.0."
    )
    with scope(partnership=alpha):
        email = newcomer.signatories.first().email
    assert [m.to for m in mail.outbox] == [[email]], "no e-mail to the partners who signed"
    assert requests_for(signed) == sorted([*before, (newcomer.pk, RequestStatus.SENT)])
    (entry,) = audit(alpha, "protocol.version_asked")
    assert entry.summary == f"Asked {newcomer.organisation} to sign {fresh(signed)}"

    answer(signed, newcomer)

    version = fresh(signed)
    assert version.status == VersionStatus.SIGNED
    assert version.signed_at == signed.signed_at, "still the version in force, not signed anew"
    page = client.get(version_url("signatories", signed))
    text = page_text(page)
    assert "5 of 5 partners asked have signed." in text
    assert text.count("Signed version 1.0 on") == 5
    assert f"{newcomer.organisation} {signatory_name(newcomer)}" in text
    assert checkbox_values(page) == set()
    assert "Every active partner has signed version 1.0" in text
    pdf = pdf_text(client, signed)
    assert flat(f"{newcomer.organisation}{signatory_name(newcomer)}") in pdf
    assert pdf.count(flat("Signed version 1.0")) == 5
    assert flat("5 of 5 partners asked have signed.") in pdf


def test_only_the_lead_organisation_asks_and_a_form_with_no_choice_changes_nothing(
    client, alpha, signed, partners, newcomer, manager, django_capture_on_commit_callbacks
):
    other = make_member(alpha, Role.IG_OFFICER, organisation=partners[1].organisation).user
    client.force_login(other)
    assert "Ask partners to sign" not in page_text(client.get(version_url("signatories", signed)))
    assert client.post(version_url("ask", signed), {"partners": [newcomer.pk]}).status_code == 403
    before = requests_for(signed)

    client.force_login(manager)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        empty = client.post(version_url("ask", signed), {})
        already = client.post(version_url("ask", signed), {"partners": [partners[1].pk]})

    assert empty.status_code == 200
    assert page_text(empty).startswith("Error: Signatories of")
    assert "There is a problem" in page_text(empty)
    assert field_error(empty, "partners") == "Error: Choose at least one partner to ask to sign."
    assert field_error(already, "partners") == (
        "Error: Choose only partners who have not signed this version."
    )
    assert requests_for(signed) == before
    assert mail.outbox == []
    assert not audit(alpha, "protocol.version_asked")


# --- A partner that declined is asked again ------------------------------------------------


def test_a_partner_that_declined_is_asked_again_and_both_answers_are_shown(
    client, alpha, protocol, partners, manager, steering, django_capture_on_commit_callbacks
):
    version = send(approved(latest(protocol), manager, steering), partners, manager)
    sign_all(version, partners[:3])
    declining = partners[3]
    answer(version, declining, decline="Our board meets next month.")
    client.force_login(manager)
    page = client.get(version_url("signatories", version))
    assert checkbox_values(page) == {declining.pk}
    assert "Declined version 1.0: ask again" in page_text(page)

    response = ask(client, version, [declining], django_capture_on_commit_callbacks)
    assert "has been asked to sign version 1.0" in messages_of(response)[-1]
    assert fresh(version).status == VersionStatus.FOR_SIGNATURE
    assert 'govuk-tag--blue">Sent</strong>' in page_html(
        client.get(version_url("signatories", version))
    )

    answer(version, declining)

    version = fresh(version)
    assert version.status == VersionStatus.SIGNED
    declined, signed_ = answers_of(version, declining)
    assert (declined.outcome, signed_.outcome) == ("declined", "signed")
    page = client.get(version_url("signatories", version))
    text = page_text(page)
    *_, status, _reminders = table_rows(page)[str(declining.organisation)]
    assert status.startswith("Signed Declined version 1.0 on")
    assert status.index("Declined version 1.0 on") < status.index("Signed version 1.0 on")
    assert "Reason: Our board meets next month." in status
    assert "4 of 4 partners asked have signed." in text
    assert "declined" not in text.split("partners asked have signed")[1].split(".")[0]
    assert 'govuk-tag--red">Declined</strong>' not in page_html(page)
    with scope(partnership=alpha):
        assert services.signing_counts([version])[version.pk] == {
            "asked": 4,
            "signed": 4,
            "declined": 0,
        }
    pdf = pdf_text(client, version)
    assert pdf.index(flat("Declined version 1.0")) < pdf.rindex(flat("Signed version 1.0"))


# --- A minor version carrying the signatures of the version it amends -----------------------


def test_an_issued_minor_version_lists_the_signatures_given_on_each_version(
    client,
    alpha,
    protocol,
    signed,
    partners,
    newcomer,
    manager,
    steering,
    django_capture_on_commit_callbacks,
):
    with scope(partnership=alpha):
        major = services.new_version(protocol, major=True, change_summary="Breaches", by=manager)
    approved(major, manager, steering)
    send(major, partners, manager)
    sign_all(major, partners)
    with scope(partnership=alpha):
        minor = services.new_version(protocol, major=False, change_summary="Typos", by=manager)
    approved(minor, manager, steering)
    with scope(partnership=alpha):
        services.issue_minor_version(fresh(minor), by=manager)
    minor = fresh(minor)
    assert (minor.number, minor.carries_signatures_of.number) == ("2.1", "2.0")
    client.force_login(manager)

    ask(client, minor, [newcomer], django_capture_on_commit_callbacks)
    answer(minor, newcomer)

    page = client.get(version_url("signatories", minor))
    text = page_text(page)
    assert "These are the signatures given to version 2.0, and those given to version 2.1" in text
    assert text.count("Signed version 2.0 on") == 4
    assert text.count("Signed version 2.1 on") == 1
    rows = table_rows(page)
    _, name, _position, _date, status, _reminders = rows[str(newcomer.organisation)]
    assert name == signatory_name(newcomer)
    assert status.startswith("Signed Signed version 2.1 on")
    for partner in partners:
        assert "Signed version 2.0 on" in rows[str(partner.organisation)][4]
    assert "5 of 5 partners asked have signed." in text
    assert "5 of 5 partners signed" in page_text(client.get(version_url("version", minor)))
    pdf = pdf_text(client, minor)
    assert pdf.count(flat("Signed version 2.0")) == 4
    assert pdf.count(flat("Signed version 2.1")) == 1
    assert flat(f"{signatory_name(newcomer)}Senior Information Risk Owner") in pdf
    assert "version2.1" in pdf.split(flat(str(newcomer.organisation)))[1][:200]


# --- One count everywhere -------------------------------------------------------------------


def test_after_a_signed_partner_withdraws_every_page_and_the_pdf_show_the_same_figures(
    client, alpha, protocol, partners, manager, steering
):
    partners = [*partners, *partners_with_signatories(alpha, 1)]
    version = send(approved(latest(protocol), manager, steering), partners, manager)
    sign_all(version, partners[:4])
    leaving = partners[1]
    with scope(partnership=alpha):
        change_partner_status(leaving, PartnerStatus.WITHDRAWING, reason="Merged")
        change_partner_status(leaving, PartnerStatus.WITHDRAWN)
    client.force_login(manager)

    version_page = page_text(client.get(version_url("version", version)))
    signatories = client.get(version_url("signatories", version))
    pdf = pdf_text(client, version)

    assert "3 of 4 partners signed" in version_page
    assert "3 of 4 partners asked have signed." in page_text(signatories)
    assert flat("3 of 4 partners asked have signed.") in pdf
    assert FIGURES.findall(version_page) == FIGURES.findall(page_text(signatories)) == [("3", "4")]
    html = page_html(signatories)
    assert html.count(">Withdrawn</strong>") == 1
    assert html.count('govuk-tag--green">Signed</strong>') == 3
    rows = table_rows(signatories)
    assert rows[str(leaving.organisation)][4].startswith("Withdrawn Signed version 1.0 on")
    assert [rows[str(p.organisation)][4].split(" ")[0] for p in partners] == [
        "Signed",
        "Withdrawn",
        "Signed",
        "Signed",
        "Sent",
    ]
    after = pdf.split(flat(str(leaving.organisation)))[1]
    assert after.startswith(
        flat(f"{signatory_name(leaving)}Senior Information Risk OwnerWithdrawn")
    )
    with scope(partnership=alpha):
        assert services.signing_counts([version])[version.pk] == {
            "asked": 4,
            "signed": 3,
            "declined": 0,
        }


# --- Dates come from the signature ----------------------------------------------------------


def test_the_date_signed_is_the_signatures_own_never_the_requests(
    client, alpha, signed, partners, manager
):
    with scope(partnership=alpha):
        signatures = {s.partner_id: s for s in Signature.objects.filter(document=signed.document)}
        # The request's own record of its answer is not the signature: move it well away.
        SignatureRequest.objects.filter(document=signed.document).update(
            responded_at=timezone.now() - timedelta(days=40)
        )
        rows = signing_table(fresh(signed).document, partners)
    assert [row.answered_at for row in rows] == [signatures[p.pk].at for p in partners]
    client.force_login(manager)

    page = client.get(version_url("signatories", signed))
    text, rows_shown = page_text(page), table_rows(page)
    pdf = pdf_text(client, signed)

    wrong = uk_date(timezone.now() - timedelta(days=40))
    for partner in partners:
        day = uk_date(signatures[partner.pk].at)
        _, _name, _position, date, status, _reminders = rows_shown[str(partner.organisation)]
        assert date == day
        assert status == f"Signed Signed version 1.0 on {day}"
        assert flat(f"{day} version 1.0") in pdf  # the date, the version below it
    assert wrong not in text
    assert flat(wrong) not in pdf
