"""People in a partnership: invitations by e-mail, joining, roles and removal."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_scopes import scope

from tenancy.models import AuditEntry, Invitation, Membership
from tenancy.roles import Role

from .factories import (
    PASSWORD,
    OrganisationFactory,
    PartnershipFactory,
    UserFactory,
    make_invitation,
    make_member,
    make_partner,
)
from .pages import form_errors
from .pages import page_html as text

User = get_user_model()
LINK = re.compile(r"https?://[^/\s\"]+(/invitations/[A-Za-z0-9_-]+/)")
NEW_PASSWORD = "a-long-and-unusual-passphrase"


def audit_actions(partnership) -> list[str]:
    with scope(partnership=partnership):
        return list(AuditEntry.objects.order_by("id").values_list("action", flat=True))


@pytest.fixture
def council(alpha):
    """A partner organisation of Alpha."""
    return make_partner(alpha, OrganisationFactory(name="Luton Borough Council")).organisation


@pytest.fixture
def admin_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def send_invitation(admin_client, council, django_capture_on_commit_callbacks):
    """Alice invites someone through the page; the e-mail goes out when the request commits."""

    def send(email="new.person@example.gov.uk", roles=("ig_officer", "signatory"), **extra):
        data = {
            "email": email,
            "full_name": "New Person",
            "organisation": council.pk,
            "roles": list(roles),
            **extra,
        }
        with django_capture_on_commit_callbacks(execute=True):
            return admin_client.post("/p/alpha/people/invite/", data)

    return send


def link_in(message) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    return match.group(1)


# --- Inviting ----------------------------------------------------------------------------


def test_invitation_sends_an_email_with_a_link_that_opens_the_accept_page(
    send_invitation, outbox, alpha, client
):
    response = send_invitation()

    assert response.status_code == 302
    assert response["Location"] == "/p/alpha/people/"
    assert "An invitation has been sent to new.person@example.gov.uk." in text(
        client.get(response["Location"])
    )
    assert len(outbox) == 1
    message = outbox[0]
    assert message.to == ["new.person@example.gov.uk"]
    assert "Alpha Partnership" in message.subject
    assert "IG officer, Authorised signatory" in message.body
    assert "Luton Borough Council" in message.body
    path = link_in(message)
    assert len(message.alternatives) == 1
    html_part, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'href="{settings.SITE_URL}{path}"' in html_part
    assert f"{settings.SITE_URL}{path}" in message.body

    client.logout()
    page = client.get(path)
    assert page.status_code == 200
    assert "Join Alpha Partnership" in text(page)
    assert "new.person@example.gov.uk" in text(page)
    assert "Create your account" in text(page)


def test_invitation_is_recorded_with_its_roles_and_organisation(send_invitation, alpha, council):
    send_invitation()

    with scope(partnership=alpha):
        invitation = Invitation.objects.get()
        entry = AuditEntry.objects.get(action="invitation.created")
    assert invitation.state == "pending"
    assert invitation.roles == [Role.IG_OFFICER, Role.SIGNATORY]
    assert invitation.organisation == council
    assert entry.object_id == str(invitation.pk)
    assert entry.changes["email"] == [None, "new.person@example.gov.uk"]


def test_pending_invitations_are_listed_for_administrators(send_invitation, admin_client):
    send_invitation()
    page = text(admin_client.get("/p/alpha/people/"))
    assert "Invitations waiting to be accepted" in page
    assert "new.person@example.gov.uk" in page


def test_inviting_an_existing_member_is_an_error_by_the_email_field(
    send_invitation, alpha, bob, outbox
):
    response = send_invitation(email=bob.email.upper())

    assert response.status_code == 200
    assert form_errors(response, "email") == [
        f"{bob.email} is already a member of Alpha Partnership."
    ]
    assert "There is a problem" in text(response)
    with scope(partnership=alpha):
        assert not Invitation.objects.exists()
    assert outbox == []


def test_inviting_someone_already_invited_is_an_error(send_invitation, alpha, outbox):
    send_invitation()
    response = send_invitation(email="New.Person@example.gov.uk")

    assert response.status_code == 200
    assert form_errors(response, "email") == [
        "new.person@example.gov.uk has already been invited. Resend that invitation instead."
    ]
    with scope(partnership=alpha):
        assert Invitation.objects.count() == 1
    assert len(outbox) == 1


def test_someone_whose_invitation_expired_can_be_invited_again(send_invitation, alpha):
    make_invitation(
        alpha, email="new.person@example.gov.uk", expires_at=timezone.now() - timedelta(days=1)
    )
    assert send_invitation().status_code == 302


def test_inviting_without_roles_asks_for_one(send_invitation, alpha, outbox):
    response = send_invitation(roles=())

    assert response.status_code == 200
    assert form_errors(response, "roles") == ["Choose at least one role."]
    assert "Choose at least one role." in text(response)
    with scope(partnership=alpha):
        assert not Invitation.objects.exists()
    assert outbox == []


def test_inviting_with_a_bad_email_address_is_an_error(send_invitation, alpha):
    response = send_invitation(email="not an address")
    assert form_errors(response, "email") == ["Enter an e-mail address like name@example.gov.uk."]
    with scope(partnership=alpha):
        assert not Invitation.objects.exists()


def test_an_email_address_too_long_to_store_is_a_field_error(send_invitation, alpha, outbox):
    response = send_invitation(email=f"{'a' * 60}.{'b' * 60}.{'c' * 60}.{'d' * 60}@example.org")

    assert response.status_code == 200
    assert form_errors(response, "email")
    with scope(partnership=alpha):
        assert not Invitation.objects.exists()
    assert outbox == []


def test_the_organisation_must_be_one_of_the_partnerships_partners(
    send_invitation, alpha, beta, outbox
):
    betas_organisation = make_partner(beta).organisation
    for organisation in (betas_organisation, OrganisationFactory()):
        response = send_invitation(organisation=organisation.pk)

        assert response.status_code == 200
        assert form_errors(response, "organisation") == [
            "Choose one of the partnership's organisations."
        ]
    assert betas_organisation.name not in text(response)
    with scope(partnership=alpha):
        assert not Invitation.objects.exists()
    assert outbox == []


def test_a_withdrawn_partner_is_not_offered(admin_client, alpha):
    gone = make_partner(alpha, OrganisationFactory(name="Gone Trust"), status="withdrawn")
    page = admin_client.get("/p/alpha/people/invite/")
    assert gone.organisation.name not in text(page)


# --- Accepting ---------------------------------------------------------------------------


def accept(client, path, full_name="New Person", password=NEW_PASSWORD, confirm=None):
    return client.post(
        path,
        {"full_name": full_name, "password1": password, "password2": confirm or password},
    )


def test_accepting_creates_the_account_and_membership_and_signs_in(
    send_invitation, outbox, client, alpha, council
):
    send_invitation()
    path = link_in(outbox[0])
    client.logout()

    response = accept(client, path, full_name="Nia Person")

    assert response.status_code == 302
    assert response["Location"] == "/p/alpha/"
    user = User.objects.get(email="new.person@example.gov.uk")
    assert user.full_name == "Nia Person"
    assert user.check_password(NEW_PASSWORD)
    with scope(partnership=alpha):
        membership = Membership.objects.get(user=user)
        invitation = Invitation.objects.get()
        entry = AuditEntry.objects.get(action="membership.created", object_id=membership.pk)
    assert membership.roles == [Role.IG_OFFICER, Role.SIGNATORY]
    assert membership.organisation == council
    assert invitation.state == "accepted"
    assert invitation.accepted_by == user
    assert entry.actor == user
    assert entry.organisation == council
    assert entry.changes["roles"] == [None, ["IG officer", "Authorised signatory"]]
    assert entry.request_id == response["X-Request-ID"]

    dashboard = client.get("/p/alpha/")
    assert dashboard.status_code == 200
    assert "Welcome to Alpha Partnership." in text(dashboard)
    assert dashboard.wsgi_request.user == user


def test_accepting_with_passwords_that_differ_creates_nothing(send_invitation, outbox, client):
    send_invitation()
    path = link_in(outbox[0])
    client.logout()

    response = accept(client, path, confirm="something-else-entirely")

    assert response.status_code == 200
    assert form_errors(response, "password2") == ["The passwords do not match."]
    assert not User.objects.filter(email="new.person@example.gov.uk").exists()


def test_accepting_with_a_weak_password_creates_nothing(send_invitation, outbox, client):
    send_invitation()
    path = link_in(outbox[0])
    client.logout()

    response = accept(client, path, password="password")

    assert response.status_code == 200
    assert form_errors(response, "password1")
    assert not User.objects.filter(email="new.person@example.gov.uk").exists()


def test_the_link_works_once(send_invitation, outbox, client, alpha):
    send_invitation()
    path = link_in(outbox[0])
    client.logout()
    accept(client, path)
    client.logout()

    for response in (client.get(path), accept(client, path)):
        assert response.status_code == 410
        assert "This invitation has already been used. Sign in to open the partnership." in text(
            response
        )
    with scope(partnership=alpha):
        assert Membership.objects.filter(user__email="new.person@example.gov.uk").count() == 1


def test_the_link_works_once_even_for_the_signed_in_invitee(send_invitation, outbox, client):
    send_invitation()
    path = link_in(outbox[0])
    client.logout()
    accept(client, path)  # signs in as the new person

    response = client.post(path)

    assert response.status_code == 410
    assert "already been used" in text(response)


def test_an_expired_link_says_so(client, alpha):
    invitation, token = make_invitation(alpha)
    with scope(partnership=alpha):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )

    for response in (
        client.get(f"/invitations/{token}/"),
        accept(client, f"/invitations/{token}/"),
    ):
        assert response.status_code == 410
        assert (
            "This invitation has expired. Ask the partnership's administrator to send it again."
            in text(response)
        )
    assert not User.objects.filter(email=invitation.email).exists()


def test_a_withdrawn_link_says_so(send_invitation, outbox, admin_client, alpha):
    send_invitation()
    path = link_in(outbox[0])
    with scope(partnership=alpha):
        invitation = Invitation.objects.get()

    response = admin_client.post(f"/p/alpha/invitations/{invitation.pk}/revoke/", follow=True)
    assert "The invitation to new.person@example.gov.uk was withdrawn." in text(response)
    assert "Invitations waiting to be accepted" not in text(response)

    admin_client.logout()
    response = admin_client.get(path)
    assert response.status_code == 410
    assert "This invitation was withdrawn." in text(response)
    assert "revoked" in audit_actions(alpha)[-1]


def test_an_unknown_link_says_so(client, db):
    response = client.get("/invitations/not-a-real-token/")
    assert response.status_code == 404
    assert "This invitation link is not valid." in text(response)


def test_resending_sends_a_new_link_and_voids_the_old_one(
    send_invitation, outbox, admin_client, alpha, django_capture_on_commit_callbacks
):
    send_invitation()
    old = link_in(outbox[0])
    with scope(partnership=alpha):
        invitation = Invitation.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"/p/alpha/invitations/{invitation.pk}/resend/", follow=True)

    assert "The invitation to new.person@example.gov.uk has been sent again." in text(response)
    assert len(outbox) == 2
    new = link_in(outbox[1])
    assert new != old
    assert "invitation.resent" in audit_actions(alpha)
    admin_client.logout()
    assert admin_client.get(old).status_code == 404
    assert admin_client.get(new).status_code == 200


def test_a_used_invitation_cannot_be_resent_or_withdrawn(admin_client, alpha, outbox):
    invitation, _token = make_invitation(alpha, accepted_at=timezone.now())

    for action in ("resend", "revoke"):
        response = admin_client.post(f"/p/alpha/invitations/{invitation.pk}/{action}/", follow=True)
        assert "This invitation has already been used or withdrawn." in text(response)
    assert outbox == []
    with scope(partnership=alpha):
        assert Invitation.objects.get(pk=invitation.pk).revoked_at is None


def test_an_existing_account_signed_in_joins_without_a_password_form(client, alpha):
    person = UserFactory(email="existing@example.gov.uk")
    _invitation, token = make_invitation(alpha, Role.DPO, email="existing@example.gov.uk")
    client.force_login(person)

    page = client.get(f"/invitations/{token}/")
    assert page.status_code == 200
    assert "Accept and join" in text(page)
    assert "password" not in text(page).lower()

    response = client.post(f"/invitations/{token}/")

    assert response.status_code == 302
    with scope(partnership=alpha):
        assert Membership.objects.get(user=person).roles == [Role.DPO]
    assert client.get("/p/alpha/").status_code == 200


def test_an_existing_account_not_signed_in_is_asked_to_sign_in(client, alpha):
    UserFactory(email="existing@example.gov.uk")
    _invitation, token = make_invitation(alpha, email="existing@example.gov.uk")

    for response in (
        client.get(f"/invitations/{token}/"),
        accept(client, f"/invitations/{token}/"),
    ):
        assert response.status_code == 200
        assert "You already have an Accord account as existing@example.gov.uk." in text(response)
        assert f"/accounts/login/?next=/invitations/{token}/" in text(response)
    with scope(partnership=alpha):
        assert not Membership.objects.filter(user__email="existing@example.gov.uk").exists()


def test_signing_in_from_the_invitation_comes_back_to_it(client, alpha):
    UserFactory(email="existing@example.gov.uk")
    _invitation, token = make_invitation(alpha, email="existing@example.gov.uk")

    response = client.post(
        f"/accounts/login/?next=/invitations/{token}/",
        {"login": "existing@example.gov.uk", "password": PASSWORD},
    )

    assert response.status_code == 302
    assert response["Location"] == f"/invitations/{token}/"


def test_signed_in_as_someone_else_is_refused(client, alpha, bob):
    _invitation, token = make_invitation(alpha, email="someone.else@example.gov.uk")
    client.force_login(bob)

    for response in (client.get(f"/invitations/{token}/"), client.post(f"/invitations/{token}/")):
        assert response.status_code == 403
        assert (
            f"This invitation is for someone.else@example.gov.uk, but you are signed in as "
            f"{bob.email}." in text(response)
        )
    assert not User.objects.filter(email="someone.else@example.gov.uk").exists()


def test_an_invitation_to_an_existing_member_cannot_make_a_second_membership(client, alpha, bob):
    _invitation, token = make_invitation(alpha, Role.DPO, email=bob.email)
    client.force_login(bob)

    response = client.post(f"/invitations/{token}/")

    assert response.status_code == 409
    assert "You are already a member of Alpha Partnership." in text(response)
    with scope(partnership=alpha):
        assert Membership.objects.get(user=bob).roles == [Role.VIEWER]


def test_accepting_one_partnerships_invitation_does_not_touch_another(client, alpha, beta, bob):
    _invitation, token = make_invitation(beta, Role.DPO, email=bob.email)
    client.force_login(bob)

    assert client.post(f"/invitations/{token}/").status_code == 302

    with scope(partnership=alpha):
        assert Membership.objects.get(user=bob).roles == [Role.VIEWER]
    with scope(partnership=beta):
        assert Membership.objects.get(user=bob).roles == [Role.DPO]


# --- Changing roles and removing people ---------------------------------------------------


def membership_of(partnership, user) -> Membership:
    with scope(partnership=partnership):
        return Membership.objects.select_related("organisation").get(user=user)


def test_administrator_changes_a_persons_roles_and_organisation(admin_client, alpha, bob, council):
    member = membership_of(alpha, bob)

    response = admin_client.post(
        f"/p/alpha/people/{member.pk}/",
        {"roles": ["steering_group", "dpo"], "organisation": council.pk},
        follow=True,
    )

    assert f"{bob}'s roles have been saved." in text(response)
    member = membership_of(alpha, bob)
    assert member.roles == [Role.STEERING_GROUP, Role.DPO]
    assert member.organisation == council
    with scope(partnership=alpha):
        entry = AuditEntry.objects.get(action="membership.changed")
    assert entry.changes["roles"] == [
        ["Viewer"],
        ["Steering group member", "Data protection officer"],
    ]
    assert entry.changes["organisation"][1] == "Luton Borough Council"


def test_changing_roles_needs_at_least_one(admin_client, alpha, bob):
    member = membership_of(alpha, bob)
    response = admin_client.post(
        f"/p/alpha/people/{member.pk}/", {"organisation": member.organisation_id}
    )
    assert form_errors(response, "roles") == ["Choose at least one role."]
    assert membership_of(alpha, bob).roles == [Role.VIEWER]


def test_an_administrator_cannot_change_their_own_roles(admin_client, alpha, alice):
    """Nobody grants themselves a role (steering group to approve their own drafts, signatory
    for another body) or steps down alone: another administrator does it."""
    make_member(alpha, Role.ADMINISTRATOR)
    member = membership_of(alpha, alice)

    page = admin_client.get(f"/p/alpha/people/{member.pk}/")
    assert "You cannot change your own roles or organisation" in text(page)
    assert 'name="roles"' not in page.content.decode()

    response = admin_client.post(
        f"/p/alpha/people/{member.pk}/",
        {"roles": ["administrator", "steering_group"], "organisation": member.organisation_id},
    )

    assert response.status_code == 200
    message = "You cannot change your own roles or organisation. Ask another administrator."
    assert message in text(response)
    assert membership_of(alpha, alice).roles == [Role.ADMINISTRATOR]
    assert "membership.changed" not in audit_actions(alpha)


def test_the_last_administrator_cannot_be_demoted(alpha, alice):
    from django.core.exceptions import ValidationError

    from accord.kernel.context import acting
    from tenancy import services as tenancy_services

    member = membership_of(alpha, alice)
    with scope(partnership=alpha), acting(user=None), pytest.raises(ValidationError) as caught:
        tenancy_services.change_membership(
            member, roles=["viewer"], organisation=member.organisation
        )
    assert caught.value.message_dict["roles"] == [
        "A partnership needs at least one administrator. Make someone else an administrator first."
    ]
    assert membership_of(alpha, alice).roles == [Role.ADMINISTRATOR]


def test_another_administrator_steps_an_administrator_down(client, alpha, alice, bob):
    other = make_member(alpha, Role.ADMINISTRATOR).user
    member = membership_of(alpha, alice)
    client.force_login(other)

    response = client.post(
        f"/p/alpha/people/{member.pk}/",
        {"roles": ["viewer"], "organisation": member.organisation_id},
    )

    assert response.status_code == 302
    assert membership_of(alpha, alice).roles == [Role.VIEWER]
    client.force_login(alice)
    assert client.get("/p/alpha/people/invite/").status_code == 403


def test_the_last_administrator_cannot_be_removed(admin_client, alpha, alice):
    member = membership_of(alpha, alice)

    response = admin_client.post(f"/p/alpha/people/{member.pk}/remove/")

    assert response.status_code == 200
    assert "A partnership needs at least one administrator." in text(response)
    assert membership_of(alpha, alice)
    assert "membership.removed" not in audit_actions(alpha)


def test_administrators_of_another_partnership_do_not_count(admin_client, alpha, beta, alice):
    make_member(beta, Role.ADMINISTRATOR)
    member = membership_of(alpha, alice)
    response = admin_client.post(f"/p/alpha/people/{member.pk}/remove/")
    assert "A partnership needs at least one administrator." in text(response)


def test_removing_a_member(admin_client, client, alpha, bob):
    member = membership_of(alpha, bob)
    page = admin_client.get(f"/p/alpha/people/{member.pk}/remove/")
    assert f"Remove {bob.full_name} from Alpha Partnership?" in text(page)

    response = admin_client.post(f"/p/alpha/people/{member.pk}/remove/", follow=True)

    assert f"{bob} has been removed from the partnership." in text(response)
    assert bob.email not in text(admin_client.get("/p/alpha/people/"))
    with scope(partnership=alpha):
        assert not Membership.objects.filter(user=bob).exists()
        entry = AuditEntry.objects.get(action="membership.removed")
    assert entry.object_repr.startswith(str(bob))
    client.force_login(bob)
    assert client.get("/p/alpha/").status_code == 404


def test_an_administrator_who_leaves_lands_on_their_partnerships_not_a_404(
    admin_client, alpha, alice
):
    make_member(alpha, Role.ADMINISTRATOR)
    member = membership_of(alpha, alice)

    response = admin_client.post(f"/p/alpha/people/{member.pk}/remove/", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/partnerships/"
    assert f"{alice} has been removed from the partnership." in text(response)
    assert "Alpha Partnership" not in text(response)


def test_the_invite_page_states_the_configured_validity(admin_client, settings):
    settings.INVITATION_VALID_DAYS = 7
    page = text(admin_client.get("/p/alpha/people/invite/"))
    assert "expires after 7 days" in page


def test_people_page_lists_members_with_roles_and_organisations(client, alpha, alice, bob):
    client.force_login(bob)
    page = text(client.get("/p/alpha/people/"))
    for person in (alice, bob):
        assert person.email in page
    assert "Partnership administrator" in page
    assert "Invite a person" not in page  # viewers see the list, not the controls


def test_people_page_runs_the_same_queries_for_few_and_many(admin_client, alpha):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get("/p/alpha/people/").status_code == 200
        return len(ctx.captured_queries)

    organisation = make_partner(alpha).organisation
    for _ in range(2):
        make_member(alpha, Role.VIEWER, organisation=organisation)
        make_invitation(alpha, organisation=organisation)
    few = count()
    for _ in range(20):
        make_member(alpha, Role.DPO, organisation=make_partner(alpha).organisation)
        make_invitation(alpha, organisation=make_partner(alpha).organisation)
    assert count() == few


def test_members_of_a_partnership_see_nobody_from_another(client, alpha, beta, bob, charlie):
    client.force_login(bob)
    PartnershipFactory()
    page = text(client.get("/p/alpha/people/"))
    assert charlie.email not in page
    assert "Beta" not in page
