"""Bare views: the same essential queries as the app's pages, with nothing else around them.

Each one signs the person in (login_required, as any private page must), finds the
partnership by its slug, runs the page's essential queries inside the tenant scope and
renders them with a minimal template. The ratio app/bare is what the app's structure costs
(membership and permission check, navigation, the GOV.UK layout, any extra queries).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.contrib.auth.decorators import login_required
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.lookups import IsNull
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.utils import timezone
from django_scopes import scope

from accord.kernel.models import OutboxMessage
from agreements.models import Agreement
from breaches.models import BreachReport, Obligation, ObligationState
from protocols.models import Protocol
from signatories.models import Partner, PartnerStatus, Signature
from tenancy.models import AuditEntry, Membership, Partnership

TEMPLATES = {
    "dashboard": (
        "<h1>{{ partnership.name }}</h1><ul>{% for label, count in cards %}"
        "<li>{{ count }} {{ label }}</li>{% endfor %}</ul>"
        "<table>{% for e in recent %}<tr><td>{{ e.at|date:'SHORT_DATETIME_FORMAT' }}</td>"
        "<td>{{ e.actor_name }}</td><td>{{ e.summary }}</td></tr>{% endfor %}</table>"
    ),
    "partners": (
        "<h1>Partners</h1><p>{{ total }}</p><table>{% for p in partners %}<tr>"
        "<td>{{ p.organisation.name }}</td><td>{{ p.organisation.get_sector_display }}</td>"
        "<td>{{ p.organisation.ico_reference|default:'' }}</td>"
        "<td>{{ p.get_status_display }}</td>"
        "<td>{{ p.joined_on|default:p.added_on|date:'SHORT_DATE_FORMAT' }}</td>"
        "</tr>{% endfor %}</table>"
    ),
    "audit": (
        "<h1>Audit log</h1><p>{{ count }} entries</p><table>{% for e in entries %}<tr>"
        "<td>{{ e.at|date:'SHORT_DATETIME_FORMAT' }}</td>"
        "<td>{{ e.actor_name }} {{ e.organisation_name }}</td>"
        "<td>{{ e.summary }} {{ e.action }}</td>"
        "<td>{% for field, pair in e.changes.items %}{{ field }}: {{ pair.0 }} {{ pair.1 }}"
        "{% endfor %}</td></tr>{% endfor %}</table>"
    ),
    "agreements": (
        "<h1>Agreements</h1><p>{{ count }}</p><table>{% for a in rows %}<tr>"
        "<td>{{ a.reference }}</td><td>{{ a.title }}</td>"
        "<td>{% for p in a.parties.all %}{{ p.partner.organisation.name }}<br>{% endfor %}</td>"
        "<td>{{ a.get_status_display }}</td><td>{{ a.article6 }}</td>"
        "<td>{{ a.special|yesno }}</td><td>{{ a.review_date|date:'j M Y' }}</td>"
        "<td>{{ a.last_signed|date:'j M Y, H:i' }}</td></tr>{% endfor %}</table>"
    ),
    "breaches": (
        "<h1>Breach log</h1><p>{{ count }}</p><table>{% for b in rows %}<tr>"
        "<td>{{ b.reference }}</td><td>{{ b.title }}</td>"
        "<td>{{ b.reporting_partner.organisation.name }}</td>"
        "<td>{{ b.detected_at|date:'j M Y, H:i' }}</td>"
        "<td>{% if not b.is_open %}Closed{% elif b.is_overdue %}Overdue{% else %}Open{% endif %}"
        "</td><td>{{ b.next_due|date:'j M Y, H:i' }}</td></tr>{% endfor %}</table>"
    ),
    "reviews": (
        "<h1>Reviews</h1><p>{{ count }}</p><table>{% for r in rows %}<tr>"
        "<td>{{ r.kind }} {{ r.title }}</td><td>{{ r.lead }}</td>"
        "<td>{{ r.cycle.next_review_on|date:'j M Y' }} {{ r.status_label.0 }}</td>"
        "<td>{{ r.answered }} {{ r.asked }}</td><td>{{ r.last_outcome }}</td></tr>{% endfor %}"
        "</table>"
    ),
}


@cache
def _template(name: str):
    return engines["django"].from_string(TEMPLATES[name])


def _render(request, name: str, context: dict) -> HttpResponse:
    return HttpResponse(_template(name).render(context, request))


@login_required
def dashboard(request, slug: str):
    partnership = get_object_or_404(Partnership, slug=slug)
    with scope(partnership=partnership):
        # The counts on the app's cards (an administrator sees them all), then the latest.
        soon = timezone.localdate() + timedelta(days=92)
        cards = [
            ("Protocols", Protocol.objects.filter(retired_at__isnull=True).count()),
            ("Agreements", Agreement.objects.count()),
            ("Active partners", Partner.objects.filter(status=PartnerStatus.ACTIVE).count()),
            ("Reviews due", _reviews_due(partnership, soon)),
            ("Open breaches", BreachReport.objects.filter(status="open").count()),
            ("People", Membership.objects.count()),
            (
                "E-mails not delivered",
                OutboxMessage.objects.filter(
                    partnership_id=partnership.pk, status="failed"
                ).count(),
            ),
        ]
        context = {
            "partnership": partnership,
            "cards": cards,
            "recent": list(AuditEntry.objects.all()[:8]),
        }
    return _render(request, "dashboard", context)


def _failed_mail(partnership) -> int:
    return OutboxMessage.objects.filter(partnership_id=partnership.pk, status="failed").count()


def _reviews_due(partnership, soon) -> int:
    from reviews.models import ReviewCycle, ReviewSettings

    ReviewSettings.objects.filter(partnership=partnership).first()
    return ReviewCycle.objects.filter(ended_at__isnull=True, next_review_on__lte=soon).count()


@login_required
def partners(request, slug: str):
    partnership = get_object_or_404(Partnership, slug=slug)
    with scope(partnership=partnership):
        # The same page of 50 (and the status counts) as the app's paginated list.
        rows = list(Partner.objects.select_related("organisation")[:50])
        total = Partner.objects.count()
    return _render(request, "partners", {"partners": rows, "total": total})


@login_required
def audit(request, slug: str):
    partnership = get_object_or_404(Partnership, slug=slug)
    with scope(partnership=partnership):
        entries = list(AuditEntry.objects.all()[:50])
        count = AuditEntry.objects.count()
    return _render(request, "audit", {"entries": entries, "count": count})


@login_required
def agreements(request, slug: str):
    from agreements.models import AgreementParty, DataItem

    partnership = get_object_or_404(Partnership, slug=slug)
    with scope(partnership=partnership):
        # The register's first page of 50 and its count: the same annotations (special
        # category data, latest signature) and prefetch of the parties as the app's page.
        signed = (
            Signature.objects.filter(
                document_id=OuterRef("document_id"), outcome=Signature.Outcome.SIGNED
            )
            .order_by("-at")
            .values("at")[:1]
        )
        items = DataItem.objects.filter(agreement_id=OuterRef("pk")).order_by()
        special = Case(
            When(
                IsNull(Subquery(items.filter(category="special").values("pk")[:1]), False),
                then=Value(True),
            ),
            When(
                IsNull(Subquery(items.values("pk")[:1]), True) & ~Q(article9=""), then=Value(True)
            ),
            default=Value(False),
            output_field=BooleanField(),
        )
        parties = AgreementParty.objects.select_related("partner__organisation").order_by(
            "partner__organisation__name", "pk"
        )
        rows = Agreement.objects.annotate(special=special, last_signed=Subquery(signed)).order_by(
            "reference", "-version", "pk"
        )
        count = rows.count()
        rows = list(rows.prefetch_related(Prefetch("parties", queryset=parties))[:50])
    return _render(request, "agreements", {"rows": rows, "count": count})


@login_required
def breaches(request, slug: str):
    partnership = get_object_or_404(Partnership, slug=slug)
    now = timezone.now()
    with scope(partnership=partnership):
        # The register's first page of 50 and its count, as an administrator sees it (every
        # breach): the same select_related and annotations (the earliest open deadline,
        # whether one has passed) as the app's page.
        open_obligations = Obligation.objects.filter(
            breach=OuterRef("pk"), state=ObligationState.DUE, due_at__isnull=False
        )
        rows = (
            BreachReport.objects.select_related("reporting_partner__organisation")
            .annotate(
                next_due=Subquery(open_obligations.order_by("due_at").values("due_at")[:1]),
                is_overdue=Exists(open_obligations.filter(due_at__lt=now)),
            )
            .order_by("-detected_at", "-number")
        )
        count = rows.count()
        rows = list(rows[:50])
    return _render(request, "breaches", {"rows": rows, "count": count})


@login_required
def reviews(request, slug: str):
    from reviews import queries, schedule

    partnership = get_object_or_404(Partnership, slug=slug)
    with scope(partnership=partnership):
        # The dashboard's first page of 50 and its count: the same query as the app's page.
        today = timezone.localdate()
        rules = schedule.settings_for(partnership.pk)
        cycles = queries.dashboard_cycles(today=today, rules=rules)
        count = cycles.count()
        rows = queries.rows(list(cycles[:50]), today, rules)
    return _render(request, "reviews", {"rows": rows, "count": count})
