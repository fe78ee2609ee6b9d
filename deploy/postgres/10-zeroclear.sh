#!/usr/bin/env bash
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d/), as its
# superuser over the local socket. Least privilege (issue 16.4):
#   <prefix>_owner      owns every database below and their schemas: `zeroclear migrate` and the
#                       operator's commands (keys, outbox redrive) connect as it;
#   <prefix>_<service>  one per service, what its containers connect as: CONNECT to its own
#                       database only, where it may SELECT, INSERT, UPDATE and DELETE the tables
#                       the owner makes (the ledger then takes UPDATE, DELETE and TRUNCATE on its
#                       event log back: see services/ledger/bootstrap.py), never create, alter or
#                       drop anything, nor its triggers; and SELECT on the key store.
# Databases: <prefix>_ledger, _intake, _assessment, _notify, _portal and _keys (the API keys every service
# reads). Each role's password is read from a file in $ZEROCLEAR_SECRETS_DIR (/run/secrets, as
# compose mounts them): db_owner_password, db_<service>_password.
# The init scripts do not run again on an existing volume: see the README (operators) to add a
# role or change a password with ALTER ROLE.
set -euo pipefail
prefix="${ZEROCLEAR_DB_PREFIX:-zeroclear}"
secrets="${ZEROCLEAR_SECRETS_DIR:-/run/secrets}"
services="${ZEROCLEAR_DB_SERVICES:-ledger intake assessment notify portal}"
owner="${prefix}_owner"

password() {
  local file="$secrets/$1"
  if [ ! -s "$file" ]; then echo "zeroclear init: the secret $file is missing or empty" >&2; exit 1; fi
  tr -d '\n' < "$file"
}
psql_() { psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet --username "${POSTGRES_USER:-postgres}" "$@"; }

# (each password read into a variable first: a missing secret then stops the script, where inside
# an argument its failure would be ignored and the role made with an empty password)
owner_password="$(password db_owner_password)"
psql_ --dbname postgres -v owner="$owner" -v pw="$owner_password" <<'SQL'
CREATE ROLE :"owner" LOGIN PASSWORD :'pw';
SQL

database() {  # database <name> : owned by the owner, closed to everyone else
  psql_ --dbname postgres -v db="$1" -v owner="$owner" <<'SQL'
CREATE DATABASE :"db" OWNER :"owner";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
\connect :db
ALTER SCHEMA public OWNER TO :"owner";
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL
}

database "${prefix}_keys"
for service in $services; do
  role="${prefix}_${service}"
  db="${prefix}_${service}"
  role_password="$(password "db_${service}_password")"
  database "$db"
  psql_ --dbname postgres -v role="$role" -v pw="$role_password" -v db="$db" \
        -v keys="${prefix}_keys" -v owner="$owner" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'pw';
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO :"role";
GRANT CONNECT ON DATABASE :"keys" TO :"role";
\connect :db
GRANT USAGE ON SCHEMA public TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"role";
\connect :keys
GRANT USAGE ON SCHEMA public TO :"role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"role";
SQL
done
echo "zeroclear init: roles ${owner} and ${prefix}_{${services// /,}}, their databases and ${prefix}_keys are ready"
