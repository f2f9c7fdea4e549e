#!/usr/bin/env bash
# record_call from parallel connections: webhooks for the same call_sid racing
# each other must neither fail nor lose an update.
#
#   1. pgbench, 8 clients: random events (ringing, in-progress, completed) for
#      40 call_sids, each with a metadata key of its own, logged beside.
#   2. 8 psql sessions at once, each recording the same 200 new call_sids in
#      the same order: every first insert races.
#
# Runs inside the test cluster (PG* set); prints "N passed, N failed" last.
set -u
. "$(dirname "$0")/lib/holding.sh"
DB=switchboard_calls_concurrency
passed=0
failed=0
check() {  # description, actual, expected
    if [ "$2" = "$3" ]; then
        echo "ok - $1"; passed=$((passed + 1))
    else
        echo "not ok - $1: got '$2', expected '$3'"; failed=$((failed + 1))
    fi
}
q() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d $DB -c "$1"; }

psql -X -q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB" >/dev/null || exit 1
q "create extension switchboard" || exit 1
q "insert into switchboard.agents (agent_id, display_name) values ('cc000000-0000-0000-0000-000000000001', 'race')
   on conflict do nothing;
   create table ev (sid int, st int, k bigint);
   create sequence k;"

# --- 1. pgbench: random events for 40 calls ------------------------------------
script=$(mktemp)
cat >"$script" <<'SQL'
\set sid random(1, 40)
\set st random(0, 2)
begin;
select nextval('k') as k \gset
insert into ev (sid, st, k) values (:sid, :st, :k);
select status from switchboard.record_call('cc000000-0000-0000-0000-000000000001', 'CC' || :sid,
       '+1201555' || lpad(:sid::text, 4, '0'), (array['ringing', 'in-progress', 'completed'])[:st + 1],
       clock_timestamp(), null, jsonb_build_object(:k::text, :client_id));
end;
SQL
out=$(pgbench -n -f "$script" -c 8 -j 2 -t 150 $DB 2>&1)
rc=$?
rm -f "$script"
echo "$out" | grep -E "processed|failed|error|ERROR" | head -n 5
check "pgbench ran without errors" "$rc" 0
check "every event was recorded" "$(q "select count(*) from ev")" 1200
check "no metadata key was lost" \
      "$(q "select sum((select count(*) from jsonb_object_keys(metadata))) from switchboard.calls where call_sid like 'CC%'")" \
      "$(q "select count(*) from ev")"
check "one call per call_sid" "$(q "select count(*) from switchboard.calls where call_sid like 'CC%'")" \
      "$(q "select count(distinct sid) from ev")"
check "each call holds the furthest status it was sent" \
      "$(q "select count(*) from switchboard.calls c join (select sid, max(st) m from ev group by sid) e
              on c.call_sid = 'CC' || e.sid
             where c.status <> (array['ringing', 'in_progress', 'completed'])[e.m + 1]")" 0
check "every call is linked to its caller's conversation" \
      "$(q "select count(*) from switchboard.calls c join switchboard.conversations v using (agent_id, conversation_id)
             where c.call_sid like 'CC%' and v.phone = c.caller")" \
      "$(q "select count(distinct sid) from ev")"
check "completed calls have their times" \
      "$(q "select count(*) from switchboard.calls where call_sid like 'CC%' and status = 'completed'
              and (ended_at is null or (answered_at is not null and duration_seconds is null))")" 0

# --- 2. the same new calls from 8 sessions at once ------------------------------
pids=()
for i in 1 2 3 4 5 6 7 8; do
    status=$(echo "ringing in-progress completed ringing answered completed ringing in-progress" | cut -d' ' -f$i)
    (
        for n in $(seq 1 200); do
            echo "select 1 from switchboard.record_call('cc000000-0000-0000-0000-000000000001', 'NEW$n',
                  '+1201555$(printf %04d $((n % 50)))', '$status', clock_timestamp(), null, '{\"s$i\": $n}');"
        done
    ) | psql -X -q -v ON_ERROR_STOP=1 -d $DB >/dev/null 2>"/tmp/calls_concurrency_$$_$i.err" &
    pids+=($!)
done
errors=0
for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || errors=$((errors + 1))
done
cat /tmp/calls_concurrency_$$_*.err 2>/dev/null | head -n 5
rm -f /tmp/calls_concurrency_$$_*.err
check "8 racing sessions: none failed" "$errors" 0
check "8 racing sessions: 200 calls" "$(q "select count(*) from switchboard.calls where call_sid like 'NEW%'")" 200
check "8 racing sessions: every call has all 8 metadata keys" \
      "$(q "select count(*) from switchboard.calls where call_sid like 'NEW%'
              and (select count(*) from jsonb_object_keys(metadata)) = 8")" 200
check "8 racing sessions: every call is completed" \
      "$(q "select count(*) from switchboard.calls where call_sid like 'NEW%' and status = 'completed'")" 200
check "8 racing sessions: one conversation per caller" \
      "$(q "select count(*) from switchboard.conversations where agent_id = 'cc000000-0000-0000-0000-000000000001'
              and phone like '+1201555%'")" 50

# --- 3. deterministic races: B arrives while A's transaction is open ------------
# A updates (or inserts) the call and holds its transaction open for 2 s; B's
# record_call must wait, see that the row moved on (or now exists) and apply its
# event to A's version: both updates kept, no error.
for kind in update insert; do
    sid="HOLD-$kind"
    phone="+1201555$( [ $kind = update ] && echo 0901 || echo 0902 )"
    [ $kind = update ] && q "select 1 from switchboard.record_call('cc000000-0000-0000-0000-000000000001', '$sid', '$phone',
                              'ringing', '2025-01-01 10:00:00+00')" >/dev/null
    psql -X -q -v ON_ERROR_STOP=1 -d $DB -c "begin" \
        -c "select 1 from switchboard.record_call('cc000000-0000-0000-0000-000000000001', '$sid', '$phone',
                'in-progress', '2025-01-01 10:00:05+00', null, '{\"a\": 1}')" \
        -c "select pg_sleep(2)" -c "commit" >/dev/null 2>/tmp/calls_hold_$$.err &
    holder=$!
    holding 2
    start=$(date +%s.%N)
    b=$(q "select status || ',' || is_new_call from switchboard.record_call('cc000000-0000-0000-0000-000000000001', '$sid',
              '$phone', 'completed', '2025-01-01 10:01:05+00', null, '{\"b\": 2}')" 2>&1)
    end=$(date +%s.%N)
    wait $holder; hrc=$?
    cat /tmp/calls_hold_$$.err; rm -f /tmp/calls_hold_$$.err
    check "$kind race: A committed" "$hrc" 0
    check "$kind race: B waited for A" "$(awk -v a="$start" -v b="$end" 'BEGIN { print (b - a > 1.0) ? "waited" : "did not wait" }')" waited
    check "$kind race: B applied its event to A's row" "$b" "completed,false"
    check "$kind race: both updates kept" \
          "$(q "select status || ' ' || metadata::text || ' ' || duration_seconds from switchboard.calls where call_sid = '$sid'")" \
          'completed {"a": 1, "b": 2} 60'
done

psql -X -q -d postgres -c "drop database if exists $DB" >/dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
