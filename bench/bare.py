"""Bare views: the same essential queries as the app's pages, with nothing else around them.

Each one signs the person in (login_required, as any private page must), finds the
partnership by its slug, runs the page's essential queries inside the tenant scope and
renders them with a minimal template. The ratio app/bare is what the app's structure costs
(membership and permission check, navigation, the GOV.UK layout, any extra queries).
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django_scopes import scope

from signatories.models import Partner, PartnerStatus
from tenancy.models import AuditEntry, Membership, Partnership

TEMPLATES = {
    "dashboard": (
        "<h1>{{ partnership.name }}</h1><ul>"
        "<li>{{ active }} Active partners</li><li>{{ people }} People</li></ul>"
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
        context = {
            "partnership": partnership,
            "active": Partner.objects.filter(status=PartnerStatus.ACTIVE).count(),
            "people": Membership.objects.count(),
            "recent": list(AuditEntry.objects.all()[:8]),
        }
    return _render(request, "dashboard", context)


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
