#!/usr/bin/env bash
# Supabase-like fixture: roles anon, authenticated and service_role (BYPASSRLS)
# exist BEFORE CREATE EXTENSION, so the extension grants at creation time; then
# pg_prove runs test/security/*.sql in that database.  Runs inside the test
# cluster (PG* env set).  Prints "N passed, N failed" last.
set -u
cd "$(dirname "$0")/../.."
DB=switchboard_supabase
psql_q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

created_roles=()
for r in anon authenticated service_role; do
    if [ "$(psql_q -At -d postgres -c "select count(*) from pg_roles where rolname = '$r'")" = 0 ]; then
        case $r in
            service_role) opts="nologin noinherit bypassrls" ;;
            *) opts="nologin noinherit" ;;
        esac
        psql_q -d postgres -c "create role $r $opts" && created_roles+=("$r")
    fi
done

fail_setup() { echo "setup failed: $1"; echo "0 passed, 1 failed"; exit 1; }
psql_q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" \
    -c "create database $DB" >/dev/null || fail_setup "create database"
psql_q -d $DB -c "set client_min_messages = warning" -c "create extension pgtap" \
    -c "create extension switchboard" >/dev/null || fail_setup "create extension"

out=$(mktemp)
PGDATABASE=$DB pg_prove --verbose --ext .sql test/security/*.sql >"$out" 2>&1
rc=$?
cat "$out"
p=$(grep -cE '^\s*ok [0-9]+' "$out")
f=$(grep -cE '^\s*not ok [0-9]+' "$out")
rm -f "$out"
[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1

psql_q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" >/dev/null
for r in "${created_roles[@]}"; do psql_q -d postgres -c "drop role $r" >/dev/null; done

echo "$p passed, $f failed"
[ "$f" -eq 0 ]
