# Sourced by the pgbench benchmarks: one pgbench run measured in its steady
# state.
#
# Each pgbench run opens fresh backends, and a fresh backend maps the shared
# buffers it touches page by page: on this kind of machine (a VM, 4 GB of
# shared buffers, no huge pages) the page faults cost the first seconds of a run
# several times the events' own work (throughput climbs from about a third to
# its level over about ten seconds), and a path that touches more tables pays
# more of them.  A server keeps its backends (a pool), so the figure that
# matters is the steady one: the run lasts WARM + SECONDS and only the
# transactions that end in the last SECONDS count, for throughput and latency.
#
# steady_run OUT NAME SCRIPT WARM SECONDS [pgbench options...]
#   -> prints "tps p50_ms p99_ms" and keeps OUT/NAME.txt (pgbench's report) and
#      OUT/lat_NAME (the counted latencies, sorted).  PGOPTIONS passes through.
steady_run() {
    local out=$1 name=$2 script=$3 warm=$4 secs=$5
    shift 5
    rm -f "$out"/log_"$name".*
    pgbench -n -M prepared -c "${CLIENTS:-8}" -j 2 -T $((warm + secs)) -l --log-prefix="$out/log_$name" \
        "$@" -f "$script" >"$out/$name.txt" 2>&1 || { cat "$out/$name.txt" >&2; return 1; }
    if grep -q "failed: [1-9]" "$out/$name.txt"; then
        echo "$name: failed transactions" >&2; cat "$out/$name.txt" >&2; return 1
    fi
    # log line: client transaction latency_us script epoch_s epoch_us (the end time)
    cat "$out"/log_"$name".* | awk -v warm="$warm" '
        { t = $5 + $6 / 1e6; end[NR] = t; lat[NR] = $3; if (NR == 1 || t < t0) t0 = t; if (t > t1) t1 = t }
        END { from = t0 + warm; for (i = 1; i <= NR; i++) if (end[i] >= from) print lat[i] > "/dev/stderr";
              n = 0; for (i = 1; i <= NR; i++) if (end[i] >= from) n++;
              printf "%d %.6f\n", n, t1 - from }' 2>"$out/lat_$name.unsorted" >"$out/window_$name"
    sort -n "$out/lat_$name.unsorted" >"$out/lat_$name"
    rm -f "$out/lat_$name.unsorted" "$out"/log_"$name".*
    local n span p50 p99
    read -r n span <"$out/window_$name"
    [ "$n" -gt 0 ] || { echo "$name: no transactions in the measured window" >&2; return 1; }
    p50=$(sed -n "$(((n + 1) / 2))p" "$out/lat_$name")
    p99=$(sed -n "$(((n * 99 + 99) / 100))p" "$out/lat_$name")
    awk -v n="$n" -v s="$span" -v a="$p50" -v b="$p99" 'BEGIN { printf "%.0f %.3f %.3f\n", n / s, a / 1000, b / 1000 }'
}
