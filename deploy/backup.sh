#!/usr/bin/env bash
# Back up a running compose deployment into DIR (default backups/<UTC time>):
#   <database>.dump  every database (pg_dump's custom format, run in the postgres container so its
#                    version always matches the server's), the ledger's LAST: what the others
#                    hold is then never ahead of the log (a submission the ledger recorded after
#                    intake's dump is simply sent again and ignored as a duplicate, and every
#                    follower catches up from the log);
#   ledger.jsonl     a ledger export (JSON Lines and its checkpoint), taken after the dumps: an
#                    auditor's copy that services/ledger/verify_export.py checks on its own;
#   SHA256SUMS       of all of them.
# Usage:  deploy/backup.sh [DIR]          (from the project's root; the stack running)
# The commands it runs are settings, so that the same script works outside compose (its test):
# PG_EXEC (runs pg_dump), ZC (runs zeroclear), ZEROCLEAR_DATABASES (ledger last).
set -euo pipefail
out="${1:-backups/$(date -u +%Y%m%dT%H%M%SZ)}"
compose="${COMPOSE:-docker compose}"
pg_exec="${PG_EXEC-$compose exec -T postgres}"
zc="${ZC:-$compose exec -T ledger-api zeroclear}"
databases="${ZEROCLEAR_DATABASES:-zeroclear_keys zeroclear_intake zeroclear_assessment zeroclear_notify zeroclear_ledger}"
pg_user="${ZEROCLEAR_PG_SUPERUSER:-postgres}"

mkdir -p "$out"
chmod 700 "$out"
for db in $databases; do
  $pg_exec pg_dump --username "$pg_user" --format custom --dbname "$db" > "$out/$db.dump"
  echo "backup: $db ($(wc -c < "$out/$db.dump") bytes)"
done
$zc --log-level warning ledger export - > "$out/ledger.jsonl"
echo "backup: ledger export ($(wc -l < "$out/ledger.jsonl") lines)"
(cd "$out" && sha256sum -- *.dump ledger.jsonl > SHA256SUMS)
echo "backup: done in $out"
