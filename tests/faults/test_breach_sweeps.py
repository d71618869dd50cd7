"""Two sweeps at once over breaches' warnings and escalations, on PostgreSQL: every breach's
warning and every overdue deadline's escalation is e-mailed once, however they interleave."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone
from django_scopes import scope

from accord.kernel import clocks as engine
from accord.kernel.models import OutboxMessage
from breaches import clocks, services
from breaches.models import Obligation, Recipient
from tenancy.roles import Role

from ..factories import OrganisationFactory, make_member, make_partner
from .conftest import needs_postgresql
from .test_two_sweeps_at_once import at_once

pytestmark = [needs_postgresql, pytest.mark.django_db(transaction=True)]

BREACHES = 60


def logged(alpha, hours_ago: float) -> list[int]:
    """BREACHES breaches detected `hours_ago`, each involving a second partner."""
    reporting = make_partner(alpha, OrganisationFactory(name="Essex County Council"))
    other = make_partner(
        alpha,
        OrganisationFactory(
            name="Essex Cares Ltd",
            data_protection_email="ig@essexcares.example",
            data_protection_email_confirmed_at=timezone.now(),
        ),
    )
    dpo = make_member(alpha, Role.DPO, organisation=reporting.organisation).user
    detected = timezone.now() - timedelta(hours=hours_ago)
    ids = []
    with scope(partnership=alpha):
        for n in range(BREACHES):
            breach = services.log_breach(
                alpha,
                by=dpo,
                values={
                    "title": f"Breach {n}",
                    "contact_name": "Ann Lee",
                    "contact_email": "ann.lee@essex.gov.example",
                    "detected_at": detected,
                    "what_happened": "Sent to the wrong provider.",
                },
                involved=[reporting, other],
            )
            ids.append(breach.pk)
    return ids


def per_breach(template: str) -> Counter:
    return Counter(
        subject.rsplit("breach ", 1)[1]
        for subject in OutboxMessage.objects.filter(
            template=template, to=["ann.lee@essex.gov.example"]
        ).values_list("subject", flat=True)
    )


def test_two_sweeps_at_once_warn_of_each_deadline_once(alpha):
    ids = logged(alpha, hours_ago=43)  # 5 hours left to tell the partner: its 6-hour warning

    counts = at_once(lambda: engine.run_due(clocks.WARNING))

    warned = per_breach("breach_warning")
    # One warning a breach for the partner (5 hours left); the ICO's 29 hours get none yet.
    assert len(warned) == BREACHES and set(warned.values()) == {1}
    assert sum(counts) == BREACHES
    with scope(partnership=alpha):
        partner = Obligation.objects.filter(breach_id__in=ids, recipient=Recipient.PARTNER)
        assert set(partner.values_list("warnings_sent", flat=True)) == {2}
    assert engine.run_due(clocks.WARNING) == 0


def test_two_sweeps_at_once_escalate_each_overdue_deadline_once(alpha):
    logged(alpha, hours_ago=49)

    counts = at_once(lambda: engine.run_due(clocks.OVERDUE))

    escalated = per_breach("breach_overdue")
    assert len(escalated) == BREACHES and set(escalated.values()) == {1}
    assert sum(counts) == BREACHES
    assert engine.run_due(clocks.OVERDUE) == 0
