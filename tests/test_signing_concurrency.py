"""Many signatories at once on PostgreSQL: one answer per request and organisation, and the
ones who come second get a clear refusal, never an unhandled error."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_scopes import scope

from signatories import signing
from signatories.models import RequestStatus, Signature, SignatureRequest

from .factories import make_document, make_partner, make_signature_request

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL: SQLite serialises writers, so there is no race to test",
    ),
]

THREADS = 50


def sign_all_at_once(requests: list[SignatureRequest], wave: str) -> list[object]:
    """Each request signed by its own thread, all released together. Returns, per thread,
    the Signature or the exception raised."""
    barrier = threading.Barrier(len(requests))

    def run(request: SignatureRequest) -> object:
        try:
            barrier.wait(timeout=60)
            return signing.sign(
                request,
                name=f"Signer {request.partner_id}",
                position="Chief Executive",
                confirmed=True,
                ip_address="192.0.2.1",
                user_agent=wave,
            )
        except Exception as exc:  # collected and checked by the test
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests))


def answers(partnership) -> list[Signature]:
    with scope(partnership=partnership):
        return list(Signature.objects.all())


def statuses(partnership) -> set[str]:
    with scope(partnership=partnership):
        return set(SignatureRequest.objects.values_list("status", flat=True))


def test_fifty_organisations_sign_at_once_and_again(alpha):
    document = make_document(alpha)
    requests = [make_signature_request(make_partner(alpha), document)[0] for _ in range(THREADS)]

    first = sign_all_at_once(requests, "first wave")

    assert all(isinstance(r, Signature) for r in first), [
        r for r in first if not isinstance(r, Signature)
    ]
    assert statuses(alpha) == {RequestStatus.SIGNED}

    second = sign_all_at_once(requests, "second wave")

    assert all(isinstance(r, ValidationError) for r in second), [
        repr(r) for r in second if not isinstance(r, ValidationError)
    ]
    assert {r.messages[0].split(":")[0] for r in second} == {
        "This request has already been answered"
    }
    recorded = answers(alpha)
    assert len(recorded) == THREADS
    assert len({(s.document_id, s.partner_id) for s in recorded}) == THREADS
    assert {s.user_agent for s in recorded} == {"first wave"}
    assert statuses(alpha) == {RequestStatus.SIGNED}


def test_two_people_signing_one_request_at_once_make_one_signature(alpha):
    document = make_document(alpha)
    requests = [
        make_signature_request(make_partner(alpha), document)[0] for _ in range(THREADS // 2)
    ]

    results = sign_all_at_once(requests + requests, "race")

    winners = [r for r in results if isinstance(r, Signature)]
    losers = [r for r in results if not isinstance(r, Signature)]
    assert len(winners) == len(requests)
    assert len(losers) == len(requests)
    assert all(isinstance(r, ValidationError) for r in losers), [repr(r) for r in losers]
    assert len(answers(alpha)) == len(requests)
    assert {w.request_id for w in winners} == {r.pk for r in requests}
    assert statuses(alpha) == {RequestStatus.SIGNED}
