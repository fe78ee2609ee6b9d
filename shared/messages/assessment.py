"""The assessment's messages: the office's scores and the published assessment of a year.

Owned by the assessment service (services/assessment).
"""
from __future__ import annotations

from . import promise, type_name

PRODUCER = "assessment"

INPUT_FILED = type_name(PRODUCER, "input_filed", 1)
PUBLISHED = type_name(PRODUCER, "published", 1)

PROMISES = {p.type: p for p in (
    promise(INPUT_FILED, "submission_id region year criterion score note", "",
            "The office scored criterion 2 or 3 of a region's year"),
    promise(PUBLISHED, "submission_id year cut_off position digest result", "replaces reason checkpoint",
            "A year's assessment published (or corrected)"),
)}
