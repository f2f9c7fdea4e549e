#!/usr/bin/env bash
# The switchboard CLI and the installed client library (make install-client):
# normalize from stdin, ingest with bad lines, agents, error messages, and the
# example program built against the installed library through pkg-config.
# Runs inside the test cluster (PG* set); prints "N passed, N failed" last.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SB=$ROOT/build/switchboard
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
passed=0
failed=0
ok() { echo "ok - $1"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $1"; [ -n "${2:-}" ] && echo "$2" | sed 's/^/    /'; failed=$((failed + 1)); }
check() {  # name expected actual
    if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "expected: $2
actual:   $3"; fi
}

DB=switchboard_cli
psql -X -q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB"
psql -X -q -d $DB -c "create extension switchboard"
export PGDATABASE=$DB

# --- normalize ----------------------------------------------------------------
out=$(printf '(201) 555-0123\n12\n\n+44 7400 123456\n' | "$SB" normalize --region US 2>"$TMP/err")
rc=$?
check "normalize: stdin, one output line per input line (blank and invalid: empty)" "+12015550123


+447400123456" "$out"
check "normalize: exit 1 when a number is invalid" 1 "$rc"
check "normalize: the error names line and reason" \
    'switchboard: line 2: invalid phone number "12": The number is too short.' "$(cat "$TMP/err")"
check "normalize: arguments" "+4930123456" "$("$SB" normalize 'tel:+49-30-123456')"

# --- agents ---------------------------------------------------------------------
A=11111111-1111-4111-8111-111111111111
check "agents add --id" "$A" "$("$SB" agents add --id $A --name alpha --sms --hourly 2 --daily 2)"
check "agents set" "2" "$("$SB" agents set $A --hourly 2 | awk 'NR==2 {print $5}')"
check "agents block" "blocked +12015550199" "$("$SB" agents block $A '(201) 555-0199' --reason spam)"
check "agents list" "1" "$("$SB" agents list | grep -c "$A")"
out=$("$SB" agents set 22222222-2222-4222-8222-222222222222 --hourly 5 2>&1)
rc=$?
check "unknown agent: message and exit 1" \
    'switchboard: agent "22222222-2222-4222-8222-222222222222" does not exist|1' "$out|$rc"
out=$("$SB" --db "host=/nonexistent port=1" agents list 2>&1)
rc=$?
if [ $rc -eq 1 ] && echo "$out" | grep -q '^switchboard: could not connect to the database: ' &&
   echo "$out" | grep -q 'hint: pass --db URL'; then ok "bad connection string: clear message"
else not_ok "bad connection string: clear message" "$out"; fi
out=$("$SB" stats 2>&1)
rc=$?
check "stats: not available yet" "1" "$rc"

# --- ingest with bad lines ------------------------------------------------------
cat >"$TMP/t.csv" <<CSV
kind,at,agent_id,phone,body,call_sid,status,duration_seconds,metadata
sms,2026-03-02T09:00:00Z,$A,(201) 555-0123,hi,,,,
sms,2026-03-02T09:01:00Z,$A,2015550123,"hi, again",,,,"{""k"": 1}"
sms,2026-03-02T09:02:00Z,$A,2015550123,three,,,,
sms,2026-03-02T09:03:00Z,$A,12,bad phone,,,,
sms,2026-03-02T09:04:00Z,$A,2015550199,blocked,,,,
sms,yesterday,$A,2015550123,bad time,,,,
sms,2026-03-02T09:05:00Z,not-a-uuid,2015550123,bad agent,,,,
fax,2026-03-02T09:05:00Z,$A,2015550123,bad kind,,,,
sms,2026-03-02T09:06:00Z,$A,2015550124
call,2026-03-02T09:07:00Z,$A,2015550125,,CA1,ringing,,
call,2026-03-02T09:07:05Z,$A,2015550125,,CA1,in_progress,,
call,2026-03-02T09:09:05Z,$A,2015550125,,CA1,completed,120,
call,2026-03-02T09:10:00Z,$A,2015550125,,CA2,ringing,abc,
sms,2026-03-02T09:11:00Z,$A,2015550126,second new,,,,
sms,2026-03-02T09:12:00Z,$A,2015550127,third new,,,,
CSV
"$SB" ingest --batch-size 4 "$TMP/t.csv" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out" "$TMP/err"
check "ingest: exit 3 when lines were bad" 3 "$rc"
check "ingest: bad timestamp reported with line, column, value" 1 \
    "$(grep -c 'line 7, column at: not an ISO 8601 timestamp: "yesterday"' "$TMP/err")"
check "ingest: bad uuid reported" 1 "$(grep -c 'line 8, column agent_id: not a uuid: "not-a-uuid"' "$TMP/err")"
check "ingest: bad kind reported" 1 "$(grep -c 'line 9, column kind: expected sms or call: "fax"' "$TMP/err")"
check "ingest: short line reported" 1 "$(grep -c 'line 10: expected 9 fields, found 4' "$TMP/err")"
check "ingest: bad duration reported" 1 "$(grep -c 'line 14, column duration_seconds' "$TMP/err")"
check "ingest: invalid phone reported by the server with its line" 1 \
    "$(grep -c 'line 5: invalid phone number "12": The number is too short. (SQLSTATE 22023)' "$TMP/err")"
check "ingest: decisions" "3 1 1 1" \
    "$(awk '/^  accepted/ {a=$2} /^  rate_limited/ {r=$2} /^  blocked/ {b=$2} /^  daily_limit/ {d=$2} END {print a, r, b, d}' "$TMP/out")"
check "ingest: call events" "3" "$(awk '/^call events/ {print $3}' "$TMP/out")"
check "ingest: malformed lines counted" "5" "$(awk '/^malformed/ {print $2}' "$TMP/out")"
check "ingest: the good lines went in" "6" \
    "$(psql -X -A -t -c "select count(*) from switchboard.messages where agent_id = '$A'")"
check "ingest: plain progress lines when not a TTY" 1 "$(grep -c '^ingest: 10/10 rows (100%)' "$TMP/err")"

# --- the example, against the installed library ----------------------------------
if pkg-config --exists switchboard; then
    if c++ -std=c++17 -Wall -Wextra -Werror -o "$TMP/example" client/examples/inbound_webhook.cpp \
            $(pkg-config --cflags --libs switchboard) 2>"$TMP/cc"; then
        ok "example builds against the installed library (pkg-config)"
        out=$("$TMP/example" 2>&1)
        check "example runs" "(201) 555-0123 -> accepted, reply: Hello! I'm an AI agent. How can I help you today?
+1 201 555 0123 -> accepted
201.555.0123 -> rate_limited, retry after 3600 s
rejected: invalid phone number \"12\" (The number is too short.)" "$out"
        check "example links the shared library" 1 "$(ldd "$TMP/example" | grep -c 'libswitchboard.so.0')"
    else
        not_ok "example builds against the installed library (pkg-config)" "$(cat "$TMP/cc")"
    fi
else
    not_ok "pkg-config finds switchboard (make install-client)"
fi

psql -X -q -d postgres -c "drop database $DB" >/dev/null 2>&1
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
