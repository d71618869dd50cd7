"""The data-flow map: organisations as nodes, agreements as edges, drawn as an inline SVG.

An agreement's flows come from its data items (from one party's organisation to another's);
an agreement with no data items yet counts as a flow between each pair of its parties, both
ways. Flows between the same two organisations in the same direction make one edge, as thick
as the number of agreements behind it, marked (dashed, red) where special category data
flows (a special category item; for an agreement without items, an Article 9 condition).

Two queries whatever the number of agreements: the data items, and the parties of the
agreements that have none. The picture is computed here in Python (nodes on a circle,
curved edges so that A -> B and B -> A stay apart) and returned as markup with every
label escaped; the page shows the same data as a table beside it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape

from django.db.models import Exists, OuterRef, QuerySet
from django.utils.safestring import SafeString, mark_safe

from .models import Agreement, AgreementParty, DataCategory, DataItem

# Drawing constants (SVG user units; the SVG scales to the width of the page).
NODE_RADIUS = 5
FONT_SIZE = 12
CHAR_WIDTH = 6.6  # average width of a character at FONT_SIZE in Arial
LABEL_CHARS = 42  # longer names are shortened on the picture (never in the table)
MIN_RADIUS = 170
NODE_SPACING = 15  # along the circle, so radial labels do not overlap
HORIZONTAL_LABELS_UP_TO = 16  # nodes; more than this and labels follow the radius
CURVE = 0.12  # how far edges bow out, as a share of their length
MIN_WIDTH, MAX_WIDTH = 1.5, 8.0
COLOUR = "#1d70b8"  # GOV.UK blue
SPECIAL_COLOUR = "#d4351c"  # GOV.UK red
SPECIAL_DASH = "8 4"
TEXT_COLOUR = "#0b0c0c"


@dataclass
class Flow:
    """One edge: every agreement under which data goes from one organisation to another."""

    source: int
    target: int
    source_name: str
    target_name: str
    references: dict[int, str] = field(default_factory=dict)  # agreement id -> label
    special: bool = False
    width: float = MIN_WIDTH
    path: str = ""

    @property
    def count(self) -> int:
        return len(self.references)

    @property
    def reference_list(self) -> list[str]:
        return sorted(self.references.values())

    @property
    def description(self) -> str:
        n = self.count
        text = f"{self.source_name} to {self.target_name}: {n} agreement{'s' if n != 1 else ''}"
        return text + (", special category data" if self.special else "")


@dataclass
class Node:
    id: int
    name: str
    angle: float = 0.0
    x: float = 0.0
    y: float = 0.0
    label: str = ""  # the <text> element


@dataclass
class DataFlowMap:
    nodes: list[Node]
    flows: list[Flow]
    radius: float = 0.0  # of the circle the nodes are on, centred on (0, 0)
    view_box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    svg: SafeString = field(default_factory=lambda: mark_safe(""))  # noqa: S308

    @property
    def agreements(self) -> int:
        return len({pk for flow in self.flows for pk in flow.references})

    @property
    def special_flows(self) -> int:
        return sum(1 for flow in self.flows if flow.special)

    @property
    def table_rows(self) -> SafeString:
        """The table's rows (GOV.UK markup), written here rather than in a template loop:
        thousands of flows render in milliseconds instead of most of a second."""
        cell = '<td class="govuk-table__cell">'
        number = '<td class="govuk-table__cell govuk-table__cell--numeric">'
        return mark_safe(  # noqa: S308 (every text is escaped)
            "".join(
                f'<tr class="govuk-table__row">{cell}{escape(flow.source_name)}</td>'
                f"{cell}{escape(flow.target_name)}</td>{number}{flow.count}</td>"
                f"{cell}{'Yes' if flow.special else 'No'}</td>"
                f"{cell}{escape(', '.join(flow.reference_list))}</td></tr>"
                for flow in self.flows
            )
        )


# --- From the database ---------------------------------------------------------------------


def _label(reference: str, version: int) -> str:
    return reference if version <= 1 else f"{reference} (version {version})"


def build(agreements: QuerySet[Agreement], organisation_id: int | None = None) -> DataFlowMap:
    """The map of these agreements (filtered already); with organisation_id, only the flows
    to or from that organisation. Two queries."""
    chosen = agreements.order_by().values("pk")
    items = (
        DataItem.objects.filter(agreement__in=chosen)
        .order_by()
        .values_list(
            "agreement_id",
            "agreement__reference",
            "agreement__version",
            "from_party__partner__organisation_id",
            "from_party__partner__organisation__name",
            "to_party__partner__organisation_id",
            "to_party__partner__organisation__name",
            "category",
        )
    )
    without_items = (
        AgreementParty.objects.filter(agreement__in=chosen)
        .exclude(Exists(DataItem.objects.filter(agreement_id=OuterRef("agreement_id"))))
        .order_by()
        .values_list(
            "agreement_id",
            "agreement__reference",
            "agreement__version",
            "agreement__article9",
            "partner__organisation_id",
            "partner__organisation__name",
        )
    )
    return layout(collect(items, without_items, organisation_id))


def collect(
    items: Iterable[tuple], parties: Iterable[tuple], organisation_id: int | None = None
) -> list[Flow]:
    """Flows from data item rows (agreement id, reference, version, from organisation id and
    name, to organisation id and name, category) and from the party rows of agreements with
    no items (agreement id, reference, version, Article 9 letters, organisation id, name)."""
    flows: dict[tuple[int, int], Flow] = {}

    def add(agreement_id, label, source, source_name, target, target_name, special) -> None:
        if source == target:
            return
        if organisation_id is not None and organisation_id not in (source, target):
            return
        flow = flows.get((source, target))
        if flow is None:
            flow = flows[source, target] = Flow(source, target, source_name, target_name)
        flow.references[agreement_id] = label
        flow.special = flow.special or special

    for agreement_id, reference, version, source, s_name, target, t_name, category in items:
        add(
            agreement_id,
            _label(reference, version),
            source,
            s_name,
            target,
            t_name,
            category == DataCategory.SPECIAL,
        )

    members: dict[int, list[tuple[int, str]]] = {}
    about: dict[int, tuple[str, bool]] = {}
    for agreement_id, reference, version, article9, org_id, org_name in parties:
        members.setdefault(agreement_id, []).append((org_id, org_name))
        about[agreement_id] = (_label(reference, version), bool(article9))
    for agreement_id, orgs in members.items():
        label, special = about[agreement_id]
        for source, s_name in orgs:
            for target, t_name in orgs:
                add(agreement_id, label, source, s_name, target, t_name, special)

    return sorted(
        flows.values(), key=lambda f: (f.source_name.casefold(), f.target_name.casefold())
    )


# --- The picture ---------------------------------------------------------------------------


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARS else name[: LABEL_CHARS - 1].rstrip() + "…"


def _f(value: float) -> str:
    return f"{value:.1f}"


def layout(flows: list[Flow]) -> DataFlowMap:
    """Nodes on a circle centred on (0, 0), alphabetical and clockwise from the top, with
    their labels outside it; edges as curves; the view box fitted around them all."""
    names: dict[int, str] = {}
    for flow in flows:
        names[flow.source] = flow.source_name
        names[flow.target] = flow.target_name
    nodes = [Node(pk, name) for pk, name in sorted(names.items(), key=lambda i: i[1].casefold())]
    result = DataFlowMap(nodes, flows)
    if not nodes:
        return result

    n = len(nodes)
    radius = max(MIN_RADIUS, n * NODE_SPACING / (2 * math.pi))
    horizontal = n <= HORIZONTAL_LABELS_UP_TO
    xs, ys = [-radius, radius], [-radius, radius]
    for i, node in enumerate(nodes):
        node.angle = -math.pi / 2 + 2 * math.pi * i / n
        node.x = radius * math.cos(node.angle)
        node.y = radius * math.sin(node.angle)
        node.label, (x_min, y_min, x_max, y_max) = _node_label(node, radius, horizontal)
        xs += [x_min, x_max]
        ys += [y_min, y_max]
    pad = 10
    result.radius = radius
    result.view_box = (
        min(xs) - pad,
        min(ys) - pad,
        max(xs) - min(xs) + 2 * pad,
        max(ys) - min(ys) + 2 * pad,
    )

    position = {node.id: (node.x, node.y) for node in nodes}
    most = max(flow.count for flow in flows)
    for flow in flows:
        share = math.sqrt((flow.count - 1) / (most - 1)) if most > 1 else 0.0
        flow.width = MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * share
        flow.path = _curve(position[flow.source], position[flow.target])

    result.svg = _svg(result)
    return result


def _curve(start: tuple[float, float], end: tuple[float, float]) -> str:
    """A quadratic curve from start to end that bows to its right, trimmed at both nodes."""
    (x0, y0), (x2, y2) = start, end
    dx, dy = x2 - x0, y2 - y0
    length = math.hypot(dx, dy) or 1.0
    # The normal to the right of the direction of travel: A -> B and B -> A bow apart.
    cx = (x0 + x2) / 2 - dy / length * length * CURVE
    cy = (y0 + y2) / 2 + dx / length * length * CURVE

    def towards(px, py, qx, qy, by):
        d = math.hypot(qx - px, qy - py) or 1.0
        return px + (qx - px) / d * by, py + (qy - py) / d * by

    sx, sy = towards(x0, y0, cx, cy, NODE_RADIUS + 1)
    ex, ey = towards(x2, y2, cx, cy, NODE_RADIUS + 2)
    return f"M{_f(sx)},{_f(sy)} Q{_f(cx)},{_f(cy)} {_f(ex)},{_f(ey)}"


def _svg(flow_map: DataFlowMap) -> SafeString:
    box = " ".join(_f(v) for v in flow_map.view_box)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{box}" width="100%"'
        ' role="img" aria-labelledby="flow-map-title" aria-describedby="flow-table"'
        ' class="accord-flow-map" focusable="false">',
        '<title id="flow-map-title">Data-flow map: '
        f"{len(flow_map.nodes)} organisations, {len(flow_map.flows)} flows between them "
        "(the table below gives the same data)</title>",
        "<defs>",
        _arrow("flow-arrow", COLOUR),
        _arrow("flow-arrow-special", SPECIAL_COLOUR),
        "</defs>",
        f'<g fill="none" stroke-opacity="0.75" stroke="{COLOUR}">',
    ]
    # Thin edges first, so thick ones are drawn on top.
    for flow in sorted(flow_map.flows, key=lambda f: f.width):
        if flow.special:
            style = (
                f' stroke="{SPECIAL_COLOUR}" stroke-dasharray="{SPECIAL_DASH}"'
                ' marker-end="url(#flow-arrow-special)" class="flow flow--special"'
            )
        else:
            style = ' marker-end="url(#flow-arrow)" class="flow"'
        parts.append(
            f'<path d="{flow.path}" stroke-width="{_f(flow.width)}"{style}'
            f' data-from="{flow.source}" data-to="{flow.target}" data-count="{flow.count}">'
            f"<title>{escape(flow.description)}</title></path>"
        )
    parts.append("</g>")
    parts.append(
        f'<g font-family="arial, sans-serif" font-size="{FONT_SIZE}" fill="{TEXT_COLOUR}">'
    )
    for node in flow_map.nodes:
        parts.append(
            f'<circle cx="{_f(node.x)}" cy="{_f(node.y)}" r="{NODE_RADIUS}" class="node">'
            f"<title>{escape(node.name)}</title></circle>"
        )
        parts.append(node.label)
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)


def _arrow(marker_id: str, colour: str) -> str:
    return (
        f'<marker id="{marker_id}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9"'
        ' markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}" stroke="none"/></marker>'
    )


def _node_label(
    node: Node, radius: float, horizontal: bool
) -> tuple[str, tuple[float, float, float, float]]:
    """The node's <text> just outside the circle, and the box it takes (estimated): level
    for a few nodes, along the radius for many (so neighbours do not overlap)."""
    short = _short(node.name)
    text = escape(short)
    width = len(short) * CHAR_WIDTH
    cos, sin = math.cos(node.angle), math.sin(node.angle)
    gap = radius + NODE_RADIUS * 2 + 2
    x, y = gap * cos, gap * sin
    if horizontal:
        anchor = "start" if cos > 0.25 else "end" if cos < -0.25 else "middle"
        baseline = y + (FONT_SIZE if sin > 0.7 else -4 if sin < -0.7 else FONT_SIZE / 3)
        left = {"start": x, "end": x - width, "middle": x - width / 2}[anchor]
        box = (left, baseline - FONT_SIZE, left + width, baseline + 4)
        markup = f'<text x="{_f(x)}" y="{_f(baseline)}" text-anchor="{anchor}">{text}</text>'
        return markup, box
    degrees = math.degrees(node.angle)
    anchor, turn = ("start", degrees) if cos >= 0 else ("end", degrees + 180)
    far_x, far_y = x + width * cos, y + width * sin
    half = FONT_SIZE / 2
    box = (min(x, far_x) - half, min(y, far_y) - half, max(x, far_x) + half, max(y, far_y) + half)
    markup = (
        f'<text x="{_f(x)}" y="{_f(y + FONT_SIZE / 3)}" text-anchor="{anchor}"'
        f' transform="rotate({_f(turn)} {_f(x)} {_f(y)})">{text}</text>'
    )
    return markup, box
