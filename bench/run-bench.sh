#!/usr/bin/env bash
# `make bench`: every bench/*.bench.sh on one throwaway cluster, in name order.
# Each prints its own figures and ratios against a naive SQL implementation
# measured in the same run.  BENCH=name runs only bench/name.bench.sh;
# BENCH_SCALE=small shrinks the data sets for a quick look.
set -u
cd "$(dirname "$0")/.."
if [ -z "${SB_IN_CLUSTER:-}" ]; then
    corpus=${SWITCHBOARD_CORPUS:-$(pwd)/../shared/corpus/phones_dev.tsv}
    [ -r "$corpus" ] && export SWITCHBOARD_CORPUS=$(realpath "$corpus")
    # shared_buffers: production-like for a 24 GB machine (the O(1) check of
    # BENCH=events keeps a 10-million-row messages table and its indexes in
    # memory, as a production server of that size would); SB_BENCH_SHARED_BUFFERS
    # overrides it (e.g. 128MB, Postgres' default)
    exec pg_virtualenv -v "${PG_MAJOR:-15}" \
        -o shared_buffers=${SB_BENCH_SHARED_BUFFERS:-4GB} -o max_wal_size=8GB -o checkpoint_timeout=30min \
        -o max_connections=200 \
        env SB_IN_CLUSTER=1 bash "$0" "$@"
fi
export BENCH_ROOT=$(pwd)
mkdir -p build/bench
status=0
for script in bench/*.bench.sh; do
    name=$(basename "$script" .bench.sh)
    [ -n "${BENCH:-}" ] && [ "$BENCH" != "$name" ] && continue
    echo "=== $name"
    bash "$script" || { echo "$name: FAILED"; status=1; }
    echo
done
exit $status
