"""`manage.py seed_demo`: the demo partnerships, people, signatories and protocols."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accord.celery import app as celery_app
from agreements import demo as agreements_demo
from agreements.models import Agreement, AgreementStatus, DataItem
from agreements.services import blocking_messages
from breaches.models import BreachReport, ObligationState, Recipient
from documents.models import FrozenDocument, RenderedPdf
from protocols.models import Protocol, ProtocolVersion, Section, VersionStatus
from protocols.services import latest_version, signing_counts
from signatories.models import (
    AuthorisedSignatory,
    Organisation,
    Partner,
    PartnerStatus,
    ReminderLink,
    RequestStatus,
    Signature,
    SignatureRequest,
)
from tenancy.models import AuditEntry, Membership, Partnership

SLUGS = {"bedfordshire-isp", "leicestershire-isp", "weisf", "leeds-isp"}
COUNTED = (
    get_user_model(),
    Organisation,
    Partnership,
    Partner,
    Membership,
    AuthorisedSignatory,
    Protocol,
    ProtocolVersion,
    Section,
    FrozenDocument,
    SignatureRequest,
    Signature,
    ReminderLink,
    RenderedPdf,
    AuditEntry,
    Agreement,
    DataItem,
    BreachReport,
)


def counts() -> dict[str, int]:
    with scopes_disabled():
        return {model.__name__: model.objects.count() for model in COUNTED}


def protocol_of(slug: str) -> tuple[Partnership, Protocol]:
    partnership = Partnership.objects.get(slug=slug)
    with scope(partnership=partnership):
        return partnership, Protocol.objects.get()


@pytest.fixture
def seeded(db):
    call_command("seed_demo", quiet=True)
    return counts()


def test_a_second_run_changes_nothing(seeded):
    call_command("seed_demo", quiet=True)
    assert counts() == seeded
    assert seeded["Partnership"] == 4
    assert seeded["Protocol"] == 4
    assert seeded["RenderedPdf"] == 0  # rendered when first downloaded, not while seeding


def test_partnerships_and_their_partners(seeded):
    assert set(Partnership.objects.values_list("slug", flat=True)) == SLUGS
    for slug in SLUGS:
        with scope(partnership=Partnership.objects.get(slug=slug)):
            partners = Partner.objects.count()
            # Every partner has an authorised signatory on an example.org address (invented
            # ones on their organisation's own example.org domain).
            signatories = AuthorisedSignatory.objects.filter(is_active=True)
            assert signatories.values("partner").distinct().count() == partners
            assert all(
                e.endswith("example.org") for e in signatories.values_list("email", flat=True)
            )


def test_bedfordshire_is_signed_by_most_partners_with_two_being_chased(seeded):
    partnership, protocol = protocol_of("bedfordshire-isp")
    with scope(partnership=partnership):
        assert str(protocol.lead.organisation) == "Central Bedfordshire Council"
        version = latest_version(protocol)
        assert version.number == "1.0"
        assert version.status == VersionStatus.FOR_SIGNATURE
        assert version.document is not None
        active = Partner.objects.filter(status=PartnerStatus.ACTIVE).count()
        assert signing_counts([version])[version.pk] == {
            "asked": active,
            "signed": 10,
            "declined": 0,
        }
        signed = Signature.objects.filter(document=version.document)
        assert signed.count() == 10
        assert all(s.sha256 == version.document.sha256 for s in signed)
        pending = SignatureRequest.objects.filter(
            document=version.document, status__in=[RequestStatus.SENT, RequestStatus.OPENED]
        )
        assert {r.email: r.status for r in pending} == {
            "signatory.bedfordshire@example.org": RequestStatus.OPENED,
            "caldicott.bedfordshire@example.org": RequestStatus.SENT,
        }
        assert all(r.reminders_sent >= 1 for r in pending)
        actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {
        "protocol.created",
        "protocol.version_approved",
        "protocol.version_sent",
        "signature.signed",
        "signature.reminded",
    } <= actions


def test_the_other_protocols_are_at_their_own_stages(seeded):
    partnership, protocol = protocol_of("leicestershire-isp")
    with scope(partnership=partnership):
        assert str(protocol.lead.organisation) == "Leicestershire County Council"
        assert protocol.title == "Leicestershire Information Sharing Protocol"
        first, second = protocol.versions.order_by("major", "minor")
        assert (first.number, first.status) == ("1.0", VersionStatus.SIGNED)
        assert (second.number, second.status) == ("2.0", VersionStatus.FOR_SIGNATURE)
        assert second.approved_at is not None
        assert signing_counts([first])[first.pk]["signed"] == Partner.objects.count()
        assert 0 < signing_counts([second])[second.pk]["signed"] < Partner.objects.count()

    partnership, protocol = protocol_of("weisf")
    with scope(partnership=partnership):
        assert str(protocol.lead.organisation) == "Essex County Council"
        version = latest_version(protocol)
        assert (version.number, version.status) == ("1.0", VersionStatus.SIGNED)
        assert signing_counts([version])[version.pk] == {"asked": 2, "signed": 2, "declined": 0}
        assert protocol.date_in_force is not None

    partnership, protocol = protocol_of("leeds-isp")
    with scope(partnership=partnership):
        assert str(protocol.lead.organisation) == "Leeds City Council"
        version = latest_version(protocol)
        assert (version.number, version.status) == ("1.0", VersionStatus.DRAFT)
        assert version.sections.filter(title="Consent and sharing without consent").exists()


def test_the_demo_signatory_finds_the_request_in_their_tasks(seeded, client):
    user = get_user_model().objects.get(email="signatory.bedfordshire@example.org")
    client.force_login(user)
    page = client.get(reverse("signatories:tasks", kwargs={"partnership_slug": "bedfordshire-isp"}))
    assert page.status_code == 200
    assert "Bedfordshire Overarching Information Sharing Protocol" in page.content.decode()


def test_the_summary_gives_each_protocols_progress(seeded):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    assert text.startswith("Demo data already in place.")
    assert "Bedfordshire Information Sharing Group: protocol 1.0 out for signature, " in text
    assert "signed by 10 of 12" in text
    assert "Leeds Information Sharing Partnership: protocol 1.0, draft" in text
    assert "version 1.0 in force" in text
    assert "signatory.bedfordshire@example.org" in text  # the sign-in table


@pytest.mark.django_db(transaction=True)
def test_seeding_sends_no_email_and_renders_no_pdf():
    """With real commits the e-mails are sent, inline, to the dummy backend."""
    eager = celery_app.conf.task_always_eager
    call_command("seed_demo", quiet=True)
    assert mail.outbox == []
    assert celery_app.conf.task_always_eager == eager
    with scopes_disabled():
        assert RenderedPdf.objects.count() == 0
        assert Signature.objects.exists()


def test_the_demo_agreements_are_active_in_essex_and_a_draft_in_bedfordshire(seeded):
    assert seeded["Agreement"] == 2
    partnership = Partnership.objects.get(slug="weisf")
    with scope(partnership=partnership):
        essex = Agreement.objects.get(reference=agreements_demo.ESSEX_REFERENCE)
        assert essex.status == AgreementStatus.ACTIVE
        assert str(essex.lead.organisation) == "Essex County Council"
        assert Signature.objects.filter(document=essex.document).count() == 2
        assert essex.data_items.filter(special_category_type="health").exists()
        assert essex.statutes.filter(title="Care Act 2014").exists()
        assert (essex.article6, essex.article9, essex.schedule1_condition) == ("e", "h", "2")
    partnership = Partnership.objects.get(slug="bedfordshire-isp")
    with scope(partnership=partnership):
        draft = Agreement.objects.get(reference=agreements_demo.BEDFORDSHIRE_REFERENCE)
        assert draft.status == AgreementStatus.DRAFT
        assert blocking_messages(draft)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "Agreements: Essex forum 1 active; Bedfordshire 1 draft" in out.getvalue()


def test_the_essex_forum_has_breaches_with_clocks_running_one_overdue_and_one_closed(seeded):
    partnership = Partnership.objects.get(slug="weisf")
    now = timezone.now()
    with scope(partnership=partnership):
        breaches = {b.title: b for b in BreachReport.objects.all()}
        assert len(breaches) == 3
        running, overdue, closed = (
            breaches[t]
            for t in (
                "Visit schedule e-mailed to the wrong care provider",
                "Reablement referral list left on a shared drive open to all staff",
                "Laptop with unencrypted assessment notes stolen from a car",
            )
        )
        partner = running.obligations.get(recipient=Recipient.PARTNER)
        assert partner.state == ObligationState.DUE and partner.due_at > now
        assert str(partner.involved.partner.organisation) == "Essex County Council"
        assert overdue.obligations.get(recipient=Recipient.PARTNER).overdue(now)
        assert not closed.is_open and closed.ico_case_reference == "IC-204519-K3P8"
        assert closed.obligations.get(recipient=Recipient.ICO).state == ObligationState.ON_TIME
