"""Telling the people affected (Article 34), agreed the same way as notifying the ICO: the
reporting organisation says whether and how, each involved partner gives its view, the
decision stands when they all agree, and the lead organisation decides when they do not."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from breaches import services
from breaches.models import Assessment, Individuals, InvolvedPartner, ObligationState, Recipient

from .breach_factories import assess, dpo_at, log_breach, obligation, partner, refreshed, uk
from .pages import page_text

pytestmark = pytest.mark.django_db
DETECTED = uk(2026, 11, 2, 9, 15)


@pytest.fixture
def county(alpha):
    return partner(alpha, "Essex County Council")


@pytest.fixture
def cares(alpha):
    return partner(alpha, "Essex Cares Ltd")


@pytest.fixture
def dpo(alpha, county):
    return dpo_at(alpha, county.organisation)


@pytest.fixture
def cares_dpo(alpha, cares):
    return dpo_at(alpha, cares.organisation)


@pytest.fixture
def high_risk(alpha, county, cares, dpo):
    breach = log_breach(alpha, dpo, detected=DETECTED, involved=[county, cares])
    return assess(breach, dpo, Assessment.HIGH_RISK)


def cares_view(breach, cares, view: str, reason: str = "Agreed.") -> None:
    with scope(partnership=breach.partnership):
        involved = InvolvedPartner.objects.get(breach=breach, partner=cares)
        services.give_individuals_view(involved, view=view, reason=reason, who="Bo Khan, DPO")


def decide(breach, dpo, decision: str, reason: str = "", plan: str = "") -> None:
    with scope(partnership=breach.partnership):
        services.decide_individuals(breach, by=dpo, decision=decision, reason=reason, plan=plan)


def test_the_decision_stands_when_every_partner_agrees(high_risk, cares, dpo):
    decide(high_risk, dpo, Individuals.TELL, plan="Letters from the council within a week.")
    assert refreshed(high_risk).individuals == Individuals.UNDECIDED  # Essex Cares to say
    cares_view(high_risk, cares, Individuals.TELL)
    breach = refreshed(high_risk)
    assert breach.individuals == Individuals.TELL and not breach.individuals_decided_by_lead
    assert breach.individuals_plan == "Letters from the council within a week."


def test_not_telling_them_agreed_needs_no_more_and_records_why(high_risk, cares, dpo):
    decide(high_risk, dpo, Individuals.DO_NOT_TELL, reason="Article 34(3)(a): encrypted.")
    cares_view(high_risk, cares, Individuals.DO_NOT_TELL, "Encrypted: no risk remains.")
    told = obligation(high_risk, Recipient.INDIVIDUALS)
    assert told.state == ObligationState.NOT_NEEDED
    assert told.reason == "Article 34(3)(a): encrypted."


def test_when_the_partners_disagree_the_lead_decides(high_risk, cares, dpo, cares_dpo):
    decide(high_risk, dpo, Individuals.DO_NOT_TELL, reason="Article 34(3)(b): contained.")
    cares_view(high_risk, cares, Individuals.TELL, "Some may already have been contacted.")
    with scope(partnership=high_risk.partnership):
        assert services.individuals_disagree(high_risk)
        with pytest.raises(PermissionDenied, match="lead organisation"):
            services.lead_decides_individuals(
                high_risk, by=cares_dpo, decision=Individuals.TELL, reason=""
            )
        services.lead_decides_individuals(
            high_risk, by=dpo, decision=Individuals.TELL, plan="Letters within a week."
        )
    breach = refreshed(high_risk)
    assert breach.individuals == Individuals.TELL and breach.individuals_decided_by_lead


def test_not_telling_them_needs_the_reason_and_a_made_decision_stays(high_risk, cares, dpo):
    with pytest.raises(ValidationError) as refused:
        decide(high_risk, dpo, Individuals.DO_NOT_TELL, reason=" ")
    assert "exemption of Article 34(3)" in " ".join(refused.value.message_dict["reason"])
    decide(high_risk, dpo, Individuals.TELL, plan="Letters.")
    cares_view(high_risk, cares, Individuals.TELL)
    with pytest.raises(ValidationError, match="has been made"):
        decide(high_risk, dpo, Individuals.DO_NOT_TELL, reason="Changed our mind.")


def test_a_breach_of_one_organisation_decides_at_once(alpha, county, dpo):
    breach = assess(log_breach(alpha, dpo, detected=DETECTED), dpo, Assessment.HIGH_RISK)
    decide(breach, dpo, Individuals.TELL, plan="Letters.")
    assert refreshed(breach).individuals == Individuals.TELL


def test_a_partners_dpo_gives_its_view_in_the_app_and_the_lead_is_offered_to_decide(
    client, alpha, high_risk, cares, dpo, cares_dpo
):
    detail = reverse(
        "breaches:detail", kwargs={"partnership_slug": alpha.slug, "breach_id": high_risk.pk}
    )
    view = reverse(
        "breaches:individuals_view",
        kwargs={"partnership_slug": alpha.slug, "breach_id": high_risk.pk},
    )
    decide(high_risk, dpo, Individuals.DO_NOT_TELL, reason="Article 34(3)(b): contained.")
    client.force_login(cares_dpo)
    page = page_text(client.get(detail))
    assert "Give your organisation's view on telling the people affected" in page
    assert "Essex County Council: do not tell them (Article 34(3)(b): contained.)" in page

    refused = client.post(view, {"decision": Individuals.TELL, "reason": ""})
    assert refused.status_code == 200 and "Give the reasons for your view." in page_text(refused)
    response = client.post(view, {"decision": Individuals.TELL, "reason": "Some were called."})
    assert response.status_code == 302

    client.force_login(dpo)  # Essex County Council leads: no protocol or agreement says else
    page = page_text(client.get(detail))
    assert "Decide as the lead organisation on telling the people affected" in page


def test_a_partner_without_an_account_gives_its_view_through_the_emailed_link(
    client, alpha, county, dpo
):
    linked = partner(
        alpha,
        "Essex Cares Ltd",
        data_protection_email="ig@essexcares.example",
        data_protection_email_confirmed_at=timezone.now(),
    )
    breach = log_breach(alpha, dpo, detected=DETECTED, involved=[county, linked])
    breach = assess(breach, dpo, Assessment.HIGH_RISK)
    with scope(partnership=alpha), TestCase.captureOnCommitCallbacks(execute=True):
        services.tell_partners(breach, by=dpo, late_reason="Found late in testing.")
    (notice,) = [m for m in mail.outbox if m.to == ["ig@essexcares.example"]]
    link = re.search(r"/breach-notice/[\w-]+/", notice.body).group(0)

    page = page_text(client.get(link))
    assert "Essex Cares Ltd's view on telling the people affected" in page
    refused = client.post(link, {"action": "individuals", "name": "Bo Khan", "position": "DPO"})
    assert "Choose whether to tell the individuals." in page_text(refused)
    response = client.post(
        link,
        {
            "action": "individuals",
            "name": "Bo Khan",
            "position": "DPO",
            "decision": Individuals.TELL,
            "reason": "They should hear it from us both.",
        },
    )
    assert response.status_code == 302
    with scope(partnership=alpha):
        involved = InvolvedPartner.objects.get(breach=breach, partner=linked)
    assert involved.individuals_view == Individuals.TELL
    assert "They should hear it from us both." in page_text(client.get(link))
    # The breach's timeline says who gave it, and for whom.
    client.force_login(dpo)
    detail = reverse(
        "breaches:detail", kwargs={"partnership_slug": alpha.slug, "breach_id": breach.pk}
    )
    timeline = page_text(client.get(detail))
    assert "(Bo Khan, DPO, Essex Cares Ltd (the e-mailed link))" in timeline
    assert "For Essex Cares Ltd, through the e-mailed link" in timeline


def test_when_the_risk_is_not_high_the_reporting_organisations_decision_stands(
    alpha, county, cares, dpo
):
    breach = log_breach(alpha, dpo, detected=DETECTED, involved=[county, cares])
    breach = assess(breach, dpo, Assessment.NOTIFIABLE)

    decide(breach, dpo, Individuals.DO_NOT_TELL, reason="The provider deleted them unread.")

    decided = refreshed(breach)
    assert decided.individuals == Individuals.DO_NOT_TELL
    assert decided.individuals_reason == "The provider deleted them unread."


def test_a_decision_made_before_the_risk_was_high_is_put_to_the_partners_once_it_is(
    alpha, county, cares, dpo
):
    breach = log_breach(alpha, dpo, detected=DETECTED, involved=[county, cares])
    breach = assess(breach, dpo, Assessment.NOTIFIABLE)
    decide(breach, dpo, Individuals.DO_NOT_TELL, reason="The provider deleted them unread.")

    breach = assess(breach, dpo, Assessment.HIGH_RISK)

    assert breach.individuals == Individuals.UNDECIDED  # Essex Cares to say
    assert obligation(breach, Recipient.INDIVIDUALS).state == ObligationState.DUE
    cares_view(breach, cares, Individuals.DO_NOT_TELL, "Deleted unread: no risk remains.")
    assert refreshed(breach).individuals == Individuals.DO_NOT_TELL
    assert obligation(breach, Recipient.INDIVIDUALS).state == ObligationState.NOT_NEEDED
