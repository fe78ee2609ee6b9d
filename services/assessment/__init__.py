"""Assessment (考核): scores every region per SPEC §6 from the ledger's recorded events (issue 4)."""
