"""Redis stopped while people make changes that send e-mail: the request answers as usual
(within a few seconds, the failed publish logged), the change is kept, its e-mail waits in
the outbox, and once Redis is back the sweep delivers it to the mail server exactly once.

The sign-in and partnership pages with Redis down, and the cache side, are in
tests/test_redis_down.py."""

from __future__ import annotations

import logging
import re
import time

import pytest
from django_scopes import scope

from accord.kernel import sweeps
from accord.kernel.models import OutboxMessage
from protocols import services as protocols
from signatories.models import RequestStatus, Signature, SignatureRequest
from tenancy.models import AuditEntry, Invitation
from tenancy.roles import Role

from ..factories import (
    OrganisationFactory,
    make_member,
    make_partner,
    make_protocol,
    make_signatory,
)
from ..test_protocols import approved, latest
from .conftest import needs_redis_server

pytestmark = [needs_redis_server, pytest.mark.django_db(transaction=True)]

# What a request may wait on a stopped broker (the settings allow about 2 s).
FAIL_FAST_SECONDS = 3
SIGN_LINK = re.compile(r"https?://[^\s\"'<>]+(/sign/[A-Za-z0-9_-]+/)")
Status = OutboxMessage.Status


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def failed_publish_logged(caplog, message: OutboxMessage) -> bool:
    """A warning says the message's delivery could not be queued (the sweep will send it)."""
    return any(
        record.levelno == logging.WARNING
        and record.name.startswith("accord.")
        and "Could not queue" in record.getMessage()
        and f"accord.deliver_message({message.pk}," in record.getMessage()
        for record in caplog.records
    )


def delivered_once_after_redis_returns(broker, mail_server, message: OutboxMessage) -> None:
    broker.start()
    done = sweeps.run_all()
    assert done["outbox.deliver"] == 1
    assert sweeps.run_all()["outbox.deliver"] == 0  # a second sweep sends nothing again
    assert mail_server.ids() == {str(message.pk): 1}
    sent = OutboxMessage.objects.get(pk=message.pk)
    assert (sent.status, sent.attempts) == (Status.SENT, 1)


def test_redis_stopped_an_invitation_is_saved_and_its_email_delivered_once_when_it_returns(
    client, alpha, alice, broker, mail_server, caplog
):
    council = make_partner(alpha, OrganisationFactory(name="Luton Borough Council")).organisation
    client.force_login(alice)
    broker.stop()
    caplog.set_level(logging.WARNING)

    response, took = timed(
        lambda: client.post(
            "/p/alpha/people/invite/",
            {
                "email": "dana.scully@luton.gov.uk",
                "full_name": "Dana Scully",
                "organisation": council.pk,
                "roles": ["ig_officer"],
            },
        )
    )

    print(f"\nInvitation with Redis stopped answered in {took:.2f} s")
    assert response.status_code == 302
    assert response["Location"] == "/p/alpha/people/"
    assert took < FAIL_FAST_SECONDS, f"the invitation took {took:.1f} s with Redis stopped"
    assert "An invitation has been sent to dana.scully@luton.gov.uk." in (
        client.get(response["Location"]).content.decode()
    )
    with scope(partnership=alpha):
        invitation = Invitation.objects.get(email="dana.scully@luton.gov.uk")
        assert AuditEntry.objects.filter(action="invitation.created").count() == 1
    message = OutboxMessage.objects.get(to=["dana.scully@luton.gov.uk"])
    assert (message.status, message.attempts, message.partnership_id) == (
        Status.QUEUED,
        0,
        alpha.pk,
    )
    assert failed_publish_logged(caplog, message)
    assert mail_server.received == []

    delivered_once_after_redis_returns(broker, mail_server, message)
    (received,) = mail_server.received
    assert received.to == ("dana.scully@luton.gov.uk",)
    assert "Alpha Partnership" in received.subject
    assert "Dana Scully" in received.body
    assert "/invitations/" in received.body  # the link to accept it
    with scope(partnership=alpha):
        assert Invitation.objects.get(pk=invitation.pk).state == "pending"


@pytest.fixture
def protocol_out_for_signature(alpha, pdf_storage, broker, mail_server):
    """Alpha's protocol, version 1.0, sent for signature to two partners (the requests'
    e-mails stored, their delivery queued on Redis); returns Luton's request and signatory."""
    lead = make_partner(alpha, OrganisationFactory(name="Luton Borough Council"))
    other = make_partner(alpha, OrganisationFactory(name="Bedford Borough Council"))
    jane = make_signatory(
        lead, name="Jane Smith", position="Chief Executive", email="jane.smith@luton.gov.uk"
    )
    make_signatory(other, name="Raj Patel", position="SIRO", email="raj@bedford.gov.uk")
    manager = make_member(alpha, Role.ADMINISTRATOR, organisation=lead.organisation).user
    steering = make_member(alpha, Role.STEERING_GROUP, organisation=lead.organisation).user
    protocol = make_protocol(alpha, title="Bedfordshire protocol", lead=lead, by=manager)
    version = approved(latest(protocol), manager, steering)
    with scope(partnership=alpha):
        protocols.send_for_signature(version, [lead, other], by=manager)
        request = SignatureRequest.objects.get(partner=lead)
    return request, jane


def test_redis_stopped_a_signature_by_link_is_recorded_and_its_confirmation_delivered_once(
    client, alpha, broker, mail_server, protocol_out_for_signature, caplog
):
    request, jane = protocol_out_for_signature
    # The signing requests go out through the real mail server; Jane opens hers.
    sweeps.run_all()
    (asked,) = [r for r in mail_server.received if r.to == ("jane.smith@luton.gov.uk",)]
    link = SIGN_LINK.search(asked.body).group(1)
    assert client.get(link).status_code == 200
    mail_server.clear()
    already = set(OutboxMessage.objects.values_list("pk", flat=True))

    broker.stop()
    caplog.set_level(logging.WARNING)
    response, took = timed(
        lambda: client.post(
            link,
            {
                "name": "Jane Smith",
                "position": "Chief Executive",
                "confirmed": "on",
                "action": "sign",
            },
            REMOTE_ADDR="203.0.113.9",
        )
    )

    print(f"\nSignature with Redis stopped answered in {took:.2f} s")
    assert response.status_code == 302
    assert took < FAIL_FAST_SECONDS, f"signing took {took:.1f} s with Redis stopped"
    with scope(partnership=alpha):
        signature = Signature.objects.get()
        assert SignatureRequest.objects.get(pk=request.pk).status == RequestStatus.SIGNED
    assert (signature.name, signature.outcome) == ("Jane Smith", Signature.Outcome.SIGNED)
    assert "You have signed" in client.get(response["Location"]).content.decode()
    (message,) = OutboxMessage.objects.exclude(pk__in=already)
    assert message.to == ["jane.smith@luton.gov.uk"]
    assert message.status == Status.QUEUED
    assert failed_publish_logged(caplog, message)

    delivered_once_after_redis_returns(broker, mail_server, message)
    (received,) = mail_server.received
    assert received.subject.startswith("You signed Bedfordshire protocol")
    assert received.to == (jane.email,)
