#!/usr/bin/env bash
# Row-level security cost, measured in one run:
#   (1) an owner reading its messages through switchboard's policy
#       (agent_id = ANY (ARRAY(SELECT ...)) with current_user_id() as an
#       InitPlan: an index scan) against the seed schemas' hand-written policy
#       (agent_id IN (SELECT agent_id FROM agents WHERE owner_id = auth.uid()),
#       here current_user_id() unwrapped) on a copy of the same table;
#   (2) record_inbound as an owner under RLS (claims set per transaction, as
#       PostgREST does) against the same calls as the tables' owner (no RLS).
set -eu
ROOT=${BENCH_ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=$ROOT/build/bench/security
rm -rf "$OUT"; mkdir -p "$OUT"
if [ "${BENCH_SCALE:-}" = small ]; then
    T=${BENCH_SECONDS:-5}; AGENTS=200; PER=200
else
    T=${BENCH_SECONDS:-15}; AGENTS=1000; PER=500
fi
CLIENTS=4
DB=sb_bench_security
ROLE=sb_bench_owner
psql -X -q -d postgres -c "set client_min_messages = warning" -c "drop database if exists $DB" -c "create database $DB"
export PGDATABASE=$DB
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
q -c "set client_min_messages = warning" -c "create extension switchboard"
q -c "do \$\$ begin if not exists (select from pg_roles where rolname = '$ROLE') then create role $ROLE nologin; end if; end \$\$"
q -c "select switchboard.grant_usage('$ROLE')" >/dev/null

q <<SQL
insert into switchboard.agents (agent_id, owner_id, sms_enabled, rate_limit_per_hour, max_daily_conversations)
select ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid,
       ('0a000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, true, 100, 1000
  from generate_series(0, $AGENTS - 1) i;
-- messages without a conversation: the trigger leaves them alone
insert into switchboard.messages (agent_id, direction, phone, body)
select ('00000000-0000-4000-8000-' || lpad((m % $AGENTS)::text, 12, '0'))::uuid, 'inbound', '+14155550100', 'm' || m
  from generate_series(0, $AGENTS * $PER - 1) m;
-- the seed-style copy
create table public.naive_messages (like switchboard.messages including indexes);
insert into public.naive_messages select * from switchboard.messages;
alter table public.naive_messages enable row level security;
create policy naive on public.naive_messages
    using (agent_id in (select a.agent_id from switchboard.agents a where a.owner_id = switchboard.current_user_id()));
grant select on public.naive_messages to $ROLE;
analyze;
SQL

claims="select set_config('request.jwt.claims', '{\"sub\":\"0a000000-0000-4000-8000-' || lpad((:client_id % $AGENTS)::text, 12, '0') || '\"}', true);"
cat >"$OUT/read_policy.sql" <<EOF
begin;
$claims
set local role $ROLE;
select count(*), max(message_id) from switchboard.messages;
commit;
EOF
sed 's/switchboard\.messages/public.naive_messages/' "$OUT/read_policy.sql" >"$OUT/read_naive.sql"

cat >"$OUT/inbound_rls.sql" <<EOF
\set p random(0, 9999)
begin;
$claims
set local role $ROLE;
select decision from switchboard.record_inbound(('00000000-0000-4000-8000-' || lpad((:client_id % $AGENTS)::text, 12, '0'))::uuid, '+1415300' || lpad(:p::text, 4, '0'), 'hi');
commit;
EOF
cat >"$OUT/inbound_owner.sql" <<EOF
\set p random(0, 9999)
begin;
$claims
select decision from switchboard.record_inbound(('00000000-0000-4000-8000-' || lpad((:client_id % $AGENTS)::text, 12, '0'))::uuid, '+1415300' || lpad(:p::text, 4, '0'), 'hi');
commit;
EOF

tps() {  # script
    pgbench -n -c $CLIENTS -j 2 -T "$T" -f "$1" 2>&1 | tee "$1.log" | sed -n 's/^tps = \([0-9.]*\).*/\1/p' | head -1
}
# sanity: the policy returns the owner's rows only, the same through both
one=$(psql -X -At -c "begin" -c "select set_config('request.jwt.claims', '{\"sub\":\"0a000000-0000-4000-8000-000000000001\"}', true)" \
      -c "set local role $ROLE" -c "select (select count(*) from switchboard.messages) || '/' || (select count(*) from public.naive_messages)" -c "commit" | grep -E '^[0-9]+/[0-9]+$')
echo "rows an owner sees (switchboard policy / seed-style policy): $one (expected $PER/$PER)"

read_ours=$(tps "$OUT/read_policy.sql")
read_naive=$(tps "$OUT/read_naive.sql")
q -c "set synchronous_commit = off" >/dev/null
q -c "alter database $DB set synchronous_commit = off" >/dev/null
in_owner=$(tps "$OUT/inbound_owner.sql")
in_rls=$(tps "$OUT/inbound_rls.sql")

echo "owner reads its messages ($AGENTS agents x $PER messages, $CLIENTS clients, ${T}s each):"
printf '  switchboard policy (InitPlan + index)   %10.0f tps\n' "$read_ours"
printf '  seed-style policy (IN subquery)         %10.0f tps\n' "$read_naive"
echo "  ratio: $(echo "scale=1; $read_ours / $read_naive" | bc)x faster"
echo "record_inbound (synchronous_commit off):"
printf '  as the tables owner (no RLS)            %10.0f tps\n' "$in_owner"
printf '  as an owner under RLS (PostgREST-like)  %10.0f tps\n' "$in_rls"
echo "  RLS costs: $(echo "scale=1; 100 - 100 * $in_rls / $in_owner" | bc)% of throughput"
psql -X -q -d postgres -c "drop database $DB" -c "drop role $ROLE"
