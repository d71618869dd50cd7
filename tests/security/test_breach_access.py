"""Threats to the breach log's pages and to the link e-mailed to an involved partner: seeing a
breach one is not party to, acting on it without the right, and using one partner's link on
another breach."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_scopes import scope

from breaches import services
from breaches.models import (
    Assessment,
    BreachReport,
    InvolvedPartner,
    Obligation,
    Recipient,
    View,
)
from signatories.tokens import TOKEN_MAX_LENGTH
from tenancy.models import AuditEntry
from tenancy.roles import Role

from ..breach_factories import dpo_of, make_breach
from ..factories import OrganisationFactory, make_member, make_partner

pytestmark = pytest.mark.django_db

# Every page of a breach, and whether it changes something when posted to.
PAGES = ["detail", "edit", "tell", "told", "assess", "view", "lead", "individuals", "follow_up"]
PAGES += ["close"]
MANAGEMENT = ["edit", "tell", "told", "assess", "individuals", "follow_up", "close"]
TITLE = "Visit notes e-mailed to the wrong care provider"


@pytest.fixture
def county(alpha):
    return make_partner(alpha, OrganisationFactory(name="Essex County Council"))


@pytest.fixture
def cares(alpha):
    return make_partner(
        alpha,
        OrganisationFactory(name="Essex Cares Ltd", data_protection_email="ig@cares.example"),
    )


@pytest.fixture
def dpo(alpha, county):
    return dpo_of(county)


@pytest.fixture
def cares_dpo(alpha, cares):
    return dpo_of(cares)


@pytest.fixture
def breach(alpha, county, cares, dpo) -> BreachReport:
    return make_breach(alpha, by=dpo, involved=[cares])


def url(name: str, breach: BreachReport, slug: str | None = None, breach_id=None) -> str:
    kwargs = {
        "partnership_slug": slug or breach.partnership.slug,
        "breach_id": breach.pk if breach_id is None else breach_id,
    }
    if name == "told":
        with scope(partnership=breach.partnership):
            kwargs["obligation_id"] = breach.obligations.get(recipient=Recipient.ICO).pk
    return reverse(f"breaches:{name}", kwargs=kwargs)


def state(breach: BreachReport) -> tuple:
    """What a refused request must leave as it was: the audit trail, the breach, its
    obligations and its partners' answers."""
    with scope(partnership=breach.partnership):
        fresh = BreachReport.objects.get(pk=breach.pk)
        return (
            AuditEntry.objects.filter(
                action__startswith="breach.", object_id=str(breach.pk)
            ).count(),
            fresh.updated_at,
            fresh.status,
            fresh.assessment,
            fresh.ico_decision,
            list(Obligation.objects.filter(breach=breach).values_list("state", "done_at")),
            list(InvolvedPartner.objects.filter(breach=breach).values_list("view", "token_hash")),
        )


ANSWERS = {
    "late_reason": "Late.",
    "told_date": "01/01/2026",
    "told_time": "10:00",
    "method": "Telephone",
    "case_reference": "IC-1",
    "likelihood": "likely",
    "severity": "severe",
    "assessment": Assessment.NOTIFIABLE,
    "reason": "Health data.",
    "view": View.NOTIFY,
    "decision": View.NOTIFY,
    "title": "Changed",
}


def test_a_dpo_of_an_organisation_not_involved_finds_no_breach_at_any_address(
    client, alpha, breach
):
    """Threat: a DPO of a partner the breach does not involve reads or changes it through
    its addresses. Answer: every page answers 404, as if it did not exist, and nothing changes."""
    client.force_login(dpo_of(make_partner(alpha)))
    before = state(breach)

    for name in PAGES:
        response = client.get(url(name, breach))
        assert response.status_code == 404, name
        assert TITLE not in response.content.decode()
        assert client.post(url(name, breach), ANSWERS).status_code == 404, name

    assert TITLE not in client.get(reverse("breaches:register", args=["alpha"])).content.decode()
    assert state(breach) == before


def test_a_member_of_another_partnership_finds_no_breach_at_any_address(
    client, alpha, beta, breach
):
    """Threat: someone of another partnership (with every role there) reaches a breach by its
    address, under either partnership's name. Answer: 404 each time, nothing changed."""
    client.force_login(make_member(beta, *Role).user)
    before = state(breach)

    for name in PAGES:
        for slug in ("alpha", "beta"):
            response = client.get(url(name, breach, slug=slug))
            assert response.status_code == 404, (name, slug)
            assert TITLE not in response.content.decode()
            assert client.post(url(name, breach, slug=slug), ANSWERS).status_code == 404

    assert state(breach) == before


@pytest.mark.parametrize("role", [Role.VIEWER, Role.IG_OFFICER, Role.STEERING_GROUP])
def test_a_member_without_the_dpo_role_learns_nothing_of_a_breach_from_its_addresses(
    client, alpha, county, breach, role
):
    """Threat: a viewer, IG officer or steering group member of the reporting organisation
    reads a breach, or finds out which breach numbers exist. Answer: every breach page refuses
    them the same way (403) for a real breach and for one that does not exist, naming nothing
    of it; nothing changes."""
    client.force_login(make_member(alpha, role, organisation=county.organisation).user)
    before = state(breach)

    for name in PAGES:
        real = client.get(url(name, breach))
        missing = client.get(url(name, breach, breach_id=breach.pk + 1000))
        assert real.status_code == missing.status_code == 403, name
        assert TITLE not in real.content.decode()
        assert client.post(url(name, breach), ANSWERS).status_code == 403

    assert client.get(reverse("breaches:register", args=["alpha"])).status_code == 403
    assert state(breach) == before


@pytest.mark.parametrize("name", MANAGEMENT)
def test_an_involved_partners_dpo_cannot_manage_the_breach(client, breach, cares_dpo, name):
    """Threat: the DPO of an involved partner, who may see the breach, changes the report,
    tells people, assesses, decides about the individuals or closes it. Answer: 403 on POST,
    nothing changes."""
    client.force_login(cares_dpo)
    assert client.get(url("detail", breach)).status_code == 200
    before = state(breach)

    assert client.post(url(name, breach), ANSWERS).status_code == 403
    assert state(breach) == before


def test_only_the_lead_organisations_dpo_records_the_lead_decision(
    client, alpha, breach, dpo, cares, cares_dpo, alice
):
    """Threat: when the partners disagree, another partner's DPO or an administrator records
    the decision the lead organisation makes. Answer: 403, no decision recorded."""
    with scope(partnership=alpha):
        services.assess(
            breach,
            by=dpo,
            likelihood="likely",
            severity="severe",
            assessment=Assessment.NOTIFIABLE,
            reason="Health data.",
        )
        involved = InvolvedPartner.objects.get(breach=breach, partner=cares)
        services.give_view(involved, view=View.DO_NOT_NOTIFY, reason="Recalled.", who="x")
    before = state(breach)

    for person in (cares_dpo, alice):
        client.force_login(person)
        assert client.get(url("lead", breach)).status_code == 403
        assert client.post(url("lead", breach), ANSWERS).status_code == 403

    assert state(breach) == before


def test_nobody_gives_another_organisations_view_in_the_app(client, alpha, breach, dpo, alice):
    """Threat: an administrator, or the reporting organisation's DPO, records the view of an
    involved partner they do not act for. Answer: 403 on POST; nothing changes."""
    before = state(breach)

    for person in (alice, dpo):
        client.force_login(person)
        assert client.post(url("view", breach), ANSWERS).status_code == 403
        assert client.post(url("view", breach), {"action": "acknowledge"}).status_code == 403

    assert state(breach) == before


def test_a_get_never_changes_a_breach(client, alpha, breach, dpo, cares_dpo):
    """Threat: a link followed (or prefetched) acts on the breach. Answer: every page only
    shows on GET; the breach, its obligations and its audit trail stay as they were."""
    before = state(breach)

    for person in (dpo, cares_dpo):
        client.force_login(person)
        for name in PAGES:
            assert client.get(url(name, breach)).status_code in (200, 302, 403), name

    assert state(breach) == before


# --- The e-mailed link ---------------------------------------------------------------------


def told_by_email(breach: BreachReport, by) -> str:
    """The link path e-mailed to the partner's confirmed address."""
    mail.outbox.clear()
    with scope(partnership=breach.partnership), TestCase.captureOnCommitCallbacks(execute=True):
        services.tell_partners(breach, by=by)
    (notice,) = [m for m in mail.outbox if m.to == ["ig@cares.example"]]
    return re.search(r"/breach-notice/[\w-]+/", notice.body).group(0)


def test_a_notice_link_acts_only_on_its_own_breach(client, alpha, county, cares, dpo):
    """Threat: the holder of one breach's link posts naming another breach or another
    partner's record, to acknowledge it or give its view. Answer: the secret alone decides
    what the link acts on; the other breach is untouched."""
    first = make_breach(alpha, by=dpo, involved=[cares], title="First")
    second = make_breach(alpha, by=dpo, involved=[cares], title="Second")
    link = told_by_email(first, dpo)
    told_by_email(second, dpo)
    with scope(partnership=alpha):
        other = InvolvedPartner.objects.get(breach=second, partner=cares)
    before = state(second)
    smuggled = {"breach": second.pk, "breach_id": second.pk, "involved": other.pk, "pk": other.pk}

    assert "Second" not in client.get(link, smuggled).content.decode()
    client.post(link, {"action": "acknowledge", **smuggled})
    client.post(
        link,
        {
            "action": "view",
            "name": "Sam Patel",
            "position": "DPO",
            "view": View.NOTIFY,
            "reason": "Health data.",
            **smuggled,
        },
    )

    assert state(second) == before
    with scope(partnership=alpha):
        mine = InvolvedPartner.objects.get(breach=first, partner=cares)
    assert mine.acknowledged_at is not None and mine.view == View.NOTIFY


def test_a_link_from_another_partnership_opens_nothing_here(client, alpha, beta, county, cares):
    """Threat: a partner's link is tried with the address of another partnership's pages.
    Answer: the link has no partnership in it: it opens its own breach only, and the
    partnership pages still refuse the holder (not signed in)."""
    partner = make_partner(
        beta, OrganisationFactory(name="Beta Cares", data_protection_email="ig@cares.example")
    )
    theirs = make_breach(beta, involved=[partner], title="The beta breach")
    link = told_by_email(theirs, theirs.reported_by)

    page = client.get(link)

    assert page.status_code == 200 and "The beta breach" in page.content.decode()
    assert "Alpha" not in page.content.decode()
    assert client.get(reverse("breaches:register", args=["alpha"])).status_code == 302


@pytest.mark.parametrize(
    "token",
    ["x" * (TOKEN_MAX_LENGTH + 1), "a" * 5000, "guessed-token-of-43-characters-abcdefghijkl"],
)
def test_a_guessed_or_overlong_token_opens_nothing(client, breach, token):
    """Threat: a visitor guesses secrets, or sends one long enough to cost the database work.
    Answer: 404 "not valid" for each; an overlong one is refused before any query on the
    partners' links; nothing changes."""
    before = state(breach)

    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("breach_link", kwargs={"token": token}), {"action": "acknowledge"}
        )

    assert response.status_code == 404
    assert "This link is not valid" in response.content.decode()
    if len(token) > TOKEN_MAX_LENGTH:
        assert not any("involvedpartner" in q["sql"] for q in queries.captured_queries)
    assert state(breach) == before


def test_the_notice_link_is_never_cached(client, breach, dpo):
    """Threat: a shared or browser cache keeps the notice page, and shows it to the next
    person. Answer: the link's answers forbid storing them, found or not."""
    link = told_by_email(breach, dpo)

    for path in (link, reverse("breach_link", kwargs={"token": "unknown"})):
        assert "no-store" in client.get(path)["Cache-Control"]
