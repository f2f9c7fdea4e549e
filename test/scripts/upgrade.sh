#!/usr/bin/env bash
# Upgrade path: install every shipped version (CREATE EXTENSION switchboard
# VERSION 'x'), add data through that version's event path, ALTER EXTENSION
# switchboard UPDATE, and show
#   * the version is the current one,
#   * no row is lost or changed (every old column of every old table),
#   * the updated schema is exactly what a fresh CREATE EXTENSION makes
#     (test/upgrade/describe.sql: definitions, columns in order, comments,
#     policies, grants, init privileges, pg_dump registration),
#   * the event path goes on: new events join the old conversations, ids keep
#     increasing, and the analytics equal rebuild_stats.
# Supabase's roles and an admin-granted role exist throughout, so the grants
# are compared too.  Runs inside the test cluster (PG* env set).  Prints
# "N passed, N failed" last.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
passed=0
failed=0
check() {  # description, got, want
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1)); echo "ok - $1"
    else
        failed=$((failed + 1)); echo "not ok - $1"; echo "#   got:  $2"; echo "#   want: $3"
    fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$@"; }

current=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" extension/switchboard.control)
# every shipped version: a committed install script other than the current one
olds=$(ls extension/switchboard--*.sql | sed -n 's#^extension/switchboard--\([0-9.]*\)\.sql$#\1#p' | grep -vx "$current" | sort -V)
check "there is an older version to upgrade from" "$([ -n "$olds" ] && echo yes)" "yes"

created_roles=()
for r in anon authenticated service_role sb_upgrade_app; do
    if [ "$(q postgres -c "select count(*) from pg_roles where rolname = '$r'")" = 0 ]; then
        case $r in
            service_role) opts="nologin noinherit bypassrls" ;;
            *) opts="nologin noinherit" ;;
        esac
        q postgres -c "create role $r $opts" && created_roles+=("$r")
    fi
done

FRESH=switchboard_upgrade_fresh
q postgres -c "set client_min_messages = warning" -c "drop database if exists $FRESH" -c "create database $FRESH"
q $FRESH -c "create extension switchboard" -c "select switchboard.grant_usage('sb_upgrade_app')" >/dev/null
want_schema=$(q $FRESH -f test/upgrade/describe.sql)
# an error in describe.sql would make both sides empty and the comparison vacuous
check "describe.sql describes a fresh install" "$([ "$(echo "$want_schema" | wc -l)" -gt 100 ] && echo yes)" "yes"

# one fingerprint per old table over its old columns (but those an update
# drops), kept in public
snapshot_sql="
drop table if exists public.upgrade_snapshot;
create table public.upgrade_snapshot (tbl name primary key, cols text, n bigint, fp text);
do \$\$
declare t record; c text;
begin
    for t in select r.relname from pg_class r
              where r.relnamespace = 'switchboard'::regnamespace and r.relkind = 'r' order by 1 loop
        select string_agg(format('%I', a.attname), ', ' order by a.attnum) into c
          from pg_attribute a
         where a.attrelid = ('switchboard.' || quote_ident(t.relname))::regclass
           and a.attnum > 0 and not a.attisdropped
           -- 0.9.0 drops the analytics marks (internal, 0.6.0 to 0.8.0)
           and not (t.relname = 'conversations' and a.attname in ('stats_session', 'stats_last'));
        execute format('insert into public.upgrade_snapshot
                        select %L, %L, count(*), md5(coalesce(string_agg(x::text, ''|'' order by x::text), ''''))
                          from (select %s from switchboard.%I) x', t.relname, c, c, t.relname);
    end loop;
end \$\$;"
compare_sql="
select coalesce(string_agg(s.tbl || ':' || s.n || '->' || x.n, ' ' order by s.tbl), 'same')
  from public.upgrade_snapshot s,
       lateral (select (xpath('/row/n/text()', query_to_xml(format(
                    'select count(*) || '':'' || md5(coalesce(string_agg(x::text, ''|'' order by x::text), '''')) as n
                       from (select %s from switchboard.%I) x', s.cols, s.tbl), false, true, '')))[1]::text as n) x
 where x.n is distinct from s.n || ':' || s.fp;"
stats_equal_rebuild_sql="
create temp table before_rebuild as
select a.agent_id, d.* from switchboard.agents a,
       lateral switchboard.daily_stats(a.agent_id, '2026-02-27', '2026-03-04') d;
select switchboard.rebuild_stats();
select count(*) from (
    (select * from before_rebuild except all
     select a.agent_id, d.* from switchboard.agents a,
            lateral switchboard.daily_stats(a.agent_id, '2026-02-27', '2026-03-04') d)
    union all
    (select a.agent_id, d.* from switchboard.agents a,
            lateral switchboard.daily_stats(a.agent_id, '2026-02-27', '2026-03-04') d
     except all select * from before_rebuild)) diff;"

for old in $olds; do
    DB=switchboard_upgrade_from_${old//./_}
    q postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB"
    q $DB -c "create extension switchboard version '$old'" -c "select switchboard.grant_usage('sb_upgrade_app')" >/dev/null
    check "$old: installs from its shipped script" "$(q $DB -c "select extversion from pg_extension where extname = 'switchboard'")" "$old"

    # data through the old version's own functions (0.1.0's API)
    q $DB >/dev/null <<'SQL'
insert into switchboard.agents (agent_id, owner_id, display_name, sms_enabled, rate_limit_per_hour,
                                max_daily_conversations, default_region, timezone)
values ('a0000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-000000000001', 'A', true, 3, 5, 'US', 'America/New_York'),
       ('b0000000-0000-4000-8000-00000000000b', '0b000000-0000-4000-8000-000000000002', 'B', true, 10, 50, 'GB', 'Europe/London'),
       ('c0000000-0000-4000-8000-00000000000c', null, 'disabled', false, 10, 50, 'US', 'UTC');
insert into switchboard.blocked_numbers (agent_id, phone, reason)
values ('a0000000-0000-4000-8000-00000000000a', '(201) 555-0111', 'spam');
select switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '201-555-0111', 'blocked', '{}', '2026-03-01 10:00+00');
select switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '(201) 555-01' || i, 'msg ' || i || '.' || j,
                                  jsonb_build_object('i', i), '2026-03-01 10:00+00'::timestamptz + i * interval '1 minute' + j * interval '5 minutes')
  from generate_series(1, 4) j, generate_series(20, 26) i;
select switchboard.record_outbound('a0000000-0000-4000-8000-00000000000a', conversation_id, 'reply',
                                   '{"category": "support", "tokens_used": 12, "processing_ms": 340, "success": true}',
                                   '2026-03-01 11:00+00')
  from switchboard.conversations where agent_id = 'a0000000-0000-4000-8000-00000000000a';
select switchboard.record_inbound('b0000000-0000-4000-8000-00000000000b', '07400 123456', 'hello', '{}', '2026-03-01 23:30+00');
select switchboard.record_inbound('c0000000-0000-4000-8000-00000000000c', '+12015550199', 'disabled', '{}', '2026-03-01 12:00+00');
select switchboard.upsert_conversation('b0000000-0000-4000-8000-00000000000b', '+447400123457', '2026-03-01 12:30+00');
select switchboard.record_call('a0000000-0000-4000-8000-00000000000a', 'CA1', '(201) 555-0120', 'ringing', '2026-03-01 13:00+00');
select switchboard.record_call('a0000000-0000-4000-8000-00000000000a', 'CA1', '(201) 555-0120', 'in_progress', '2026-03-01 13:00:05+00');
select switchboard.record_call('a0000000-0000-4000-8000-00000000000a', 'CA1', '(201) 555-0120', 'completed', '2026-03-01 13:03:05+00');
select switchboard.rollup();
-- staged, not folded, at update time
select switchboard.record_call('b0000000-0000-4000-8000-00000000000b', 'CA2', '07400 123456', 'ringing', '2026-03-02 14:00+00');
select switchboard.record_inbound('b0000000-0000-4000-8000-00000000000b', '07400 123458', 'staged', '{}', '2026-03-02 09:00+00');
SQL
    check "$old: data recorded" "$?" "0"
    # from 0.2.0 on: a schedule for B, a tier for A (0.5.0 derives
    # agents.has_schedule and has_tiers from them in the update)
    at_least_020=$([ "$(printf '%s\n' "$old" 0.2.0 | sort -V | head -n 1)" = 0.2.0 ] && echo yes)
    if [ -n "$at_least_020" ]; then
        q $DB -c "insert into switchboard.business_hours (agent_id, day_of_week, open_time, close_time)
                  values ('b0000000-0000-4000-8000-00000000000b', 1, '09:00', '17:00')" \
              -c "insert into switchboard.tiers (agent_id, tier, monthly_limit)
                  values ('a0000000-0000-4000-8000-00000000000a', 'free', 1000)" >/dev/null
        want_uses="A:f:t,B:t:f,disabled:f:f"
    else
        want_uses="A:f:f,B:f:f,disabled:f:f"
    fi
    q $DB -c "$snapshot_sql" >/dev/null
    count_sql="select message_count from switchboard.conversations
                where agent_id = 'a0000000-0000-4000-8000-00000000000a' and phone = '+12015550120'"
    old_count=$(q $DB -c "$count_sql")
    old_ids=$(q $DB -c "select max(message_id) || '/' || max(conversation_id::text) from switchboard.messages")
    empty=$(q $DB -c "select string_agg(tbl, ',' order by tbl) from public.upgrade_snapshot where n = 0")
    echo "# $old: tables still empty before the update: ${empty:-none}"

    update_log=$(q $DB -c "alter extension switchboard update" 2>&1)
    check "$old: ALTER EXTENSION switchboard UPDATE succeeds" "$?:$update_log" "0:"
    check "$old: now at $current" "$(q $DB -c "select extversion from pg_extension where extname = 'switchboard'")" "$current"
    check "$old: every row of every old table is unchanged" "$(q $DB -c "$compare_sql")" "same"
    check "$old: agents.has_schedule and has_tiers derived by the update" \
        "$(q $DB -c "select string_agg(display_name || ':' || case when has_schedule then 't' else 'f' end || ':' ||
                                        case when has_tiers then 't' else 'f' end, ',' order by display_name)
                       from switchboard.agents")" "$want_uses"

    check "$old: the admin-granted role keeps its grants through the update" \
        "$(q $DB -c "select has_function_privilege('sb_upgrade_app', 'switchboard.record_outbound(uuid,uuid,text,jsonb,timestamptz)', 'execute')")" "t"
    # 0.2.0 recreates record_inbound (a new result type): a role an admin granted
    # gets it back from grant_usage, as for any new function (README, Upgrading);
    # from 0.2.0 on, record_inbound is replaced in place and keeps its grants
    if [ "$(printf '%s\n' "$old" 0.2.0 | sort -V | head -n 1)" != 0.2.0 ]; then
        check "$old: record_inbound, recreated, waits for grant_usage for an admin-granted role" \
            "$(q $DB -c "select has_function_privilege('sb_upgrade_app', 'switchboard.record_inbound(uuid,text,text,jsonb,timestamptz)', 'execute')")" "f"
    else
        check "$old: record_inbound keeps its grant to an admin-granted role" \
            "$(q $DB -c "select has_function_privilege('sb_upgrade_app', 'switchboard.record_inbound(uuid,text,text,jsonb,timestamptz)', 'execute')")" "t"
    fi
    # as the README says: an admin re-runs grant_usage for the roles it granted
    q $DB -c "select switchboard.grant_usage('sb_upgrade_app')" >/dev/null
    got_schema=$(q $DB -f test/upgrade/describe.sql)
    schema_diff=$(diff <(echo "$want_schema") <(echo "$got_schema") | head -n 60)
    check "$old: the updated schema equals a fresh CREATE EXTENSION (test/upgrade/describe.sql)" \
        "$schema_diff" ""

    # the event path goes on
    after=$(q $DB <<'SQL'
select r.decision || ',' || r.is_new_conversation || ',' || (r.message_id > (select max(message_id) from switchboard.messages where message_id <> r.message_id))
  from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '(201) 555-0120', 'after the update',
                                  '{}', '2026-03-02 10:00+00') r;
SQL
)
    check "$old: record_inbound after the update joins the old conversation with a new id" "$after" "accepted,false,true"
    check "$old: the conversation counts the new message" \
        "$(q $DB -c "$count_sql")" "$((old_count + 1))"
    check "$old: incremental analytics equal rebuild_stats after the update" \
        "$(q $DB -c "$stats_equal_rebuild_sql" | tail -n 1)" "0"
    check "$old: the admin-granted role can call the new version's functions" \
        "$(q $DB -c "select count(*) from pg_proc p where p.pronamespace = 'switchboard'::regnamespace
                       and coalesce(obj_description(p.oid, 'pg_proc'), '') !~ '^internal'
                       and p.prorettype <> 'trigger'::regtype
                       and not has_function_privilege('sb_upgrade_app', p.oid, 'execute')")" "0"
    echo "# $old: ids before the update $old_ids"
    q postgres -c "set client_min_messages = warning" -c "drop database if exists $DB"
done

# the update scripts are installed where ALTER EXTENSION finds them: a path
# from every shipped version to the current one, through the installed scripts
for old in $olds; do
    check "an update path $old -> $current is installed" \
        "$(q postgres -c "select path from pg_extension_update_paths('switchboard')
                           where source = '$old' and target = '$current'")" \
        "$(printf '%s\n' $olds $current | sort -V | awk -v o="$old" '$0 == o { on = 1 } on' | paste -sd '-' - | sed 's/-/--/g')"
done

q postgres -c "set client_min_messages = warning" -c "drop database if exists $FRESH"
for r in "${created_roles[@]}"; do q postgres -c "drop role $r" >/dev/null; done
echo "$passed passed, $failed failed"
