#!/usr/bin/env bash
# The analytics' crash test (test/scripts/crash_recovery.sh) with a longer
# load: 6 clients of record_inbound/record_outbound/record_call for 30 s
# (BENCH_SCALE=small: 10 s), then the server killed hard, once by SIGKILL of a
# backend and once by `stop -m immediate`; after recovery every acknowledged
# event is stored, none twice, and the rollups equal rebuild_stats.  Runs in
# the bench cluster (pg_virtualenv's 15/regress), which it restarts.
set -u
ROOT=${BENCH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
secs=30; [ "${BENCH_SCALE:-}" = small ] && secs=10
status=0
for mode in sigkill immediate; do
    echo "crash by $mode after ${secs}s of load:"
    CRASH_SECONDS=$secs CRASH_EVENTS=200000 CRASH_MODE=$mode bash "$ROOT/test/scripts/crash_recovery.sh" \
        >"$ROOT/build/bench/crash_$mode.txt" 2>&1 || status=1
    grep -E 'acknowledged before|^not ok|passed, [0-9]+ failed' "$ROOT/build/bench/crash_$mode.txt" | sed 's/^/  /'
done
exit $status
