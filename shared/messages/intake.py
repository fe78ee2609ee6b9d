"""Intake's messages: the facts a region, a department or the office proposes to the ledger.

Owned by intake (services/intake): only intake changes this module. The ledger records each
(after its own validation: ``services/ledger/domain/events.py``) under the same type, so these
are also the types of the recorded events that notify and assessment fold.
"""
from __future__ import annotations

from . import promise, type_name

PRODUCER = "intake"

REPORT_FILED = type_name(PRODUCER, "report_filed", 1)
REPORT_AMENDED = type_name(PRODUCER, "report_amended", 1)
DEPARTMENT_LIST_FILED = type_name(PRODUCER, "department_list_filed", 1)
ELIMINATION_REPORTED = type_name(PRODUCER, "elimination_reported", 1)
ELIMINATION_DECIDED = type_name(PRODUCER, "elimination_decided", 1)
TIP_FILED = type_name(PRODUCER, "tip_filed", 1)
TIP_RESOLVED = type_name(PRODUCER, "tip_resolved", 1)

_REPORT = "submission_id region year document_no signed_by zero_report entries"
#: What intake promises of each payload (the ledger's parser holds every field to its type).
PROMISES = {p.type: p for p in (
    promise(REPORT_FILED, _REPORT, "filer", "A region's registration form or zero report"),
    promise(REPORT_AMENDED, _REPORT + " reason", "filer", "An amendment replacing a region's report"),
    promise(DEPARTMENT_LIST_FILED, "submission_id department year entries", "", "A department's list of enterprises"),
    promise(ELIMINATION_REPORTED, "submission_id region item_id eliminated_on method evidence workers_resettled", "",
            "A region reports a capacity item eliminated"),
    promise(ELIMINATION_DECIDED, "submission_id item_id decision reason", "",
            "The office verifies or rejects an elimination"),
    promise(TIP_FILED, "submission_id region enterprise uscc location description", "", "A citizen's tip"),
    promise(TIP_RESOLVED, "submission_id tip_id resolution explanation", "duplicate_of entry",
            "A tip resolved: confirmed, unfounded or a duplicate"),
)}
