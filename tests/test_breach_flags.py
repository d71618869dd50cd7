"""A breach brings its agreements' and protocol's reviews forward: until the review is held,
the agreement register and the protocol's page say so, without naming the breach."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from breaches import services
from tenancy.roles import Role

from .factories import make_agreement, make_member, make_partner, make_protocol
from .pages import page_text

pytestmark = pytest.mark.django_db
FLAG = "Early review: after a breach"


def test_a_breach_flags_its_agreement_and_protocol_for_an_early_review(client, alpha):
    county, cares = make_partner(alpha), make_partner(alpha)
    officer = make_member(alpha, Role.IG_OFFICER, organisation=county.organisation).user
    dpo = make_member(alpha, Role.DPO, organisation=county.organisation).user
    agreement = make_agreement(alpha, lead=county, others=[cares], reference="ISA-1", by=officer)
    make_agreement(alpha, lead=county, others=[cares], reference="ISA-2", by=officer)
    protocol = make_protocol(alpha, title="Essex protocol", lead=county, by=officer)
    viewer = make_member(alpha, Role.VIEWER).user
    client.force_login(viewer)
    register = reverse("agreements:register", kwargs={"partnership_slug": "alpha"})
    page = reverse(
        "protocols:detail", kwargs={"partnership_slug": "alpha", "protocol_id": protocol.pk}
    )
    assert FLAG not in page_text(client.get(register))

    with scope(partnership=alpha):
        services.log_breach(
            alpha,
            by=dpo,
            values={
                "title": "Referral list sent to the wrong team",
                "contact_name": "Ann Lee",
                "contact_email": "ann@example.gov.uk",
                "detected_at": timezone.now() - timedelta(hours=1),
                "what_happened": "Sent to the wrong team.",
            },
            agreements=[agreement],
            protocol=protocol,
        )

    text = page_text(client.get(register))
    assert text.count(FLAG) == 1  # ISA-1 only, not ISA-2
    assert text.index("ISA-1") < text.index(FLAG) < text.index("ISA-2")  # in ISA-1's row
    assert FLAG in page_text(client.get(page))
    assert "Referral list sent to the wrong team" not in page_text(client.get(page))
