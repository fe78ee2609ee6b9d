"""Pure rules of the ledger: the hash chain, the projection fold, the acceptance rules."""
