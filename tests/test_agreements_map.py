"""The data-flow map: organisations as nodes, agreements as edges (thicker for more, marked
for special category data), its filters, the accessible table beside it, and a query count
that does not grow with the number of agreements."""

from __future__ import annotations

import math
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import dataflow
from agreements.models import AgreementStatus, DataCategory

from .test_agreements_register import make_agreement, partner_named

pytestmark = pytest.mark.django_db

PERSONAL, SPECIAL = DataCategory.PERSONAL, DataCategory.SPECIAL


def map_url(slug: str = "alpha", **query) -> str:
    url = reverse("agreements:map", kwargs={"partnership_slug": slug})
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


def table(response) -> list[tuple[str, str, int, bool, list[str]]]:
    return [
        (f.source_name, f.target_name, f.count, f.special, f.reference_list)
        for f in response.context["map"].flows
    ]


@pytest.fixture
def orgs(alpha):
    return {
        key: partner_named(alpha, name)
        for key, name in (
            ("luton", "Luton Borough Council"),
            ("nhs", "Bedford NHS Trust"),
            ("police", "Beds Police"),
            ("school", "Academy Trust"),
        )
    }


@pytest.fixture
def world(alpha, orgs):
    luton, nhs, police, school = orgs["luton"], orgs["nhs"], orgs["police"], orgs["school"]
    make_agreement(
        alpha, "ISA-1", [luton, nhs], items=[(nhs, luton, SPECIAL), (luton, nhs, PERSONAL)]
    )
    make_agreement(alpha, "ISA-2", [luton, nhs, police], items=[(nhs, luton, PERSONAL)])
    make_agreement(alpha, "ISA-3", [luton, police], items=[(police, luton, PERSONAL)] * 2)
    # Not active: not drawn unless asked for.
    make_agreement(
        alpha,
        "ISA-4",
        [school, police],
        status=AgreementStatus.DRAFT,
        items=[(school, police, SPECIAL)],
    )
    make_agreement(
        alpha,
        "ISA-5",
        [school, luton],
        status=AgreementStatus.TERMINATED,
        items=[(luton, school, PERSONAL)],
    )


# --- Nodes, edges, the table ---------------------------------------------------------------


def test_active_agreements_as_edges_between_organisations(client, bob, world):
    client.force_login(bob)
    response = client.get(map_url())
    assert response.status_code == 200
    assert table(response) == [
        ("Bedford NHS Trust", "Luton Borough Council", 2, True, ["ISA-1", "ISA-2"]),
        ("Beds Police", "Luton Borough Council", 1, False, ["ISA-3"]),
        ("Luton Borough Council", "Bedford NHS Trust", 1, False, ["ISA-1"]),
    ]
    flow_map = response.context["map"]
    assert [n.name for n in flow_map.nodes] == [
        "Bedford NHS Trust",
        "Beds Police",
        "Luton Borough Council",
    ]
    html = response.content.decode()
    # The picture: three nodes, three edges, the special one dashed and red.
    svg = html[html.index("<svg xmlns") : html.index("</svg></figure>")]
    assert svg.count('<circle cx="') == 3
    paths = re.findall(r'<path d="M[^"]+"[^>]*class="flow[^>]*>', svg)
    assert len(paths) == 3
    special = [p for p in paths if "flow--special" in p]
    assert len(special) == 1
    assert 'stroke="#d4351c" stroke-dasharray="8 4"' in special[0]
    assert 'data-count="2"' in special[0]
    title = "Bedford NHS Trust to Luton Borough Council: 2 agreements, special category data"
    assert f"<title>{title}</title>" in svg
    # Thicker for more agreements.
    widths = {
        int(re.search(r'data-count="(\d+)"', p)[1]): float(
            re.search(r'stroke-width="([\d.]+)"', p)[1]
        )
        for p in paths
    }
    assert widths[2] > widths[1]
    # The same data as a table.
    assert (
        '<table class="govuk-table govuk-table--small-text-until-tablet" id="flow-table">' in html
    )
    rows = re.findall(
        r'<tr class="govuk-table__row">\s*<td class="govuk-table__cell">(.*?)</tr>', html, re.S
    )
    assert len(rows) == 3
    assert "ISA-1, ISA-2" in rows[0] and ">Yes<" in rows[0]
    assert "3 organisations and 3 flows from 3 active agreements" in html


def test_the_picture_is_accessible(client, bob, world):
    client.force_login(bob)
    html = client.get(map_url()).content.decode()
    svg_tag = re.search(r"<svg xmlns[^>]*>", html)[0]
    assert 'role="img"' in svg_tag
    assert 'aria-labelledby="flow-map-title"' in svg_tag
    assert 'aria-describedby="flow-table"' in svg_tag
    assert '<title id="flow-map-title">Data-flow map: 3 organisations, 3 flows' in html
    assert 'id="flow-table"' in html


def test_an_agreement_without_data_items_joins_all_its_parties(client, bob, alpha, orgs):
    luton, nhs, police = orgs["luton"], orgs["nhs"], orgs["police"]
    make_agreement(alpha, "ISA-9", [luton, nhs, police])
    make_agreement(alpha, "ISA-10", [luton, nhs], article9="h")  # special category, no items
    client.force_login(bob)
    flows = {(s, t): (n, special, refs) for s, t, n, special, refs in table(client.get(map_url()))}
    assert len(flows) == 6  # every pair, both ways
    assert flows["Luton Borough Council", "Bedford NHS Trust"] == (2, True, ["ISA-10", "ISA-9"])
    assert flows["Beds Police", "Luton Borough Council"] == (1, False, ["ISA-9"])


def test_labels_are_escaped(client, bob, alpha):
    bad = partner_named(alpha, '<script>alert("x")</script> & Co')
    good = partner_named(alpha, "Good Council")
    make_agreement(alpha, "<b>REF</b>", [bad, good], items=[(bad, good, PERSONAL)])
    client.force_login(bob)
    html = client.get(map_url()).content.decode()
    assert "<script>alert" not in html
    assert "<b>REF</b>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co" in html
    assert "&lt;b&gt;REF&lt;/b&gt;" in html


def test_no_agreements_says_so(client, bob, alpha):
    client.force_login(bob)
    response = client.get(map_url())
    html = response.content.decode()
    assert "No active agreements to show." in html
    assert "<svg xmlns" not in html


# --- Filters -------------------------------------------------------------------------------


def test_filter_by_status(client, bob, world):
    client.force_login(bob)
    assert table(client.get(map_url(status="draft"))) == [
        ("Academy Trust", "Beds Police", 1, True, ["ISA-4"])
    ]
    assert table(client.get(map_url(status="terminated"))) == [
        ("Luton Borough Council", "Academy Trust", 1, False, ["ISA-5"])
    ]
    # Any status: every agreement.
    assert len(table(client.get(map_url(status="")))) == 5
    html = client.get(map_url()).content.decode()
    assert '<option value="active" selected>Active</option>' in html


def test_filter_by_organisation(client, bob, world, orgs):
    client.force_login(bob)
    response = client.get(map_url(organisation=orgs["police"].pk))
    assert table(response) == [("Beds Police", "Luton Borough Council", 1, False, ["ISA-3"])]
    assert "of Beds Police" in response.content.decode()
    response = client.get(map_url(organisation=orgs["police"].pk, status=""))
    assert [(s, t) for s, t, *_ in table(response)] == [
        ("Academy Trust", "Beds Police"),
        ("Beds Police", "Luton Borough Council"),
    ]
    assert table(client.get(map_url(organisation=orgs["school"].pk))) == []


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"status": "sideways"}, "status", "Choose a status from the list."),
        ({"organisation": "x"}, "organisation", "Choose an organisation from the list."),
        ({"organisation": "99999999"}, "organisation", "Choose an organisation from the list."),
    ],
)
def test_bad_filter_values_are_shown_by_the_field(client, bob, world, query, field, message):
    client.force_login(bob)
    response = client.get(map_url(**query))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    html = response.content.decode()
    assert "There is a problem" in html and f'id="id_{field}-error"' in html
    assert "<svg xmlns" not in html


def test_another_partnerships_agreements_and_organisations_never_show(client, bob, world, beta):
    essex = partner_named(beta, "Essex County Council")
    police = partner_named(beta, "Essex Police")
    make_agreement(beta, "ESSEX-1", [essex, police], items=[(essex, police, SPECIAL)])
    client.force_login(bob)
    assert "Essex" not in client.get(map_url()).content.decode()
    response = client.get(map_url(organisation=essex.pk))
    assert response.context["form"].errors["organisation"]
    assert "Essex" not in response.content.decode()


# --- Fixed query count ---------------------------------------------------------------------


def test_query_count_is_the_same_at_3_and_40_agreements(client, bob, alpha):
    partners = [partner_named(alpha, f"Organisation {i:02d}") for i in range(12)]

    def add(start, count):
        for i in range(start, start + count):
            a, b, c = partners[i % 12], partners[(i + 1) % 12], partners[(i + 5) % 12]
            if i % 3 == 0:
                make_agreement(alpha, f"M-{i:02d}", [a, b, c])  # no data items
            else:
                make_agreement(
                    alpha,
                    f"M-{i:02d}",
                    [a, b, c],
                    items=[(a, b, SPECIAL if i % 4 == 0 else PERSONAL), (c, a, PERSONAL)],
                )

    client.force_login(bob)
    add(0, 3)
    client.get(map_url())  # warm-up
    with CaptureQueriesContext(connection) as few:
        response = client.get(map_url())
    assert response.context["map"].agreements == 3
    with CaptureQueriesContext(connection) as few_filtered:
        client.get(map_url(organisation=partners[1].pk, status=""))

    add(3, 37)
    with CaptureQueriesContext(connection) as many:
        response = client.get(map_url())
    assert response.context["map"].agreements == 40
    with CaptureQueriesContext(connection) as many_filtered:
        client.get(map_url(organisation=partners[1].pk, status=""))

    assert len(many) == len(few), "\n".join(q["sql"] for q in many.captured_queries)
    assert len(many_filtered) == len(few_filtered)


# --- The drawing, without the database -----------------------------------------------------


def test_collect_merges_agreements_per_direction_and_skips_self_flows():
    items = [
        (1, "A-1", 1, 10, "Ten", 20, "Twenty", PERSONAL),
        (1, "A-1", 1, 10, "Ten", 20, "Twenty", SPECIAL),  # same agreement: counted once
        (2, "A-2", 2, 10, "Ten", 20, "Twenty", PERSONAL),
        (2, "A-2", 2, 20, "Twenty", 10, "Ten", PERSONAL),
        (3, "A-3", 1, 30, "Thirty", 30, "Thirty", PERSONAL),  # within one organisation
    ]
    flows = dataflow.collect(items, [])
    assert [(f.source, f.target, f.count, f.special, f.reference_list) for f in flows] == [
        (10, 20, 2, True, ["A-1", "A-2 (version 2)"]),
        (20, 10, 1, False, ["A-2 (version 2)"]),
    ]
    assert [f.source for f in dataflow.collect(items, [], organisation_id=20)] == [10, 20]
    assert dataflow.collect(items, [], organisation_id=30) == []


@pytest.mark.parametrize("n", [2, 5, 16, 17, 300])
def test_layout_puts_nodes_on_a_circle_inside_the_picture(n):
    items = [
        (i, f"R-{i}", 1, i, f"Org {i:03d}", (i + 1) % n, f"Org {(i + 1) % n:03d}", PERSONAL)
        for i in range(n)
    ]
    flow_map = dataflow.layout(dataflow.collect(items, []))
    assert len(flow_map.nodes) == n and len(flow_map.flows) == n
    radii = {round(math.hypot(node.x, node.y), 3) for node in flow_map.nodes}
    assert radii == {round(flow_map.radius, 3)}  # every node on one circle
    left, top, width, height = flow_map.view_box  # which holds the circle and the labels
    assert left < -flow_map.radius and left + width > flow_map.radius
    assert top < -flow_map.radius and top + height > flow_map.radius
    assert flow_map.svg.count("<circle") == n
    assert flow_map.svg.count("rotate(") == (n if n > dataflow.HORIZONTAL_LABELS_UP_TO else 0)
    # Both directions between two nodes bow apart instead of overlapping.
    both = dataflow.layout(
        dataflow.collect([items[0], (9, "R", 1, 1, "Org 001", 0, "Org 000", PERSONAL)], [])
    )
    assert both.flows[0].path != both.flows[1].path


def test_a_crowded_map_suggests_choosing_an_organisation(client, bob, alpha):
    partners = [partner_named(alpha, f"Council {i:02d}") for i in range(42)]
    for i in range(0, 42, 2):
        make_agreement(alpha, f"C-{i}", partners[i : i + 2])
    client.force_login(bob)
    response = client.get(map_url())
    assert len(response.context["map"].nodes) == 42
    assert "choose an organisation above to see its own flows" in response.content.decode()
    focused = client.get(map_url(organisation=partners[0].pk)).content.decode()
    assert "choose an organisation above" not in focused
    assert "2 organisations and 2 flows from 1 active agreement of Council 00" in focused
