"""Partnerships: choosing one, creating one, its settings and its dashboard."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_scopes import scope, scopes_disabled

from signatories.models import Organisation, Partner, PartnerStatus
from tenancy.audit import log_action
from tenancy.models import AuditEntry, Membership, Partnership
from tenancy.roles import Role

from .factories import OrganisationFactory, UserFactory, make_invitation, make_member, make_partner
from .pages import form_errors
from .pages import page_html as text

# --- Choosing a partnership --------------------------------------------------------------


def test_chooser_lists_every_partnership_i_belong_to_and_switches_by_link(client, alpha, beta):
    person = make_member(alpha, Role.VIEWER).user
    make_member(beta, Role.DPO, user=person)
    client.force_login(person)

    page = text(client.get("/partnerships/"))

    assert "Alpha Partnership" in page
    assert "Beta Partnership" in page
    assert 'href="/p/alpha/"' in page
    assert 'href="/p/beta/"' in page
    assert "As Viewer for" in page
    assert "As Data protection officer for" in page

    alpha_dashboard = text(client.get("/p/alpha/"))
    assert "Alpha Partnership" in alpha_dashboard
    assert 'href="/partnerships/"' in alpha_dashboard  # the way back to switch
    beta_dashboard = text(client.get("/p/beta/"))
    assert "Beta Partnership" in beta_dashboard
    assert "as Data protection officer" in beta_dashboard


def test_chooser_shows_no_trace_of_a_partnership_i_am_not_in(client, alpha, beta, alice, charlie):
    make_partner(beta, OrganisationFactory(name="Beta Only Trust"))
    with scope(partnership=beta):
        log_action(beta, "test.happened", "Beta Partnership did something")
    client.force_login(alice)

    for url in [
        "/partnerships/",
        "/p/alpha/",
        "/p/alpha/people/",
        "/p/alpha/people/invite/",
        "/p/alpha/partners/",
        "/p/alpha/audit/",
        "/p/alpha/settings/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        page = text(response)
        assert "Beta Partnership" not in page, url
        assert "/p/beta/" not in page, url
        assert charlie.email not in page, url


def test_home_page_sends_a_signed_in_person_to_the_chooser(client, alice):
    client.force_login(alice)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/partnerships/"


def test_chooser_for_someone_in_no_partnership(client, db):
    client.force_login(UserFactory())
    page = text(client.get("/partnerships/"))
    assert "You are not a member of any partnership yet." in page
    assert "Create a partnership" in page


@pytest.mark.parametrize("url", ["/partnerships/", "/partnerships/new/"])
def test_chooser_and_creation_need_sign_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Creating a partnership --------------------------------------------------------------


@pytest.fixture
def founder(client, db):
    person = UserFactory(full_name="Fran Founder")
    client.force_login(person)
    return person


def create(client, **values):
    data = {"name": "Gamma Forum", "slug": "gamma", "description": "A new forum", **values}
    return client.post("/partnerships/new/", {k: v for k, v in data.items() if v is not None})


def test_creating_a_partnership_makes_me_administrator_and_my_organisation_a_partner(
    client, founder
):
    organisation = OrganisationFactory(name="Bedford Borough Council")

    response = create(client, organisation=organisation.pk)

    assert response.status_code == 302
    assert response["Location"] == "/p/gamma/"
    gamma = Partnership.objects.get(slug="gamma")
    assert gamma.name == "Gamma Forum"
    with scope(partnership=gamma):
        membership = Membership.objects.get()
        partner = Partner.objects.get()
        actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert membership.user == founder
    assert membership.roles == [Role.ADMINISTRATOR]
    assert membership.organisation == organisation
    assert partner.organisation == organisation
    assert partner.status == PartnerStatus.ACTIVE
    assert actions == {"partnership.created", "membership.created", "partner.created"}

    dashboard = text(client.get(response["Location"]))
    assert "Gamma Forum has been created." in dashboard
    assert "as Partnership administrator" in dashboard
    assert "Gamma Forum" in text(client.get("/partnerships/"))


def test_creating_a_partnership_with_a_new_organisation(client, founder):
    response = create(client, new_organisation="  Wider Eastern Trust  ")

    assert response.status_code == 302
    organisation = Organisation.objects.get(name="Wider Eastern Trust")
    gamma = Partnership.objects.get(slug="gamma")
    with scope(partnership=gamma):
        assert Membership.objects.get().organisation == organisation
        assert Partner.objects.get().organisation == organisation


def test_creating_without_an_organisation_asks_for_one(client, founder):
    response = create(client)
    assert response.status_code == 200
    assert form_errors(response, "organisation") == ["Choose your organisation or enter its name."]
    assert not Partnership.objects.filter(slug="gamma").exists()


def test_a_slug_in_use_is_a_field_error_and_nothing_is_created(client, founder, alpha):
    organisations = Organisation.objects.count()

    response = create(client, slug="alpha", new_organisation="Unused Council")

    assert response.status_code == 200
    assert form_errors(response, "slug") == [
        "A partnership already uses this short name. Choose another."
    ]
    assert "A partnership already uses this short name. Choose another." in text(response)
    assert Partnership.objects.count() == 1
    assert Organisation.objects.count() == organisations
    with scopes_disabled():
        assert not Membership.objects.filter(user=founder).exists()


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("admin", "This short name is reserved. Choose another."),
        ("new", "This short name is reserved. Choose another."),
        ("Capitals", "Use lower-case letters, numbers and single hyphens"),
        ("double--hyphen", "Use lower-case letters, numbers and single hyphens"),
        ("-leading", "Use lower-case letters, numbers and single hyphens"),
        ("under_score", "Use lower-case letters, numbers and single hyphens"),
        ("has space", None),
        ("", "Enter a short name for web addresses."),
    ],
)
def test_a_reserved_or_malformed_slug_is_a_field_error(client, founder, slug, message):
    organisation = OrganisationFactory()

    response = create(client, slug=slug, organisation=organisation.pk)

    assert response.status_code == 200
    errors = form_errors(response, "slug")
    assert errors, slug
    if message:
        assert errors[0].startswith(message)
    assert "There is a problem" in text(response)
    assert not Partnership.objects.exists()


def test_a_partnership_needs_a_name(client, founder):
    response = create(client, name="", organisation=OrganisationFactory().pk)
    assert form_errors(response, "name") == ["Enter the partnership's name."]
    assert not Partnership.objects.exists()


# --- Settings ----------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


def test_settings_change_name_and_mfa_with_an_audit_entry(admin_client, alpha):
    response = admin_client.post(
        "/p/alpha/settings/",
        {"name": "Alpha Forum", "description": "Renamed", "mfa_required": "on"},
    )

    assert response.status_code == 302
    alpha.refresh_from_db()
    assert alpha.name == "Alpha Forum"
    assert alpha.mfa_required is True
    assert alpha.slug == "alpha"
    with scope(partnership=alpha):
        entry = AuditEntry.objects.get(action="partnership.changed")
    assert entry.changes["name"] == ["Alpha Partnership", "Alpha Forum"]
    assert entry.changes["mfa_required"] == [False, True]
    # The administrator now needs an authenticator app too.
    assert admin_client.get("/p/alpha/settings/")["Location"].startswith("/accounts/2fa/")


def test_settings_saved_message(admin_client, alpha):
    response = admin_client.post("/p/alpha/settings/", {"name": "Alpha Forum"}, follow=True)
    assert "The partnership's settings have been saved." in text(response)
    assert "Alpha Forum" in text(response)


def test_settings_without_a_name_change_nothing(admin_client, alpha):
    response = admin_client.post("/p/alpha/settings/", {"name": "", "mfa_required": "on"})

    assert response.status_code == 200
    assert form_errors(response, "name") == ["Enter the partnership's name."]
    alpha.refresh_from_db()
    assert alpha.name == "Alpha Partnership"
    assert alpha.mfa_required is False
    with scope(partnership=alpha):
        assert not AuditEntry.objects.exists()


def test_settings_saved_unchanged_write_no_entry(admin_client, alpha):
    admin_client.post("/p/alpha/settings/", {"name": "Alpha Partnership"})
    with scope(partnership=alpha):
        assert not AuditEntry.objects.exists()


def test_settings_cannot_change_the_slug(admin_client, alpha):
    admin_client.post("/p/alpha/settings/", {"name": "Alpha Partnership", "slug": "other"})
    alpha.refresh_from_db()
    assert alpha.slug == "alpha"


# --- Dashboard ---------------------------------------------------------------------------


def card(page: str, count: int, label: str) -> bool:
    return f'<span class="accord-card__count">{count}</span> {label}' in page


def test_dashboard_shows_the_counts_of_active_partners_and_people(client, alpha, beta, alice, bob):
    # alice and bob each act for a partner of their own: 2 active partners so far.
    make_partner(alpha)
    make_partner(alpha, status=PartnerStatus.WITHDRAWN)
    make_partner(alpha, status=PartnerStatus.INVITED)
    make_invitation(alpha)  # its organisation becomes a third active partner
    make_member(beta, Role.VIEWER)
    make_partner(beta)
    client.force_login(bob)

    page = client.get("/p/alpha/").content.decode()

    assert card(page, 4, "Active partners")
    assert card(page, 2, "People")


def test_dashboard_runs_the_same_queries_for_2_and_30_partners(client, alpha, alice):
    client.force_login(alice)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/p/alpha/").status_code == 200
        return len(ctx.captured_queries)

    make_partner(alpha)
    few = queries()
    for _ in range(28):
        make_partner(alpha)
    assert card(client.get("/p/alpha/").content.decode(), 30, "Active partners")
    assert queries() == few
