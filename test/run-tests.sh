#!/usr/bin/env bash
# Runs every suite on one throwaway cluster and ends with "N passed, N failed".
#
#   unit     Catch2 tests of the pure C++ core (no server)
#   client   Catch2 tests of the C++ client library (build/client_tests) on this cluster
#   regress  pg_regress over sql/*.sql against expected/*.out
#   isolation  pg_isolation_regress over specs/*.spec against expected/*.out
#   pgtap    pg_prove over test/pgtap/*.sql
#   extra    test/scripts/*.sh (concurrency, crash recovery, dump/restore, client)
#   fuzz     the libFuzzer target for FUZZ_SECONDS (0 skips it)
#
# Called by `make test` after the extension is built and installed.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if [ -z "${SB_IN_CLUSTER:-}" ]; then
    corpus=${SWITCHBOARD_CORPUS:-$ROOT/../shared/corpus/phones_dev.tsv}
    if [ ! -r "$corpus" ]; then
        echo "run-tests: phone corpus not found at $corpus (set SWITCHBOARD_CORPUS)" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    export SWITCHBOARD_CORPUS=$(realpath "$corpus")
    # pg_virtualenv: a new cluster for this run, dropped when the command exits.
    # Its server runs as user postgres, which must be able to read the corpus.
    exec pg_virtualenv -v "${PG_MAJOR:-15}" env SB_IN_CLUSTER=1 bash "$0" "$@"
fi

LOG=$ROOT/build/test-logs
rm -rf "$LOG"
mkdir -p "$LOG"
passed=0
failed=0

count() {  # suite passed failed
    printf '%-8s %4d passed, %d failed\n' "$1" "$2" "$3"
    passed=$((passed + $2))
    failed=$((failed + $3))
}

# --- unit: Catch2 ------------------------------------------------------------
run_catch2() {  # suite binary
    local out="$LOG/$1.txt"
    "$2" --reporter compact >"$out" 2>&1
    local rc=$?
    local summary p f
    summary=$(grep -E '^(Passed|Failed) ' "$out" | tail -n 1)
    if [[ $summary =~ ^Passed\ all\ ([0-9]+)\ test\ case ]]; then
        p=${BASH_REMATCH[1]}; f=0
    elif [[ $summary =~ ^Failed\ ([0-9]+)\ test\ cases?,\ failed\ ([0-9]+) ]] ||
         [[ $summary =~ ^Failed\ ([0-9]+)\ test\ cases? ]]; then
        f=${BASH_REMATCH[1]}
        local total
        total=$("$2" --list-test-names-only 2>/dev/null | grep -c .)
        p=$((total - f))
    else
        p=0; f=1
    fi
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
    [ "$f" -ne 0 ] && { echo "--- $1 failures:"; grep -E 'failed|FAILED' "$out" | head -n 40; }
    count "$1" "$p" "$f"
}
run_catch2 unit "$ROOT/build/unit_tests"

# --- client: Catch2 tests of the client library, against this cluster -----------
CLIENTDB=switchboard_client
if psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "set client_min_messages = warning" \
        -c "drop database if exists $CLIENTDB" -c "create database $CLIENTDB" >/dev/null &&
   psql -X -q -v ON_ERROR_STOP=1 -d $CLIENTDB -c "create extension switchboard" >/dev/null; then
    PGDATABASE=$CLIENTDB run_catch2 client "$ROOT/build/client_tests"
else
    count client 0 1
fi

# --- regress, isolation: pg_regress and pg_isolation_regress (make installcheck) --
run_installcheck() {  # suite diffs make-args...
    local suite=$1 diffs=$2 out="$LOG/$1.txt" p f total
    shift 2
    make --no-print-directory installcheck "$@" >"$out" 2>&1
    local rc=$?
    if grep -qE 'All [0-9]+ tests passed' "$out"; then
        p=$(grep -oE 'All [0-9]+ tests passed' "$out" | grep -oE '[0-9]+'); f=0
    elif grep -qE '[0-9]+ of [0-9]+ tests failed' "$out"; then
        read -r f total < <(grep -oE '[0-9]+ of [0-9]+ tests failed' "$out" | grep -oE '[0-9]+' | tr '\n' ' ')
        p=$((total - f))
        echo "--- $suite failures ($diffs):"
        head -n 80 "$diffs" 2>/dev/null
    else
        p=0; f=1; tail -n 30 "$out"
    fi
    [ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
    count "$suite" "$p" "$f"
}
run_installcheck regress regression.diffs ISOLATION=
run_installcheck isolation output_iso/regression.diffs REGRESS=

# --- pgtap: pg_prove ---------------------------------------------------------
TAPDB=switchboard_tap
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "set client_min_messages = warning" -c "drop database if exists $TAPDB" -c "create database $TAPDB" >/dev/null &&
    psql -X -q -v ON_ERROR_STOP=1 -d $TAPDB -c "create extension pgtap" -c "create extension switchboard" >/dev/null
shopt -s nullglob
tap_files=(test/pgtap/*.sql)
if [ ${#tap_files[@]} -gt 0 ]; then
    PGDATABASE=$TAPDB pg_prove --verbose --ext .sql "${tap_files[@]}" >"$LOG/pgtap.txt" 2>&1
    rc=$?
    p=$(grep -cE '^\s*ok [0-9]+' "$LOG/pgtap.txt")
    f=$(grep -cE '^\s*not ok [0-9]+' "$LOG/pgtap.txt")
    if [ $rc -ne 0 ]; then
        echo "--- pgtap failures:"
        grep -E 'not ok|Failed|Dubious|ERROR|Parse errors|Bad plan' "$LOG/pgtap.txt" | head -n 40
        [ "$f" -eq 0 ] && f=1
    fi
    count pgtap "$p" "$f"
fi

# --- extra: scripted suites (each prints "N passed, N failed" last) -----------
for script in test/scripts/*.sh; do
    name=$(basename "$script" .sh)
    bash "$script" >"$LOG/$name.txt" 2>&1
    rc=$?
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$LOG/$name.txt" | tail -n 1)
    p=$(echo "$line" | cut -d' ' -f1); p=${p:-0}
    f=$(echo "$line" | cut -d' ' -f3); f=${f:-0}
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        echo "--- $name failed (exit $rc):"; tail -n 30 "$LOG/$name.txt"
        [ "$f" -eq 0 ] && f=1
    fi
    count "$name" "$p" "$f"
done

# --- fuzz: libFuzzer, bounded ----------------------------------------------------
if [ "${FUZZ_SECONDS:-60}" -gt 0 ]; then
    if make --no-print-directory fuzz FUZZ_SECONDS="${FUZZ_SECONDS:-60}" >"$LOG/fuzz.txt" 2>&1; then
        count fuzz 1 0
    else
        echo "--- fuzz failed:"; tail -n 40 "$LOG/fuzz.txt"
        count fuzz 0 1
    fi
fi

echo "logs in build/test-logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
