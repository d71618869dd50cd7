"""A breach's audit entries are read only by those who may see the breach: the steering
group reads the audit log, but not what happened in a breach it may not see."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from breaches.models import BreachReport
from tenancy.roles import Role

from ..breach_factories import dpo_of, make_breach
from ..factories import make_member, make_partner
from ..pages import page_text

pytestmark = pytest.mark.django_db
TITLE = "Laptop with unencrypted assessment notes stolen"


@pytest.fixture
def breach(alpha):
    county, cares = make_partner(alpha), make_partner(alpha)
    return make_breach(alpha, by=dpo_of(county), involved=[cares], title=TITLE)


def pages(breach) -> list[str]:
    slug = breach.partnership.slug
    kind = ContentType.objects.get_for_model(BreachReport)
    return [
        reverse("tenancy:audit", kwargs={"partnership_slug": slug}),
        reverse("tenancy:dashboard", kwargs={"partnership_slug": slug}),
    ], reverse(
        "tenancy:object_history",
        kwargs={"partnership_slug": slug, "content_type_id": kind.pk, "object_id": breach.pk},
    )


def test_a_breach_in_the_audit_log_is_hidden_from_the_steering_group(client, alpha, breach):
    """Threat: the audit log's summaries name a breach to members the breach is hidden from.
    Answer: its entries are left out for them, in the log, the dashboard and the history."""
    listing, history = pages(breach)
    client.force_login(make_member(alpha, Role.STEERING_GROUP).user)
    for url in listing:
        assert TITLE not in page_text(client.get(url)), url
    assert client.get(history).status_code == 404
    export = client.get(reverse("tenancy:audit_export", kwargs={"partnership_slug": "alpha"}))
    assert TITLE not in b"".join(export.streaming_content).decode()


def test_the_administrators_read_the_breachs_entries(client, alpha, alice, breach):
    listing, history = pages(breach)
    client.force_login(alice)
    assert TITLE in page_text(client.get(listing[0]))
    assert TITLE in page_text(client.get(history))
