"""An agreement's life: the seed-002 agreement drafted until nothing blocks it, review,
signing by every party, the signed PDF, expiry, termination and new versions."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_scopes import scope

from accord.kernel import sweeps
from agreements import services
from agreements.facts import SECTION_KEYS, SECTIONS
from agreements.models import Agreement, AgreementStatus, DataItem
from documents.models import FrozenDocument
from documents.services import canonical_html, sha256_of
from protocols.models import Legislation
from signatories import signing
from signatories.models import PartnerStatus, RequestStatus, SignatureRequest
from signatories.signing import SUPERSEDED, is_superseded
from tenancy.roles import Role

from . import test_agreements as base
from .factories import facts_changed, make_member
from .pages import field_error, messages_of, page_text
from .test_agreements import agreement_url, audit, fresh, post_section, section_url

pytestmark = pytest.mark.django_db

# Fixtures shared with test_agreements: the seed-002 parties, the lead's IG officer and a draft.
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer


# --- Helpers ---------------------------------------------------------------------------------


def blocking_count(client, agreement) -> int:
    text = page_text(client.get(agreement_url("detail", agreement)))
    match = re.search(r"Before it can go for signature \((\d+)\)", text)
    if match:
        return int(match.group(1))
    assert "Nothing is missing" in text
    return 0


def party_of(agreement, partner):
    with scope(partnership=agreement.partnership):
        return agreement.parties.get(partner=partner)


def draft_seed_002(client, agreement, ecc, ecl) -> list[int]:
    """Fill the agreement in, section by section, as seed 002 reads: ECC and ECL joint
    controllers, Article 6(1)(e) with Article 9(2)(h) and Schedule 1 paragraph 2, the Care
    Act 2014. Returns the number of blocking messages before and after each step."""
    counts = [blocking_count(client, agreement)]
    today = timezone.localdate()

    def step(key, **changes):
        response = post_section(client, agreement, key, **changes)
        assert response.status_code == 302, (key, page_text(response)[:600])
        counts.append(blocking_count(client, agreement))

    step(
        "summary",
        title="Reablement service review",
        ongoing="no",
        start_date=today.strftime("%d/%m/%Y"),
        **{f"party_{ecc.pk}": "joint_controller", f"party_{ecl.pk}": "joint_controller"},
    )
    step("commencement", review_date=(today + timedelta(days=365)).strftime("%d/%m/%Y"))
    step(
        "supporting_documents",
        dpia_reference="DPIA-ASC-2023-07",
        large_scale="no",
        new_technology="no",
    )
    step(
        "purpose",
        body="A one-off review of adults who left the reablement service, to understand why "
        "fewer new care packages are offered.",
    )
    with scope(partnership=agreement.partnership):
        care_act = Legislation.objects.get(title="Care Act 2014")
    step(
        "legal_basis",
        article6=["e"],
        article9=["h"],
        schedule1_condition="2",
        statutes=[str(care_act.pk)],
        other_statute="Care Act 2014, section 2: preventing needs for care and support.",
    )
    response = client.post(
        agreement_url("item_add", agreement),
        {
            "item": "Visit notes and therapy assessments",
            "category": "special",
            "special_category_type": "health",
            "data_subjects": "Adults who left the reablement service",
            "from_party": party_of(agreement, ecl).pk,
            "to_party": party_of(agreement, ecc).pk,
            "purpose": "To follow each adult's journey through the service",
            "necessity": "The review cannot judge the service without them",
        },
    )
    assert response.status_code == 302
    step("information")
    step(
        "responsibilities",
        joint_contact_point="The Connect Programme, Adult Social Care (ECC)",
    )
    step("rights")
    step("transfers", international_transfers="no")
    step("retention", retention_period="Until the review ends, then anonymised or destroyed.")
    step("breaches")
    for key in SECTION_KEYS:
        if key not in {
            "summary",
            "commencement",
            "supporting_documents",
            "purpose",
            "legal_basis",
            "information",
            "responsibilities",
            "rights",
            "transfers",
            "retention",
            "breaches",
        }:
            step(key)
    return counts


def sign(agreement, partner, *, decline: str = ""):
    with scope(partnership=agreement.partnership):
        request = SignatureRequest.objects.get(
            document_id=fresh(agreement).document_id, partner=partner
        )
        signatory = partner.signatories.first()
    who = {"name": signatory.name, "position": signatory.position}
    common = {"ip_address": "192.0.2.10", "user_agent": "Test browser"}
    if decline:
        return signing.decline(request, reason=decline, **who, **common)
    return signing.sign(request, confirmed=True, **who, **common)


@pytest.fixture
def complete(client, agreement, ecc, ecl, officer):
    """The seed-002 agreement, drafted until nothing blocks it (still a draft)."""
    client.force_login(officer)
    draft_seed_002(client, agreement, ecc, ecl)
    return fresh(agreement)


@pytest.fixture
def sent(client, complete, officer):
    """The complete agreement, reviewed and sent for signature."""
    assert client.post(agreement_url("submit", complete)).status_code == 302
    response = client.post(agreement_url("send", complete))
    assert response.status_code == 302, page_text(response)[:500]
    return fresh(complete)


@pytest.fixture
def active(sent, ecc, ecl):
    sign(sent, ecc)
    sign(sent, ecl)
    return fresh(sent)


# --- The completeness check ------------------------------------------------------------------


def test_the_blocking_list_shrinks_to_nothing_as_the_seed_002_agreement_is_drafted(
    client, agreement, ecc, ecl, officer
):
    client.force_login(officer)

    counts = draft_seed_002(client, agreement, ecc, ecl)

    assert counts[0] > len(SECTION_KEYS)  # every section, and more, at the start
    assert all(later <= earlier for earlier, later in zip(counts, counts[1:], strict=False)), counts
    assert counts[-1] == 0
    with scope(partnership=agreement.partnership):
        assert services.blocking_messages(fresh(agreement)) == []
        assert services.can_send_for_signature(fresh(agreement))


def test_blocking_messages_link_to_their_section(client, agreement, officer):
    client.force_login(officer)
    page = client.get(agreement_url("detail", agreement))
    content = page.content.decode()
    assert f'href="{section_url(agreement, "legal_basis")}"' in content
    assert "Before it can go for signature" in page_text(page)


def test_sending_is_refused_while_anything_blocks_it(client, alpha, agreement, officer):
    client.force_login(officer)
    client.post(agreement_url("submit", agreement))
    assert fresh(agreement).status == AgreementStatus.IN_REVIEW

    overview = client.get(agreement_url("detail", agreement)).content.decode()
    assert re.search(r'<button type="button" class="govuk-button"[^>]*disabled', overview)
    response = client.post(agreement_url("send", agreement))

    assert response.status_code == 400
    assert "The agreement is not complete" in page_text(response)
    assert "Mark the section “Purpose” as completed" in page_text(response) or re.search(
        r"Mark .*Purpose.* as completed", page_text(response)
    )
    saved = fresh(agreement)
    assert (saved.status, saved.document_id) == (AgreementStatus.IN_REVIEW, None)
    with scope(partnership=alpha):
        assert not FrozenDocument.objects.exists()
        with pytest.raises(ValidationError):
            services.send_for_signature(saved, by=officer)
    assert mail.outbox == []


def test_only_an_agreement_in_review_is_sent(client, complete, officer):
    response = client.post(agreement_url("send", complete), follow=True)
    assert "only an agreement in review can be sent" in messages_of(response)[-1]
    assert fresh(complete).status == AgreementStatus.DRAFT


# --- Signing --------------------------------------------------------------------------------


def test_sending_freezes_the_agreement_and_asks_every_party(alpha, sent, ecc, ecl):
    assert sent.status == AgreementStatus.FOR_SIGNATURE
    with scope(partnership=alpha):
        document = sent.document
        asked = set(
            SignatureRequest.objects.filter(document=document).values_list("partner", flat=True)
        )
        rendered = services.render_agreement_html(sent)
    assert document.kind == "agreement"
    # The text as rendered, after the agreement's identity; the fingerprint covers both.
    assert document.html.endswith(canonical_html(rendered))
    assert f"<dt>Reference</dt><dd>{sent.reference}</dd>" in document.html
    assert document.sha256 == sha256_of(document.html)
    assert asked == {ecc.pk, ecl.pk}
    assert "Right to erasure</td><td>✗ No" in document.html  # the tick boxes are signed too
    assert "The joint controllers for this sharing are</td><td>☒</td>" in document.html
    assert "Z6034810" in document.html  # the summary sheet is signed with the text
    assert sent.summary_sheet_html == ""
    with scope(partnership=alpha):
        signatories = [ecc.signatories.first().email, ecl.signatories.first().email]
    assert len(audit(alpha, "signature.requested")) == 2
    assert {e.changes["email"][1] for e in audit(alpha, "signature.requested")} == set(signatories)


def test_when_every_party_signs_the_agreement_is_active(
    alpha, sent, ecc, ecl, django_capture_on_commit_callbacks, pdf_storage
):
    sign(sent, ecc)
    assert fresh(sent).status == AgreementStatus.FOR_SIGNATURE

    with django_capture_on_commit_callbacks(execute=True):
        sign(sent, ecl)

    saved = fresh(sent)
    assert saved.status == AgreementStatus.ACTIVE
    assert saved.signed_at is not None and saved.start_date == timezone.localdate()
    assert [e.action for e in audit(alpha, "agreement.active")] == ["agreement.active"]
    told = [m for m in mail.outbox if m.subject.startswith("Agreement in force")]
    assert {"dpo@example.gov.uk", "dataprotection@example.org"} <= {m.to[0] for m in told}
    with scope(partnership=alpha):  # the signed PDF was rendered in the background
        assert saved.document.pdfs.filter(final=True).exists()


def test_a_decline_keeps_it_out_for_signature_until_it_goes_back_to_draft(
    client, alpha, sent, ecc, ecl, officer
):
    sign(sent, ecl, decline="We need a retention period for the visit notes.")
    assert fresh(sent).status == AgreementStatus.FOR_SIGNATURE
    with scope(partnership=alpha):
        request = SignatureRequest.objects.get(document_id=sent.document_id, partner=ecc)
        document = sent.document

    client.post(agreement_url("return", sent), {"reason": "ECL declined"})

    saved = fresh(sent)
    assert (saved.status, saved.document_id) == (AgreementStatus.DRAFT, None)
    assert is_superseded(document)
    with scope(partnership=alpha):
        request.refresh_from_db()
    assert request.status == RequestStatus.VOID


def test_the_signed_pdf_holds_every_section_the_summary_sheet_and_the_rights_table(
    client, alpha, active, ecc, pdf_storage, tmp_path
):
    client.force_login(make_member(alpha, Role.VIEWER, organisation=ecc.organisation).user)

    response = client.get(agreement_url("pdf", active))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    path = tmp_path / "agreement.pdf"
    path.write_bytes(b"".join(response.streaming_content))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    flat = " ".join(text.split())
    for _, title in SECTIONS:
        assert title in flat, title
    assert "Parties and contacts" in flat
    assert "Z6034810" in flat and "Z1801658" in flat
    assert "Priya Shah" in flat and "Tom Reid" in flat
    assert re.search(r"Right to erasure\s+✗ No", text)
    assert re.search(r"Right of access\s+✓ Yes", text)
    assert "Care Act 2014" in flat
    assert "DRAFT" not in text  # every party signed: the final copy
    assert "Ann Lee" in flat and "Bo Khan" in flat  # the signatories


def test_the_pdf_waits_for_sending(client, agreement, officer):
    client.force_login(officer)
    response = client.get(agreement_url("pdf", agreement), follow=True)
    assert "no PDF yet" in messages_of(response)[-1]


def test_the_signatories_page_shows_who_has_signed(client, alpha, sent, ecc, officer):
    sign(sent, ecc)
    client.force_login(officer)
    text = page_text(client.get(agreement_url("signatories", sent)))
    assert "1 of 2 parties have signed" in text
    assert "Ann Lee" in text


# --- Expiry and termination -------------------------------------------------------------------


def test_an_active_agreement_expires_after_its_end_date_once(
    alpha, active, django_capture_on_commit_callbacks
):
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=active.pk).update(
            end_date=timezone.localdate() - timedelta(days=1)
        )
    facts_changed(Agreement, active.pk)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert services.expire_due() == 1
        assert services.expire_due() == 0
        assert sweeps.run_all()["agreements.expire"] == 0

    assert fresh(active).status == AgreementStatus.EXPIRED
    assert len(audit(alpha, "agreement.expired")) == 1
    told = [m for m in mail.outbox if m.subject.startswith("Agreement expired")]
    assert {"dpo@example.gov.uk", "dataprotection@example.org"} <= {m.to[0] for m in told}
    assert len(told) == len({m.to[0] for m in told})


def test_an_agreement_ending_today_is_still_active(alpha, active):
    with scope(partnership=alpha):
        Agreement.objects.filter(pk=active.pk).update(end_date=timezone.localdate())
    assert services.expire_due() == 0
    assert fresh(active).status == AgreementStatus.ACTIVE


def test_terminating_needs_a_reason_and_tells_the_parties(
    client, alpha, active, officer, django_capture_on_commit_callbacks
):
    client.force_login(officer)
    response = client.post(agreement_url("terminate", active), {"reason": ""})
    assert (
        field_error(response, "reason") == "Error: Enter the reason for terminating the agreement."
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(agreement_url("terminate", active), {"reason": "The review ended."})

    assert response.status_code == 302
    saved = fresh(active)
    assert (saved.status, saved.termination_reason) == (
        AgreementStatus.TERMINATED,
        "The review ended.",
    )
    told = [m for m in mail.outbox if m.subject.startswith("Agreement terminated")]
    assert told and all("The review ended." in m.body for m in told)
    assert "Terminated on" in page_text(client.get(agreement_url("detail", active)))


def test_a_draft_cannot_be_terminated(client, agreement, officer):
    client.force_login(officer)
    response = client.get(agreement_url("terminate", agreement), follow=True)
    assert "only an active agreement" in messages_of(response)[-1]


# --- New versions -------------------------------------------------------------------------------


def test_a_new_version_is_signed_again_and_then_supersedes_the_old(
    client, alpha, active, ecc, ecl, officer
):
    response = client.post(
        agreement_url("new_version", active), {"change_summary": "Adds the GP practice."}
    )

    with scope(partnership=alpha):
        copy = Agreement.objects.get(previous=active)
        old_items = list(active.data_items.values_list("item", "from_party__partner"))
        new_items = list(copy.data_items.values_list("item", "from_party__partner"))
        assert new_items == old_items
        assert list(copy.parties.values_list("partner", "role")) == list(
            active.parties.values_list("partner", "role")
        )
        assert list(copy.statutes.all()) == list(active.statutes.all())
        assert copy.sections.count() == len(SECTION_KEYS)
        assert not DataItem.objects.filter(agreement=copy, from_party__agreement=active).exists()
    assert response["Location"] == agreement_url("detail", copy)
    assert (copy.version, copy.status, copy.reference) == (2, "draft", active.reference)
    assert (copy.article6, copy.article9, copy.schedule1_condition) == ("e", "h", "2")
    assert fresh(active).status == AgreementStatus.ACTIVE
    # Only one new version at a time.
    again = client.get(agreement_url("new_version", active), follow=True)
    assert "already on its way" in messages_of(again)[-1]

    post_section(client, copy, "purpose", body="The review now includes GP practices.")
    client.post(agreement_url("submit", copy))
    assert client.post(agreement_url("send", copy)).status_code == 302
    sign(copy, ecc)
    assert fresh(active).status == AgreementStatus.ACTIVE  # until every party has signed
    sign(copy, ecl)

    assert fresh(copy).status == AgreementStatus.ACTIVE
    old = fresh(active)
    assert old.status == AgreementStatus.SUPERSEDED
    with scope(partnership=alpha):
        assert services.is_superseded(old.document)
        assert not services.is_superseded(fresh(copy).document)
    assert is_superseded(old.document)
    assert len(audit(alpha, "agreement.superseded")) == 1


def test_a_new_version_needs_a_change_summary(client, active, officer):
    response = client.post(agreement_url("new_version", active), {"change_summary": ""})
    assert field_error(response, "change_summary") == "Error: Say what the new version changes."


def test_terminating_closes_the_signing_links(alpha, sent, ecc, officer):
    with scope(partnership=alpha):
        request = SignatureRequest.objects.get(document_id=sent.document_id, partner=ecc)
        services.terminate(sent, reason="Stopped", by=officer)
        request.refresh_from_db()
    assert request.status == RequestStatus.VOID
    assert fresh(sent).status == AgreementStatus.TERMINATED


def test_a_party_cannot_sign_a_document_nobody_signs_any_more(alpha, sent, ecc):
    with scope(partnership=alpha):  # ended meanwhile, its links not yet closed
        Agreement.objects.filter(pk=sent.pk).update(status=AgreementStatus.TERMINATED)
        request = SignatureRequest.objects.get(document_id=sent.document_id, partner=ecc)
    assert signing.problem_with(request) == SUPERSEDED
    with pytest.raises(ValidationError, match="replaced by a newer one"):
        sign(sent, ecc)
    with scope(partnership=alpha):
        assert not sent.document.signatures.exists()


def test_a_party_that_withdraws_sends_an_agreement_out_for_signature_back_to_draft(
    alpha, sent, ecl
):
    from signatories.services import change_partner_status

    with scope(partnership=alpha):
        change_partner_status(ecl, PartnerStatus.WITHDRAWING, reason="Closing")
        change_partner_status(ecl, PartnerStatus.WITHDRAWN)
    saved = fresh(sent)
    assert saved.status == AgreementStatus.DRAFT
    assert "Essex Cares Ltd has withdrawn" in saved.return_reason
