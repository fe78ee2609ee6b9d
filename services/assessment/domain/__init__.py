"""The assessment's pure domain: an independent fold of the ledger's recorded events
(``campaign``) and the scoring of every region per SPEC §6 (``scoring``)."""
