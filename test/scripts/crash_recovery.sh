#!/usr/bin/env bash
# Crash recovery of the analytics rollups: a concurrent load of record_inbound,
# record_outbound and record_call (plain INSERTs/UPDATEs when those are absent)
# runs while the server is killed hard (SIGKILL of a backend: the postmaster
# then kills every backend and replays the WAL; CRASH_MODE=immediate uses
# `pg_ctlcluster 15 regress stop -m immediate` and a restart instead).  Then:
# every event whose call returned is stored, none twice, and the incremental
# figures equal rebuild_stats exactly.  Runs inside the test cluster (PG* env).
# CRASH_SECONDS (default 3) is how long the load runs before the kill;
# CRASH_EVENTS (default 4000) how many events each of the 6 clients has queued
# (bench/crash.bench.sh runs it longer).
set -u
DB=sb_crash
LOAD_SECONDS=${CRASH_SECONDS:-3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0; failed=0
check() {  # name condition-result(t/f)
    if [ "$2" = t ]; then passed=$((passed + 1)); echo "ok - $1"
    else failed=$((failed + 1)); echo "not ok - $1 (got '$2')"; fi
}
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $DB "$@"; }

psql -X -q -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null || exit 1
q -c "create extension switchboard" || exit 1
q <<'SQL'
insert into switchboard.agents (agent_id, sms_enabled, rate_limit_per_hour, max_daily_conversations, timezone)
select ('00000000-0000-0000-0000-' || lpad(a::text, 12, '0'))::uuid, true, 100, 1000,
       (array['UTC', 'America/New_York', 'Asia/Tokyo', 'Europe/Berlin'])[a]
  from generate_series(1, 4) a;
SQL
has_record=$(q -c "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                   where n.nspname = 'switchboard' and p.proname in ('record_inbound', 'record_outbound', 'record_call')")

# one client: a stream of events, each tagged with a unique body / call_sid;
# psql prints a tag only after the server answered (the event committed)
gen() {  # client
    local c=$1 i a p agent phone tag
    for (( i = 1; i <= ${CRASH_EVENTS:-4000}; i++ )); do
        a=$(( (i + c) % 4 + 1 )); p=$(( (i * 7 + c) % 40 ))
        printf -v agent "'00000000-0000-0000-0000-%012d'" $a
        printf -v phone "'+1201555%04d'" $p
        tag="c$c-$i"
        if [ "$has_record" = 3 ]; then
            case $(( i % 4 )) in
                0|1) echo "select '$tag' from switchboard.record_inbound($agent, $phone, '$tag', '{}', now() - interval '$(( i % 3 ))0 hours');" ;;
                2) echo "select '$tag' from switchboard.record_outbound($agent, (select conversation_id from switchboard.conversations where agent_id = $agent and phone = $phone), '$tag', '{\"tokens_used\": $i, \"success\": true, \"category\": \"c$(( i % 3 ))\"}') where exists (select 1 from switchboard.conversations where agent_id = $agent and phone = $phone);" ;;
                3) echo "select '$tag' from switchboard.record_call($agent, '$tag', $phone, 'ringing');"
                   echo "select from switchboard.record_call($agent, '$tag', $phone, 'in_progress');"
                   echo "select '$tag/done' from switchboard.record_call($agent, '$tag', $phone, 'completed', now(), $(( i % 300 )));" ;;
            esac
        else
            echo "insert into switchboard.messages (agent_id, direction, phone, body) values ($agent, 'inbound', $phone, '$tag') returning '$tag';"
        fi
    done
}
pids=()
for c in 1 2 3 4 5 6; do
    gen $c >"$WORK/load$c.sql"
    psql -X -q -At -d $DB -f "$WORK/load$c.sql" >"$WORK/done$c.txt" 2>"$WORK/err$c.txt" &
    pids+=($!)
done
sleep "$LOAD_SECONDS"

# kill the server hard in the middle of the load
if [ "${CRASH_MODE:-sigkill}" = immediate ]; then
    pg_ctlcluster 15 regress stop -m immediate
    sleep 1
    pg_ctlcluster 15 regress start
else
    victim=$(psql -X -At -d postgres -c "select pid from pg_stat_activity where datname = '$DB' and state = 'active' and pid <> pg_backend_pid() limit 1")
    [ -z "$victim" ] && victim=$(psql -X -At -d postgres -c "select pid from pg_stat_activity where datname = '$DB' and pid <> pg_backend_pid() limit 1")
    echo "SIGKILL backend $victim"
    kill -9 "$victim"
fi
for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
for _ in $(seq 1 60); do pg_isready -q && psql -X -q -d $DB -c 'select 1' >/dev/null 2>&1 && break; sleep 1; done
check "the server is back after the crash" "$(q -c 'select true' 2>/dev/null || echo f)"
grep -h "lost\|terminat" "$WORK"/err*.txt | sort | uniq -c | head -3

cat "$WORK"/done*.txt | grep -v '^$' >"$WORK/acked.txt"
acked=$(wc -l <"$WORK/acked.txt")
echo "$acked events acknowledged before the crash"
check "the load acknowledged events before the crash" "$([ "$acked" -gt 20 ] && echo t || echo f)"
check "the load stored inbound and outbound messages of conversations (the analytics trigger let them through)" \
    "$(q -c "select count(*) filter (where direction = 'inbound' and conversation_id is not null) > 20
                and count(*) filter (where direction = 'outbound') > 20 from switchboard.messages")"
q -c "create table acked (tag text)"
q -c "\\copy acked from '$WORK/acked.txt'"
check "every acknowledged message and call is stored" \
    "$(q -c "select count(*) = 0 from acked a where a.tag not like '%/done'
              and not exists (select 1 from switchboard.messages m where m.body = a.tag)
              and not exists (select 1 from switchboard.calls c where c.call_sid = a.tag)")"
check "every acknowledged call completion is stored" \
    "$(q -c "select count(*) = 0 from acked a where a.tag like '%/done'
              and not exists (select 1 from switchboard.calls c where c.call_sid = split_part(a.tag, '/', 1) and c.status = 'completed')")"
check "no message is stored twice" \
    "$(q -c "select count(*) = count(distinct body) from switchboard.messages")"
check "no call is stored twice" \
    "$(q -c "select count(*) = count(distinct call_sid) from switchboard.calls")"
# 0.9.0: messages are folded from the raw rows; after a fold of everything
q -c "select switchboard.rollup()" >/dev/null
check "after a fold, the rollups hold every stored message" \
    "$(q -c "select (select count(*) from switchboard.messages) =
                    (select coalesce(sum(inbound + outbound), 0) from switchboard.stats_daily)
                  + (select coalesce(sum(inbound + outbound), 0) from switchboard.stats_delta)")"
q -c "create table incremental as
      select a.agent_id, d.* from switchboard.agents a,
             lateral switchboard.daily_stats(a.agent_id, current_date - 3, current_date + 1) d"
q -c "create table incremental_summary as
      select a.agent_id, s.* from switchboard.agents a, lateral switchboard.agent_summary(a.agent_id, 5) s"
q -c "select switchboard.rebuild_stats()" >/dev/null
check "incremental daily_stats equal rebuild_stats, field by field" \
    "$(q -c "select not exists (
               (select * from incremental except
                select a.agent_id, d.* from switchboard.agents a,
                       lateral switchboard.daily_stats(a.agent_id, current_date - 3, current_date + 1) d)
               union all
               (select a.agent_id, d.* from switchboard.agents a,
                       lateral switchboard.daily_stats(a.agent_id, current_date - 3, current_date + 1) d
                except select * from incremental))")"
check "incremental agent_summary equals it after rebuild_stats" \
    "$(q -c "select not exists (
               (select * from incremental_summary except
                select a.agent_id, s.* from switchboard.agents a, lateral switchboard.agent_summary(a.agent_id, 5) s)
               union all
               (select a.agent_id, s.* from switchboard.agents a, lateral switchboard.agent_summary(a.agent_id, 5) s
                except select * from incremental_summary))")"
check "events are accepted again after recovery" \
    "$(q -c "insert into switchboard.messages (agent_id, direction, phone, body)
             values ('00000000-0000-0000-0000-000000000001', 'inbound', '+12015550001', 'after') returning true")"

psql -X -q -d postgres -c "drop database $DB" >/dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
