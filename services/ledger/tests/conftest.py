"""The ledger's own tests.

- ``unit/``: no I/O — the hash chain, the acceptance rules, the fold, the registry, the digest,
  the standalone verifier's canonical JSON, and the writer against the in-memory store.
- ``integration/``: one adapter against the real thing — the store contract (in-memory fake,
  SQLite, PostgreSQL), tampering in the database, the append-only triggers, concurrent writers,
  replay, export and the standalone verifier, and the HTTP API.

Builders of messages live in ``builders.py``; the project-wide fixtures (``clock``,
``reference``, ``postgres_url``) come from the ``shared.testing`` plugin.
"""
