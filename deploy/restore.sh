#!/usr/bin/env bash
# Restore a backup made by deploy/backup.sh into FRESH volumes, then check it:
#   1. the checksums; the export verified on its own (services/ledger/verify_export.py);
#   2. postgres started on its empty volume (its init script makes the roles and empty
#      databases, with the same ./secrets), each database restored into its own;
#   3. the whole stack started (migrations and broker set-up are no-ops or catch up);
#   4. `zeroclear ledger verify` on the restored log, whose head must be on the export's chain;
#      then every follower catches up from the log by itself (watch zeroclear_follower_position).
# Usage:  docker compose down --volumes     # or a new machine; this DELETES the old data
#         deploy/restore.sh DIR
# Settings as in backup.sh, and START / UP (how postgres alone, then everything, are started).
set -euo pipefail
dir="${1:?usage: deploy/restore.sh BACKUP_DIR}"
compose="${COMPOSE:-docker compose}"
pg_exec="${PG_EXEC-$compose exec -T postgres}"
zc="${ZC:-$compose exec -T ledger-api zeroclear}"
databases="${ZEROCLEAR_DATABASES:-zeroclear_keys zeroclear_intake zeroclear_assessment zeroclear_notify zeroclear_ledger}"
pg_user="${ZEROCLEAR_PG_SUPERUSER:-postgres}"
here="$(cd "$(dirname "$0")/.." && pwd)"

(cd "$dir" && sha256sum --quiet --check SHA256SUMS)
python3 "$here/services/ledger/verify_export.py" "$dir/ledger.jsonl" > /dev/null
echo "restore: checksums and the export verified"

${START:-$compose up -d --wait postgres}
for db in $databases; do
  $pg_exec pg_restore --username "$pg_user" --exit-on-error --dbname "$db" < "$dir/$db.dump"
  echo "restore: $db"
done
${UP:-$compose up -d --wait}

verdict="$($zc --log-level warning ledger verify)"
python3 - "$dir/ledger.jsonl" "$verdict" <<'PY'
import json, sys
export, verdict = sys.argv[1], json.loads(sys.argv[2])
assert verdict["ok"], f"the restored log does not verify: {verdict}"
if verdict["count"]:
    with open(export, "rb") as lines:
        hashes = {e["seq"]: e["hash"] for e in map(json.loads, lines) if "seq" in e}
    assert hashes.get(verdict["count"]) == verdict["head"], "the restored head is not on the export's chain"
print(f"restore: the log verifies, {verdict['count']} events, head {verdict['head'][:16]}… on the export's chain")
PY
