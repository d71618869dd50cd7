"""Threat: taking over an organisation's shared record, then signing in its name elsewhere.

Organisations are global records. Acting for one (changing its record, signing for it) is a
verified fact: an address on its own domain, or approval by someone already verified for it
(or, when nobody is, from its confirmed data protection address). Founding a partnership,
adding a partner or being made a member "for" an organisation grants nothing by itself.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from accord.kernel.context import acting
from signatories import affiliations, services, signing
from signatories.models import (
    Affiliation,
    AuthorisedSignatory,
    Organisation,
    OrganisationDomain,
    Partner,
    SignatureRequest,
)
from tenancy.models import AuditEntry, Membership, Partnership
from tenancy.roles import Role

from ..factories import (
    OrganisationFactory,
    PartnershipFactory,
    UserFactory,
    make_document,
    make_invitation,
    make_member,
    make_partner,
    verify,
)

pytestmark = pytest.mark.django_db

LINK = re.compile(r"/organisations/(?:confirm-address|approve)/[^/\s]+/")


def link_in(message) -> str:
    return LINK.search(message.body).group(0)


@pytest.fixture
def leicestershire_cc():
    return OrganisationFactory(
        name="Leicestershire County Council",
        ico_reference="Z5822581",
        data_protection_email="dpo@leics.gov.uk",
    )


@pytest.fixture
def leicestershire(leicestershire_cc):
    """The council's own partnership, where its real people are verified."""
    partnership = PartnershipFactory(name="Leicestershire partners", slug="leicestershire")
    make_partner(partnership, leicestershire_cc)
    return partnership


@pytest.fixture
def real_officer(leicestershire, leicestershire_cc):
    return make_member(
        leicestershire,
        Role.ADMINISTRATOR,
        organisation=leicestershire_cc,
        user=UserFactory(email="ig.officer@leics.gov.uk", full_name="Ivy Green"),
    ).user


@pytest.fixture
def leeds():
    return PartnershipFactory(name="Leeds partners", slug="leeds")


@pytest.fixture
def mallory(leeds):
    """A viewer in Leeds, for Leeds City Council: nothing to do with Leicestershire."""
    return make_member(
        leeds, Role.VIEWER, user=UserFactory(email="mallory@evil.example", full_name="Mallory")
    ).user


def edit_url(organisation) -> str:
    return reverse("organisations:edit", kwargs={"organisation_id": organisation.pk})


def record_form(organisation, **changes) -> dict:
    return {
        "name": organisation.name,
        "ico_reference": organisation.ico_reference or "",
        "sector": organisation.sector,
        "address": organisation.address,
        "phone": organisation.phone,
        "data_protection_email": organisation.data_protection_email,
        "dpo_name": organisation.dpo_name,
        **changes,
    }


def test_founding_a_partnership_for_an_existing_organisation_grants_nothing_over_its_record(
    client,
    leicestershire,
    leicestershire_cc,
    real_officer,
    mallory,
    outbox,
    django_capture_on_commit_callbacks,
):
    """Mallory founds a partnership 'acting for' the council: she is only asked about, and the
    council's verified people are the ones asked."""
    client.force_login(mallory)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("tenancy:create"),
            {"name": "Mallory's forum", "slug": "mallory", "organisation": leicestershire_cc.pk},
        )
    assert response.status_code == 302

    affiliation = Affiliation.objects.get(user=mallory, organisation=leicestershire_cc)
    assert affiliation.status == Affiliation.Status.PENDING
    assert not affiliations.acts_for(mallory, leicestershire_cc)
    (asked,) = [m for m in outbox if "asks to be verified" in m.subject]
    assert asked.to == ["ig.officer@leics.gov.uk"]

    # Her own page says who has been asked; the record stays out of her reach.
    mine = client.get(reverse("organisations:mine")).content.decode()
    assert "Awaiting verification" in mine
    assert client.get(edit_url(leicestershire_cc)).status_code == 404
    response = client.post(
        edit_url(leicestershire_cc),
        record_form(leicestershire_cc, data_protection_email="mallory@evil.example"),
    )
    assert response.status_code == 404
    leicestershire_cc.refresh_from_db()
    assert leicestershire_cc.data_protection_email == "dpo@leics.gov.uk"


def test_the_takeover_scenario_ends_with_the_link_at_the_councils_own_address(
    client,
    leeds,
    leicestershire,
    leicestershire_cc,
    real_officer,
    mallory,
    outbox,
    django_capture_on_commit_callbacks,
):
    """Found, add the council as a partner, try to edit its record, send a protocol, try to
    sign: every step refused, and the signing link goes to the council's confirmed address."""
    client.force_login(mallory)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("tenancy:create"),
            {"name": "Mallory's forum", "slug": "mallory", "organisation": leicestershire_cc.pk},
        )
    forum = Partnership.objects.get(slug="mallory")
    client.post(edit_url(leicestershire_cc), record_form(leicestershire_cc, dpo_name="Mallory"))

    # Leeds adds the council as a partner and sends its protocol.
    leeds_admin = make_member(leeds, Role.ADMINISTRATOR).user
    partner = make_partner(leeds, leicestershire_cc)
    document = make_document(leeds, title="Leeds Protocol")
    outbox.clear()
    with scope(partnership=leeds), django_capture_on_commit_callbacks(execute=True):
        (request,) = signing.request_signatures(document, [partner], by=leeds_admin)
    assert request.email == "dpo@leics.gov.uk"
    assert [m.to for m in outbox] == [["dpo@leics.gov.uk"]]

    # Mallory, even made a Leeds signatory acting for the council by an administrator, cannot
    # sign for it: she is neither verified for it nor its authorised signatory.
    with scope(partnership=leeds):
        membership = Membership.objects.get(user=mallory)
        membership.organisation = leicestershire_cc
        membership.set_roles([Role.SIGNATORY])
        membership.save()
    response = client.get(
        reverse("signatories:sign", kwargs={"partnership_slug": "leeds", "request_id": request.pk})
    )
    assert response.status_code == 403
    assert "once your link to it has been verified" in response.content.decode()
    with pytest.raises(PermissionDenied):
        signing.sign(
            request,
            name="Mallory Attacker",
            position="Chief Executive",
            confirmed=True,
            ip_address=None,
            user_agent="",
            user=mallory,
        )
    with scope(partnership=leeds):
        assert SignatureRequest.objects.get(pk=request.pk).status == "sent"
    leicestershire_cc.refresh_from_db()
    assert leicestershire_cc.dpo_name == ""
    # Her forum lists the council as a partner, and that is all it gives her.
    with scopes_disabled():
        assert Partner.objects.filter(partnership=forum, organisation=leicestershire_cc).exists()
    assert not affiliations.acts_for(mallory, leicestershire_cc)


def test_an_audit_entry_never_shows_one_partnership_the_people_of_another(
    client, leicestershire, leicestershire_cc, real_officer, leeds
):
    """A verified person changes the shared record from outside: the other partnership's log
    says someone outside it did, without their name or e-mail."""
    make_partner(leeds, leicestershire_cc)
    client.force_login(real_officer)
    client.post(edit_url(leicestershire_cc), record_form(leicestershire_cc, phone="0116 232 3232"))

    with scope(partnership=leeds):
        (entry,) = AuditEntry.objects.filter(action="organisation.changed")
    assert entry.actor is None
    assert entry.actor_name == "Someone outside this partnership"
    assert "leics.gov.uk" not in entry.actor_name + entry.summary
    with scope(partnership=leicestershire):
        (own,) = AuditEntry.objects.filter(action="organisation.changed")
    assert own.actor == real_officer


def test_a_verified_person_approves_a_colleague_who_then_keeps_the_record(
    client,
    leicestershire,
    leicestershire_cc,
    real_officer,
    outbox,
    django_capture_on_commit_callbacks,
):
    colleague = UserFactory(email="records@leics.gov.uk", full_name="Rob Records")
    with django_capture_on_commit_callbacks(execute=True):
        make_member(
            leicestershire,
            Role.VIEWER,
            user=colleague,
            organisation=leicestershire_cc,
            verified=False,
        )
        affiliation = affiliations.request_affiliation(
            colleague, leicestershire_cc, partnership=leicestershire
        )
    client.force_login(colleague)
    assert client.get(edit_url(leicestershire_cc)).status_code == 404
    # Nobody approves themselves.
    decide = reverse("organisations:decide", kwargs={"affiliation_id": affiliation.pk})
    assert client.post(decide, {"action": "approve"}).status_code == 404

    client.force_login(real_officer)
    page = client.get(reverse("organisations:mine")).content.decode()
    assert "Rob Records" in page and "records@leics.gov.uk" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide, {"action": "approve"})
    affiliation.refresh_from_db()
    assert affiliation.status == Affiliation.Status.VERIFIED
    assert affiliation.decided_by == real_officer
    assert any(m.to == ["records@leics.gov.uk"] and "verified" in m.subject for m in outbox)

    client.force_login(colleague)
    assert client.get(edit_url(leicestershire_cc)).status_code == 200


def test_an_address_on_the_organisations_own_domain_is_verified_on_joining(
    client, leicestershire, leicestershire_cc, real_officer
):
    OrganisationDomain.objects.create(organisation=leicestershire_cc, domain="leics.gov.uk")
    invitation, token = make_invitation(
        leicestershire, Role.DPO, email="dpo.deputy@leics.gov.uk", organisation=leicestershire_cc
    )
    password = "a-long-passphrase-9"
    response = client.post(
        reverse("tenancy:accept_invitation", kwargs={"token": token}),
        {"full_name": "Dee Deputy", "password1": password, "password2": password},
    )
    assert response.status_code == 302
    with scopes_disabled():
        user = Membership.objects.get(user__email="dpo.deputy@leics.gov.uk").user
    affiliation = Affiliation.objects.get(user=user, organisation=leicestershire_cc)
    assert affiliation.status == Affiliation.Status.VERIFIED
    assert affiliation.method == Affiliation.Method.DOMAIN


def test_nobody_claims_a_domain_that_is_not_their_own_address(
    leicestershire_cc, real_officer, mallory
):
    evil = OrganisationFactory(name="Evil Ltd")
    verify(mallory, evil)
    with pytest.raises(ValidationError, match="only your own address's domain"):
        affiliations.add_domain(evil, "leics.gov.uk", by=mallory)
    with pytest.raises(ValidationError, match="shared by many organisations"):
        affiliations.add_domain(leicestershire_cc, "nhs.net", by=real_officer)
    with pytest.raises(PermissionDenied):
        affiliations.add_domain(leicestershire_cc, "evil.example", by=mallory)
    affiliations.add_domain(leicestershire_cc, "leics.gov.uk", by=real_officer)
    with pytest.raises(ValidationError, match="belongs to another organisation"):
        affiliations.add_domain(evil, "leics.gov.uk")
    assert list(OrganisationDomain.objects.values_list("domain", flat=True)) == ["leics.gov.uk"]


def test_with_nobody_verified_the_data_protection_address_decides(
    client, leicestershire, leicestershire_cc, outbox, django_capture_on_commit_callbacks
):
    person = UserFactory(email="first.person@leics.gov.uk", full_name="First Person")
    with django_capture_on_commit_callbacks(execute=True):
        make_member(
            leicestershire, Role.VIEWER, user=person, organisation=leicestershire_cc, verified=False
        )
        affiliations.request_affiliation(person, leicestershire_cc, partnership=leicestershire)
    (asked,) = outbox
    assert asked.to == ["dpo@leics.gov.uk"]
    link = link_in(asked)

    page = client.get(link)  # a GET only asks
    assert page.status_code == 200
    assert "Does First Person work for Leicestershire County Council?" in page.content.decode()
    assert not affiliations.acts_for(person, leicestershire_cc)

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(link, {"action": "approve"}).status_code == 200
    assert affiliations.acts_for(person, leicestershire_cc)
    assert client.post(link, {"action": "approve"}).status_code == 404  # used once


def test_a_new_data_protection_address_takes_effect_only_once_confirmed_from_itself(
    client, leicestershire_cc, real_officer, outbox, django_capture_on_commit_callbacks
):
    client.force_login(real_officer)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            edit_url(leicestershire_cc),
            record_form(leicestershire_cc, data_protection_email="new.dpo@leics.gov.uk"),
        )
    leicestershire_cc.refresh_from_db()
    assert leicestershire_cc.data_protection_email == "dpo@leics.gov.uk"  # until confirmed
    by_address = {tuple(m.to): m for m in outbox}
    assert "Confirm your address" in by_address[("new.dpo@leics.gov.uk",)].subject
    # The current address and the verified people hear of the change.
    assert "has changed" in by_address[("dpo@leics.gov.uk",)].subject
    assert ("ig.officer@leics.gov.uk",) in by_address

    with django_capture_on_commit_callbacks(execute=True):
        client.post(link_in(by_address[("new.dpo@leics.gov.uk",)]))
    leicestershire_cc.refresh_from_db()
    assert leicestershire_cc.confirmed_data_protection_email == "new.dpo@leics.gov.uk"


def test_a_signing_link_never_goes_to_an_unconfirmed_signatory_address(
    client, leeds, outbox, django_capture_on_commit_callbacks
):
    admin = make_member(leeds, Role.ADMINISTRATOR).user
    quiet = OrganisationFactory(name="Quiet Trust")
    OrganisationDomain.objects.create(organisation=quiet, domain="quiet.example")
    partner = make_partner(leeds, quiet)
    with scope(partnership=leeds), acting(user=admin):
        with django_capture_on_commit_callbacks(execute=True):
            services.add_signatory(
                partner, name="Sid Signer", position="Chief Executive", email="sid@quiet.example"
            )
        (confirmation,) = outbox
        assert confirmation.to == ["sid@quiet.example"]
        with pytest.raises(ValidationError, match="whose address is confirmed"):
            signing.request_signatures(make_document(leeds), [partner], by=admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link_in(confirmation))
    with scope(partnership=leeds):
        assert AuthorisedSignatory.objects.get(partner=partner).confirmed_at is not None
        (request,) = signing.request_signatures(make_document(leeds), [partner], by=admin)
    assert request.email == "sid@quiet.example"


def test_founding_a_partnership_with_a_new_organisation_verifies_its_creator(client):
    founder = UserFactory(email="chair@newforum.example")
    client.force_login(founder)
    client.post(
        reverse("tenancy:create"),
        {"name": "New forum", "slug": "new-forum", "new_organisation": "Brand New Trust"},
    )
    organisation = Organisation.objects.get(name="Brand New Trust")
    affiliation = Affiliation.objects.get(user=founder, organisation=organisation)
    assert affiliation.status == Affiliation.Status.VERIFIED
    assert affiliation.method == Affiliation.Method.CREATED


def test_an_organisation_hears_when_a_partnership_names_someone_to_sign_in_its_name(
    leeds, leicestershire_cc, real_officer, outbox, django_capture_on_commit_callbacks
):
    admin = make_member(leeds, Role.ADMINISTRATOR).user
    partner = make_partner(leeds, leicestershire_cc)
    with (
        scope(partnership=leeds),
        acting(user=admin),
        django_capture_on_commit_callbacks(execute=True),
    ):
        services.add_signatory(
            partner, name="Mallory", position="Chief Executive", email="mallory@evil.example"
        )
    told = {m.to[0]: m for m in outbox if "names a signatory" in m.subject}
    assert set(told) == {"ig.officer@leics.gov.uk", "dpo@leics.gov.uk"}
    assert "mallory@evil.example" in told["dpo@leics.gov.uk"].body


def test_the_operator_verifies_a_person_checked_outside_accord(leicestershire_cc, mallory):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("verify_affiliation", mallory.email, "Nobody Council", note="phoned")
    call_command("verify_affiliation", mallory.email, "Z5822581", note="Phoned the switchboard")
    affiliation = Affiliation.objects.get(user=mallory, organisation=leicestershire_cc)
    assert affiliation.method == Affiliation.Method.OPERATOR
    assert affiliation.note == "Phoned the switchboard"


def test_a_partnership_cannot_name_its_own_signatory_for_a_real_organisation(
    client, leicestershire_cc, real_officer, mallory, outbox, django_capture_on_commit_callbacks
):
    """Threat: Mallory founds a partnership with the council as a partner, names her own
    address as its Chief Executive, confirms it and asks for signatures; answer: the council
    does not vouch for that address, so the link goes to its own confirmed data protection
    address, never to her."""
    client.force_login(mallory)
    client.post(
        reverse("tenancy:create"),
        {"name": "Mallory's forum", "slug": "forum4", "organisation": leicestershire_cc.pk},
    )
    forum = Partnership.objects.get(slug="forum4")
    with scope(partnership=forum):
        partner = Partner.objects.get(organisation=leicestershire_cc)
        with acting(user=mallory), django_capture_on_commit_callbacks(execute=True):
            services.add_signatory(
                partner, name="Mallory", position="Chief Executive", email="ceo@leics-gov.example"
            )
    confirm = next(m for m in outbox if m.to == ["ceo@leics-gov.example"])
    with django_capture_on_commit_callbacks(execute=True):
        client.post(link_in(confirm))
    outbox.clear()

    with scope(partnership=forum), django_capture_on_commit_callbacks(execute=True):
        (request,) = signing.request_signatures(make_document(forum), [partner], by=mallory)
    assert request.email == "dpo@leics.gov.uk"
    assert [m.to for m in outbox] == [["dpo@leics.gov.uk"]]
    page = client.get(
        reverse(
            "signatories:signatories",
            kwargs={"partnership_slug": "forum4", "partner_id": partner.pk},
        )
    ).content.decode()
    assert "Not vouched for by Leicestershire County Council" in page


@pytest.mark.parametrize("domain", ["gov.uk", "nhs.scot", "wales.nhs.uk", "sky.com", "pm.me"])
def test_a_shared_or_public_domain_is_never_one_organisations_own(domain, leicestershire_cc):
    """Threat: a shared mail domain listed as the council's would verify anyone on it;
    answer: shared domains and public suffixes are refused."""
    with pytest.raises(ValidationError, match="shared by many organisations"):
        affiliations.add_domain(leicestershire_cc, domain)


def test_a_second_record_for_an_organisation_already_on_accord_is_refused(
    client, leicestershire_cc, mallory
):
    """Threat: a look-alike record of the same body collects its partners' links; answer: one
    record a name, and the founder is sent to the existing one."""
    client.force_login(mallory)
    response = client.post(
        reverse("tenancy:create"),
        {"name": "Forum", "slug": "forum5", "new_organisation": " leicestershire  county COUNCIL"},
    )
    assert response.status_code == 200
    assert Organisation.objects.filter(name__iexact="Leicestershire County Council").count() == 1
    assert not Partnership.objects.filter(slug="forum5").exists()


def test_only_a_strongly_verified_person_changes_an_ico_reference(client, mallory):
    """Threat: the creator of a look-alike record claims the real body's ICO reference, which
    other partnerships search by; answer: only someone verified by the body's domain or by the
    operator may set or change it."""
    client.force_login(mallory)
    client.post(
        reverse("tenancy:create"),
        {"name": "Forum", "slug": "forum6", "new_organisation": "Nottinghamshire County Council"},
    )
    notts = Organisation.objects.get(name="Nottinghamshire County Council")
    response = client.post(edit_url(notts), record_form(notts, ico_reference="Z7777777"))
    assert response.status_code == 200
    assert "Only someone verified for the organisation by an address on its own domain" in (
        response.content.decode()
    )
    notts.refresh_from_db()
    assert notts.ico_reference is None


def test_an_address_change_taken_back_or_asked_by_someone_removed_never_takes_effect(
    client,
    leicestershire,
    leicestershire_cc,
    real_officer,
    outbox,
    django_capture_on_commit_callbacks,
):
    """Threat: a rogue insider asks for the data protection address to become theirs, then is
    removed; answer: entering the current address again, or removing them, stops the link."""
    insider = make_member(
        leicestershire,
        Role.VIEWER,
        organisation=leicestershire_cc,
        user=UserFactory(email="rogue@leics.gov.uk"),
    ).user
    client.force_login(insider)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            edit_url(leicestershire_cc),
            record_form(leicestershire_cc, data_protection_email="x@evil.example"),
        )
    link = link_in(next(m for m in outbox if m.to == ["x@evil.example"]))

    client.force_login(real_officer)
    client.post(edit_url(leicestershire_cc), record_form(leicestershire_cc))  # unchanged
    assert client.post(link).status_code == 410

    client.force_login(insider)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            edit_url(leicestershire_cc),
            record_form(leicestershire_cc, data_protection_email="y@evil.example"),
        )
    second = link_in(next(m for m in outbox if m.to == ["y@evil.example"]))
    affiliation = Affiliation.objects.get(user=insider, organisation=leicestershire_cc)
    affiliations.revoke(affiliation, by=real_officer)
    assert client.post(second).status_code == 410
    leicestershire_cc.refresh_from_db()
    assert leicestershire_cc.data_protection_email == "dpo@leics.gov.uk"


def test_the_data_protection_link_expires_and_stops_once_someone_is_verified(
    client, leicestershire, leicestershire_cc, outbox, django_capture_on_commit_callbacks
):
    first = UserFactory(email="first@leics.gov.uk")
    with django_capture_on_commit_callbacks(execute=True):
        make_member(
            leicestershire,
            Role.VIEWER,
            user=first,
            organisation=leicestershire_cc,
            verified=False,
        )
        affiliation = affiliations.request_affiliation(first, leicestershire_cc)
    link = link_in(outbox[-1])
    Affiliation.objects.filter(pk=affiliation.pk).update(
        token_expires_at=timezone.now() - timedelta(minutes=1)
    )
    assert client.post(link, {"action": "approve"}).status_code == 404
    assert not affiliations.acts_for(first, leicestershire_cc)


def test_a_refused_person_is_not_asked_about_again_and_again(
    leicestershire,
    leicestershire_cc,
    real_officer,
    mallory,
    outbox,
    django_capture_on_commit_callbacks,
):
    """Threat: founding partnership after partnership to flood the organisation with requests
    to approve; answer: after a refusal, nobody is asked again for 30 days."""
    with django_capture_on_commit_callbacks(execute=True):
        affiliation = affiliations.request_affiliation(mallory, leicestershire_cc)
    affiliations.refuse(affiliation, by=real_officer)
    outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        again = affiliations.request_affiliation(mallory, leicestershire_cc)
    assert again.status == Affiliation.Status.REFUSED
    assert outbox == []


def test_an_unverified_member_of_the_lead_does_not_draft_for_it(alpha):
    """Threat: a drafter whose membership names the lead organisation, unverified, changes an
    agreement's parties; answer: drafting for the lead needs a verified link to it."""
    from agreements.services.common import may_change_parties

    from ..factories import make_agreement

    agreement = make_agreement(alpha)
    with scope(partnership=alpha):
        lead = agreement.lead.organisation
    drafter = make_member(alpha, Role.IG_OFFICER, organisation=lead, verified=False)
    with scope(partnership=alpha):
        assert not may_change_parties(drafter, agreement)
    verify(drafter.user, lead)
    with scope(partnership=alpha):
        assert may_change_parties(drafter, agreement)
