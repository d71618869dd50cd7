"""Every change to a review cycle, one function each: the cycle made when a document comes
into force, its schedule changed or brought forward, feedback rounds opened and answered, and
the review's outcome recorded (making a new version through the document's own lifecycle).
Each checks the caller, audits in the same transaction and queues its e-mails."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accord.kernel.context import acting, service
from accord.kernel.mail import send_templated_email_each
from agreements.models import Agreement, AgreementStatus
from agreements.services import lifecycle as agreement_lifecycle
from documents.models import RevisionNote
from protocols import services as protocol_services
from protocols.models import Protocol
from signatories.affiliations import acts_for
from signatories.models import Partner
from signatories.services import partner_addresses
from signatories.tokens import TOKEN_MAX_LENGTH, hash_token, new_token
from tenancy.audit import diff, log_action, snapshot
from tenancy.lifecycle import require
from tenancy.models import Membership
from tenancy.roles import Perm

from . import schedule, subjects
from .kinds import recompute_cycle, recompute_request
from .models import (
    MAX_CADENCE,
    MIN_CADENCE,
    Cause,
    EarlierLink,
    FeedbackRequest,
    FeedbackRound,
    Outcome,
    Review,
    ReviewCycle,
    ReviewSettings,
    SectionFeedback,
)

SCHEDULE_FIELDS = [
    "cadence_months",
    "feedback_months",
    "first_review_on",
    "last_reviewed_on",
    "brought_forward_to",
    "brought_forward_cause",
    "brought_forward_reason",
    "next_review_on",
]
# Why a breach brings a review forward, and how soon the review then falls.
BREACH_REVIEW_WITHIN_MONTHS = 1


def may_manage(membership: Membership | None) -> bool:
    return membership is not None and membership.can(Perm.MANAGE_REVIEWS)


def _lock(cycle: ReviewCycle) -> ReviewCycle:
    return (
        ReviewCycle.objects.select_for_update(of=("self",))
        .select_related(
            "partnership", "protocol__lead__organisation", "agreement__lead__organisation"
        )
        .get(pk=cycle.pk)
    )


def reschedule(cycle: ReviewCycle) -> None:
    """Store the next review date the facts give, copy it to the document's own field (its
    pages and register show it), and bring the cycle's clocks in line."""
    cycle.next_review_on = schedule.next_review_on(cycle)
    # The schedule's own fields only: the notices' count is the clocks' (a full save from a
    # copy read earlier could set it back, and a notice go twice).
    cycle.save(update_fields=[*SCHEDULE_FIELDS, "agreement", "ended_at"])
    _move_open_round(cycle)
    if cycle.protocol_id:
        Protocol.objects.filter(pk=cycle.protocol_id).update(
            next_review_on=cycle.next_review_on, review_months=cycle.cadence_months
        )
    else:
        Agreement.objects.filter(pk=cycle.agreement_id).update(review_date=cycle.next_review_on)
    recompute_cycle(cycle)


def _move_open_round(cycle: ReviewCycle) -> None:
    """A round still open follows its review to the new date: the feedback given stays, and
    nobody is asked twice."""
    open_round = FeedbackRound.objects.filter(cycle=cycle, closed_at__isnull=True).first()
    if open_round is None or open_round.review_on == cycle.next_review_on:
        return
    if FeedbackRound.objects.filter(cycle=cycle, review_on=cycle.next_review_on).exists():
        return
    open_round.review_on = cycle.next_review_on
    open_round.closes_on = max(cycle.next_review_on, timezone.localdate())
    open_round.save(update_fields=["review_on", "closes_on"])
    for request in open_round.requests.filter(answered_at__isnull=True):
        recompute_request(request)


# --- Cycles follow their documents ---------------------------------------------------------


def ensure_for_protocol(protocol: Protocol) -> ReviewCycle | None:
    """A protocol in force has a cycle: its first review falls the partnership's first-review
    period after it came into force. A retired one's cycle ends."""
    cycle = ReviewCycle.objects.filter(protocol=protocol).first()
    if protocol.retired_at is not None:
        if cycle is not None and cycle.ended_at is None:
            _end(_lock(cycle))
        return cycle
    if cycle is not None:
        if cycle.cadence_months != protocol.review_months and protocol.review_months:
            cycle = _lock(cycle)
            cycle.cadence_months = protocol.review_months
            reschedule(cycle)
        return cycle
    # In force: a version signed (a draft's date in force is only planned), and not so far
    # ahead that no review could be scheduled.
    adopted = protocol.date_in_force
    if adopted is None or protocol_services.in_force_version(protocol) is None:
        return None
    if adopted > protocol_services.add_months(timezone.localdate(), MAX_CADENCE):
        return None
    rules = schedule.settings_for(protocol.partnership_id)
    first = protocol.next_review_on  # a date kept before review cycles existed stands
    if first is None or first <= adopted:
        first = protocol_services.add_months(adopted, rules.first_review_months)
    return _create(
        protocol.partnership_id,
        protocol=protocol,
        adopted_on=adopted,
        first_review_on=first,
        cadence_months=protocol.review_months or rules.cadence_months,
        feedback_months=rules.feedback_months,
    )


def ensure_for_agreement(agreement: Agreement) -> ReviewCycle | None:
    """An active agreement has a cycle. A new version coming into force takes over its
    predecessor's cycle; an agreement that ends without a successor ends its cycle."""
    cycle = ReviewCycle.objects.filter(agreement=agreement).first()
    if agreement.status != AgreementStatus.ACTIVE:
        if (
            cycle is not None
            and cycle.ended_at is None
            and agreement.status
            in (
                AgreementStatus.TERMINATED,
                AgreementStatus.EXPIRED,
            )
        ):
            _end(cycle)
        return cycle
    if cycle is not None:
        return cycle
    if agreement.previous_id is not None:
        earlier = ReviewCycle.objects.filter(agreement_id=agreement.previous_id).first()
        if earlier is not None:
            earlier.agreement = agreement
            earlier.ended_at = None
            reschedule(earlier)
            return earlier
    rules = schedule.settings_for(agreement.partnership_id)
    adopted = min(agreement.start_date or timezone.localdate(), timezone.localdate())
    first = agreement.review_date
    if first is None or first <= adopted:
        first = protocol_services.add_months(adopted, rules.first_review_months)
    first = min(first, protocol_services.add_months(adopted, MAX_CADENCE))
    return _create(
        agreement.partnership_id,
        agreement=agreement,
        adopted_on=adopted,
        first_review_on=first,
        cadence_months=rules.cadence_months,
        feedback_months=rules.feedback_months,
    )


def _create(partnership_id: int, **values: Any) -> ReviewCycle | None:
    cycle = ReviewCycle(partnership_id=partnership_id, **values)
    cycle.next_review_on = schedule.next_review_on(cycle)
    try:
        with transaction.atomic():
            cycle.save()
    except IntegrityError:  # made meanwhile by a concurrent save of the same document
        return None
    reschedule(cycle)
    log_action(
        cycle.partnership,
        "review.scheduled",
        f"The first review of {subjects.title_of(cycle)} is due on {cycle.next_review_on:%d/%m/%Y}",
        cycle,
        {"next_review_on": [None, cycle.next_review_on.isoformat()]},
    )
    return cycle


def _end(cycle: ReviewCycle) -> None:
    cycle.ended_at = timezone.now()
    cycle.save(update_fields=["ended_at"])
    FeedbackRound.objects.filter(cycle=cycle, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    recompute_cycle(cycle)


# --- The schedule ----------------------------------------------------------------------------


def _whole_months(value: Any, field: str, low: int, high: int, what: str) -> int:
    try:
        months = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: f"Enter {what} as a whole number of months."}) from None
    if not low <= months <= high:
        raise ValidationError({field: f"Enter {what} between {low} and {high} months."})
    return months


@service
def update_schedule(
    cycle: ReviewCycle,
    *,
    cadence_months: Any,
    feedback_months: Any,
    first_review_on: date | None = None,
    by,
) -> ReviewCycle:
    """The steering group changes how often the document is reviewed, how early feedback is
    asked for, and (before its first review) the first review's date, which cannot be past."""
    require(by, cycle.partnership_id, may_manage)
    cycle = _lock(cycle)
    _require_live(cycle)
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    for field, value, low, high, what in (
        ("cadence_months", cadence_months, MIN_CADENCE, MAX_CADENCE, "how often it is reviewed"),
        ("feedback_months", feedback_months, 1, 3, "how early feedback is asked for"),
    ):
        try:
            values[field] = _whole_months(value, field, low, high, what)
        except ValidationError as error:
            errors.update(error.message_dict)
    if first_review_on is not None and first_review_on != cycle.first_review_on:
        if cycle.last_reviewed_on is not None:
            errors["first_review_on"] = [
                "The first review has been held: the next date follows from it."
            ]
        elif first_review_on < timezone.localdate():
            errors["first_review_on"] = ["The first review date must be today or in the future."]
        elif first_review_on > protocol_services.add_months(timezone.localdate(), MAX_CADENCE):
            errors["first_review_on"] = [
                f"The first review date must be within {MAX_CADENCE // 12} years from today."
            ]
        else:
            values["first_review_on"] = first_review_on
    if errors:
        raise ValidationError(errors)
    before = snapshot(cycle, SCHEDULE_FIELDS)
    for key, value in values.items():
        setattr(cycle, key, value)
    reschedule(cycle)
    changes = diff(before, snapshot(cycle, SCHEDULE_FIELDS))
    if changes:
        log_action(
            cycle.partnership,
            "review.schedule_changed",
            f"Changed the review schedule of {subjects.title_of(cycle)}",
            cycle,
            changes,
        )
    return cycle


def _require_live(cycle: ReviewCycle) -> None:
    if cycle.ended_at is not None:
        raise ValidationError("This document is no longer in force: it has no more reviews.")


@service
def bring_forward(cycle: ReviewCycle, *, to: date, cause: str, reason: str, by=None) -> ReviewCycle:
    """Bring the next review forward to `to` (never later than it already is), saying why: a
    breach (Accord does this itself), a change in the law, a partner joining or leaving, or
    the steering group's decision."""
    require(by, cycle.partnership_id, may_manage)
    cycle = _lock(cycle)
    _require_live(cycle)
    reason = (reason or "").strip()
    errors = {}
    if cause not in Cause.values:
        errors["cause"] = ["Choose why the review is brought forward."]
    if not reason:
        errors["reason"] = ["Say why the review is brought forward."]
    if to is None:
        errors["to"] = ["Enter the date the review is brought forward to."]
    elif to < timezone.localdate():
        errors["to"] = ["The review cannot be brought forward to a date in the past."]
    elif to >= cycle.next_review_on:
        errors["to"] = [
            f"The review is already due on {cycle.next_review_on:%d/%m/%Y}: enter an earlier date."
        ]
    if errors:
        raise ValidationError(errors)
    before = snapshot(cycle, SCHEDULE_FIELDS)
    cycle.brought_forward_to = to
    cycle.brought_forward_cause = cause
    cycle.brought_forward_reason = reason
    reschedule(cycle)
    log_action(
        cycle.partnership,
        "review.brought_forward",
        f"Brought the review of {subjects.title_of(cycle)} forward to {to:%d/%m/%Y}: {reason}",
        cycle,
        diff(before, snapshot(cycle, SCHEDULE_FIELDS)),
    )
    send_templated_email_each(
        "review_brought_forward",
        lead_emails(cycle),
        _context(cycle, reason=reason, cause=Cause(cause).label),
    )
    return cycle


def after_breach(documents: list[Protocol | Agreement], *, detected_on: date) -> int:
    """A breach brings forward the review of each protocol and agreement it concerns: to within
    a month of its detection, unless the review already falls sooner. Returns how many moved."""
    moved = 0
    to = max(
        protocol_services.add_months(detected_on, BREACH_REVIEW_WITHIN_MONTHS),
        timezone.localdate(),
    )
    for document in documents:
        cycle = subjects.cycle_of(document)
        if cycle is None or cycle.ended_at is not None or cycle.next_review_on <= to:
            continue
        bring_forward(
            cycle,
            to=to,
            cause=Cause.BREACH,
            # Only that there was a breach: the breach itself is for those who may see it.
            reason="A personal data breach concerns it.",
            by=None,
        )
        moved += 1
    return moved


# --- Who hears ------------------------------------------------------------------------------


def lead_emails(cycle: ReviewCycle) -> list[str]:
    """The lead organisation's verified people who manage reviews or draft documents; when it
    has none, the partnership's steering group and administrators."""
    organisation = subjects.lead_of(cycle).organisation
    members = Membership.objects.filter(
        organisation=organisation, user__is_active=True
    ).select_related("user")
    found = {
        m.user.email
        for m in members
        if (m.can(Perm.MANAGE_REVIEWS) or m.can(Perm.DRAFT_DOCUMENTS))
        and acts_for(m.user, organisation)
    }
    if not found:
        found = set(
            Membership.objects.filter(user__is_active=True)
            .filter(is_steering_group=True)
            .values_list("user__email", flat=True)
        ) | set(
            Membership.objects.filter(user__is_active=True, is_administrator=True).values_list(
                "user__email", flat=True
            )
        )
    return sorted({e.strip().lower() for e in found if e})


def _context(cycle: ReviewCycle, **extra: Any) -> dict[str, Any]:
    return {
        "partnership": cycle.partnership,
        "title": subjects.title_of(cycle),
        "kind": subjects.kind_label(cycle).lower(),
        "lead": subjects.lead_of(cycle).organisation,
        "review_on": cycle.next_review_on,
        "link": subjects.cycle_link(cycle),
        **extra,
    }


# --- Feedback rounds ------------------------------------------------------------------------


def open_round(cycle: ReviewCycle) -> FeedbackRound | None:
    """Open the feedback round for the cycle's next review (once: a second call for the same
    date finds it), asking every party by e-mail. None when nothing is in force to comment on."""
    existing = FeedbackRound.objects.filter(cycle=cycle, review_on=cycle.next_review_on).first()
    if existing is not None:
        return existing
    current = subjects.version_in_force(cycle)
    if current is None or cycle.ended_at is not None:
        return None
    FeedbackRound.objects.filter(cycle=cycle, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    closes_on = max(cycle.next_review_on, timezone.localdate())
    try:
        with transaction.atomic():
            feedback_round = FeedbackRound.objects.create(
                partnership_id=cycle.partnership_id,
                cycle=cycle,
                review_on=cycle.next_review_on,
                closes_on=closes_on,
                protocol_version=current if cycle.protocol_id else None,
                agreement=current if cycle.agreement_id else None,
            )
    except IntegrityError:
        return FeedbackRound.objects.get(cycle=cycle, review_on=cycle.next_review_on)
    parties = subjects.parties(cycle)
    for partner in parties:
        ask_party(feedback_round, partner)
    log_action(
        cycle.partnership,
        "review.feedback_opened",
        f"Asked {len(parties)} part{'y' if len(parties) == 1 else 'ies'} for feedback on "
        f"{subjects.title_of(cycle)} by {closes_on:%d/%m/%Y}",
        cycle,
    )
    return feedback_round


@service
def open_feedback_now(cycle: ReviewCycle, *, by) -> FeedbackRound:
    """The steering group asks for feedback before the clock would (a review called early)."""
    require(by, cycle.partnership_id, may_manage)
    cycle = _lock(cycle)
    _require_live(cycle)
    existing = FeedbackRound.objects.filter(cycle=cycle, review_on=cycle.next_review_on).first()
    if existing is not None:
        asked_on = timezone.localdate(existing.opened_at)
        raise ValidationError(
            f"The parties were asked for feedback on {asked_on:%d/%m/%Y} for this review: "
            "their answers are below."
        )
    opened = open_round(cycle)
    if opened is None:
        raise ValidationError("No version is in force: there is nothing to comment on.")
    return opened


def ask_party(feedback_round: FeedbackRound, partner: Partner) -> FeedbackRequest:
    """One party's request, with a fresh link e-mailed to its contacts."""
    token, token_hash = new_token()
    recipients = partner_addresses([partner.pk])[partner.pk]
    request = FeedbackRequest.objects.create(
        partnership_id=feedback_round.partnership_id,
        round=feedback_round,
        partner=partner,
        token_hash=token_hash,
        sent_to=recipients,
    )
    _send_request(request, token, "review_feedback_request")
    recompute_request(request)
    return request


def _send_request(request: FeedbackRequest, token: str, template: str) -> None:
    cycle = request.round.cycle
    send_templated_email_each(
        template,
        request.sent_to,
        _context(
            cycle,
            organisation=request.partner.organisation,
            closes_on=request.round.closes_on,
            feedback_link=settings.SITE_URL + reverse("review_feedback", args=[token]),
        ),
    )


def remind_when_due(request: FeedbackRequest) -> bool:
    """Send the next reminder (with a new link; the old one still works while the round is
    open) if it is still due, to the
    party's contacts as they are now: a conditional UPDATE claims it, so two sweeps at once
    send it once. A partner no longer a party is not reminded."""
    if not subjects.is_party(request.round.cycle, request.partner):
        return False
    count = request.reminders_sent
    token, token_hash = new_token()
    recipients = partner_addresses([request.partner_id])[request.partner_id]
    earlier = request.token_hash
    claimed = FeedbackRequest.objects.filter(
        pk=request.pk, reminders_sent=count, answered_at__isnull=True
    ).update(
        reminders_sent=count + 1,
        last_reminded_at=timezone.now(),
        token_hash=token_hash,
        sent_to=recipients,
    )
    if not claimed:
        return False
    EarlierLink.objects.create(
        partnership_id=request.partnership_id, request=request, token_hash=earlier
    )
    request.refresh_from_db()
    _send_request(request, token, "review_feedback_reminder")
    return True


def request_for_token(token: str) -> FeedbackRequest | None:
    if not token or len(token) > TOKEN_MAX_LENGTH:
        return None
    hashed = hash_token(token)
    # The link of the latest e-mail, or one a reminder replaced (`feedback_refusal` turns it
    # away once the round has closed, as it does the latest).
    return (
        FeedbackRequest.objects.select_related(
            "round__cycle__partnership",
            "round__cycle__protocol",
            "round__cycle__agreement",
            "round__protocol_version",
            "round__agreement",
            "partner__organisation",
        )
        .filter(Q(token_hash=hashed) | Q(earlier_links__token_hash=hashed))
        .first()
    )


def round_sections(feedback_round: FeedbackRound) -> list[subjects.SectionText]:
    current = feedback_round.protocol_version or feedback_round.agreement
    return subjects.sections(feedback_round.cycle, current)


def feedback_refusal(request: FeedbackRequest) -> str:
    """Why this link can no longer take feedback, or "" when it can."""
    feedback_round = request.round
    cycle = feedback_round.cycle
    if feedback_round.closed_at is not None or cycle.ended_at is not None:
        return "This feedback round has closed: the review it was for has been held."
    if not subjects.is_party(cycle, request.partner):
        return (
            f"{request.partner.organisation} is no longer a party to "
            f"{subjects.title_of(cycle)}, so it is not asked for feedback."
        )
    return ""


@transaction.atomic
def give_feedback(
    request: FeedbackRequest,
    *,
    name: str,
    email: str,
    answers: dict[str, dict[str, Any]],
) -> FeedbackRequest:
    """A party's answer through its link: for each section "no changes", or comments and a
    proposed amendment. Given again before the round closes, it replaces the earlier one."""
    request = FeedbackRequest.objects.select_for_update().get(pk=request.pk)
    refusal = feedback_refusal(request)
    if refusal:
        raise PermissionDenied(refusal)
    errors: dict[str, list[str]] = {}
    name, email = (name or "").strip(), (email or "").strip().lower()
    if not name:
        errors["name"] = ["Enter your name."]
    if not email or "@" not in email:
        errors["email"] = ["Enter your e-mail address, like name@example.gov.uk."]
    rows = []
    for section in round_sections(request.round):
        answer = answers.get(section.key) or {}
        choice = answer.get("choice")
        comments = (answer.get("comments") or "").strip()
        amendment = (answer.get("amendment") or "").strip()
        field = f"section-{section.key}"
        if choice not in ("no_changes", "comments"):
            errors[field] = [f"Say whether “{section.title}” needs any changes."]
        elif choice == "comments" and not (comments or amendment):
            errors[field] = [
                f"Enter your comments or proposed amendment for “{section.title}”, or choose "
                "“No changes”."
            ]
        rows.append(
            SectionFeedback(
                partnership_id=request.partnership_id,
                request=request,
                key=section.key,
                position=section.position,
                title=section.title,
                no_changes=choice == "no_changes",
                comments="" if choice == "no_changes" else comments,
                amendment="" if choice == "no_changes" else amendment,
            )
        )
    if errors:
        raise ValidationError(errors)
    again = request.answered_at is not None
    SectionFeedback.objects.filter(request=request).delete()
    SectionFeedback.objects.bulk_create(rows)
    request.answered_at = timezone.now()
    request.answered_by_name, request.answered_by_email = name[:200], email[:254]
    request.save(update_fields=["answered_at", "answered_by_name", "answered_by_email"])
    cycle = request.round.cycle
    changes = sum(not row.no_changes for row in rows)
    with acting(organisation=request.partner.organisation):
        log_action(
            cycle.partnership,
            "review.feedback_given",
            f"{request.partner.organisation}'s feedback on {subjects.title_of(cycle)} was given"
            f"{' again' if again else ''} through the link e-mailed to "
            f"{', '.join(request.sent_to) or 'nobody'}, by “{name} <{email}>” as typed there: "
            f"{changes} section{'' if changes == 1 else 's'} with comments",
            cycle,
        )
    recompute_request(request)
    return request


def feedback_summary(cycle: ReviewCycle) -> str:
    """The feedback gathered for the cycle's next review, as the record of the review starts
    from it: who answered, then each comment by section."""
    feedback_round = FeedbackRound.objects.filter(
        cycle=cycle, review_on=cycle.next_review_on
    ).first()
    if feedback_round is None:
        return ""
    requests = list(feedback_round.requests.select_related("partner__organisation"))
    answered = [r for r in requests if r.answered_at is not None]
    lines = [f"{len(answered)} of {len(requests)} parties answered."]
    answers = SectionFeedback.objects.filter(
        request__round=feedback_round, no_changes=False
    ).select_related("request__partner__organisation")
    for answer in answers.order_by("position", "request__partner__organisation__name"):
        line = f"{answer.title}: {answer.request.partner.organisation}: {answer.comments}".strip()
        if answer.amendment:
            line += f" Proposed: {answer.amendment}"
        lines.append(line)
    if len(lines) == 1 and answered:
        lines.append("Every answer was “no changes”.")
    return "\n".join(lines)


# --- The review and its outcome -------------------------------------------------------------


@service
def record_review(
    cycle: ReviewCycle,
    *,
    held_on: date | None,
    attendees: str,
    feedback_considered: str,
    decision: str,
    outcome: str,
    by,
) -> Review:
    """Record the review the steering group held and carry out its outcome: no change (a
    "Reviewed, no change" row in the revision table), a minor or a major amendment (a new
    draft version, through the document's own lifecycle; a major one is signed again) or
    retirement. The next review date rolls on from the meeting."""
    require(by, cycle.partnership_id, may_manage)
    cycle = _lock(cycle)
    _require_live(cycle)
    attendees, decision = (attendees or "").strip(), (decision or "").strip()
    feedback_considered = (feedback_considered or "").strip()
    errors: dict[str, list[str]] = {}
    if held_on is None:
        errors["held_on"] = ["Enter the date the review meeting was held."]
    elif held_on > timezone.localdate():
        errors["held_on"] = ["The meeting date cannot be in the future."]
    elif held_on < cycle.adopted_on:
        errors["held_on"] = ["The meeting date cannot be before the document came into force."]
    elif cycle.last_reviewed_on is not None and held_on <= cycle.last_reviewed_on:
        errors["held_on"] = [
            f"A review held on {cycle.last_reviewed_on:%d/%m/%Y} is already recorded: enter a "
            "later meeting."
        ]
    if not attendees:
        errors["attendees"] = ["Enter who attended the review."]
    if outcome not in allowed_outcomes(cycle):
        errors["outcome"] = ["Choose the review's outcome."]
    if not decision:
        errors["decision"] = ["Enter the decision the review made: an outcome needs one."]
    current = subjects.version_in_force(cycle)
    if current is None and not errors:
        errors["outcome"] = ["No version is in force: there is nothing to review."]
    if errors:
        raise ValidationError(errors)
    review = Review(
        partnership_id=cycle.partnership_id,
        cycle=cycle,
        due_on=cycle.next_review_on,
        held_on=held_on,
        attendees=attendees,
        feedback_considered=feedback_considered,
        decision=decision,
        outcome=outcome,
        recorded_by=by,
    )
    made = _carry_out(cycle, current, review, by)
    review.save()
    before = snapshot(cycle, SCHEDULE_FIELDS)
    cycle.last_reviewed_on = held_on
    cycle.brought_forward_to = None
    cycle.brought_forward_cause = ""
    cycle.brought_forward_reason = ""
    FeedbackRound.objects.filter(cycle=cycle, closed_at__isnull=True).update(
        closed_at=timezone.now()
    )
    if outcome == Outcome.RETIRE:
        cycle.save()
        _end(cycle)
    else:
        reschedule(cycle)
    log_action(
        cycle.partnership,
        "review.recorded",
        f"Recorded the review of {subjects.title_of(cycle)} held on {held_on:%d/%m/%Y}: "
        f"{review.get_outcome_display()}{made}",
        cycle,
        {**diff(before, snapshot(cycle, SCHEDULE_FIELDS)), "outcome": [None, outcome]},
    )
    send_templated_email_each(
        "review_outcome",
        _outcome_recipients(cycle),
        _context(cycle, review=review, made=made.lstrip(": ")),
    )
    return review


def allowed_outcomes(cycle: ReviewCycle) -> list[str]:
    """Agreements have whole-number versions, each signed again: one kind of amendment."""
    if cycle.protocol_id:
        return list(Outcome.values)
    return [Outcome.NO_CHANGE, Outcome.MAJOR, Outcome.RETIRE]


def _carry_out(cycle: ReviewCycle, current, review: Review, by) -> str:
    author = (by.full_name or by.email) if by is not None else "Accord"
    summary = f"Review of {review.held_on:%d/%m/%Y}: {review.decision}"
    if review.outcome == Outcome.NO_CHANGE:
        RevisionNote.objects.create(
            partnership_id=cycle.partnership_id,
            document=current.document,
            on=review.held_on,
            author=author,
            summary="Reviewed, no change.",
        )
        return ""
    if cycle.protocol_id:
        if review.outcome == Outcome.RETIRE:
            protocol_services.retire(cycle.protocol, reason=summary, by=None)
            return ""
        version = protocol_services.new_version(
            cycle.protocol, major=review.outcome == Outcome.MAJOR, change_summary=summary, by=None
        )
        version.author = by
        version.save(update_fields=["author"])
        review.protocol_version = version
        return f": version {version.number} started as a draft"
    if review.outcome == Outcome.RETIRE:
        agreement_lifecycle.terminate(cycle.agreement, reason=summary, by=None)
        return ""
    copy = agreement_lifecycle.new_version(cycle.agreement, change_summary=summary, by=None)
    review.agreement = copy
    return f": version {copy.version_label} started as a draft"


def _outcome_recipients(cycle: ReviewCycle) -> list[str]:
    """The parties' contacts and the lead: every party hears what the review decided."""
    ids = [p.pk for p in subjects.parties(cycle)]
    found = {e for emails in partner_addresses(ids).values() for e in emails}
    return sorted(found | set(lead_emails(cycle)))


SETTINGS_FIELDS = [
    "cadence_months",
    "first_review_months",
    "feedback_months",
    "due_soon_months",
    "lapsed_months",
]


@service
def save_settings(partnership, values: dict[str, Any], *, by) -> ReviewSettings:
    """An administrator changes the partnership's review rules; documents coming into force
    from now on follow them, and the notices of the cycles running follow the notice period."""
    require(by, partnership.pk, lambda m: m.can(Perm.MANAGE_PARTNERSHIP))
    rules, _ = ReviewSettings.objects.select_for_update().get_or_create(partnership=partnership)
    before = snapshot(rules, SETTINGS_FIELDS)
    for key in SETTINGS_FIELDS:
        if key in values:
            setattr(rules, key, values[key])
    rules.full_clean()
    rules.save()
    changes = diff(before, snapshot(rules, SETTINGS_FIELDS))
    if changes:
        log_action(
            partnership, "review.settings_changed", "Changed the review settings", rules, changes
        )
        for cycle in ReviewCycle.objects.filter(ended_at__isnull=True).select_related(
            "partnership"
        ):
            recompute_cycle(cycle)
    return rules
