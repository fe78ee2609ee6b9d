"""A fold read as of an earlier position starts from a checkpoint, and the checkpoints stay
within their memory bound however long the log (spacing doubles as they thin)."""
from __future__ import annotations

import pickle
from dataclasses import dataclass, field

from shared.journal import Checkpoints


@dataclass
class Tally:
    seq: int = 0
    seen: list[int] = field(default_factory=list)

    def apply(self, event) -> None:
        self.seq = event["seq"]
        self.seen.append(event["seq"])


def test_the_nearest_checkpoint_at_or_before_a_position_is_a_copy_of_the_fold_there():
    kept, fold = Checkpoints(every=10, max_bytes=10**9), Tally()
    for seq in range(1, 101):
        fold.apply({"seq": seq})
        kept.passing(fold)
    assert len(kept) == 10
    assert kept.at_or_before(5) is None
    assert pickle.loads(kept.at_or_before(57)).seen == list(range(1, 51))
    assert pickle.loads(kept.at_or_before(100)).seq == 100
    fold.apply({"seq": 101})
    assert pickle.loads(kept.at_or_before(100)).seq == 100  # a copy: the live fold moved on alone


def test_checkpoints_thin_to_every_other_one_when_they_outgrow_their_bytes():
    kept, fold = Checkpoints(every=1, max_bytes=20_000), Tally()
    for seq in range(1, 2001):
        fold.apply({"seq": seq})
        kept.passing(fold)
    assert kept._bytes <= 20_000 and 2 <= len(kept) < 100
    seqs = sorted({pickle.loads(kept.at_or_before(seq)).seq for seq in range(1, 2001) if kept.at_or_before(seq)})
    assert seqs[-1] >= 2000 - kept.every and all(b > a for a, b in zip(seqs, seqs[1:]))
