"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent once a partner's answer to a signature request is recorded, inside the signing
# transaction and the partnership's scope: sender=Signature, signature=..., document=...
# A receiver that raises undoes the answer, so the document's owner stays consistent with it.
signature_recorded = Signal()

# Sent when a partner's status changes, inside the transaction and the partnership's scope:
# sender=Partner, partner=..., old=<previous status>, new=<new status>. A receiver that raises
# undoes the change.
partner_status_changed = Signal()
