"""The ledger's database: the event table and its head, the inbox record, the projections."""
