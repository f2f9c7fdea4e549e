#!/usr/bin/env bash
# The analytics folded from the raw rows (0.9.0; README, Analytics, "The fold
# from the raw rows"): the stats bench's event mix (8 clients, half
# record_inbound, half record_outbound with AI metadata) with
#   off   no fold: the messages are stored, nothing folds them
#   on    rollup() every FOLD_EVERY seconds (20) from a loop beside the load,
#         as a scheduler would
# interleaved in each round, spread over 100 agents x 500 phones and on one hot
# agent, in longer runs than BENCH=stats (10 + 40 s), so that each measured
# window holds two folds.  Prints each round's cost against "off", the folds'
# sizes and times, the means, and whether the figures then equal a rebuild.
# (Up to 0.8.0 this bench ran the sketch bench/fold_from_raw.sql beside the
# shipped per-event staging; 0.9.0 built the fold from it.)
set -eu
cd "${BENCH_ROOT:-$(dirname "$0")/..}"
DB=sb_fold_bench
if [ "${BENCH_SCALE:-}" = small ]; then SECS=10; WARM=${BENCH_WARM:-5}; ROUNDS=1; EVERY=${FOLD_EVERY:-5}
else SECS=${FOLD_SECS:-40}; WARM=${BENCH_WARM:-10}; ROUNDS=${FOLD_ROUNDS:-2}; EVERY=${FOLD_EVERY:-20}; fi
psql -X -q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB" >/dev/null
export PGDATABASE=$DB
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
q -c "create extension switchboard"
if [ "$(q -c "select count(*) from pg_class where relname = 'stats_watermark' and relnamespace = 'switchboard'::regnamespace")" != 1 ]; then
    echo "the installed switchboard stages its analytics per event (before 0.9.0): nothing to fold"; exit 0
fi
. bench/stats_mix.sh
. bench/fold_loop.sh
stats_mix_setup
q -c analyze
mkdir -p build/bench
for mix in spread hot; do stats_mix_script $mix build/bench/fold_$mix.pgbench; done

# prime: each mix runs once and is folded, so that most conversations have
# talked (their first messages are known), and the caches are warm
for mix in spread hot; do
    PGOPTIONS="-c synchronous_commit=off" pgbench -n -M prepared -c 8 -j 2 -T "$WARM" -f build/bench/fold_$mix.pgbench >/dev/null
done
q -c "select switchboard.rollup()" >/dev/null
q -c "vacuum analyze"

. bench/steady.sh
echo "analytics folded from the raw rows, 8 clients, ${SECS}s per run after ${WARM}s of warm-up, synchronous_commit off, rollup() every ${EVERY}s, $ROUNDS interleaved round(s)"
declare -A C
for r in $(seq "$ROUNDS"); do
    for mix in spread hot; do
        declare -A T=()
        log=build/bench/fold_${mix}_$r.log
        rm -f "$log" "$log.errors"
        for mode in off on; do
            q -c checkpoint
            # what "off" left unfolded is folded before "on" starts
            q -c "select switchboard.rollup()" >/dev/null
            loop=
            if [ $mode = on ]; then fold_loop "$EVERY" "$log" & loop=$!; fi
            T[$mode]=$(PGOPTIONS="-c synchronous_commit=off" steady_run build/bench "fold_${mix}_$mode" build/bench/fold_$mix.pgbench "$WARM" "$SECS" | cut -d' ' -f1)
            if [ -n "$loop" ]; then stop_fold_loop "$loop" "$log"; fi
        done
        cost=$(awk -v a="${T[on]}" -v b="${T[off]}" 'BEGIN{printf "%.1f", 100*(1-a/b)}')
        C[$mix]="${C[$mix]:-} $cost"
        printf '  round %d %-6s off %6d tps | on %6d tps (cost %s%%) (%s)\n' "$r" $mix "${T[off]%.*}" "${T[on]%.*}" "$cost" "$(fold_summary "$log")"
    done
done
for mix in spread hot; do
    printf '  mean cost %-6s %s%%\n' $mix "$(echo ${C[$mix]} | awk '{s=0; for (i=1;i<=NF;i++) s+=$i; printf "%.1f", s/NF}')"
done
same=$(stats_mix_equals_rebuild)
echo "  then daily_stats equal rebuild_stats (agents 1-3): $same"
psql -X -q -d postgres -c "drop database $DB" >/dev/null
