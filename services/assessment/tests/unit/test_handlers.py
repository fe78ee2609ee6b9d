"""The assessment's use cases on in-memory ports: what a publication carries, when it is refused,
and an Idempotency-Key reused for another body."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from shared.clock import SettableClock
from shared.idempotency import IdempotencyConflict, Reply
from shared.keys import Principal
from shared.witness import WitnessUnavailable

from services.assessment.handlers import (
    INPUT_FILED, PUBLISHED, AlreadyPublished, AssessmentHandlers, Caller, InputsMissing,
    NothingToCorrect, WitnessDown,
)

OFFICE = Caller(Principal("k1", "office"), "/v1/assessments/2016/publish", None)
RESULT = {"year": 2016, "cut_off": "2017-03-31T23:59:59+08:00", "position": 7, "digest": "d" * 64,
          "regions": [{"region": "410100", "missing_inputs": []}]}


class Submissions:
    def __init__(self, published: dict | None = None):
        self.kept: list[dict] = []
        self.published = published
        self.answers: dict[tuple, tuple[str, dict]] = {}

    def submit(self, message, *, kind, region, year, ticket, answer):
        if ticket.key is not None:
            if ticket.slot in self.answers:
                first, remembered = self.answers[ticket.slot]
                if first != ticket.fingerprint:
                    raise IdempotencyConflict()
                return Reply(202, remembered, replayed=True)
            self.answers[ticket.slot] = (ticket.fingerprint, answer)
        self.kept.append({"message": message, "kind": kind, "region": region, "year": year, "key_id": ticket.owner})
        return Reply(202, answer)

    def publication(self, year, upto=None):
        return self.published


class Scores:
    def __init__(self, result: dict):
        self.found = result

    def result(self, year, args):
        return self.found


class Witness:
    def __init__(self, checkpoint=None, down: bool = False):
        self.checkpoint, self.down = checkpoint, down

    def checkpoint_at(self, size):
        if self.down:
            raise WitnessUnavailable("connection refused")
        return self.checkpoint


def handlers(submissions=None, witness=None) -> tuple[AssessmentHandlers, Submissions]:
    submissions = submissions or Submissions()
    clock = SettableClock(datetime(2017, 4, 1, tzinfo=timezone.utc))
    return AssessmentHandlers(submissions, clock, witness), submissions


def test_a_publication_carries_the_scores_their_position_digest_and_the_ledgers_checkpoint():
    use_cases, kept = handlers(witness=Witness({"size": 7, "root": "r", "note": "n"}))
    answer, status = use_cases.publish(OFFICE, 2016, {}, Scores(RESULT))
    assert status == 202 and answer["position"] == 7 and answer["digest"] == "d" * 64
    message = kept.kept[0]["message"]
    assert message.type == PUBLISHED and message.payload["checkpoint"] == {"size": 7, "root": "r", "note": "n"}
    assert message.payload["result"] is RESULT and message.id == answer["submission_id"]


def test_a_year_with_an_input_missing_is_not_published():
    missing = {**RESULT, "regions": [{"region": "410100", "missing_inputs": [2, 3]}]}
    with pytest.raises(InputsMissing) as refused:
        handlers()[0].publish(OFFICE, 2016, {}, Scores(missing))
    assert refused.value.missing == [{"region": "410100", "criteria": [2, 3]}]


def test_a_second_publication_must_name_the_official_one_and_a_first_cannot_correct():
    official = {"seq": 40, "digest": "e" * 64}
    with pytest.raises(AlreadyPublished):
        handlers(Submissions(published=official))[0].publish(OFFICE, 2016, {}, Scores(RESULT))
    with pytest.raises(NothingToCorrect):
        handlers()[0].publish(OFFICE, 2016, {"corrects": 40, "reason": "typo"}, Scores(RESULT))
    use_cases, kept = handlers(Submissions(published=official))
    use_cases.publish(OFFICE, 2016, {"corrects": 40, "reason": "typo"}, Scores(RESULT))
    assert kept.kept[0]["message"].payload["replaces"] == 40


def test_nothing_is_published_while_the_ledger_cannot_sign_its_checkpoint():
    use_cases, kept = handlers(witness=Witness(down=True))
    with pytest.raises(WitnessDown):
        use_cases.publish(OFFICE, 2016, {}, Scores(RESULT))
    assert kept.kept == []


def test_an_idempotency_key_reused_for_another_input_is_refused_and_a_retry_gets_the_first_answer():
    use_cases, kept = handlers()
    caller = Caller(Principal("k1", "office"), "/v1/assessment-inputs", "key-1")
    data = {"region": "410100", "year": 2016, "criterion": 2, "score": 90, "note": "good"}
    first = use_cases.file_input(caller, data)
    assert use_cases.file_input(caller, data) == first and kept.kept[0]["message"].type == INPUT_FILED
    with pytest.raises(IdempotencyConflict):
        use_cases.file_input(caller, {**data, "score": 80})
