#!/usr/bin/env bash
# The analytics counter write on its own: what one event's counter costs, by
# design, at 8 clients, spread over 1,000 agents and on one hot agent (one
# autocommit transaction per event, synchronous_commit off, steady state).
#
#   delta       an INSERT into stats_delta, and the writer's fold of its agent
#               one event in 1,024 (what the analytics triggers do)
#   direct      the seeds' UPDATE of the one (agent, day) row
#   skiplocked  that UPDATE on the row if nobody holds it (FOR UPDATE SKIP
#               LOCKED), else a staged delta
#   striped     an UPDATE of one of 16 rows of (agent, day), chosen by client
#               (striped counters summed at read; a copy of stats_daily with a
#               stripe column)
#   none        an empty transaction: the base the others are measured over
#
# Prints each design's events/s and its microseconds per event over `none`.
set -eu
ROOT=${BENCH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=$ROOT/build/bench/counters
rm -rf "$OUT"; mkdir -p "$OUT"
if [ "${BENCH_SCALE:-}" = small ]; then W=${BENCH_WARM:-5}; S=${BENCH_SECONDS:-5}; else W=${BENCH_WARM:-6}; S=${BENCH_SECONDS:-10}; fi
DB=sb_bench_counters
psql -X -q -d postgres -c "drop database if exists $DB" -c "create database $DB"
export PGDATABASE=$DB
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
q -c "set client_min_messages = warning" -c "create extension switchboard"
q <<'SQL'
insert into switchboard.agents (agent_id, sms_enabled)
select ('00000000-0000-0000-0000-' || lpad(a::text, 12, '0'))::uuid, true from generate_series(1, 1000) a;
insert into switchboard.stats_daily (agent_id, day) select agent_id, current_date from switchboard.agents;
create schema b;
create table b.striped (like switchboard.stats_daily including defaults, stripe smallint not null default 0,
                        primary key (agent_id, day, stripe));
insert into b.striped (agent_id, day, stripe)
select agent_id, current_date, s from switchboard.agents, generate_series(0, 15) s;
vacuum analyze;
SQL
A="('00000000-0000-0000-0000-' || lpad(:n::text, 12, '0'))::uuid"
FOLD="\\if :r = 1
select switchboard.stats_fold($A);
\\endif"
mk() {  # design kind body
    local agent='random(1, 1000)'; [ "$2" = hot ] && agent='1'
    printf '\\set n %s\n\\set r random(1, 1024)\n%s\n' "$agent" "$3" >"$OUT/$1_$2.sql"
}
for kind in spread hot; do
    mk none $kind "select 1;"
    mk delta $kind "insert into switchboard.stats_delta (agent_id, day, inbound, accepted) values ($A, current_date, 1, 1);
$FOLD"
    mk direct $kind "update switchboard.stats_daily set inbound = inbound + 1, accepted = accepted + 1
 where agent_id = $A and day = current_date;"
    mk skiplocked $kind "with r as (select ctid from switchboard.stats_daily
                where agent_id = $A and day = current_date for update skip locked),
 u as (update switchboard.stats_daily t set inbound = t.inbound + 1, accepted = t.accepted + 1
         from r where t.ctid = r.ctid returning 1)
insert into switchboard.stats_delta (agent_id, day, inbound, accepted)
select $A, current_date, 1, 1 where not exists (select from u);
$FOLD"
    mk striped $kind "update b.striped set inbound = inbound + 1, accepted = accepted + 1
 where agent_id = $A and day = current_date and stripe = :client_id % 16;"
done
. "$ROOT/bench/steady.sh"
declare -A T
DESIGNS="none delta direct skiplocked striped"
for round in 1 2; do  # interleaved; each figure the better of its two runs
    for kind in spread hot; do
        for d in $DESIGNS; do
            r=$(PGOPTIONS="-c synchronous_commit=off" steady_run "$OUT" "${d}_${kind}_$round" "$OUT/${d}_$kind.sql" "$W" "$S")
            r=${r%% *}
            [ "${T[$d.$kind]:-0}" -ge "$r" ] || T[$d.$kind]=$r
        done
    done
done
echo "one event's analytics counter, 8 clients, ${S}s after ${W}s of warm-up, better of 2 runs (per event: over an empty transaction)"
printf '  %-12s %22s %22s\n' design "spread (1,000 agents)" "one hot agent"
for d in $DESIGNS; do
    cell() { awk -v t="${T[$d.$1]}" -v z="${T[none.$1]}" 'BEGIN { printf "%7d/s %6.1f us", t, 1e6 / t - 1e6 / z }'; }
    printf '  %-12s %22s %22s\n' "$d" "$(cell spread)" "$(cell hot)"
done
psql -X -q -d postgres -c "drop database $DB"
