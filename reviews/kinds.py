"""The names of reviews' clocks, and keeping them in step with the facts (the clocks
themselves are declared in `reviews.clocks`)."""

from __future__ import annotations

from accord.kernel import clocks

from .models import FeedbackRequest, ReviewCycle

FEEDBACK_OPENS = "reviews.feedback_opens"
LEAD_NOTICE = "reviews.lead_notice"
FEEDBACK_REMINDER = "reviews.feedback_reminder"


def recompute_cycle(cycle: ReviewCycle) -> None:
    clocks.recompute(FEEDBACK_OPENS, cycle)
    clocks.recompute(LEAD_NOTICE, cycle)


def recompute_request(request: FeedbackRequest) -> None:
    clocks.recompute(FEEDBACK_REMINDER, request)
