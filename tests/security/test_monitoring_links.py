"""Threats to monitoring: the yearly confirmation link (no account: its secret is the key), the
monitoring pages and their forms, and one partnership's confirmations and complaints reached
from another."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from accord.kernel.models import OutboxMessage
from protocols.services import add_months
from reviews import monitoring
from reviews.models import Complaint, Confirmation
from signatories.tokens import new_token
from tenancy.roles import Role

from ..factories import OrganisationFactory, make_member, make_partner
from ..pages import page_text
from ..review_factories import protocol_in_force

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CONFIRMED = {"in_place": "on", "name": "Pat Jones", "role": "SIRO", "note": ""}


def asked(partnership, lead_name: str, other_name: str, other_email: str):
    """A protocol of the partnership whose partners have been asked to confirm this year;
    returns the other partner and the link e-mailed to it."""
    lead = make_partner(partnership, OrganisationFactory(name=lead_name))
    other = make_partner(
        partnership, OrganisationFactory(name=other_name, data_protection_email=other_email)
    )
    protocol, _ = protocol_in_force(
        partnership, lead=lead, title=f"{lead_name} ISP", adopted_on=add_months(TODAY, -3)
    )
    with scope(partnership=partnership):
        monitoring.request_confirmations(protocol, TODAY.year, by=None)
    text = OutboxMessage.objects.get(to=[other_email]).text
    (link,) = re.findall(r"https?://[^\s]+?(/confirm/[^/\s]+/)", text)
    return other, link


@pytest.fixture
def alpha_link(alpha):
    return asked(alpha, "Essex County Council", "Essex Police", "ig@police.example")


def confirmed(partnership) -> list[str]:
    with scope(partnership=partnership):
        return list(
            Confirmation.objects.filter(confirmed_at__isnull=False).values_list(
                "partner__organisation__name", flat=True
            )
        )


def url(name: str, slug: str = "alpha") -> str:
    return reverse(f"reviews:{name}", kwargs={"partnership_slug": slug})


def test_a_guessed_confirmation_link_opens_nothing_and_records_nothing(alpha, alpha_link):
    """Threat: someone guesses or shortens a link to confirm for a partner. Answer: only the
    SHA-256 of 256-bit secrets is stored; any other token, too long or cut short, is 404
    and changes nothing."""
    _, link = alpha_link
    token = link.split("/")[2]
    visitor = Client()
    for guess in (new_token()[0], token[:-1], token + "A", "x" * 500):
        address = reverse("review_confirmation", args=[guess])
        assert visitor.get(address).status_code == 404
        response = visitor.post(address, CONFIRMED)
        assert response.status_code == 404
        assert "This link is not valid" in page_text(response)
    assert confirmed(alpha) == []
    with scope(partnership=alpha):
        assert not Confirmation.objects.filter(token_hash=token).exists()  # never stored plain


def test_a_link_confirms_only_its_own_partnerships_confirmation(alpha, beta, alpha_link):
    """Threat: a partner's link is used to reach or change another partnership's
    confirmation. Answer: a link opens the one confirmation its secret names, in its own
    partnership's scope; the other partnership's stays unconfirmed and unseen."""
    _, alpha_address = alpha_link
    _, beta_address = asked(beta, "Kent County Council", "Kent Police", "ig@kent.example")

    page = Client().get(alpha_address)
    assert "Essex Police" in page_text(page)
    assert "Kent" not in page_text(page)
    Client().post(alpha_address, CONFIRMED)
    assert confirmed(alpha) == ["Essex Police"]
    assert confirmed(beta) == []
    assert "Kent Police" in page_text(Client().get(beta_address))


def test_another_partnerships_monitoring_pages_are_not_found(client, alpha, beta, alpha_link):
    """Threat: a member of another partnership reads who confirmed, the complaints or the
    pack, or records a complaint. Answer: 404 on every monitoring page, and its own pages
    show nothing of this partnership."""
    stranger = make_member(beta, Role.ADMINISTRATOR).user
    client.force_login(stranger)
    for name in ("monitoring", "monitoring_pack", "monitoring_pack_pdf"):
        assert client.get(url(name)).status_code == 404
    partner, _ = alpha_link
    answer = client.post(
        url("monitoring_complaint"),
        {"partner": partner.pk, "received_on": f"{TODAY:%d/%m/%Y}", "summary": "Disclosed."},
    )
    assert answer.status_code == 404
    own = page_text(client.get(url("monitoring", "beta")))
    assert "Essex" not in own
    assert "Essex" not in page_text(client.get(url("monitoring_pack", "beta")))
    with scope(partnership=alpha):
        assert not Complaint.objects.exists()


def test_a_viewer_posting_the_complaint_form_is_refused(client, alpha, bob, alpha_link):
    """Threat: a member without the steering group's role records a complaint against a
    partner, or asks every partner to confirm. Answer: 403, and nothing changes."""
    partner, _ = alpha_link
    client.force_login(bob)
    answer = client.post(
        url("monitoring_complaint"),
        {"partner": partner.pk, "received_on": f"{TODAY:%d/%m/%Y}", "summary": "Disclosed."},
    )
    assert answer.status_code == 403
    sent = OutboxMessage.objects.count()
    assert client.post(url("monitoring_ask"), {"protocol": "1"}).status_code == 403
    assert client.get(url("monitoring_pack")).status_code == 403
    assert OutboxMessage.objects.count() == sent
    with scope(partnership=alpha):
        assert not Complaint.objects.exists()


def test_a_confirmation_or_complaint_posted_without_its_csrf_token_is_refused(
    alpha, alpha_link, alice
):
    """Threat: another site makes a visitor's browser post the confirmation (or a signed-in
    administrator's post a complaint). Answer: CSRF protection refuses it with 403."""
    partner, link = alpha_link
    visitor = Client(enforce_csrf_checks=True)
    assert visitor.post(link, CONFIRMED).status_code == 403
    assert confirmed(alpha) == []

    administrator = Client(enforce_csrf_checks=True)
    administrator.force_login(alice)
    answer = administrator.post(
        url("monitoring_complaint"),
        {"partner": partner.pk, "received_on": f"{TODAY:%d/%m/%Y}", "summary": "Disclosed."},
    )
    assert answer.status_code == 403
    with scope(partnership=alpha):
        assert not Complaint.objects.exists()


def test_a_replaced_link_no_longer_confirms(alpha, alpha_link):
    """Threat: an old link, forwarded or leaked, is used after a new one was sent. Answer:
    asking again replaces the stored secret: the old link is not valid."""
    partner, link = alpha_link
    with scope(partnership=alpha):
        Confirmation.objects.update(sent_at=timezone.now() - monitoring.ASK_AGAIN_AFTER * 2)
        protocol = Confirmation.objects.get(partner=partner).protocol
        monitoring.request_confirmations(protocol, TODAY.year, by=None)
    assert Client().post(link, CONFIRMED).status_code == 404
    assert confirmed(alpha) == []
