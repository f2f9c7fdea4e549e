# Sourced by the benchmarks (0.9.0 on): a scheduler's rollup() beside a load.
#
#   fold_loop EVERY LOG &     every EVERY seconds, rollup(); each fold that ends
#                             appends "folded microseconds" to LOG (messages and
#                             staged rows folded, wall time)
#   stop_fold_loop PID LOG    stop it once the fold in progress, if any, has
#                             ended (its cost belongs to the run it ran beside)
#   fold_summary LOG          "N folds, M messages each, U us a message"
fold_loop() {
    local every=$1 log=$2 t0 n waited
    rm -f "$log.stop"
    while :; do
        waited=0
        while [ "$waited" -lt "$every" ]; do
            [ -e "$log.stop" ] && return 0
            sleep 1; waited=$((waited + 1))
        done
        t0=$(date +%s%N)
        if n=$(PGAPPNAME=sb_fold psql -X -q -At -v ON_ERROR_STOP=1 -c "select switchboard.rollup()" 2>>"$log.errors"); then
            echo "$n $((($(date +%s%N) - t0) / 1000))" >>"$log"
        fi
    done
}
stop_fold_loop() {
    touch "$2.stop"
    wait "$1" 2>/dev/null || true
    rm -f "$2.stop"
}
fold_summary() {
    [ -s "$1" ] || { printf 'no fold finished'; return 0; }
    awk '{n++; m+=$1; t+=$2} END {printf "%d folds, %.0f messages each, %.1f us of wall time a message under the load", n, m/n, (m ? t/m : 0)}' "$1"
}
