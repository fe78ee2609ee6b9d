-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d/), as
-- POSTGRES_USER: one database per service, which owns it alone, and one for the API keys
-- (the key store every service reads). docker-compose.yml names the same databases in the
-- services' ZEROCLEAR_<SERVICE>_DATABASE_URL and ZEROCLEAR_AUTH_DATABASE_URL.
--
-- The init scripts do not run again on an existing volume: after changing this file,
-- `docker compose down --volumes` (which deletes the data) or create the database by hand.
CREATE DATABASE zeroclear_ledger;
CREATE DATABASE zeroclear_intake;
CREATE DATABASE zeroclear_assessment;
CREATE DATABASE zeroclear_notify;
CREATE DATABASE zeroclear_portal;
CREATE DATABASE zeroclear_keys;
