"""The ledger's command handlers: record proposed facts, open years.

``LedgerWriter`` is the one writer of the log in a process. It keeps the folded state in memory
to judge each fact, appends a whole batch in one transaction (group commit), and only then lets
the caller acknowledge the messages. A redelivered message id is skipped; a failed transaction
drops the in-memory state so it is reloaded from the database before the next batch.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, Iterable, Mapping, Protocol

from shared.clock import Clock, format_instant
from shared.broker import Outcome
from shared.envelope import Envelope, EnvelopeError, RecordedEvent, split_body
from shared.metrics import INBOX_REFUSED
from shared.reference import Reference

from .domain.events import Reason
from .domain.rules import NewEvent, decide, open_year, rejection
from .domain.sealing import Sealed, seal
from .domain.changes import Changes
from .domain.state import LedgerState

log = logging.getLogger(__name__)
MAX_ID_LENGTH = 64


def _envelope(body: bytes) -> Envelope:
    """The envelope of a message, its header fit to be stored (the payload is judged later): what
    fails here cannot even be rejected on the log, for a rejection repeats these fields."""
    message = Envelope.from_bytes(body)
    if not _header_text(message.id, MAX_ID_LENGTH):
        raise EnvelopeError("message id must be printable text of at most 64 characters")
    if not _header_text(message.actor, 80) or not _header_text(message.correlation_id, MAX_ID_LENGTH):
        raise EnvelopeError("actor and correlation_id must be printable text")
    if message.causation_id is not None and not _header_text(message.causation_id, MAX_ID_LENGTH):
        raise EnvelopeError("causation_id must be printable text or null")
    return message


def _header_text(value, limit: int) -> bool:
    return isinstance(value, str) and 0 < len(value) <= limit and value.isprintable()


class LedgerTx(Protocol):
    def lock_head(self) -> int: ...
    def events_after(self, seq: int) -> Iterable[RecordedEvent]: ...
    def processed(self, message_ids: Iterable[str]) -> set[str]: ...
    def append(self, sealed: list[Sealed], processed: list[tuple[str, int]]) -> None: ...
    def save(self, changes: Changes) -> None: ...
    def set_head(self, state: LedgerState) -> None: ...


class LedgerStore(Protocol):
    def transaction(self): ...
    def load_state(self) -> LedgerState: ...


class LedgerWriter:
    def __init__(self, store: LedgerStore, reference: Reference, clock: Clock,
                 on_commit: Callable[[list[RecordedEvent]], None] | None = None,
                 is_transient: Callable[[BaseException], bool] = lambda exc: False,
                 senders: Mapping[str, str] | None = None):
        self.store = store
        #: producer → the broker user its messages must come from (empty: anyone's, as embedded)
        self.senders = dict(senders or {})
        self.reference = reference
        self.clock = clock
        self.on_commit = on_commit
        self.is_transient = is_transient
        self._lock = threading.Lock()
        self._state: LedgerState | None = None

    def record(self, messages: list[Envelope]) -> list[RecordedEvent]:
        """Judge and append ``messages`` in one transaction; returns the events recorded."""
        return self._append(lambda state, tx: self._decide_all(state, tx, messages))

    def open_year(self, year: int) -> list[RecordedEvent]:
        """Open ``year`` now if it is not open yet (fixing its expected regions and deadline)."""
        def plan(state: LedgerState, tx: LedgerTx):
            if year in state.years:
                return []
            return [(None, [open_year(year, self.reference, self.clock.now())])]
        return self._append(plan)

    def handle_deliveries(self, deliveries) -> Outcome:
        """Broker entry point. A delivery carries one envelope or a batch of them; what can never
        be processed is dead-lettered: a whole delivery that is not JSON, or one bad envelope."""
        messages, outcome = [], Outcome()
        for index, delivery in enumerate(deliveries):
            try:
                parts = split_body(delivery.body)
            except EnvelopeError as exc:
                log.error("ledger inbox: unreadable message %s (%s); dead-lettering it", delivery.message_id, exc)
                outcome.dead.add(index)
                continue
            for part in parts:
                try:
                    message = _envelope(part)
                except (EnvelopeError, TypeError) as exc:
                    log.error("ledger inbox: unreadable envelope in %s (%s); dead-lettering it", delivery.message_id, exc)
                    message = None
                if message is not None and self._sent_by_its_producer(message, delivery.user_id):
                    messages.append(message)
                elif len(parts) == 1:
                    outcome.dead.add(index)
                else:
                    outcome.dead_parts.append(part)
        if messages:
            self._record_isolating(messages, outcome)
        return outcome

    def _sent_by_its_producer(self, message: Envelope, user_id: str | None) -> bool:
        """Whether the broker user that published ``message`` may send its type. A message that
        may not is recorded nowhere, not even as a rejection (its actor and content are whatever
        the sender wrote): it is dead-lettered for the operator to see, logged and counted."""
        if not self.senders:
            return True
        allowed = self.senders.get(message.type.split(".", 1)[0])
        if allowed is not None and user_id == allowed:
            return True
        reason = "no-user-id" if not user_id else "unknown-producer" if allowed is None else "wrong-user"
        INBOX_REFUSED.labels(reason).inc()
        log.warning("ledger inbox: refused %s (%s) published by broker user %r: only %r may send it (%s); "
                    "dead-lettering it", message.id, message.type, user_id, allowed, reason)
        return False

    def _record_isolating(self, messages: list[Envelope], outcome: Outcome) -> None:
        """Record ``messages``; if the store refuses the batch for a reason that is no outage, find
        the message at fault by halves, so that every other one is recorded. The one at fault is
        recorded as a rejection (its submission ends ``rejected``, never pending for ever), or
        dead-lettered alone if even that cannot be stored."""
        try:
            self.record(messages)
        except Exception as exc:
            if self.is_transient(exc):
                raise  # the database is away: the whole batch waits and is retried
            if len(messages) > 1:
                half = len(messages) // 2
                self._record_isolating(messages[:half], outcome)
                self._record_isolating(messages[half:], outcome)
                return
            self._refuse_unprocessable(messages[0], exc, outcome)

    def _refuse_unprocessable(self, message: Envelope, error: Exception, outcome: Outcome) -> None:
        log.error("ledger inbox: message %s (%s) cannot be stored (%r); recording its rejection",
                  message.id, message.type, error)
        reason = Reason("unprocessable", f"the ledger could not store this message ({type(error).__name__})",
                        "台账无法保存此事项")
        try:
            self._append(lambda state, tx: [(message.id, [rejection(message, [reason], self.clock.now())])])
        except Exception as again:
            if self.is_transient(again):
                raise
            log.exception("ledger inbox: the rejection of %s cannot be stored either; dead-lettering it", message.id)
            outcome.dead_parts.append(message.to_bytes())

    # -- internals ---------------------------------------------------------------------------
    def _decide_all(self, state: LedgerState, tx: LedgerTx, messages: list[Envelope]):
        seen = tx.processed({m.id for m in messages})
        now = self.clock.now()
        for message in messages:
            if message.id in seen:
                continue
            seen.add(message.id)
            yield message.id, decide(state, message, self.reference, now)

    def _append(self, plan) -> list[RecordedEvent]:
        with self._lock:
            state = self._state if self._state is not None else self.store.load_state()
            self._state = None  # until this batch is committed, the in-memory state is suspect
            with self.store.transaction() as tx:
                self._catch_up(state, tx)
                sealed, processed, changes = [], [], Changes()
                now = format_instant(self.clock.now())
                for message_id, new_events in plan(state, tx):
                    for new in new_events:
                        sealed.append(self._seal(new, state, changes, now))
                    if message_id is not None:
                        processed.append((message_id, state.seq))
                if sealed or processed:
                    tx.append(sealed, processed)
                    tx.save(changes)
                    tx.set_head(state)
            self._state = state
        recorded = [s.event for s in sealed]
        for event in recorded:  # one line each, carrying the correlation id of what it records
            log.info("recorded %s at seq %d", event.type, event.seq,
                     extra={"service": "ledger", "correlation_id": event.correlation_id, "seq": event.seq,
                            "event_type": event.type})
        if recorded and self.on_commit is not None:
            self.on_commit(recorded)
        return recorded

    def _catch_up(self, state: LedgerState, tx: LedgerTx) -> None:
        """Another writer may have appended since our state was loaded: fold its events in."""
        head = tx.lock_head()
        if head != state.seq:
            for event in tx.events_after(state.seq):
                state.apply(event)
        if head != state.seq:
            raise RuntimeError(f"log head {head} but state folded to {state.seq}")

    def _seal(self, new: NewEvent, state: LedgerState, changes: Changes, now: str) -> Sealed:
        sealed = seal(new, state, max(now, state.recorded_at))  # recording times never go back
        changes.capture(state, sealed.event.seq, state.apply(sealed.event))
        return sealed
