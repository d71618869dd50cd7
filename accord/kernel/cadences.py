"""Accord's default cadences, each in one place. Partnerships and documents may set their own;
these are what they start from."""

from datetime import timedelta

# Signing: a reminder every 7 days, at most 3, until the partner answers.
SIGNING_REMINDER_EVERY_DAYS = 7
SIGNING_MAX_REMINDERS = 3
# Breaches: the warnings before each deadline (partners at 48 hours, the ICO at 72 hours).
BREACH_WARNINGS = (timedelta(hours=24), timedelta(hours=6), timedelta(hours=1))
