"""The isolation matrix: every page of a partnership, for every kind of visitor.

The pages are found by walking the root URL resolver, so a page added later is covered
without editing this file. Its URL arguments are filled from `URL_ARGUMENTS`; a page with an
argument this file does not know fails with a message saying what to add.

What each visitor must see, on every page under /p/<slug>/:

- someone not signed in: the sign-in page;
- a member of another partnership only, or a superuser who is not a member: 404;
- a member whose roles lack the page's permission: 403;
- a member whose roles grant it: the page (405 to GET for views that only take POST);
- another partnership's records, addressed by id through this partnership's pages: 404.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib.messages import get_messages
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve, reverse
from django_scopes import ScopeError, scope, scopes_disabled

from signatories.models import Partner
from tenancy.audit import log_action
from tenancy.models import AuditEntry, Invitation, Membership, Partnership
from tenancy.permissions import required_permission, requires
from tenancy.roles import GRANTS, Perm, Role

from .breach_factories import breach_records
from .factories import (
    UserFactory,
    agreement_records,
    first_signatory,
    make_invitation,
    make_member,
    make_outbox_message,
    make_partner,
    make_signatory,
    open_request,
    protocol_records,
)
from .review_factories import review_records

SLUG = "partnership_slug"


# --- The pages ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    route: str
    name: str
    kwarg_names: tuple[str, ...]

    def __str__(self) -> str:
        return self.name or self.route


def _walk(patterns, route: str = "", namespace: str = "", defaults: frozenset = frozenset()):
    for pattern in patterns:
        kwargs = tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            ns = namespace
            if pattern.namespace:
                ns = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from (
                Page(page.route, page.name, kwargs + page.kwarg_names)
                for page in _walk(
                    pattern.url_patterns,
                    route + str(pattern.pattern),
                    ns,
                    defaults | set(pattern.default_kwargs),
                )
            )
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            fixed = defaults | set(pattern.default_args)
            yield Page(
                route + str(pattern.pattern),
                name or "",
                tuple(k for k in kwargs if k not in fixed),
            )


def _partnership_pages() -> list[Page]:
    pages = [
        page
        for page in _walk(get_resolver().url_patterns)
        if SLUG in page.kwarg_names or page.route.startswith("p/")
    ]
    # Leaf kwargs come last in the walk; keep the first (outermost) order, without repeats.
    return [Page(p.route, p.name, tuple(dict.fromkeys(p.kwarg_names))) for p in pages]


PAGES = _partnership_pages()


@dataclass
class World:
    """One partnership and a record of each kind that its pages address by id."""

    partnership: Partnership
    partner: Partner
    membership: Membership
    invitation: Invitation
    audit_entry: AuditEntry


# How to fill each URL argument of a partnership page from a World.
URL_ARGUMENTS: dict[str, Callable[[World], object]] = {
    SLUG: lambda w: w.partnership.slug,
    "membership_id": lambda w: w.membership.pk,
    "invitation_id": lambda w: w.invitation.pk,
    "partner_id": lambda w: w.partner.pk,
    # The object history page addresses the record of an audit entry.
    "content_type_id": lambda w: w.audit_entry.content_type_id,
    "object_id": lambda w: w.audit_entry.object_id,
    # Made on first use: the partner's authorised signatory and an unanswered request to it.
    "signatory_id": lambda w: first_signatory(w.partner).pk,
    "request_id": lambda w: open_request(w.partner).pk,
    # Made on first use: a draft protocol led by the world's partner, and the legislation
    # library it copies.
    "protocol_id": lambda w: protocol_records(w.partnership)[0].pk,
    "version_id": lambda w: protocol_records(w.partnership)[1].pk,
    "section_id": lambda w: protocol_records(w.partnership)[2].pk,
    "legislation_id": lambda w: protocol_records(w.partnership)[3].pk,
    # Made on first use: a draft agreement led by the world's partner with a second party,
    # and its data item; sections are addressed by their key.
    "agreement_id": lambda w: agreement_records(w.partnership)[0].pk,
    "item_id": lambda w: agreement_records(w.partnership)[1].pk,
    # The agreement's other party: the one its data item comes from.
    "party_id": lambda w: agreement_records(w.partnership)[1].from_party_id,
    "section_key": lambda w: "summary",
    # An e-mail of the partnership the outbox could not deliver.
    "message_id": lambda w: make_outbox_message(w.partnership).pk,
    # Made on first use: a breach logged by a DPO of the world's partner, and its ICO
    # obligation.
    "breach_id": lambda w: breach_records(w.partnership)[0].pk,
    "obligation_id": lambda w: breach_records(w.partnership)[1].pk,
    # Made on first use: a protocol in force, and the review cycle it started.
    "cycle_id": lambda w: review_records(w.partnership).pk,
}


def build_world(partnership: Partnership) -> World:
    partner = make_partner(partnership)
    membership = make_member(partnership, Role.VIEWER, organisation=partner.organisation)
    invitation, _token = make_invitation(partnership, organisation=partner.organisation)
    with scope(partnership=partnership):
        entry = log_action(partnership, "partner.created", f"Added {partner}", partner)
    return World(partnership, partner, membership, invitation, entry)


def url_of(page: Page, world: World, slug_from: World | None = None) -> str:
    missing = [k for k in page.kwarg_names if k not in URL_ARGUMENTS]
    if missing:
        pytest.fail(
            f"The page {page} ({page.route}) takes {', '.join(missing)}, which the isolation "
            "matrix cannot fill. Add an entry to URL_ARGUMENTS in tests/test_isolation.py "
            "(and the record to build_world) giving a record of the partnership for it."
        )
    kwargs = {k: URL_ARGUMENTS[k](world) for k in page.kwarg_names}
    if slug_from is not None:
        kwargs[SLUG] = slug_from.partnership.slug
    if page.name:
        return reverse(page.name, kwargs=kwargs)
    pytest.fail(f"The partnership page {page.route} has no name: name it so it can be tested.")


def allowed_methods(view) -> set[str] | None:
    """The methods a view accepts if it is wrapped by require_http_methods (require_POST...)."""
    while view is not None:
        if inspect.isfunction(view):
            methods = inspect.getclosurevars(view).nonlocals.get("request_method_list")
            if methods is not None:
                return set(methods)
        view = getattr(view, "__wrapped__", None)
    return None


def post_only(url: str) -> bool:
    methods = allowed_methods(resolve(url).func)
    return methods is not None and "GET" not in methods


def sign_in_url(next_url: str) -> str:
    return f"{reverse('account_login')}?next={next_url}"


# --- Fixtures ----------------------------------------------------------------------------


@pytest.fixture
def a(alpha) -> World:
    return build_world(alpha)


@pytest.fixture
def b(beta) -> World:
    return build_world(beta)


def member_of(world: World, *roles: Role):
    """A member acting for the world's partner; a signatory is also its authorised signatory
    (by their own address), as signing in the app requires."""
    user = make_member(world.partnership, *roles, organisation=world.partner.organisation).user
    if Role.SIGNATORY in roles:
        make_signatory(world.partner, name=user.full_name, email=user.email)
    return user


pattern_params = pytest.mark.parametrize("pattern", PAGES, ids=str)


# --- The walk itself ---------------------------------------------------------------------


def test_the_walk_finds_every_known_partnership_page():
    names = {page.name for page in PAGES}
    assert {
        "tenancy:dashboard",
        "tenancy:settings",
        "tenancy:people",
        "tenancy:invite",
        "tenancy:membership",
        "tenancy:remove_membership",
        "tenancy:resend_invitation",
        "tenancy:revoke_invitation",
        "tenancy:audit",
        "tenancy:audit_export",
        "tenancy:object_history",
        "signatories:partners",
        "signatories:partner",
        "signatories:partner_status",
    } <= names
    assert all(SLUG in page.kwarg_names for page in PAGES), "every /p/ page takes the slug"


@pattern_params
def test_every_partnership_page_declares_a_permission(pattern, a):
    assert required_permission(resolve(url_of(pattern, a)).func) in set(Perm)


# --- Visitors who are not in the partnership ---------------------------------------------


@pattern_params
def test_visitor_who_is_not_signed_in_is_sent_to_sign_in(pattern, client, a):
    url = url_of(pattern, a)
    for method in (client.get, client.post):
        response = method(url)
        assert response.status_code == 302, f"{method.__name__.upper()} {url}"
        assert response["Location"] == sign_in_url(url)


@pattern_params
def test_member_of_another_partnership_gets_404(pattern, client, a, b):
    client.force_login(member_of(b, *Role))
    url = url_of(pattern, a)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert "Alpha" not in client.get(url).content.decode()


@pattern_params
def test_superuser_who_is_not_a_member_gets_404(pattern, client, a):
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    url = url_of(pattern, a)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


# --- Members, role by role -------------------------------------------------------------


@pattern_params
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_member_sees_the_page_only_if_a_role_grants_its_permission(pattern, role, client, a):
    url = url_of(pattern, a)
    perm = required_permission(resolve(url).func)
    client.force_login(member_of(a, role))
    response = client.get(url)
    if role not in GRANTS[perm]:
        assert response.status_code == 403, f"{role} lacks {perm} on {url}"
        assert client.post(url).status_code == 403
        return
    if post_only(url):
        assert response.status_code == 405
        response = client.post(url)
        assert response.status_code == 302, f"POST {url} as {role}"
    elif response.status_code == 302:
        # Pages that only make sense after a form (confirm an import) send you back in.
        assert response["Location"].startswith(f"/p/{a.partnership.slug}/")
    else:
        assert response.status_code == 200, f"{role} has {perm} on {url}"
        if response.streaming:
            b"".join(response.streaming_content)  # the whole download, not only its start


# --- Another partnership's records through this partnership's pages ------------------------

OBJECT_PAGES = [page for page in PAGES if set(page.kwarg_names) - {SLUG}]


@pytest.mark.parametrize("pattern", OBJECT_PAGES, ids=str)
def test_another_partnerships_record_is_not_found_through_this_partnerships_pages(
    pattern, client, a, b
):
    # A person in both partnerships, with every role, so only the record's tenant can stop it.
    person = member_of(a, *Role)
    make_member(b.partnership, *Role, user=person, organisation=b.partner.organisation)
    client.force_login(person)
    url = url_of(pattern, b, slug_from=a)
    with scope(partnership=b.partnership):
        entries_before = AuditEntry.objects.count()

    if not post_only(url):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b.partner.organisation.name not in response.content.decode()
    assert client.post(url, {"roles": ["viewer"], "status": "withdrawn"}).status_code == 404

    with scope(partnership=b.partnership):
        assert AuditEntry.objects.count() == entries_before
        assert Invitation.objects.get(pk=b.invitation.pk).state == "pending"
        assert Membership.objects.get(pk=b.membership.pk).roles == [Role.VIEWER]
        assert Partner.objects.get(pk=b.partner.pk).status == b.partner.status


def test_known_examples_of_cross_tenant_addresses_are_404(client, a, b, alice):
    client.force_login(alice)
    for url in [
        f"/p/alpha/partners/{b.partner.pk}/",
        f"/p/alpha/partners/{b.partner.pk}/status/",
        f"/p/alpha/people/{b.membership.pk}/",
        f"/p/alpha/people/{b.membership.pk}/remove/",
        f"/p/alpha/audit/{b.audit_entry.content_type_id}/{b.audit_entry.object_id}/",
    ]:
        assert client.get(url).status_code == 404, url
    for url in [
        f"/p/alpha/invitations/{b.invitation.pk}/resend/",
        f"/p/alpha/invitations/{b.invitation.pk}/revoke/",
    ]:
        assert client.post(url).status_code == 404, url


def test_an_unknown_partnership_is_404_and_tells_nothing(client, alice):
    assert client.get("/p/no-such-partnership/").status_code == 302
    client.force_login(alice)
    assert client.get("/p/no-such-partnership/").status_code == 404


# --- The database path: unscoped queries -------------------------------------------------


def scoped_models() -> list[type]:
    return [
        model
        for model in apps.get_models()
        if hasattr(model._default_manager, "with_scopes_disabled")
    ]


def test_every_tenant_owned_model_refuses_an_unscoped_query(a):
    found = scoped_models()
    assert {Membership, Invitation, AuditEntry, Partner} <= set(found)
    for model in found:
        with pytest.raises(ScopeError):
            list(model.objects.all())
        with pytest.raises(ScopeError):
            model.objects.count()
        with scopes_disabled():
            model.objects.count()  # crossing tenants works once it is said out loud


def test_every_model_that_belongs_to_a_partnership_is_scoped():
    owned = [
        model
        for model in apps.get_models()
        if any(
            getattr(field, "related_model", None) is Partnership
            for field in model._meta.concrete_fields
        )
    ]
    assert owned
    unscoped = [m._meta.label for m in owned if m not in scoped_models()]
    assert not unscoped, f"give these a django_scopes.ScopedManager: {unscoped}"


def test_a_scope_shows_only_its_own_partnerships_rows(a, b):
    with scope(partnership=a.partnership):
        assert list(Partner.objects.all()) == [a.partner]
        assert list(Invitation.objects.all()) == [a.invitation]
        assert not AuditEntry.objects.filter(pk=b.audit_entry.pk).exists()


# --- The middleware's own rules ----------------------------------------------------------


def undeclared_view(request, **kwargs):
    return HttpResponse("served")


@requires(Perm.VIEW)
def declared_view(request, **kwargs):
    return HttpResponse(f"served {request.partnership.slug}")


urlpatterns = [
    path("p/<slug:partnership_slug>/undeclared/", undeclared_view),
    path("p/<slug:partnership_slug>/declared/", declared_view),
]


@pytest.mark.urls("tests.test_isolation")
def test_a_partnership_page_without_a_permission_is_refused_by_the_middleware(client, alice):
    client.force_login(alice)
    assert client.get("/p/alpha/declared/").content == b"served alpha"
    with pytest.raises(ImproperlyConfigured, match="without a permission"):
        client.get("/p/alpha/undeclared/")


def test_partnership_requiring_mfa_sends_a_member_without_totp_to_set_it_up(client, alpha, bob):
    alpha.mfa_required = True
    alpha.save()
    client.force_login(bob)

    response = client.get("/p/alpha/people/")

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('mfa_activate_totp')}?next=/p/alpha/people/"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Alpha Partnership requires two-factor authentication. "
        "Set up an authenticator app to continue."
    ]


def test_partnership_requiring_mfa_lets_in_a_member_with_totp(client, alpha, bob):
    alpha.mfa_required = True
    alpha.save()
    Authenticator.objects.create(user=bob, type=Authenticator.Type.TOTP, data={"secret": "x"})
    client.force_login(bob)

    assert client.get("/p/alpha/people/").status_code == 200


def test_mfa_is_not_asked_of_a_partnership_that_does_not_require_it(client, alpha, beta, bob):
    beta.mfa_required = True
    beta.save()
    client.force_login(bob)
    assert client.get("/p/alpha/").status_code == 200
