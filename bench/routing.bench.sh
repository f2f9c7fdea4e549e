#!/usr/bin/env bash
# route_inbound against record_inbound in the same run (issue 8): 10,000
# provisioned numbers (10 per agent, 1,000 agents), 100,000 senders with their
# conversations and contacts (steady state), pgbench 8 clients, the same
# traffic through both; printed as the ratio route_inbound / record_inbound.
# Target: within 10%.  BENCH_SCALE=small: shorter runs.
set -eu
ROOT=${BENCH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=$ROOT/build/bench/routing
rm -rf "$OUT"; mkdir -p "$OUT"
if [ "${BENCH_SCALE:-}" = small ]; then T=${BENCH_SECONDS:-5}; ROUNDS=${BENCH_ROUNDS:-4}; else T=${BENCH_SECONDS:-15}; ROUNDS=${BENCH_ROUNDS:-4}; fi
CLIENTS=8
DB=sb_bench_routing
psql -X -q -d postgres -c "drop database if exists $DB" -c "create database $DB"
export PGDATABASE=$DB
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q -c "set client_min_messages = warning" -c "create extension switchboard"
q <<'SQL'
insert into switchboard.agents (agent_id, sms_enabled, rate_limit_per_hour, max_daily_conversations)
select ('00000000-0000-0000-0000-' || lpad(i::text, 12, '0'))::uuid, true, 100, 1000
  from generate_series(0, 999) i;
-- 10,000 numbers: agent a owns +1650 300 0000 + a + 1000 k, k = 0..9
insert into switchboard.phone_numbers (number, agent_id, kind)
select '+1650' || (3000000 + n), ('00000000-0000-0000-0000-' || lpad((n % 1000)::text, 12, '0'))::uuid, 'both'
  from generate_series(0, 9999) n;
create temp table pairs as
select ('00000000-0000-0000-0000-' || lpad((p % 1000)::text, 12, '0'))::uuid as agent_id,
       '+1415' || (2000000 + p) as phone from generate_series(0, 99999) p;
insert into switchboard.conversations (agent_id, phone, message_count, inbound_count, first_message_at,
                                       last_message_at, last_inbound_at, created_at)
select agent_id, phone, 1, 1, now() - interval '1 day', now() - interval '1 day', now() - interval '1 day',
       now() - interval '1 day' from pairs;
insert into switchboard.contacts (agent_id, phone, total_requests, monthly_requests, requests_month, last_active_at)
select agent_id, phone, 1, 1, date_trunc('month', now() at time zone 'UTC')::date, now() - interval '1 day' from pairs;
SQL
q -c "vacuum analyze" -c "checkpoint"
echo "provisioned: $(q -At -c "select count(*) from switchboard.phone_numbers") numbers, $(q -At -c "select count(*) from switchboard.contacts") contacts"

cat >"$OUT/record.sql" <<'SQL'
\set p random(0, 99999)
select * from switchboard.record_inbound(('00000000-0000-0000-0000-' || lpad((:p % 1000)::text, 12, '0'))::uuid, '+1415' || (2000000 + :p), 'hello', '{}');
SQL
cat >"$OUT/route.sql" <<'SQL'
\set p random(0, 99999)
\set k random(0, 9)
select * from switchboard.route_inbound('+1650' || (3000000 + :p % 1000 + 1000 * :k), '+1415' || (2000000 + :p), 'hello', '{}');
SQL

run() {  # name -> tps
    pgbench -n -M prepared -c $CLIENTS -j 2 -T "$2" -f "$OUT/$1.sql" >"$OUT/$1.txt" 2>&1 ||
        { cat "$OUT/$1.txt" >&2; return 1; }
    if grep -q "failed: [1-9]" "$OUT/$1.txt"; then echo "$1: failed transactions" >&2; return 1; fi
    sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$OUT/$1.txt" | head -n 1 | awk '{ printf "%.0f\n", $1 }'
}
run record 2 >/dev/null; run route 2 >/dev/null   # warm up
best_record=0; best_route=0; all=""
for round in $(seq 1 $ROUNDS); do
    # alternate which goes first, so a background burst hits both alike
    if [ $((round % 2)) = 1 ]; then a=$(run record $T); b=$(run route $T); else b=$(run route $T); a=$(run record $T); fi
    all+=" $a/$b"
    [ "$a" -gt "$best_record" ] && best_record=$a
    [ "$b" -gt "$best_route" ] && best_route=$b
done
echo "record_inbound vs route_inbound, $CLIENTS clients, ${T}s runs, $ROUNDS interleaved rounds (record/route:$all)"
printf '  %-44s %8s/s\n' "record_inbound (agent_id given)" "$best_record" "route_inbound (agent by the dialed number)" "$best_route"
ratios=$(for x in $all; do awk -v r="$x" 'BEGIN { split(r, v, "/"); printf "%.3f\n", v[2] / v[1] }'; done | sort -n)
median=$(echo "$ratios" | awk '{ a[NR] = $1 } END { printf "%.2f", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
echo "  route_inbound / record_inbound: best of each $(awk -v a="$best_route" -v b="$best_record" 'BEGIN { printf "%.2f", a / b }'), median of the rounds $median (target >= 0.90)"
# The fairest comparison on a shared machine: both in the same pgbench run,
# transactions drawn 50/50, so any background load hits both alike; pgbench
# reports each script's average latency (throughput ratio = latency ratio inverted).
pgbench -n -M prepared -c $CLIENTS -j 2 -T $((T * 2)) -f "$OUT/record.sql@1" -f "$OUT/route.sql@1" >"$OUT/mixed.txt" 2>&1 ||
    { cat "$OUT/mixed.txt" >&2; exit 1; }
lat=$(awk '/^SQL script/ { s++ } /latency average/ && s > 0 { print $5 }' "$OUT/mixed.txt" | tr '\n' ' ')
set -- $lat
echo "  mixed run ($((T * 2))s, 50/50): record_inbound $1 ms, route_inbound $2 ms average latency;" \
     "route_inbound / record_inbound throughput $(awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }')"
check=$(q -At -c "select count(*) filter (where decision = 'accepted') || '/' || count(*) from switchboard.messages")
echo "  messages accepted/stored: $check"
psql -X -q -d postgres -c "drop database if exists $DB"
