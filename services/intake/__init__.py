"""Intake: where regions, departments and citizens submit facts; each becomes a proposal to the ledger."""
