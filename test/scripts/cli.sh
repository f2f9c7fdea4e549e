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
out=$("$SB" stats --agent 22222222-2222-4222-8222-222222222222 2>&1)
rc=$?
check "stats: unknown agent, message and exit 1" \
    'switchboard: agent "22222222-2222-4222-8222-222222222222" does not exist|1' "$out|$rc"
out=$("$SB" stats --agent $A --format xml 2>&1)
check "stats: bad --format is a usage error (exit 2)" "2" "$?"

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
check "ingest: bad kind reported" 1 "$(grep -c 'line 9, column kind: expected sms, reply or call: "fax"' "$TMP/err")"
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

# --- stats over the ingested day (agent timezone UTC) -------------------------------
"$SB" stats --agent $A --from 2026-03-01 --to 2026-03-03 --format csv >"$TMP/stats.csv" 2>"$TMP/err"
check "stats csv: exit 0" "0" "$?"
check "stats csv: header and one line per day" "4" "$(wc -l <"$TMP/stats.csv")"
check "stats csv: every daily_stats column" \
    "day,inbound,accepted,blocked,rate_limited,daily_limit,disabled,outbound,new_conversations,new_sessions,unique_phones,calls_total,calls_answered,calls_completed,calls_failed,calls_busy,calls_no_answer,calls_canceled,call_duration_total,call_duration_avg,unique_callers,replies,reply_latency_avg,ai_tasks,tokens_used,processing_ms_avg,success_rate,categories" \
    "$(head -1 "$TMP/stats.csv")"
# day inbound accepted blocked rate_limited daily_limit outbound new_conversations unique_phones
# calls_total calls_answered calls_completed call_duration_avg, by header name
col() {  # DAY NAME...
    awk -F, -v day="$1" -v names="${*:2}" 'NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
        $1 == day { n = split(names, w, " "); s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? " " : "") $idx[w[i]]; print s }' \
        "$TMP/stats.csv"
}
check "stats csv: the ingested day's messages" "6 3 1 1 1 0 2 4" \
    "$(col 2026-03-02 inbound accepted blocked rate_limited daily_limit outbound new_conversations unique_phones)"
check "stats csv: the ingested day's calls" "1 1 1 120 1" \
    "$(col 2026-03-02 calls_total calls_answered calls_completed call_duration_avg unique_callers)"
check "stats csv: quiet days are zeros, empty averages" "0 0 0 " "$(col 2026-03-01 inbound outbound calls_total call_duration_avg)"
"$SB" stats --agent $A --from 2026-03-01 --to 2026-03-03 --format json >"$TMP/stats.json" 2>"$TMP/err"
check "stats json: exit 0" "0" "$?"
# parsed by the server's jsonb (a syntax error fails the query)
q() { echo "select $1 from (select :'j'::jsonb as j) x" | psql -X -A -t -v ON_ERROR_STOP=1 -v j="$(cat "$TMP/stats.json")" 2>&1; }
check "stats json: valid, three days in order" "3|2026-03-01,2026-03-02,2026-03-03" \
    "$(q "jsonb_array_length(j->'days') || '|' || (select string_agg(d->>'day', ',' order by o) from jsonb_array_elements(j->'days') with ordinality as e(d, o))")"
check "stats json: the ingested day's figures" "6|3|1|2|4|1|1|120" \
    "$(q "concat_ws('|', j#>>'{days,1,inbound}', j#>>'{days,1,accepted}', j#>>'{days,1,blocked}', j#>>'{days,1,new_conversations}', j#>>'{days,1,unique_phones}', j#>>'{days,1,calls_total}', j#>>'{days,1,calls_answered}', j#>>'{days,1,call_duration_avg}')")"
check "stats json: null averages, numbers typed, categories an object" "null|number|object" \
    "$(q "jsonb_typeof(j#>'{days,0,call_duration_avg}') || '|' || jsonb_typeof(j#>'{days,1,inbound}') || '|' || jsonb_typeof(j#>'{days,1,categories}')")"
check "stats json: agent and window" "$A|2026-03-01|2026-03-03" "$(q "concat_ws('|', j->>'agent_id', j->>'from', j->>'to')")"
"$SB" stats --agent $A --days 7 --format json >"$TMP/stats.json" 2>"$TMP/err"
check "stats json --days 7: seven days ending today, with a summary" "7|$(date -u +%F)|7" \
    "$(q "concat_ws('|', jsonb_array_length(j->'days'), j->>'to', (j#>>'{summary,to_day}')::date - (j#>>'{summary,from_day}')::date + 1)")"
"$SB" stats --agent $A --from 2026-03-01 --to 2026-03-03 >"$TMP/stats.txt" 2>&1
check "stats table: the ingested day's row" "2026-03-02 Mon 6 0 3 2 1 2 4 1 1 120s" \
    "$(grep '^2026-03-02 Mon  ' "$TMP/stats.txt" | head -1 | tr -s ' ')"
check "stats table: a bar chart line per day" "3" "$(grep -c '^2026-03-0[123] ... |' "$TMP/stats.txt")"
check "stats table: the busiest day's bar is full width" "1" "$(grep -c '^2026-03-02 Mon |###' "$TMP/stats.txt")"

# --- replies: outbound messages by phone number (kind reply) ------------------------
# batch size 2: the first pair goes in with the batch statement, the second
# (an error in it) through the per-event fallback
cat >"$TMP/r.csv" <<CSV
kind,at,agent_id,phone,body,call_sid,status,duration_seconds,metadata
sms,2026-03-04T10:00:00Z,$A,(201) 555-0123,are you there?,,,,
reply,2026-03-04T10:00:30Z,$A,+1 201-555-0123,yes: how can I help?,,,,"{""tokens_used"": 120, ""processing_ms"": 800, ""category"": ""support"", ""success"": true}"
reply,2026-03-04T10:01:00Z,$A,2015550188,nobody wrote,,,,
reply,2026-03-04T10:01:30Z,$A,12,bad phone,,,,
CSV
"$SB" ingest --batch-size 2 "$TMP/r.csv" >"$TMP/out" 2>"$TMP/err"
rc=$?
cat "$TMP/out" "$TMP/err"
check "ingest replies: exit 3 when a reply failed" 3 "$rc"
check "ingest replies: one outbound message stored" "1" "$(awk '/^outbound/ {print $2}' "$TMP/out")"
check "ingest replies: a number without a conversation is reported with its line" 1 \
    "$(grep -c "line 4: no conversation with \"2015550188\" for agent $A (SQLSTATE P0002)" "$TMP/err")"
check "ingest replies: a bad number is the server's error, with its line" 1 \
    "$(grep -c 'line 5: invalid phone number "12": The number is too short. (SQLSTATE 22023)' "$TMP/err")"
check "ingest replies: the reply joined the sender's conversation" "outbound|1|2026-03-04 10:00:30+00" \
    "$(PGTZ=UTC psql -X -A -t -c "select m.direction, count(*) over (), m.created_at from switchboard.messages m
        join switchboard.conversations c using (agent_id, conversation_id)
        where m.agent_id = '$A' and m.direction = 'outbound' and c.phone = '+12015550123'")"
"$SB" stats --agent $A --from 2026-03-04 --to 2026-03-04 --format csv >"$TMP/stats.csv" 2>"$TMP/err"
check "stats csv: the reply's day: outbound, reply latency, AI task facts" "1 1 30 1 120 800 1" \
    "$(col 2026-03-04 outbound replies reply_latency_avg ai_tasks tokens_used processing_ms_avg success_rate)"
"$SB" stats --agent $A --from 2026-03-04 --to 2026-03-04 >"$TMP/stats.txt" 2>&1
check "stats table: replies and AI tasks below the day's row" "2026-03-04 Wed 1 30s 1 120 800ms 100%" \
    "$(grep -A2 '^day  *replies' "$TMP/stats.txt" | grep '^2026-03-04 Wed' | tr -s ' ')"

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
