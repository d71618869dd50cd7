"""The embedded default (SQLite) under concurrent writers: people who sign or save at the same
moment wait their turn instead of failing, and whoever comes second gets the same clear answer
as on PostgreSQL (already answered, someone else saved the section), never an error page.

Each test drives the real pages from several threads at once, each thread with its own browser
(django.test.Client) and its own database connection to the same SQLite file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from agreements.models import Agreement
from reviews.models import Review
from signatories.models import RequestStatus, Signature, SignatureRequest
from tenancy.roles import Role

from . import test_agreements as base
from .factories import OrganisationFactory, make_document, make_member, make_partner
from .factories import make_signature_request as _make_signature_request
from .pages import page_text
from .review_factories import protocol_in_force
from .test_agreements import form_values, section_of, section_url

pytestmark = [
    pytest.mark.sqlite,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "sqlite", reason="needs SQLite, the embedded default database"
    ),
]

# Races are a matter of chance: each test runs several rounds.
ROUNDS = 5

# Fixtures shared with test_agreements: the seed-002 parties, the lead's IG officer and a draft.
agreement, ecc, ecl, officer = base.agreement, base.ecc, base.ecl, base.officer


def all_at_once(jobs: list[Callable[[Callable[[], None]], object]]) -> list[object]:
    """Run each job in its own thread. A job gets `together`, which returns once every job
    has called it, so the jobs' steps after it start at the same moment. Returns each job's
    result, or the exception it raised (a 500 raises in django.test.Client)."""
    barrier = threading.Barrier(len(jobs))

    def together() -> None:
        barrier.wait(timeout=60)

    def run(job) -> object:
        try:
            return job(together)
        except Exception as exc:  # collected and checked by the test
            barrier.abort()
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def statuses(results: list[object]) -> list[object]:
    """Each response's status code, or the exception raised instead, sorted by status."""
    return sorted(
        (getattr(r, "status_code", None) or repr(r) for r in results),
        key=lambda s: (isinstance(s, str), str(s)),
    )


# --- The database itself ---------------------------------------------------------------------


def test_threads_share_one_sqlite_file_in_wal_mode_with_a_busy_timeout(alpha):
    """Threads share the test database only when it is a file; in WAL mode a reader does not
    block a writer; with a busy timeout a writer waits for the lock instead of failing, and
    immediate transactions take it when they start, before reading anything."""
    assert not connection.is_in_memory_db()
    assert connection.transaction_mode == "IMMEDIATE"
    partner = make_partner(alpha)

    def look(together) -> tuple[str, str, int, bool]:
        together()
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA database_list")
            path = cursor.fetchone()[2]
            cursor.execute("PRAGMA journal_mode")
            mode = cursor.fetchone()[0]
            cursor.execute("PRAGMA busy_timeout")
            timeout = cursor.fetchone()[0]
        with scope(partnership=alpha):
            seen = type(partner).objects.filter(pk=partner.pk).exists()
        return path, mode, timeout, seen

    expected = (str(connection.settings_dict["NAME"]), "wal", 20_000, True)
    assert all_at_once([look, look]) == [expected, expected]


# --- Signing by e-mailed link -----------------------------------------------------------------


def sign_url(token: str) -> str:
    return reverse("signing:sign", kwargs={"token": token})


SIGNING_FORM = {
    "name": "Jane Smith",
    "position": "Chief Executive",
    "confirmed": "on",
    "action": "sign",
}


def open_and_sign(token: str) -> Callable:
    """A person who opens the e-mailed link and presses Sign, in their own browser."""

    def job(together):
        browser = Client()
        together()
        opened = browser.get(sign_url(token))
        together()  # both pages are open
        if opened.status_code != 200:
            return opened
        return browser.post(sign_url(token), SIGNING_FORM)

    return job


def signatures_of(partnership) -> list[Signature]:
    with scope(partnership=partnership):
        return list(Signature.objects.all())


def request_status(request: SignatureRequest) -> str:
    with scope(partnership=request.partnership):
        return SignatureRequest.objects.get(pk=request.pk).status


def test_two_partners_signing_the_same_document_at_once_are_both_recorded(alpha):
    document = make_document(alpha)
    for number in range(ROUNDS):
        requests = [
            _make_signature_request(
                make_partner(alpha, OrganisationFactory(name=f"Council {number}-{i}")), document
            )
            for i in range(2)
        ]

        results = all_at_once([open_and_sign(token) for _request, token in requests])

        assert statuses(results) == [302, 302], f"round {number + 1}: {statuses(results)}"
        assert all(r["Location"].startswith("/signed/") for r in results)
        for request, _token in requests:
            assert request_status(request) == RequestStatus.SIGNED
    assert len(signatures_of(alpha)) == 2 * ROUNDS


def test_the_same_partner_signing_twice_at_once_is_recorded_once_and_told_so(alpha):
    partner = make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
    for number in range(ROUNDS):
        document = make_document(alpha, version_label=f"{number + 1}.0")
        request, token = _make_signature_request(partner, document)

        results = all_at_once([open_and_sign(token), open_and_sign(token)])

        assert statuses(results) == [302, 410], f"round {number + 1}: {statuses(results)}"
        (second,) = [r for r in results if r.status_code == 410]
        assert (
            "This request has already been answered: Luton Borough Council signed this document"
            in page_text(second)
        )
        assert "Nothing has been recorded." in page_text(second)
        with scope(partnership=alpha):
            assert Signature.objects.filter(document=document).count() == 1
        assert request_status(request) == RequestStatus.SIGNED
    assert len(signatures_of(alpha)) == ROUNDS


# --- Two people saving the same section of an agreement ---------------------------------------


def test_two_people_saving_a_section_at_once_one_saves_the_other_is_told(
    alpha, agreement: Agreement, officer, ecc
):
    colleague = make_member(alpha, Role.IG_OFFICER, organisation=ecc.organisation).user
    url = section_url(agreement, "purpose")

    def save_as(user, text: str) -> Callable:
        def job(together):
            browser = Client()
            browser.force_login(user)
            values = form_values(browser.get(url))
            values.update(body=[text], completed=["no"])
            together()
            return browser.post(url, values)

        return job

    for number in range(ROUNDS):
        before = section_of(agreement, "purpose").version
        texts = {f"Officer's purpose, round {number}.", f"Colleague's purpose, round {number}."}
        mine, theirs = sorted(texts)

        results = all_at_once([save_as(officer, mine), save_as(colleague, theirs)])

        assert statuses(results) == [302, 409], f"round {number + 1}: {statuses(results)}"
        (stale,) = [r for r in results if r.status_code == 409]
        text = page_text(stale)
        assert "Someone else has saved this section" in text
        assert "nothing of theirs was overwritten" in text
        section = section_of(agreement, "purpose")
        assert section.version == before + 1
        assert section.body in texts
        kept = form_values(stale)
        assert kept["body"] == list(texts - {section.body})
        assert kept["version"] == [str(section.version)]


# --- Two steering group members recording the same review -------------------------------------


def test_two_people_recording_the_same_review_at_once_one_records_it_the_other_is_told(alpha):
    county = make_partner(alpha, OrganisationFactory(name="Essex County Council"))
    _, cycle = protocol_in_force(alpha, lead=county, adopted_on=date(2025, 6, 30))
    people = [make_member(alpha, Role.STEERING_GROUP).user for _ in range(2)]
    url = reverse("reviews:record", kwargs={"partnership_slug": "alpha", "cycle_id": cycle.pk})
    values = {
        "held_on": timezone.localdate().strftime("%d/%m/%Y"),
        "attendees": "The steering group",
        "outcome": "no_change",
        "decision": "Still serves the partnership.",
    }

    def record_as(person):
        def job(together):
            client = Client()
            client.force_login(person)
            together()
            return client.post(url, values)

        return job

    results = all_at_once([record_as(person) for person in people])

    assert statuses(results) == [200, 302], statuses(results)
    (second,) = [r for r in results if r.status_code == 200]
    assert "is already recorded: enter a later meeting" in page_text(second)
    with scope(partnership=alpha):
        assert Review.objects.count() == 1
