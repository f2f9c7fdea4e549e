#!/usr/bin/env bash
# Dump and restore: agents, blocked numbers, conversations, messages, calls,
# daily counters and the analytics (folded rollups and staged deltas) made
# through the event functions survive pg_dump | pg_restore
# into a fresh database, every row and figure is back, policies too, and the
# event path still works there with new ids above the old ones.
# The restore runs with session_replication_role = replica (README, "Dump and
# restore"): a plain pg_restore fires the messages trigger for every restored
# message and doubles the conversation counters.
# Runs inside the test cluster (PG* env set).  Prints "N passed, N failed" last.
set -u
SRC=switchboard_dump_src
DST=switchboard_dump_dst
DUMP=$(mktemp -d)/switchboard.dump
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

for db in $SRC $DST; do q postgres -c "set client_min_messages = warning" -c "drop database if exists $db"; done
q postgres -c "create database $SRC" && q $SRC -c "create extension switchboard" || { echo "0 passed, 1 failed"; exit 1; }

# --- data, through the event path ------------------------------------------------
q $SRC <<'SQL' >/dev/null || { echo "setup failed"; echo "0 passed, 1 failed"; exit 1; }
insert into switchboard.agents (agent_id, owner_id, display_name, sms_enabled, rate_limit_per_hour, max_daily_conversations, default_region)
values ('a0000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-000000000001', 'A', true, 3, 5, 'US'),
       ('b0000000-0000-4000-8000-00000000000b', '0b000000-0000-4000-8000-000000000002', 'B', true, 10, 50, 'GB'),
       ('c0000000-0000-4000-8000-00000000000c', null, 'disabled', false, 10, 50, 'US');
insert into switchboard.blocked_numbers (agent_id, phone, reason)
values ('a0000000-0000-4000-8000-00000000000a', '(201) 555-0111', 'spam');
-- 0.2.0: routing, business hours, tiers (B's contacts are free: unlimited)
insert into switchboard.phone_numbers (number, agent_id, friendly_name, kind)
values ('+44 20 7946 0001', 'b0000000-0000-4000-8000-00000000000b', 'London', 'both');
insert into switchboard.business_hours (agent_id, day_of_week, open_time, close_time)
values ('b0000000-0000-4000-8000-00000000000b', 1, '09:00', '17:00'),
       ('b0000000-0000-4000-8000-00000000000b', 5, '22:00', '02:00');
insert into switchboard.closed_dates (agent_id, day, reason)
values ('b0000000-0000-4000-8000-00000000000b', '2026-12-25', 'Christmas');
insert into switchboard.tiers (agent_id, tier, monthly_limit)
values ('b0000000-0000-4000-8000-00000000000b', 'pro', 1000);
select * from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '201-555-0111', 'blocked one',
                                         '{}', '2026-03-01 10:00+00');
do $$
begin
    for j in 1..4 loop
        for i in 20..26 loop
            perform switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '(201) 555-01' || i,
                'msg ' || i || '.' || j, jsonb_build_object('i', i, 'j', j),
                '2026-03-01 10:00+00'::timestamptz + (i * interval '1 minute') + (j * interval '5 minutes'));
        end loop;
    end loop;
end $$;
select switchboard.record_outbound('a0000000-0000-4000-8000-00000000000a', conversation_id, 'reply', '{"r":1}',
                                   '2026-03-01 11:00+00')
  from switchboard.conversations where agent_id = 'a0000000-0000-4000-8000-00000000000a';
select * from switchboard.record_inbound('b0000000-0000-4000-8000-00000000000b', '07400 123456', 'hello from GB',
                                         '{}', '2026-03-01 12:00+00');
select * from switchboard.record_inbound('c0000000-0000-4000-8000-00000000000c', '+12015550199', 'disabled agent',
                                         '{}', '2026-03-01 12:00+00');
select * from switchboard.upsert_conversation('b0000000-0000-4000-8000-00000000000b', '+447400123457', '2026-03-01 12:30+00');
select * from switchboard.record_call('a0000000-0000-4000-8000-00000000000a', 'CA1', '(201) 555-0120', 'ringing', '2026-03-01 13:00+00');
select * from switchboard.record_call('a0000000-0000-4000-8000-00000000000a', 'CA1', '(201) 555-0120', 'in_progress', '2026-03-01 13:00:05+00');
select * from switchboard.record_call('a0000000-0000-4000-8000-00000000000a', 'CA1', '(201) 555-0120', 'completed', '2026-03-01 13:03:05+00');
-- analytics: an AI task reply, everything so far folded into the rollups ...
select switchboard.record_outbound('b0000000-0000-4000-8000-00000000000b', conversation_id, 'task reply',
                                   '{"category": "support", "tokens_used": 12, "processing_ms": 340, "success": true}',
                                   '2026-03-01 12:05+00')
  from switchboard.conversations where agent_id = 'b0000000-0000-4000-8000-00000000000b' and phone = '+447400123456';
select switchboard.rollup();
-- ... a purge horizon (purge folds first), then more events not folded: a
-- call's change staged, a message above its agent's watermark
select switchboard.purge('100 years');
select * from switchboard.record_call('b0000000-0000-4000-8000-00000000000b', 'CA2', '07400 123456', 'ringing', '2026-03-01 14:00+00');
select * from switchboard.record_inbound('b0000000-0000-4000-8000-00000000000b', '07400 123458', 'staged',
                                         '{}', '2026-03-02 09:00+00');
SQL

# every row of every table, as one fingerprint per table, plus the row counts
snapshot() {
    q "$1" <<'SQL'
select string_agg(format('%s:%s:%s', t.relname, t.n, t.fp), ' ' order by t.relname)
  from (select c.relname,
               (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from switchboard.%I', c.relname), false, true, '')))[1]::text as n,
               (xpath('/row/fp/text()', query_to_xml(format(
                   'select md5(coalesce(string_agg(t::text, ''|'' order by t::text), '''')) as fp from switchboard.%I t',
                   c.relname), false, true, '')))[1]::text as fp
          from pg_class c
         where c.relnamespace = 'switchboard'::regnamespace and c.relkind = 'r') t;
SQL
}
figures() {  # the figures an app reads: decisions, counters, call state
    q "$1" <<'SQL'
select concat_ws(' ',
    (select string_agg(decision || '=' || n, ',' order by decision)
       from (select decision, count(*) n from switchboard.messages group by decision) d),
    (select string_agg(agent_id || '=' || day || '/' || new_conversations, ',' order by agent_id, day)
       from switchboard.agent_daily_counters),
    (select sum(message_count) || '/' || sum(inbound_count) || '/' || sum(outbound_count) from switchboard.conversations),
    (select string_agg(call_sid || '=' || status || '/' || coalesce(duration_seconds::text, '-'), ',' order by call_sid)
       from switchboard.calls));
SQL
}
stats_figures() {  # the analytics an app reads (folds the staged deltas: run after the dump)
    q "$1" <<'SQL'
select string_agg(format('%s %s %s', a.agent_id, d, s), ' ' order by a.agent_id)
  from switchboard.agents a,
       lateral (select string_agg(x::text, ';' order by x.day) d
                  from switchboard.daily_stats(a.agent_id, '2026-02-28', '2026-03-03') x) d,
       lateral (select x::text s from switchboard.agent_summary(a.agent_id, 36600) x) s;
SQL
}
max_ids() {
    q "$1" -c "select (select max(message_id) from switchboard.messages) || '/' || (select max(call_id) from switchboard.calls)"
}

before=$(snapshot $SRC)
before_figures=$(figures $SRC)
before_ids=$(max_ids $SRC)
check "source has data in every table" \
    "$(q $SRC -c "select count(*) from pg_class c where c.relnamespace = 'switchboard'::regnamespace and c.relkind = 'r'
                    and (xpath('/row/n/text()', query_to_xml(format('select count(*) as n from switchboard.%I', c.relname), false, true, '')))[1]::text::int = 0")" \
    "0"
echo "# before: $before"
echo "# figures: $before_figures"
check "the analytics tables and their identity sequences are registered for pg_dump" \
    "$(q $SRC -c "select count(*) from pg_class c where c.relnamespace = 'switchboard'::regnamespace and c.relkind in ('r', 'S') and c.relname like 'stats%'
                    and c.oid <> all ((select extconfig from pg_extension where extname = 'switchboard')::oid[])")" \
    "0"
check "the source has staged, unfolded and folded analytics" \
    "$(q $SRC -c "select (select count(*) > 0 from switchboard.stats_delta) || ',' || (select count(*) > 0 from switchboard.stats_daily) || ',' || (select count(*) > 0 from switchboard.stats_daily_category)
                         || ',' || exists (select from switchboard.messages m join switchboard.stats_watermark w using (agent_id)
                                            where m.message_id > w.folded_through)")" \
    "true,true,true,true"

# --- dump, restore into a fresh database --------------------------------------------
pg_dump -Fc -d $SRC -f "$DUMP"
check "pg_dump succeeds" "$?" "0"
before_stats=$(stats_figures $SRC)
echo "# stats: $before_stats"
q postgres -c "create database $DST"
# With session_replication_role = replica, as the README says: the messages
# trigger (a message inserted directly bumps its conversation) must not fire
# again for restored rows, or every conversation counter would double.
restore_log=$(PGOPTIONS='-c session_replication_role=replica' pg_restore -d $DST --exit-on-error "$DUMP" 2>&1)
rc=$?
check "pg_restore (session_replication_role = replica) succeeds with no error" "$rc:$restore_log" "0:"

after=$(snapshot $DST)
check "every row of every table is back" "$after" "$before"
check "every figure is back (decisions, daily counters, conversation counters, calls)" "$(figures $DST)" "$before_figures"
# with no trigger fired on restore, the staged deltas fold to the same figures
check "the analytics figures are back (daily_stats, agent_summary; staged deltas fold the same)" "$(stats_figures $DST)" "$before_stats"
check "the restored rollups agree with a rebuild from the restored raw rows" \
    "$(q $DST -c "select switchboard.rebuild_stats()" >/dev/null && stats_figures $DST)" "$before_stats"
check "identity sequences are back" "$(q $DST -c "select last_value from switchboard.messages_message_id_seq") $(q $DST -c "select last_value from switchboard.calls_call_id_seq")" \
    "$(q $SRC -c "select last_value from switchboard.messages_message_id_seq") $(q $SRC -c "select last_value from switchboard.calls_call_id_seq")"
check "the staged-delta sequence is back" "$(q $DST -c "select last_value from switchboard.stats_delta_delta_id_seq")" \
    "$(q $SRC -c "select last_value from switchboard.stats_delta_delta_id_seq")"
check "row-level security and policies are back" \
    "$(q $DST -c "select count(*) filter (where c.relrowsecurity) || '/' || count(p.*) from pg_class c left join pg_policy p on p.polrelid = c.oid where c.relnamespace = 'switchboard'::regnamespace and c.relkind = 'r'")" \
    "$(q $SRC -c "select count(*) filter (where c.relrowsecurity) || '/' || count(p.*) from pg_class c left join pg_policy p on p.polrelid = c.oid where c.relnamespace = 'switchboard'::regnamespace and c.relkind = 'r'")"
check "the extension's tables are still its own" \
    "$(q $DST -c "select count(*) from pg_depend d join pg_class c on c.oid = d.objid where d.refobjid = (select oid from pg_extension where extname = 'switchboard') and c.relkind = 'r'")" \
    "$(q $SRC -c "select count(*) from pg_depend d join pg_class c on c.oid = d.objid where d.refobjid = (select oid from pg_extension where extname = 'switchboard') and c.relkind = 'r'")"

# --- the event path still works, ids keep increasing ---------------------------------
IFS=/ read -r old_msg old_call <<<"$before_ids"
got=$(q $DST -c "select decision || ',' || is_new_conversation || ',' || (message_id > $old_msg)
                   from switchboard.record_inbound('b0000000-0000-4000-8000-00000000000b', '07400 123456', 'after restore', '{}', '2026-03-01 12:10+00')")
check "record_inbound after restore: accepted, same conversation, new message id above the old ones" "$got" "accepted,false,true"
got=$(q $DST -c "select decision || ',' || remaining
                   from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '(201) 555-0120', 'limit', '{}', '2026-03-01 10:45+00')")
check "record_inbound after restore: the restored hourly log still limits" "$got" "rate_limited,0"
got=$(q $DST -c "select decision from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '201 555 0111', 'x', '{}', '2026-03-01 15:00+00')")
check "record_inbound after restore: the restored blocklist still blocks" "$got" "blocked"
got=$(q $DST -c "select (call_id > $old_call) || ',' || is_new_call
                   from switchboard.record_call('b0000000-0000-4000-8000-00000000000b', 'CA3', '07400 123456', 'ringing', '2026-03-01 16:00+00')")
check "record_call after restore: new call id above the old ones" "$got" "true,true"
got=$(q $DST -c "select decision || ',' || agent_id || ',' || after_hours
                   from switchboard.route_inbound('+442079460001', '07400 123456', 'routed after restore', '{}', '2026-03-02 10:00+00')")
check "route_inbound after restore: the number routes, the hours hold" "$got" "accepted,b0000000-0000-4000-8000-00000000000b,false"
got=$(q $DST -c "select has_schedule || ',' || has_tiers from switchboard.agents where agent_id = 'b0000000-0000-4000-8000-00000000000b'")
check "agents.has_schedule and has_tiers are restored (0.5.0)" "$got" "true,true"
got=$(q $DST -c "select decision || ',' || after_hours
                   from switchboard.route_inbound('+442079460001', '07400 123456', 'routed at night', '{}', '2026-03-03 03:00+00')")
check "route_inbound after restore: outside the restored hours, after hours" "$got" "accepted,true"
got=$(q $DST -c "select status from switchboard.record_call('b0000000-0000-4000-8000-00000000000b', 'CA2', '07400 123456', 'in_progress', '2026-03-01 14:00:10+00')")
check "record_call after restore: a restored call moves on" "$got" "in_progress"
got=$(q $DST -c "select switchboard.record_outbound('a0000000-0000-4000-8000-00000000000a', conversation_id, 'x', '{}', '2026-03-01 17:00+00') > $old_msg
                   from switchboard.conversations where agent_id = 'a0000000-0000-4000-8000-00000000000a' and phone = '+12015550120'")
check "record_outbound after restore: new message id above the old ones" "$got" "t"

for db in $SRC $DST; do q postgres -c "set client_min_messages = warning" -c "drop database if exists $db"; done
rm -rf "$(dirname "$DUMP")"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
