"""What this app adds to the partnership's dashboard, navigation and periodic sweep."""

from accord import sweeps
from tenancy import dashboard, directory, navigation
from tenancy.audit import describe_actions
from tenancy.roles import Perm

from .models import Partner, PartnerStatus
from .services import complete_due_withdrawals

navigation.register("Partners", "signatories:partners", Perm.VIEW, 20)
dashboard.register(
    "Active partners",
    lambda partnership: Partner.objects.filter(status=PartnerStatus.ACTIVE).count(),
    "signatories:partners",
    Perm.VIEW,
    10,
)
sweeps.register("partners.complete_due_withdrawals")(complete_due_withdrawals)


def _partner_organisations(partnership):
    from django_scopes import scope

    from .models import Organisation

    with scope(partnership=partnership):
        ids = list(
            Partner.objects.exclude(status=PartnerStatus.WITHDRAWN).values_list(
                "organisation_id", flat=True
            )
        )
    return Organisation.objects.filter(pk__in=ids)


def _all_organisations():
    from .models import Organisation

    return Organisation.objects.all()


def _create_organisation(name: str):
    from .services import create_organisation

    return create_organisation(name=name)


def _founder_becomes_partner(sender, partnership, organisation, **kwargs) -> None:
    from .services import add_partner

    add_partner(partnership, organisation)


directory.provide(
    partner_organisations=_partner_organisations,
    all_organisations=_all_organisations,
    create_organisation=_create_organisation,
)
directory.partnership_created.connect(
    _founder_becomes_partner, dispatch_uid="founder_becomes_partner"
)

describe_actions(
    {
        "partner.created": "Partner added",
        "partner.status_changed": "Partner's status changed",
        "organisation.changed": "Organisation's record updated",
    }
)
