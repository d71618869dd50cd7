"""What this app adds to the partnership's dashboard, navigation and periodic sweep."""

from django.db.models.signals import post_save
from django_scopes import scope

from accord.kernel import sweeps
from tenancy import dashboard, directory, navigation
from tenancy.audit import describe_actions
from tenancy.roles import Perm

from .affiliations import record_created, request_affiliation
from .clocks import (
    complete_due_withdrawals,
    expire_due_links,
    partner_changed,
    request_changed,
    send_due_reminders,
)
from .models import Organisation, Partner, PartnerStatus, SignatureRequest
from .services import add_partner, create_organisation
from .signing import open_request_count

navigation.register("Partners", "signatories:partners", Perm.VIEW, 20)
navigation.register("Signing", "signatories:tasks", Perm.SIGN, 60)
dashboard.register(
    "Active partners",
    lambda partnership, membership: Partner.objects.filter(status=PartnerStatus.ACTIVE).count(),
    "signatories:partners",
    Perm.VIEW,
    10,
)


def _signing_tasks(partnership, membership) -> int:
    """Unanswered requests awaiting the organisation the member acts for (one query)."""
    organisation = membership.organisation
    return open_request_count(organisation) if organisation is not None else 0


dashboard.register("Signing tasks", _signing_tasks, "signatories:tasks", Perm.SIGN, 15)
sweeps.register("partners.complete_due_withdrawals")(complete_due_withdrawals)
sweeps.register("signing.reminders")(send_due_reminders)
sweeps.register("signing.link_expiry")(expire_due_links)
post_save.connect(request_changed, sender=SignatureRequest, dispatch_uid="request_clocks")
post_save.connect(partner_changed, sender=Partner, dispatch_uid="partner_clocks")


def _partner_organisations(partnership):

    with scope(partnership=partnership):
        ids = list(
            Partner.objects.exclude(status=PartnerStatus.WITHDRAWN).values_list(
                "organisation_id", flat=True
            )
        )
    return Organisation.objects.filter(pk__in=ids)


def _all_organisations():
    return Organisation.objects.all()


def _create_organisation(name: str, created_by):
    organisation = create_organisation(name=name, by=created_by)
    record_created(created_by, organisation)
    return organisation


def _member_acts_for(sender, membership, **kwargs) -> None:
    request_affiliation(
        membership.user, membership.organisation, partnership=membership.partnership
    )


def _founder_becomes_partner(sender, partnership, organisation, **kwargs) -> None:
    add_partner(partnership, organisation)


directory.provide(
    partner_organisations=_partner_organisations,
    all_organisations=_all_organisations,
    create_organisation=_create_organisation,
)
directory.partnership_created.connect(
    _founder_becomes_partner, dispatch_uid="founder_becomes_partner"
)
directory.member_acts_for.connect(_member_acts_for, dispatch_uid="member_acts_for")

describe_actions(
    {
        "partner.created": "Partner added",
        "partner.status_changed": "Partner's status changed",
        "organisation.changed": "Organisation's record updated",
        "organisation.domain_added": "Organisation's domain added",
        "organisation.domain_removed": "Organisation's domain removed",
        "organisation.address_confirmed": "Data protection address confirmed",
        "affiliation.verified": "Person verified for their organisation",
        "affiliation.refused": "Person not verified for an organisation",
        "affiliation.revoked": "Person no longer acts for an organisation",
        "signatory.confirmed": "Authorised signatory's address confirmed",
        "signatory.created": "Authorised signatory added",
        "signatory.changed": "Authorised signatory changed",
        "signatory.deactivated": "Authorised signatory deactivated",
        "signatory.reactivated": "Authorised signatory reactivated",
        "signature.requested": "Asked to sign",
        "signature.reissued": "Signing link sent again",
        "signature.opened": "Signing link opened",
        "signature.reminded": "Reminded to sign",
        "signature.signed": "Signed",
        "signature.declined": "Declined to sign",
        "signature.voided": "Signature request closed",
        "signature.expired": "Signing link expired unanswered",
    }
)
