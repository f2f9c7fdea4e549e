#!/usr/bin/env bash
# Write shapes: what an event's analytics cost depending on where the counts
# are written (bench/shapes.sql says what each shape writes).  Not a switchboard
# path: plpgsql stand-ins on copies of its tables, so that a redesign's write
# cost is known before it is built.  Two mixes at 8 clients, each half inbound
# and half outbound (AI metadata), as BENCH=stats's:
#   hot     one agent, 500 phones, every inbound message rate limited (the
#           stats bench's hot agent once its phones reach their hourly limit)
#   spread  100 agents x 500 phones, every inbound message accepted
# Figures: throughput per shape (best of the rounds, shapes interleaved in each
# round) and its cost against "off"; then what a reader would add to sum an
# agent's pending counts.
set -eu
cd "${BENCH_ROOT:-$(dirname "$0")/..}"
DB=sb_shapes_bench
export PGOPTIONS="-c client_min_messages=warning"
if [ "${BENCH_SCALE:-}" = small ]; then SECS=4; WARM=${BENCH_WARM:-4}; ROUNDS=1
else SECS=15; WARM=${BENCH_WARM:-10}; ROUNDS=3; fi
psql -X -q -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null
export PGDATABASE=$DB
q() { psql -X -q -v ON_ERROR_STOP=1 -At "$@"; }
q -c "create extension switchboard"
q -f bench/shapes.sql
q -c analyze  # the stand-ins' plans pick the unique (agent_id, phone) index, not the partial one

shapes=${BENCH_SHAPES:-"off staged counters_after_lock counters_in_lock one_statement striped"}
mkdir -p build/bench
for mix in hot spread; do
    agent='1'; accepted=false
    [ $mix = spread ] && { agent='random(1, 100)'; accepted=true; }
    for s in $shapes; do
        printf '\\set a %s\n\\set p random(1, 500)\n\\set d random(0, 1)\nselect shapes.event('"'"'%s'"'"', :a, :p, :d = 0, %s);\n' \
            "$agent" "$s" "$accepted" >build/bench/shapes_${mix}_$s.pgbench
    done
done

. bench/steady.sh
export PGOPTIONS="$PGOPTIONS -c synchronous_commit=off"
echo "write shapes (plpgsql stand-ins), 8 clients, ${SECS}s per run after ${WARM}s of warm-up, synchronous_commit off, best of $ROUNDS interleaved rounds"
declare -A T
for r in $(seq "$ROUNDS"); do
    for mix in hot spread; do
        for s in $shapes; do
            q -c "vacuum shapes.conv" -c "vacuum shapes.conv_acc" -c "vacuum shapes.delta" -c "vacuum shapes.stripe" -c checkpoint
            t=$(steady_run build/bench "shapes_${mix}_$s" "build/bench/shapes_${mix}_$s.pgbench" "$WARM" "$SECS" | cut -d' ' -f1)
            [ "${t:-0}" -gt "${T[$mix.$s]:-0}" ] && T[$mix.$s]=$t
        done
    done
done
for mix in hot spread; do
    off=${T[$mix.off]}
    line=$(printf '  %-6s off %6d tps' $mix "$off")
    for s in ${shapes#off }; do
        line+=$(printf ' | %s %6d (cost %s%%)' $s "${T[$mix.$s]}" \
            "$(awk -v a="${T[$mix.$s]}" -v b="$off" 'BEGIN{printf "%.1f", 100*(1-a/b)}')")
    done
    echo "$line"
done

# What a reader would add: the pending counts of an agent's conversations over
# 30 days, summed through the partial index, with 500 (the hot agent above)
# and 100,000 pending conversations; median of 5 executions.
q -c "insert into shapes.conv_acc (agent_id, conversation_id, phone, s_day, s_inbound)
      select '00000000-0000-0000-0000-000000000201'::uuid, gen_random_uuid(),
             '+1301' || lpad(p::text, 7, '0'), current_date - (p % 30), 1
        from generate_series(1, 100000) p" -c "vacuum analyze shapes.conv_acc"
pending_ms() {  # agent -> median execution time (ms) of the sum
    for i in 1 2 3 4 5 6; do
        q -c "explain (analyze, timing off, format json)
              select sum(s_inbound), sum(s_accepted), sum(s_blocked), sum(s_rate_limited), sum(s_daily_limit),
                     sum(s_disabled), sum(s_quota_exceeded), sum(s_after_hours), sum(s_outbound),
                     sum(s_new_sessions), sum(s_unique_phones), sum(s_replies), sum(s_reply_latency_total),
                     sum(s_ai_tasks), sum(s_ai_tokens), sum(s_ai_processing_ms_total),
                     sum(s_ai_processing_count), sum(s_ai_judged), sum(s_ai_succeeded)
                from shapes.conv_acc
               where agent_id = '$1' and s_day between current_date - 29 and current_date" |
            sed -n 's/.*"Execution Time": \([0-9.]*\).*/\1/p'
    done | tail -5 | sort -n | sed -n 3p
}
echo "  a reader's sum of the pending counts over 30 days: 500 conversations $(pending_ms 00000000-0000-0000-0000-000000000001) ms, 100,000 conversations $(pending_ms 00000000-0000-0000-0000-000000000201) ms"
