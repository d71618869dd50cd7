"""A protocol version's states and transitions, declared once.

Services make them through `VERSIONS.perform`; pages show the buttons `VERSIONS.allowed`
gives; `tests/test_lifecycles.py` checks this table against both.
"""

from __future__ import annotations

from tenancy.lifecycle import Lifecycle, Transition
from tenancy.models import Membership
from tenancy.roles import Perm

from .models import ProtocolVersion, VersionStatus
from .permissions import lead_only, not_the_author

S = VersionStatus

# Versions a new version may start from, and versions a newly signed one replaces.
BASES = {VersionStatus.APPROVED, VersionStatus.FOR_SIGNATURE, VersionStatus.SIGNED}
REPLACEABLE = BASES
LIVE = {
    VersionStatus.DRAFT,
    VersionStatus.FOR_APPROVAL,
    VersionStatus.APPROVED,
    VersionStatus.FOR_SIGNATURE,
    VersionStatus.SIGNED,
}


def author_emails(version: ProtocolVersion) -> list[str]:
    return [version.author.email] if version.author and version.author.email else []


def protocol_retired(version: ProtocolVersion) -> str | None:
    if version.protocol.retired_at is not None:
        return "This protocol has been retired and cannot change."
    return None


def signed_predecessor(version: ProtocolVersion) -> ProtocolVersion | None:
    """The signed version of the same major number that a minor version would replace."""
    return (
        ProtocolVersion.objects.filter(
            protocol_id=version.protocol_id,
            major=version.major,
            minor__lt=version.minor,
            status=VersionStatus.SIGNED,
        )
        .order_by("-minor")
        .first()
    )


def signed_predecessor_missing(version: ProtocolVersion) -> str | None:
    """A minor version is issued only over a signed version of the same major number."""
    if version.minor == 0:
        return "A major version changes what partners agreed to: send it for signature."
    if signed_predecessor(version) is None:
        return (
            f"No version {version.major}.x has been signed by every partner yet, so there are "
            "no signatures to carry forward: send this version for signature instead."
        )
    return None


def steering_group_emails() -> list[str]:
    return list(
        Membership.objects.filter(is_steering_group=True).values_list("user__email", flat=True)
    )


VERSIONS = Lifecycle(
    ProtocolVersion,
    related=("protocol", "protocol__lead__organisation", "partnership"),
    # A retired protocol changes no more (its versions are retired before it is).
    guards=(protocol_retired,),
    transitions=[
        Transition(
            "submit",
            frozenset({S.DRAFT}),
            S.FOR_APPROVAL,
            "protocol.version_submitted",
            permission=Perm.DRAFT_DOCUMENTS,
            wrong_state="Version {obj.number} is {status}: only a draft can be sent for approval.",
            email="protocol_for_approval",
            recipients=lambda version: steering_group_emails(),
        ),
        Transition(
            "approve",
            frozenset({S.FOR_APPROVAL}),
            S.APPROVED,
            "protocol.version_approved",
            permission=Perm.APPROVE_DOCUMENTS,
            rules=(not_the_author,),
            wrong_state="Version {obj.number} is {status}: only a version sent for approval "
            "can be approved.",
            email="protocol_approved",
            recipients=author_emails,
        ),
        Transition(
            "return",
            frozenset({S.FOR_APPROVAL, S.APPROVED}),
            S.DRAFT,
            "protocol.version_returned",
            permission=Perm.APPROVE_DOCUMENTS,
            wrong_state="Version {obj.number} is {status}: only a version waiting for approval, "
            "or approved and not yet sent, can be returned to draft.",
            email="protocol_returned",
            recipients=author_emails,
        ),
        Transition(
            "send",
            frozenset({S.APPROVED}),
            S.FOR_SIGNATURE,
            "protocol.version_sent",
            permission=Perm.DRAFT_DOCUMENTS,
            rules=(lead_only,),
            wrong_state="Version {obj.number} is {status}: only an approved version can be sent "
            "for signature.",
        ),
        Transition(
            "issue",
            frozenset({S.APPROVED}),
            S.SIGNED,
            "protocol.version_issued",
            permission=Perm.DRAFT_DOCUMENTS,
            rules=(lead_only,),
            guards=(signed_predecessor_missing,),
            wrong_state="Version {obj.number} is {status}: only an approved version can be issued.",
        ),
        # Made by Accord: the last signature, a newer version, the protocol's retirement.
        Transition(
            "complete",
            frozenset({S.FOR_SIGNATURE}),
            S.SIGNED,
            "protocol.version_signed",
        ),
        Transition(
            "supersede",
            frozenset(BASES),
            S.SUPERSEDED,
            "protocol.version_superseded",
        ),
        Transition(
            "retire",
            frozenset(LIVE),
            S.RETIRED,
            "protocol.version_retired",
        ),
    ],
)
