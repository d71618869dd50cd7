"""Signals other apps listen to."""

from django.dispatch import Signal

# Sent once a partner's answer to a signature request is recorded, inside the signing
# transaction and the partnership's scope: sender=Signature, signature=..., document=...
# A receiver that raises undoes the answer, so the document's owner stays consistent with it.
signature_recorded = Signal()
