"""The campaign state the assessment scores from, at the head of its copy of the log or at any
earlier position: the head's state is kept in memory and advanced by the events that came since;
an earlier position is folded afresh from the kept events (the same fold, so the same numbers)."""
from __future__ import annotations

import threading
from typing import Callable, TypeVar

from .adapters.repository import AssessmentRepository
from .domain.campaign import CampaignState

T = TypeVar("T")


class ReadModel:
    def __init__(self, repo: AssessmentRepository):
        self.repo = repo
        self._lock = threading.Lock()
        self._live = CampaignState()

    def using(self, upto: int | None, use: Callable[[CampaignState], T]) -> T:
        """``use(state)`` with the state after the event at ``upto`` (default: the last one kept)."""
        with self._lock:
            if upto is None or upto >= self._live.seq:
                for event in self.repo.events(after=self._live.seq, upto=upto):
                    self._live.apply(event)
                if upto is None or upto == self._live.seq:
                    return use(self._live)  # under the lock: the live state moves on only after
        fresh = CampaignState()
        for event in self.repo.events(upto=upto):
            fresh.apply(event)
        return use(fresh)
