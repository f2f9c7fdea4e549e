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
# Supabase's auth schema, as its migrations define auth.uid(), auth.role() and
# auth.jwt() (supabase/postgres, auth schema) and a minimal auth.users, so that
# test/security/auth_schema.sql can hold switchboard.current_user_id() to it.
psql_q -d $DB >/dev/null <<'SQL' || fail_setup "auth schema"
create schema auth;
create table auth.users (instance_id uuid, id uuid primary key, aud varchar(255), role varchar(255),
                         email varchar(255) unique, created_at timestamptz default now());
create function auth.uid() returns uuid language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.sub', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
  )::uuid
$$;
create function auth.role() returns text language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim.role', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
  )::text
$$;
create function auth.jwt() returns jsonb language sql stable as $$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$$;
grant usage on schema auth to anon, authenticated, service_role;
grant execute on all functions in schema auth to anon, authenticated, service_role;
SQL

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
