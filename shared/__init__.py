"""What every zeroclear service needs and nothing more: envelope, broker, topology, settings,
clock, canonical JSON, reference data, database and HTTP plumbing, the key store, test fixtures.
No business rules live here."""
