"""The ledger (台账): the one writer of the append-only, hash-chained event log and its projections."""
