"""Every published message type and its promise, from all producers: for documents that describe
the whole stream (the ledger's AsyncAPI document) and the tests that hold the consumers to it."""
from __future__ import annotations

from . import Promise, assessment, intake, ledger, notify

PROMISES: dict[str, Promise] = {**intake.PROMISES, **ledger.PROMISES, **assessment.PROMISES, **notify.PROMISES}
