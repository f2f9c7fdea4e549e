#!/usr/bin/env bash
# The analytics folded from the raw rows instead of staged per event, measured
# as a sketch (bench/fold_from_raw.sql; README, Analytics, "Folding from the raw
# rows instead of staging"): the stats bench's event mix (8 clients, half
# record_inbound, half record_outbound with AI metadata) with
#   off   switchboard.stats_rollup = off: no analytics at all
#   fold  the same, and the sketch folding the new messages every FOLD_EVERY
#         seconds from a loop beside it
#   on    the rollups as shipped (staged per event)
# interleaved in each round, spread over 100 agents x 500 phones and on one hot
# agent.  Prints each run's cost against "off" of its round, then the means.
set -eu
cd "${BENCH_ROOT:-$(dirname "$0")/..}"
DB=sb_fold_bench
if [ "${BENCH_SCALE:-}" = small ]; then SECS=10; WARM=${BENCH_WARM:-5}; ROUNDS=1; EVERY=${FOLD_EVERY:-5}
else SECS=40; WARM=${BENCH_WARM:-10}; ROUNDS=${FOLD_ROUNDS:-2}; EVERY=${FOLD_EVERY:-20}; fi
psql -X -q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB" >/dev/null
export PGDATABASE=$DB
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
q -c "create extension switchboard"
. bench/stats_mix.sh
stats_mix_setup
q -c analyze
mkdir -p build/bench
rm -f build/bench/fold_errors.log
for mix in spread hot; do stats_mix_script $mix build/bench/fold_$mix.pgbench; done

# every EVERY seconds: fold the messages stored since the last fold; each fold
# that finished is a line "messages microseconds" in build/bench/fold_$1.log
fold_loop() {
    local lo hi t0
    : >build/bench/fold_$1.log
    lo=$(q -c "select coalesce(max(message_id), 0) from switchboard.messages")
    while :; do
        sleep "$EVERY"
        hi=$(q -c "select coalesce(max(message_id), 0) from switchboard.messages")
        t0=$(date +%s%N)
        if PGAPPNAME=sb_fold psql -X -q -v ON_ERROR_STOP=1 -v lo="$lo" -v hi="$hi" \
                -f bench/fold_from_raw.sql >/dev/null 2>>build/bench/fold_errors.log; then
            echo "$((hi - lo)) $((($(date +%s%N) - t0) / 1000))" >>build/bench/fold_$1.log
            lo=$hi
        fi
    done
}
stop_fold() {  # the loop, and a fold it may have left running
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
    q -c "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'sb_fold'" >/dev/null
}

# prime: each mix runs once with the rollups on, so that most conversations
# have talked (their analytics records and marks exist, as in a steady state)
# and the caches are warm
for mix in spread hot; do
    PGOPTIONS="-c synchronous_commit=off" pgbench -n -M prepared -c 8 -j 2 -T "$WARM" -f build/bench/fold_$mix.pgbench >/dev/null
done
q -c "vacuum analyze"

. bench/steady.sh
echo "analytics folded from the raw rows (a sketch), 8 clients, ${SECS}s per run after ${WARM}s of warm-up, synchronous_commit off, a fold every ${EVERY}s, $ROUNDS interleaved round(s)"
declare -A C
for r in $(seq "$ROUNDS"); do
    for mix in spread hot; do
        declare -A T=()
        for mode in off fold on; do
            opts="-c synchronous_commit=off"; [ $mode != on ] && opts="$opts -c switchboard.stats_rollup=off"
            q -c checkpoint
            loop=
            if [ $mode = fold ]; then fold_loop "${mix}_$r" & loop=$!; fi
            T[$mode]=$(PGOPTIONS="$opts" steady_run build/bench "fold_${mix}_$mode" build/bench/fold_$mix.pgbench "$WARM" "$SECS" | cut -d' ' -f1)
            [ -n "$loop" ] && stop_fold "$loop"
        done
        folds=$(awk '{n++; m+=$1; t+=$2} END {printf "%d folds, %.1f us a message", n, m ? t/m : 0}' build/bench/fold_${mix}_$r.log)
        line=$(printf '  round %d %-6s off %6d tps' "$r" $mix "${T[off]}")
        for mode in fold on; do
            cost=$(awk -v a="${T[$mode]}" -v b="${T[off]}" 'BEGIN{printf "%.1f", 100*(1-a/b)}')
            C[$mix.$mode]="${C[$mix.$mode]:-} $cost"
            line+=$(printf ' | %s %6d (cost %s%%)' $mode "${T[$mode]}" "$cost")
        done
        echo "$line ($folds, wall time under the load)"
    done
done
for mix in spread hot; do
    printf '  mean cost %-6s fold %s%%, rollups as shipped %s%%\n' $mix \
        "$(echo ${C[$mix.fold]} | awk '{s=0; for (i=1;i<=NF;i++) s+=$i; printf "%.1f", s/NF}')" \
        "$(echo ${C[$mix.on]} | awk '{s=0; for (i=1;i<=NF;i++) s+=$i; printf "%.1f", s/NF}')"
done
psql -X -q -d postgres -c "drop database $DB" >/dev/null
