"""Writer processes for the concurrency tests (a module of its own, so a spawned child can
import it): each opens its own engine and ``LedgerWriter`` on the shared database."""
from __future__ import annotations


def append_in_process(url: str, batches: list[list[dict]], start) -> None:
    from shared.clock import SettableClock
    from shared.db import make_engine
    from shared.envelope import Envelope
    from shared.reference import default_reference

    from services.ledger.adapters.repository import LedgerRepository
    from services.ledger.handlers import LedgerWriter

    from ..builders import YEARS_LATER

    engine = make_engine(url, pool_size=1)
    try:
        writer = LedgerWriter(LedgerRepository(engine), default_reference(), SettableClock(YEARS_LATER))
        if not start.wait(60):
            raise RuntimeError("never told to start")
        for batch in batches:
            writer.record([Envelope(**message) for message in batch])
    finally:
        engine.dispose()
