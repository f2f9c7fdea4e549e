#!/usr/bin/env bash
# Analytics rollups: what they cost on the event path and what they buy on reads.
#
#   1. event throughput at 8 clients, spread over 100 agents and on one hot
#      agent: rollups on, rollups off (switchboard.stats_rollup = off), and the
#      seeds' per-event INSERT ... ON CONFLICT DO UPDATE of one (agent, day) row.
#      Since 0.9.0 the messages' analytics are folded from the raw rows by
#      rollup(): "on" then runs rollup() every FOLD_EVERY seconds (20; 5 with
#      BENCH_SCALE=small) from a loop beside the load, as a scheduler would,
#      in runs of 10 + 40 s (STATS_SECS) so that each measured window holds
#      two folds: the window counts the folds that run in it (the loop is
#      stopped once the fold in progress ends, so the next run starts clean);
#      "off" folds nothing.  BENCH=fold runs the same without the seeds' row,
#      in interleaved rounds
#   2. one agent with 365 days x 1,000 events a day: daily_stats over the year
#      vs GROUP BY day over the raw rows; agent_summary(.., 30) vs its raw
#      count(DISTINCT) equivalent; REFRESH MATERIALIZED VIEW of a 30-day summary
#   3. flat in history: the 30-day summary again after ten times more days
#
# Events go through record_inbound/record_outbound when they exist, else plain
# INSERTs into messages (the triggers count both alike).
# BENCH_SCALE=small: a quick look (short runs, 30 days of history).
set -eu
cd "${BENCH_ROOT:-$(dirname "$0")/..}"
DB=sb_stats_bench
small=0; [ "${BENCH_SCALE:-}" = small ] && small=1
if [ $small = 1 ]; then SECS=4; WARM=${BENCH_WARM:-8}; DAYS=30; PERDAY=1000; OLDDAYS=270; OLDPERDAY=100; REPS=3; EVERY=${FOLD_EVERY:-5}
else SECS=${STATS_SECS:-40}; WARM=${BENCH_WARM:-10}; DAYS=365; PERDAY=1000; OLDDAYS=3285; OLDPERDAY=100; REPS=5; EVERY=${FOLD_EVERY:-20}; fi

psql -X -q -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null
export PGDATABASE=$DB
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
q -c "create extension switchboard"

has_record=$(q -c "select count(*) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                   where n.nspname = 'switchboard' and p.proname = 'record_inbound'")
# 0.9.0 on: the messages are folded from the raw rows, by rollup()
folds=$(q -c "select count(*) from pg_class where relname = 'stats_watermark' and relnamespace = 'switchboard'::regnamespace")

# --- 1. event throughput -------------------------------------------------------
. bench/stats_mix.sh
stats_mix_setup
q <<'SQL'
-- the seeds' way: one counter row per (agent, day), bumped by every event
create schema seed;
create table seed.daily_counts (agent_id uuid, day date, messages bigint not null default 0,
                                primary key (agent_id, day));
create function seed.bump() returns trigger language plpgsql as $$
begin
    insert into seed.daily_counts as t values (new.agent_id, new.created_at::date, 1)
    on conflict (agent_id, day) do update set messages = t.messages + 1;
    return null;
end $$;
create trigger seed_bump after insert on switchboard.messages for each row
    when (current_setting('bench.seed', true) = 'on') execute function seed.bump();
SQL

mkdir -p build/bench
for kind in spread hot; do
    agent_expr='random(1, 100)'; [ $kind = hot ] && agent_expr='1'
    f=build/bench/stats_$kind.pgbench
    if [ "$has_record" = 1 ]; then
        stats_mix_script $kind "$f"
    else
        cat >"$f" <<EOF
\\set a $agent_expr
\\set p random(1, 500)
\\set d random(0, 1)
insert into switchboard.messages (agent_id, conversation_id, direction, phone, body, metadata)
values (('00000000-0000-0000-0000-' || lpad(:a::text, 12, '0'))::uuid,
        ('00000000-0000-' || lpad(:a::text, 4, '0') || '-0000-' || lpad(:p::text, 12, '0'))::uuid,
        case when :d = 0 then 'inbound' else 'outbound' end, '+1201555' || lpad(:p::text, 4, '0'), 'hi',
        case when :d = 0 then '{}' else '{"tokens_used": 42, "processing_ms": 180, "success": true, "category": "support"}' end::jsonb);
EOF
    fi
done

# steady state: each run measures its last SECS seconds, after WARM seconds in
# which its fresh backends fault in the shared buffers (bench/steady.sh)
. bench/steady.sh
tps() {  # kind options -> tps
    PGOPTIONS="$2" steady_run build/bench "stats_$1_run" "build/bench/stats_$1.pgbench" "$WARM" "$SECS" | cut -d' ' -f1
}
echo "event path: $([ "$has_record" = 1 ] && echo 'record_inbound/record_outbound' || echo 'direct INSERTs into messages (event functions not merged)'), 8 clients, ${SECS}s per run after ${WARM}s of warm-up, best of 2 (rounds off-on, on-off)$([ "$folds" = 1 ] && echo ", rollups on = rollup() every ${EVERY}s beside the load")"
declare -A T
rm -f build/bench/stats_folds.log build/bench/stats_folds.log.errors
. bench/fold_loop.sh
run() {  # kind mode: one run, T[kind.mode] keeps the best
    local opts='' r loop=
    case $2 in
        off) opts='-c switchboard.stats_rollup=off' ;;
        seed) opts='-c switchboard.stats_rollup=off -c bench.seed=on' ;;
    esac
    if [ "$2" = on ] && [ "$folds" = 1 ]; then fold_loop "$EVERY" build/bench/stats_folds.log & loop=$!; fi
    r=$(tps $1 "$opts"); r=${r%.*}
    if [ -n "$loop" ]; then stop_fold_loop "$loop" build/bench/stats_folds.log; fi
    [ "${r:-0}" -gt "${T[$1.$2]:-0}" ] && T[$1.$2]=$r
    return 0
}
# Two rounds in opposite orders (off, seed, on; then on, off, seed), so that
# neither mode gets all the runs on the smaller messages table or all the later
# minutes.  Before the first "on" run, rebuild_stats counts what the runs
# without rollups stored; the second round's "on" runs follow the first's, so
# their incremental figures can be checked against a rebuild right after them.
for kind in spread hot; do run $kind off; run $kind seed; done
q -c "select switchboard.rebuild_stats()" >/dev/null
for kind in spread hot; do run $kind on; done
for kind in spread hot; do run $kind on; done
same=$(stats_mix_equals_rebuild)
for kind in spread hot; do run $kind off; run $kind seed; done
for kind in spread hot; do
    on=${T[$kind.on]}; off=${T[$kind.off]}; seed=${T[$kind.seed]}
    printf '  %-6s rollups off %6d tps | rollups on %6d tps (cost %s%%) | seed ON CONFLICT row %6d tps (cost %s%%)\n' \
        $kind "$off" "$on" "$(awk -v a="$on" -v b="$off" 'BEGIN{printf "%.1f", 100*(1-a/b)}')" \
        "$seed" "$(awk -v a="$seed" -v b="$off" 'BEGIN{printf "%.1f", 100*(1-a/b)}')"
done
echo "  after the concurrent runs, incremental daily_stats equal rebuild_stats (agents 1-3): $same"
if [ "$folds" = 1 ]; then echo "  the folds beside the \"on\" runs: $(fold_summary build/bench/stats_folds.log)"; fi

# --- 2. one agent, DAYS x PERDAY events ----------------------------------------
AG=00000000-0000-0000-0000-0000000000f1
seed_history() {  # agent first_day_offset days perday
    q <<SQL
set switchboard.stats_rollup = off;
insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, decision, metadata, created_at)
select '$1', ('00000000-0000-0000-0001-' || lpad(p::text, 12, '0'))::uuid, ('00000000-0000-0000-0001-' || lpad(p::text, 12, '0'))::uuid,
       case when i % 2 = 0 then 'inbound' else 'outbound' end, '+1973555' || lpad(p::text, 4, '0'),
       case when i % 2 = 1 or i % 20 <> 0 then 'accepted' else 'rate_limited' end,
       case when i % 2 = 1 then '{"tokens_used": 42, "processing_ms": 180, "success": true, "category": "support"}' else '{}' end::jsonb,
       (current_date - $2 - d)::timestamp + (i * 86.3) * interval '1 second'
  from generate_series(0, $3 - 1) d, generate_series(0, $4 * 9 / 10 - 1) i,
       lateral (select (hashtext(d::text || ':' || (i / 2)::text) & 1023) as p) x;
insert into switchboard.calls (agent_id, call_sid, caller, status, started_at, answered_at, duration_seconds)
select '$1', 'CA$2-' || d || '-' || i, '+1973555' || lpad((hashtext(d::text || '/' || i::text) & 1023)::text, 4, '0'),
       (array['completed', 'completed', 'busy', 'no_answer', 'failed'])[1 + i % 5],
       (current_date - $2 - d)::timestamp + (i * 863) * interval '1 second',
       case when i % 5 < 2 then (current_date - $2 - d)::timestamp + (i * 863 + 5) * interval '1 second' end,
       case when i % 5 < 2 then 30 + i % 200 end
  from generate_series(0, $3 - 1) d, generate_series(0, $4 / 10 - 1) i;
SQL
}
q -c "insert into switchboard.agents (agent_id, timezone) values ('$AG', 'UTC')"
q -c "insert into switchboard.conversations (agent_id, conversation_id, session_id, phone)
      select '$AG', ('00000000-0000-0000-0001-' || lpad(p::text, 12, '0'))::uuid,
             ('00000000-0000-0000-0001-' || lpad(p::text, 12, '0'))::uuid, '+1973555' || lpad(p::text, 4, '0')
        from generate_series(0, 1023) p"
t0=$(date +%s)
seed_history $AG 0 $DAYS $PERDAY
q -c "select switchboard.rebuild_stats('$AG')" >/dev/null
q -c "vacuum analyze"
echo "one agent: $DAYS days x $PERDAY events ($(q -c "select count(*) from switchboard.messages where agent_id = '$AG'") messages, $(q -c "select count(*) from switchboard.calls where agent_id = '$AG'") calls), loaded and rebuilt in $(( $(date +%s) - t0 ))s"

timeit() {  # label sql -> best ms of REPS
    q <<SQL
create or replace function pg_temp.best(sql text, reps int) returns numeric language plpgsql as \$\$
declare t0 timestamptz; best numeric := null; ms numeric;
begin
    for i in 1 .. reps loop
        t0 := clock_timestamp();
        execute sql;
        ms := extract(epoch from clock_timestamp() - t0) * 1000;
        best := least(coalesce(best, ms), ms);
    end loop;
    return round(best, 3);
end \$\$;
select pg_temp.best(\$q\$ $2 \$q\$, $REPS);
SQL
}
RAW_DAILY="select count(*) from (
  select coalesce(m.day, c.day) from
   (select created_at::date as day, count(*) filter (where direction = 'inbound') i, count(*) filter (where direction = 'outbound') o,
           count(*) filter (where decision = 'accepted' and direction = 'inbound') a, count(*) filter (where decision = 'rate_limited') r,
           count(distinct phone) filter (where direction = 'inbound') u, sum((metadata->>'tokens_used')::bigint) t
      from switchboard.messages where agent_id = '$AG' and created_at >= current_date - $DAYS group by 1) m
   full join
   (select started_at::date as day, count(*) n, count(*) filter (where status = 'completed') k,
           sum(duration_seconds) s, count(distinct caller) u
      from switchboard.calls where agent_id = '$AG' and started_at >= current_date - $DAYS group by 1) c on c.day = m.day) x"
RAW_SUMMARY="select count(*) filter (where direction = 'inbound'), count(*) filter (where direction = 'outbound'),
       count(distinct phone) filter (where direction = 'inbound'), sum((metadata->>'tokens_used')::bigint),
       (select row(count(*), count(*) filter (where status = 'completed'), sum(duration_seconds), count(distinct caller))
          from switchboard.calls where agent_id = '$AG' and started_at >= current_date - 29)
  from switchboard.messages where agent_id = '$AG' and created_at >= current_date - 29"
ds=$(timeit daily "select count(*) from switchboard.daily_stats('$AG', current_date - $((DAYS - 1)), current_date)")
raw=$(timeit raw "$RAW_DAILY")
echo "  daily_stats over $DAYS days: ${ds} ms | seed GROUP BY day over raw rows: ${raw} ms | $(awk -v a="$raw" -v b="$ds" 'BEGIN{printf "%.1f", a/b}')x (target >= 50x)"
sm=$(timeit sum "select * from switchboard.agent_summary('$AG', 30)")
rawsm=$(timeit rawsum "$RAW_SUMMARY")
echo "  agent_summary(30): ${sm} ms | raw count(DISTINCT) equivalent: ${rawsm} ms | $(awk -v a="$rawsm" -v b="$sm" 'BEGIN{printf "%.1f", a/b}')x (target >= 5x)"
q -c "create materialized view seed_summary_30 as
      select agent_id, count(*) filter (where direction = 'inbound') inbound, count(distinct phone) phones
        from switchboard.messages where created_at >= current_date - 29 group by agent_id"
mv=$(timeit mv "refresh materialized view seed_summary_30")
echo "  seed REFRESH MATERIALIZED VIEW of a 30-day summary: ${mv} ms (and stale until the next refresh)"

# --- 3. flat in history ------------------------------------------------------------
t0=$(date +%s)
seed_history $AG $DAYS $OLDDAYS $OLDPERDAY
q -c "select switchboard.rebuild_stats('$AG')" >/dev/null
q -c "vacuum analyze"
sm2=$(timeit sum2 "select * from switchboard.agent_summary('$AG', 30)")
rawsm2=$(timeit rawsum2 "$RAW_SUMMARY")
echo "  with $((DAYS + OLDDAYS)) days stored (older $OLDDAYS at $OLDPERDAY events/day; loaded in $(( $(date +%s) - t0 ))s): agent_summary(30) ${sm2} ms, $(awk -v a="$sm2" -v b="$sm" 'BEGIN{printf "%.2f", a/b}')x the time with $DAYS days (target < 1.5x); raw ${rawsm2} ms"

psql -X -q -d postgres -c "drop database $DB" >/dev/null
