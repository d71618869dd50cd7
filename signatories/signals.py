"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent when a partner's status changes, inside the transaction and the partnership's scope:
# sender=Partner, partner=..., old=<previous status>, new=<new status>. A receiver that raises
# undoes the change.
partner_status_changed = Signal()
