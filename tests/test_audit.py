"""The audit trail: written with every change, in the same transaction, never changed after;
read, filtered and exported by the people allowed to."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from accord.kernel.context import acting
from signatories import services as partner_services
from signatories.models import Organisation, Partner, PartnerStatus
from tenancy import services
from tenancy.audit import log_action
from tenancy.models import AuditEntry, Invitation, Membership, Partnership
from tenancy.roles import Role

from .factories import OrganisationFactory, UserFactory, make_invitation, make_member, make_partner
from .pages import page_html as text


def entries_of(partnership) -> list[AuditEntry]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.order_by("id"))


# --- Every state change writes an entry, in the same transaction ---------------------------


@dataclass
class Ctx:
    alpha: Partnership
    admin: Membership
    viewer: Membership
    partner: Partner
    invitation: Invitation


@dataclass(frozen=True)
class Change:
    action: str
    run: Callable[[Ctx], object]
    state: Callable[[Ctx], object]  # what the change touches, read fresh from the database

    def __str__(self) -> str:
        return self.action


def _founder_org(c: Ctx) -> Organisation:
    return c.admin.organisation


CHANGES = [
    Change(
        "partnership.created",
        lambda c: services.create_partnership(
            name="Gamma",
            slug="gamma",
            description="",
            founder=c.admin.user,
            organisation=_founder_org(c),
        ),
        lambda c: Partnership.objects.filter(slug="gamma").exists(),
    ),
    Change(
        "partnership.changed",
        lambda c: services.update_partnership(c.alpha, name="Alpha Renamed"),
        lambda c: Partnership.objects.get(pk=c.alpha.pk).name,
    ),
    Change(
        "invitation.created",
        lambda c: services.invite_person(
            c.alpha,
            email="new@example.gov.uk",
            full_name="",
            roles=[Role.VIEWER],
            organisation=c.partner.organisation,
            invited_by=c.admin.user,
        ),
        lambda c: Invitation.objects.count(),
    ),
    Change(
        "invitation.resent",
        lambda c: services.resend_invitation(c.invitation),
        lambda c: Invitation.objects.get(pk=c.invitation.pk).token_hash,
    ),
    Change(
        "invitation.revoked",
        lambda c: services.revoke_invitation(c.invitation),
        lambda c: Invitation.objects.get(pk=c.invitation.pk).revoked_at,
    ),
    Change(
        "membership.created",
        lambda c: services.accept_invitation(
            c.invitation, full_name="New Person", password="a-long-passphrase-here"
        ),
        lambda c: Membership.objects.count(),
    ),
    Change(
        "membership.changed",
        lambda c: services.change_membership(
            c.viewer, roles=[Role.DPO], organisation=c.viewer.organisation
        ),
        lambda c: Membership.objects.get(pk=c.viewer.pk).roles,
    ),
    Change(
        "membership.removed",
        lambda c: services.remove_membership(c.viewer),
        lambda c: Membership.objects.filter(user=c.viewer.user).exists(),
    ),
    Change(
        "partner.created",
        lambda c: partner_services.add_partner(c.alpha, OrganisationFactory(name="Added Trust")),
        lambda c: Partner.objects.count(),
    ),
    Change(
        "partner.status_changed",
        lambda c: partner_services.change_partner_status(
            c.partner, PartnerStatus.WITHDRAWING, reason="Service ended"
        ),
        lambda c: Partner.objects.get(pk=c.partner.pk).status,
    ),
    Change(
        "organisation.changed",
        lambda c: partner_services.update_organisation(
            c.partner.organisation, by=c.admin.user, name="Renamed"
        ),
        lambda c: Organisation.objects.get(pk=c.partner.organisation_id).name,
    ),
]


@pytest.fixture
def ctx(alpha) -> Ctx:
    partner = make_partner(alpha)
    admin = make_member(alpha, Role.ADMINISTRATOR, organisation=partner.organisation)
    viewer = make_member(alpha, Role.VIEWER, organisation=partner.organisation)
    invitation, _token = make_invitation(alpha, organisation=partner.organisation)
    return Ctx(alpha, admin, viewer, partner, invitation)


def count_entries(action: str) -> int:
    with scopes_disabled():
        return AuditEntry.objects.filter(action=action).count()


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_every_state_change_writes_an_audit_entry(change, ctx):
    with scope(partnership=ctx.alpha):
        before = change.state(ctx)
        with acting(user=ctx.admin.user, organisation=ctx.admin.organisation):
            change.run(ctx)
        assert change.state(ctx) != before
    assert count_entries(change.action) == 1


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_a_failure_after_the_change_leaves_neither_the_change_nor_its_entry(change, ctx):
    class Boom(Exception):
        pass

    with scope(partnership=ctx.alpha):
        before = change.state(ctx)
        with pytest.raises(Boom), transaction.atomic():
            change.run(ctx)
            assert count_entries(change.action) == 1  # written, inside the transaction
            raise Boom
        assert change.state(ctx) == before
    assert count_entries(change.action) == 0


@pytest.mark.parametrize("change", CHANGES, ids=str)
def test_a_change_whose_entry_cannot_be_written_does_not_happen(change, ctx, monkeypatch):
    def refuse(self, *args, **kwargs):
        raise DatabaseError("the audit table is unavailable")

    monkeypatch.setattr(AuditEntry, "save", refuse)
    with scope(partnership=ctx.alpha):
        before = change.state(ctx)
        with pytest.raises(DatabaseError):
            change.run(ctx)
        assert change.state(ctx) == before


def test_log_action_inside_a_rolled_back_transaction_leaves_no_entry(alpha):
    with scope(partnership=alpha):
        with pytest.raises(RuntimeError), transaction.atomic():
            log_action(alpha, "test.happened", "Something happened")
            raise RuntimeError
        assert not AuditEntry.objects.exists()


# --- Who, for whom, in which request --------------------------------------------------------


def test_entry_made_through_a_page_records_actor_organisation_and_request_id(client, alpha, alice):
    client.force_login(alice)
    response = client.post(
        "/p/alpha/settings/", {"name": "Alpha Renamed", "description": "New words"}
    )

    assert response.status_code == 302
    [entry] = entries_of(alpha)
    with scope(partnership=alpha):
        organisation = Membership.objects.get(user=alice).organisation
    assert entry.action == "partnership.changed"
    assert entry.actor == alice
    assert entry.actor_name == f"{alice.full_name} <{alice.email}>"
    assert entry.organisation == organisation
    assert entry.organisation_name == organisation.name
    assert entry.request_id == response["X-Request-ID"]
    assert len(entry.request_id) >= 8
    assert entry.changes["name"] == ["Alpha Partnership", "Alpha Renamed"]


def test_a_request_id_from_the_proxy_is_logged_but_never_recorded_as_ours(
    client, alpha, alice, caplog
):
    client.force_login(alice)
    with caplog.at_level("INFO", logger="accord.request"):
        response = client.post(
            "/p/alpha/settings/",
            {"name": "Alpha Renamed"},
            headers={"X-Request-ID": "lb-trace-0001"},
        )
    assert response["X-Request-ID"] != "lb-trace-0001"
    assert entries_of(alpha)[0].request_id == response["X-Request-ID"]
    assert "X-Request-ID from the client: lb-trace-0001" in caplog.messages


def test_a_malformed_request_id_is_replaced(client, alpha, alice):
    client.force_login(alice)
    response = client.post(
        "/p/alpha/settings/", {"name": "Alpha Renamed"}, headers={"X-Request-ID": "<script>"}
    )
    assert response["X-Request-ID"] != "<script>"
    assert entries_of(alpha)[0].request_id == response["X-Request-ID"]


def test_entry_made_outside_a_request_is_automatic(alpha):
    with scope(partnership=alpha):
        entry = log_action(alpha, "sweep.ran", "Swept")
    assert entry.actor is None
    assert entry.actor_name == "Accord (automatic)"
    assert entry.request_id == ""


def test_a_person_with_a_long_name_and_address_is_still_recorded(client, alpha):
    person = UserFactory(full_name="N" * 150, email=f"{'a' * 60}.{'b' * 60}.{'c' * 60}@example.org")
    make_member(alpha, Role.ADMINISTRATOR, user=person)
    client.force_login(person)

    response = client.post("/p/alpha/settings/", {"name": "Alpha Renamed"})

    assert response.status_code == 302
    [entry] = entries_of(alpha)
    assert entry.actor == person
    assert entry.actor_name.startswith("N" * 150)


# --- Entries never change ---------------------------------------------------------------


@pytest.fixture
def entry(alpha) -> AuditEntry:
    with scope(partnership=alpha):
        return log_action(alpha, "test.happened", "Something happened")


def test_an_entry_cannot_be_changed_or_deleted_through_the_model(entry, alpha):
    entry.action = "x"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    assert entries_of(alpha)[0].action == "test.happened"


def test_entries_cannot_be_changed_or_deleted_through_the_queryset(entry, alpha):
    with scope(partnership=alpha):
        with pytest.raises(PermissionError):
            AuditEntry.objects.filter(pk=entry.pk).update(action="x")
        with pytest.raises(PermissionError):
            AuditEntry.objects.all().delete()
        entry.action = "x"
        with pytest.raises(PermissionError), transaction.atomic():
            AuditEntry.objects.bulk_update([entry], ["action"])
    assert entries_of(alpha)[0].action == "test.happened"


def test_the_database_refuses_an_update_that_bypasses_the_model(entry, alpha):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry._base_manager.filter(pk=entry.pk).update(action="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        connection.cursor().execute("UPDATE tenancy_auditentry SET action='x'")
    assert entries_of(alpha)[0].action == "test.happened"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the DELETE trigger is PostgreSQL's")
def test_the_database_refuses_a_delete_that_bypasses_the_model(entry, alpha):
    with pytest.raises(DatabaseError), transaction.atomic():
        connection.cursor().execute("DELETE FROM tenancy_auditentry")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry._base_manager.filter(pk=entry.pk)._raw_delete(connection.alias)
    assert len(entries_of(alpha)) == 1


def test_a_partnership_with_history_cannot_be_deleted(entry, alpha):
    with pytest.raises(ProtectedError):
        alpha.delete()


# --- The audit log page ------------------------------------------------------------------


def add_entry(partnership, action, summary, at, actor_name="Ann Admin <ann@example.org>"):
    with scope(partnership=partnership):
        return AuditEntry.objects.create(
            partnership=partnership,
            action=action,
            summary=summary,
            at=at,
            actor_name=actor_name,
        )


@pytest.fixture
def history(alpha, beta):
    """A few entries in Alpha across a clock change, and one in Beta."""
    add_entry(alpha, "partner.created", "Added Luton Council", datetime(2026, 3, 2, 9, tzinfo=UTC))
    add_entry(
        alpha,
        "membership.created",
        "Dee joined as Viewer",
        datetime(2026, 3, 20, 12, tzinfo=UTC),
        actor_name="Dee Viewer <dee@example.org>",
    )
    # 23:30 UTC on 31 March 2026 is 00:30 on 1 April in the UK (summer time).
    add_entry(
        alpha, "partner.created", "Added Bedford Trust", datetime(2026, 3, 31, 23, 30, tzinfo=UTC)
    )
    add_entry(beta, "partner.created", "Added Secret Beta Body", datetime(2026, 3, 5, tzinfo=UTC))
    add_entry(beta, "beta.only_action", "Beta's own doing", datetime(2026, 3, 5, tzinfo=UTC))


@pytest.fixture
def steering_client(client, alpha):
    client.force_login(make_member(alpha, Role.STEERING_GROUP).user)
    return client


def shown(response) -> list[str]:
    page = text(response)
    every = ["Added Luton Council", "Dee joined as Viewer", "Added Bedford Trust"]
    return [summary for summary in every if summary in page]


def test_audit_log_lists_this_partnerships_entries_newest_first(steering_client, history):
    response = steering_client.get("/p/alpha/audit/")

    assert response.status_code == 200
    page = text(response)
    assert "3 entries" in page
    assert shown(response) == ["Added Luton Council", "Dee joined as Viewer", "Added Bedford Trust"]
    assert page.index("Added Bedford Trust") < page.index("Added Luton Council")
    assert "Secret Beta Body" not in page
    assert "beta.only_action" not in page  # not even as a filter choice


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"action": "membership.created"}, ["Dee joined as Viewer"]),
        ({"actor": "dee@example"}, ["Dee joined as Viewer"]),
        ({"actor": "ann admin"}, ["Added Luton Council", "Added Bedford Trust"]),
        ({"q": "bedford"}, ["Added Bedford Trust"]),
        ({"date_from": "01/04/2026"}, ["Added Bedford Trust"]),
        ({"date_to": "31/03/2026"}, ["Added Luton Council", "Dee joined as Viewer"]),
        ({"date_from": "02/03/2026", "date_to": "02/03/2026"}, ["Added Luton Council"]),
        ({"date_from": "2026-03-10", "action": "partner.created"}, ["Added Bedford Trust"]),
        ({"q": "Secret Beta"}, []),
    ],
    ids=lambda v: str(v) if isinstance(v, dict) else "",
)
def test_audit_log_filters(steering_client, history, query, expected):
    response = steering_client.get("/p/alpha/audit/", query)
    assert response.status_code == 200
    assert shown(response) == expected
    assert f"{len(expected)} entr" in text(response)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"date_from": "31/02/2026"}, "date_from", "Enter a date like 31/03/2026."),
        ({"date_to": "next tuesday"}, "date_to", "Enter a date like 31/03/2026."),
        (
            {"date_from": "02/03/2026", "date_to": "01/03/2026"},
            "date_to",
            "The 'to' date must be on or after the 'from' date.",
        ),
        ({"action": "no.such.action"}, "action", None),
    ],
)
def test_audit_log_bad_filter_is_a_field_error_not_a_crash(
    steering_client, history, query, field, message
):
    response = steering_client.get("/p/alpha/audit/", query)

    assert response.status_code == 200
    errors = response.context["form"].errors[field]
    if message:
        assert errors == [message]
        assert message in text(response)
    assert "There is a problem" in text(response)
    assert shown(response) == []
    export = steering_client.get("/p/alpha/audit/export.csv", query)
    assert export.status_code == 200
    assert len(read_csv(export)) == 1  # the header only


def test_audit_log_pages_through_many_entries(steering_client, alpha):
    for n in range(55):
        add_entry(alpha, "test.happened", f"Event number {n:02d}", datetime(2026, 1, 1, tzinfo=UTC))
    first = text(steering_client.get("/p/alpha/audit/"))
    assert "55 entries" in first
    assert "Page 1 of 2" in first
    second = steering_client.get("/p/alpha/audit/", {"page": 2, "q": "Event"})
    assert "Page 2 of 2" in text(second)
    assert text(second).count("Event number") == 5


def test_audit_log_runs_the_same_queries_for_10_and_60_entries(steering_client, alpha, alice):
    def add(n: int) -> None:
        organisation = make_partner(alpha).organisation
        with scope(partnership=alpha), acting(user=alice, organisation=organisation):
            for i in range(n):
                partner = make_partner(alpha)
                log_action(alpha, f"kind.{i % 7}", f"Thing {i}", partner, {"status": [None, "x"]})

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert steering_client.get("/p/alpha/audit/").status_code == 200
        return len(ctx.captured_queries)

    add(10)
    ten = queries()
    add(50)
    assert queries() == ten


# --- The CSV export ----------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def test_csv_export_contains_the_filtered_rows_only(steering_client, history):
    response = steering_client.get("/p/alpha/audit/export.csv", {"action": "partner.created"})

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="audit-alpha-')
    header, *rows = read_csv(response)
    assert header[:5] == ["When (UTC)", "Person", "Organisation", "Action", "Description"]
    assert [row[4] for row in rows] == ["Added Bedford Trust", "Added Luton Council"]
    assert rows[0][0] == "2026-03-31 23:30:00"
    assert all(row[3] == "partner.created" for row in rows)


def test_csv_export_never_contains_another_partnerships_rows(steering_client, history):
    body = "\n".join(
        ",".join(r) for r in read_csv(steering_client.get("/p/alpha/audit/export.csv"))
    )
    assert "Added Luton Council" in body
    assert "Beta" not in body


def test_csv_export_shows_changes_and_the_request_id(client, alpha, alice):
    client.force_login(alice)
    change = client.post("/p/alpha/settings/", {"name": "Alpha Renamed"})

    _header, row = read_csv(client.get("/p/alpha/audit/export.csv"))

    assert "name: 'Alpha Partnership' -> 'Alpha Renamed'" in row[6]
    assert row[7] == change["X-Request-ID"]


# --- The history of one record -----------------------------------------------------------


def test_object_history_shows_before_and_after(client, alpha, alice):
    client.force_login(alice)
    client.post("/p/alpha/settings/", {"name": "Alpha Renamed"})
    client.post("/p/alpha/settings/", {"name": "Alpha Final", "mfa_required": ""})
    content_type = ContentType.objects.get_for_model(Partnership)

    response = client.get(f"/p/alpha/audit/{content_type.pk}/{alpha.pk}/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "History of a partnership" in page
    assert '<del class="accord-diff-before">Alpha Partnership</del>' in page
    assert '<ins class="accord-diff-after">Alpha Renamed</ins>' in page
    assert '<ins class="accord-diff-after">Alpha Final</ins>' in page
    assert page.index("Alpha Final</ins>") < page.index("Alpha Renamed</ins>")  # newest first


def test_object_history_of_an_unknown_record_is_404(steering_client, alpha):
    content_type = ContentType.objects.get_for_model(Partnership)
    assert steering_client.get(f"/p/alpha/audit/{content_type.pk}/999999/").status_code == 404
    assert steering_client.get("/p/alpha/audit/999999/1/").status_code == 404


def test_audit_log_links_each_entry_to_its_record_history(client, alpha, alice):
    client.force_login(alice)
    client.post("/p/alpha/settings/", {"name": "Alpha Renamed"})
    content_type = ContentType.objects.get_for_model(Partnership)
    page = text(client.get("/p/alpha/audit/"))
    assert f"/p/alpha/audit/{content_type.pk}/{alpha.pk}/" in page


# --- Who may read it ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.VIEWER, 403),
        (Role.SIGNATORY, 403),
        (Role.IG_OFFICER, 403),
        (Role.DPO, 403),
        (Role.STEERING_GROUP, 200),
        (Role.ADMINISTRATOR, 200),
    ],
)
def test_who_may_read_the_audit_log(client, alpha, role, status):
    client.force_login(make_member(alpha, role).user)
    with scope(partnership=alpha):
        subject = log_action(alpha, "partnership.changed", "Changed", alpha)
    urls = [
        "/p/alpha/audit/",
        "/p/alpha/audit/export.csv",
        f"/p/alpha/audit/{subject.content_type_id}/{subject.object_id}/",
    ]
    for url in urls:
        assert client.get(url).status_code == status, url


def test_dashboard_shows_recent_activity_only_to_audit_readers(client, alpha, bob, entry):
    client.force_login(bob)
    assert "Recent activity" not in text(client.get("/p/alpha/"))
    client.force_login(make_member(alpha, Role.STEERING_GROUP).user)
    page = text(client.get("/p/alpha/"))
    assert "Recent activity" in page
    assert "Something happened" in page


def test_other_partnerships_entries_stay_out_of_the_dashboard(client, alpha, beta, alice):
    with scope(partnership=beta):
        log_action(beta, "test.happened", "Beta's secret event")
    client.force_login(alice)
    assert "Beta's secret event" not in text(client.get("/p/alpha/"))


def test_an_actor_who_is_deleted_is_refused_while_they_have_history(alpha):
    person = make_member(alpha).user
    with scope(partnership=alpha), acting(user=person):
        log_action(alpha, "test.happened", "Something happened")
    with pytest.raises(ProtectedError):
        person.delete()
