#!/usr/bin/env bash
# Client-side throughput of libswitchboard over the local socket: record_inbound
# one call at a time (one autocommit statement and commit per event) vs
# record_inbound_batch (one statement per 1000 events), 100,000 events
# (BENCH_SCALE=small: 10,000); singles on a fifth of that.  Target: batch >= 4x.
# Also the CLI: `switchboard ingest` of a CSV of the same size.
set -eu
cd "${BENCH_ROOT:-$(dirname "$0")/..}"
DB=switchboard_client_bench
psql -X -q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB"
psql -X -q -d $DB -c "create extension switchboard"
export PGDATABASE=$DB
if [ "${BENCH_SCALE:-}" = small ]; then events=10000; else events=100000; fi
single=$((events / 5))
echo "client: $events events through the batch API, $single single calls"
# pg_virtualenv runs with fsync=off: a commit costs next to nothing, and the
# ratio shows only the round trips saved.  With fsync=on (a durable server,
# reloadable without a restart) every single call also waits for its WAL flush.
echo "-- fsync=off (the bench cluster as configured)"
build/client_bench "$events" "$single" 1000
psql -X -q -d postgres -c "alter system set fsync = on" -c "select pg_reload_conf()" >/dev/null
sleep 1
echo "-- fsync=on (durable commits)"
build/client_bench "$events" "$single" 1000 || status=$?
psql -X -q -d postgres -c "alter system reset fsync" -c "select pg_reload_conf()" >/dev/null
[ "${status:-0}" -eq 0 ]

# The CLI on a CSV of the same size (parse, batch, summary).
csv=build/bench/client_ingest.csv
agent=$(build/switchboard agents add --sms --hourly 100 --daily 1000)
python3 - "$agent" "$events" >"$csv" <<'PY'
import sys, datetime as dt
agent, n = sys.argv[1], int(sys.argv[2])
base = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
print("kind,at,agent_id,phone,body,call_sid,status,duration_seconds,metadata")
for i in range(n):
    t = (base + dt.timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"sms,{t},{agent},(201) 555-{i % 500:04d},benchmark message,,,,")
PY
start=$(date +%s.%N)
build/switchboard ingest --batch-size 1000 "$csv" 2>/dev/null | head -n 1
end=$(date +%s.%N)
echo "cli ingest: $(python3 -c "print(f'{$events / ($end - $start):.0f}')") events/s end to end (process start, CSV parse, batches)"
psql -X -q -d postgres -c "drop database $DB"
