"""One clock engine: every timed thing is a row due at a time computed from stored facts,
acted on once by the sweep, moved when its facts change."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from accord.kernel import clocks, sweeps
from accord.kernel.models import Clock, SweepRun
from agreements.models import Agreement
from signatories import clocks as signing_clocks
from signatories import signing
from signatories.models import Partner, PartnerStatus, SignatureRequest
from signatories.services import change_partner_status
from tenancy.models import AuditEntry
from tenancy.roles import Role

from .factories import (
    make_document,
    make_member,
    make_partner,
    make_signatory,
    make_signature_request,
)

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def open_clocks(kind: str, obj) -> list[Clock]:
    return list(Clock.objects.filter(kind=kind, subject=clocks.subject_of(obj), done_at=None))


# --- The engine, with a kind of its own ---------------------------------------------------

ACTED: list[int] = []
FAILING: set[int] = set()


def _due(partner: Partner):
    return timezone.now() - timedelta(minutes=1) if partner.status == "withdrawing" else None


@clocks.kind("tests.ping", model=Partner, due_for=_due)
def _ping(clock):
    if clocks.subject_pk(clock) in FAILING:
        raise RuntimeError("the act fails")
    ACTED.append(clocks.subject_pk(clock))
    return "pinged"


@pytest.fixture(autouse=True)
def _fresh():
    ACTED.clear()
    FAILING.clear()


def test_recompute_keeps_one_open_row_in_step_with_the_facts(alpha):
    partner = make_partner(alpha, status=PartnerStatus.WITHDRAWING)
    first = clocks.recompute("tests.ping", partner)
    again = clocks.recompute("tests.ping", partner)
    assert first.pk == again.pk
    assert len(open_clocks("tests.ping", partner)) == 1

    partner.status = PartnerStatus.ACTIVE
    assert clocks.recompute("tests.ping", partner) is None
    assert open_clocks("tests.ping", partner) == []
    closed = Clock.objects.get(pk=first.pk)
    assert closed.outcome == "no longer due" and closed.done_at is not None


def test_a_due_row_is_acted_on_once_and_its_outcome_recorded(alpha):
    partner = make_partner(alpha, status=PartnerStatus.WITHDRAWING)
    row = clocks.recompute("tests.ping", partner)

    assert clocks.run_due("tests.ping") == 1
    assert clocks.run_due("tests.ping") == 0
    assert [partner.pk] == ACTED
    row.refresh_from_db()
    assert row.done_at is not None and row.outcome == "pinged" and row.attempts == 1


def test_a_failing_act_changes_nothing_and_is_tried_again_by_the_next_sweep(alpha):
    partner = make_partner(alpha, status=PartnerStatus.WITHDRAWING)
    row = clocks.recompute("tests.ping", partner)
    FAILING.add(partner.pk)

    assert clocks.run_due("tests.ping") == 0
    row.refresh_from_db()
    assert row.done_at is None and row.claimed_at is None and row.attempts == 1

    FAILING.clear()
    assert clocks.run_due("tests.ping") == 1
    assert [partner.pk] == ACTED


def test_a_claim_is_honoured_until_its_lease_runs_out(alpha):
    partner = make_partner(alpha, status=PartnerStatus.WITHDRAWING)
    row = clocks.recompute("tests.ping", partner)
    Clock.objects.filter(pk=row.pk).update(claimed_at=timezone.now())  # another sweep has it
    assert clocks.run_due("tests.ping") == 0

    Clock.objects.filter(pk=row.pk).update(claimed_at=timezone.now() - clocks.LEASE * 2)
    assert clocks.run_due("tests.ping") == 1  # that sweep died: the claim lapsed


def test_what_is_due_is_selected_by_index(alpha):
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # a near-empty table: ask for the index
        plan = clocks.due_now("signing.reminder").values("pk")[:1000].explain()
        cursor.execute("SET enable_seqscan = on")
    assert "clock_due" in plan


def test_each_sweep_records_when_its_steps_finished(alpha):
    sweeps.run_all()
    names = set(SweepRun.objects.values_list("step", flat=True))
    assert {"outbox.deliver", "signing.reminders", "agreements.expire"} <= names
    assert all(run.error == "" for run in SweepRun.objects.all())


# --- Signing reminders and links ----------------------------------------------------------


@pytest.fixture
def request_to_luton(alpha):
    partner = make_partner(alpha)
    make_signatory(partner, email="sam@luton.example.org")
    admin = make_member(alpha, Role.ADMINISTRATOR).user
    with scope(partnership=alpha):
        (request,) = signing.request_signatures(make_document(alpha), [partner], by=admin)
    return request


def test_a_request_has_its_first_reminder_due_a_week_after_sending(request_to_luton):
    (reminder,) = open_clocks("signing.reminder", request_to_luton)
    assert reminder.due_at == request_to_luton.sent_at + timedelta(days=7)
    assert reminder.partnership_id == request_to_luton.partnership_id
    (expiry,) = open_clocks("signing.link_expiry", request_to_luton)
    assert expiry.due_at == request_to_luton.expires_at


def test_an_answer_stops_the_reminders_and_the_expiry(request_to_luton):
    signing.sign(
        request_to_luton,
        name="Sam Signer",
        position="Chief Executive",
        confirmed=True,
        ip_address=None,
        user_agent="",
    )
    assert open_clocks("signing.reminder", request_to_luton) == []
    assert open_clocks("signing.link_expiry", request_to_luton) == []


def test_after_a_reminder_the_next_is_due_a_cadence_later(
    alpha, request_to_luton, django_capture_on_commit_callbacks
):
    past = timezone.now() - timedelta(days=8)
    Clock.objects.filter(kind="signing.reminder").update(due_at=past)
    with scope(partnership=alpha):
        SignatureRequest.objects.filter(pk=request_to_luton.pk).update(sent_at=past)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert signing_clocks.send_due_reminders() == 1
    assert [m.to for m in mail.outbox] == [["sam@luton.example.org"]]
    with scope(partnership=alpha):
        request = SignatureRequest.objects.get(pk=request_to_luton.pk)
    (following,) = open_clocks("signing.reminder", request)
    assert following.due_at == request.last_reminded_at + timedelta(days=7)


def test_a_link_that_expires_unanswered_is_recorded_and_the_sender_told(
    alpha, request_to_luton, django_capture_on_commit_callbacks
):
    with scope(partnership=alpha):
        SignatureRequest.objects.filter(pk=request_to_luton.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    Clock.objects.filter(kind="signing.link_expiry").update(
        due_at=timezone.now() - timedelta(minutes=1)
    )
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert signing_clocks.expire_due_links() == 1
        assert signing_clocks.expire_due_links() == 0

    (told,) = mail.outbox
    assert told.to == [request_to_luton.requested_by.email]
    assert "has expired" in told.subject
    with scope(partnership=alpha):
        assert AuditEntry.objects.filter(action="signature.expired").count() == 1


def test_a_request_made_directly_still_gets_its_clocks(alpha):
    request, _token = make_signature_request(make_partner(alpha))
    assert len(open_clocks("signing.reminder", request)) == 1


# --- Withdrawals and agreements -----------------------------------------------------------


def test_notice_of_withdrawal_sets_its_clock_and_taking_it_back_clears_it(alpha):
    partner = make_partner(alpha)
    with scope(partnership=alpha):
        change_partner_status(partner, PartnerStatus.WITHDRAWING, reason="Merging")
        partner = Partner.objects.get(pk=partner.pk)
    (clock,) = open_clocks("partners.withdrawal", partner)
    assert clock.due_at == datetime.combine(partner.leaves_on, datetime.min.time(), LONDON)

    with scope(partnership=alpha):
        change_partner_status(partner, PartnerStatus.ACTIVE)
    assert open_clocks("partners.withdrawal", partner) == []


def test_an_agreement_expires_as_the_day_after_its_end_date_begins(alpha):
    from .factories import make_agreement

    agreement = make_agreement(alpha)
    with scope(partnership=alpha):
        agreement = Agreement.objects.get(pk=agreement.pk)
        agreement.status = "active"
        agreement.end_date = date(2027, 3, 31)
        agreement.save()
    (clock,) = open_clocks("agreements.expiry", agreement)
    # 1 April 2027 at midnight in London is 23:00 UTC on 31 March (British Summer Time).
    assert clock.due_at == datetime(2027, 3, 31, 23, 0, tzinfo=ZoneInfo("UTC"))


def test_a_deployment_from_before_the_engine_gets_rows_for_what_was_already_due(alpha):
    request, _token = make_signature_request(make_partner(alpha))
    Clock.objects.all().delete()  # as before the engine existed

    clocks.reconcile_new_kinds()

    assert len(open_clocks("signing.reminder", request)) == 1
    assert len(open_clocks("signing.link_expiry", request)) == 1


def test_a_row_due_before_the_next_sweep_is_also_queued_for_its_exact_time(
    alpha, django_capture_on_commit_callbacks
):
    from unittest import mock

    partner = make_partner(alpha, status=PartnerStatus.ACTIVE)
    soon = timezone.now() + timedelta(seconds=20)
    later = timezone.now() + timedelta(hours=2)
    for due, expected in ((soon, 1), (later, 0)):
        with (
            mock.patch.object(clocks.run_clocks, "apply_async") as queued,
            mock.patch.object(_kinds_due, "value", due),
            django_capture_on_commit_callbacks(execute=True),
        ):
            Clock.objects.filter(kind="tests.at").delete()
            clocks.recompute("tests.at", partner)
        assert queued.call_count == expected
        if expected:
            assert queued.call_args.kwargs == {"args": ("tests.at",), "eta": due}


class _kinds_due:  # noqa: N801 (a holder the test moves)
    value = None


clocks.kind("tests.at", model=Partner, due_for=lambda partner: _kinds_due.value)(
    lambda clock: "done"
)
