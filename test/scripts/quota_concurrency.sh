#!/usr/bin/env bash
# Monthly quotas under real concurrency: 16 connections (separate psql
# processes) released at once by an advisory lock, as in concurrency.sh.
#   1. one contact, 16 connections x 5 messages (first messages included: the
#      contact and its conversation do not exist yet): exactly the tier's limit
#      accepted, the rest quota_exceeded, the counter equals the limit.
#   2. 16 contacts of one tier, each by route_inbound from 2 connections at once:
#      each contact's own limit holds exactly.
#   3. the conversation exists, the contact does not yet: 32 racing messages
#      still admit exactly the limit.
#   4. agents.has_tiers (0.5.0) when one transaction deletes an agent's last
#      tier while another adds one, in either order: the flag ends true (the
#      event path would otherwise skip the remaining tier's limit).
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib/holding.sh"
DB=sb_quota_concurrency
N=16
psql -X -q -d postgres -c "drop database if exists $DB" -c "create database $DB" >/dev/null
export PGDATABASE=$DB
q() { psql -X -q -At -v ON_ERROR_STOP=1 "$@"; }
q -c "create extension switchboard" >/dev/null
passed=0
failed=0
check() {  # name expected actual
    if [ "$2" = "$3" ]; then
        passed=$((passed + 1)); echo "ok - $1"
    else
        failed=$((failed + 1)); echo "not ok - $1: expected $2, got $3"
    fi
}

A1=d0000000-0000-0000-0000-000000000001
A2=d0000000-0000-0000-0000-000000000002
# hourly limit 100 and no daily pressure: only the quota can reject
q -c "insert into switchboard.agents (agent_id, sms_enabled, rate_limit_per_hour, max_daily_conversations, timezone)
      values ('$A1', true, 100, 1000, 'Asia/Tokyo'), ('$A2', true, 100, 1000, 'America/Los_Angeles')" \
  -c "insert into switchboard.tiers (agent_id, tier, monthly_limit) values ('$A1', 'free', 23), ('$A2', 'free', 3)" \
  -c "insert into switchboard.phone_numbers (number, agent_id) values ('+14155550900', '$A2')"

release() {  # SQL...: each in its own connection, all released at once
    local dir
    dir=$(mktemp -d)
    psql -X -q -At -c "select pg_advisory_lock(4243)" -c "select pg_sleep(1.5)" >/dev/null &
    local holder=$!
    sleep 0.3
    local i=0 pids=()
    for sql in "$@"; do
        psql -X -q -At -v ON_ERROR_STOP=1 -c "select pg_advisory_lock_shared(4243)" \
             -c "select pg_advisory_unlock_shared(4243)" -c "$sql" >"$dir/$i.out" 2>&1 &
        pids+=($!)
        i=$((i + 1))
    done
    wait "$holder"
    local rc=0
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    cat "$dir"/*.out | grep -v '^$' | grep -v '^t$'; rm -rf "$dir"
    return $rc
}

# 1. one new contact, 80 messages from 16 connections
sqls=()
for i in $(seq 1 $N); do
    s=""
    for k in 1 2 3 4 5; do
        s+="select decision from switchboard.record_inbound('$A1', '+81 90 1234 5678', 'storm $i.$k');"
    done
    sqls+=("$s")
done
out=$(release "${sqls[@]}")
check "quota storm: no error" 0 "$(echo "$out" | grep -c ERROR)"
check "quota storm: exactly the limit (23) accepted" 23 "$(echo "$out" | grep -c '^accepted$')"
check "quota storm: the other 57 quota_exceeded" 57 "$(echo "$out" | grep -c '^quota_exceeded$')"
check "quota storm: the contact's monthly counter is the limit" "23|23" \
      "$(q -c "select monthly_requests || '|' || total_requests from switchboard.contacts where agent_id = '$A1'")"
check "quota storm: one contact, one conversation" "1|1" \
      "$(q -c "select (select count(*) from switchboard.contacts where agent_id = '$A1') || '|' ||
                      (select count(*) from switchboard.conversations where agent_id = '$A1')")"
check "quota storm: 80 messages stored" 80 "$(q -c "select count(*) from switchboard.messages where agent_id = '$A1'")"
check "quota storm: the stored decisions agree" "23|57" \
      "$(q -c "select count(*) filter (where decision = 'accepted') || '|' || count(*) filter (where decision = 'quota_exceeded')
                 from switchboard.messages where agent_id = '$A1'")"

# 2. 16 contacts through route_inbound, 2 connections each, 3 messages per connection
sqls=()
for i in $(seq 1 $N); do
    for c in 1 2; do
        s=""
        for k in 1 2 3; do
            s+="select decision from switchboard.route_inbound('+1 (415) 555-0900', '+1 415 555 $(printf '%04d' $i)', 'm $c.$k');"
        done
        sqls+=("$s")
    done
done
out=$(release "${sqls[@]}")
check "routed storm: no error" 0 "$(echo "$out" | grep -c ERROR)"
check "routed storm: 16 contacts x 3 accepted" 48 "$(echo "$out" | grep -c '^accepted$')"
check "routed storm: 48 quota_exceeded" 48 "$(echo "$out" | grep -c '^quota_exceeded$')"
check "routed storm: every contact's counter is 3" "16|3|3" \
      "$(q -c "select count(*) || '|' || min(monthly_requests) || '|' || max(monthly_requests) from switchboard.contacts where agent_id = '$A2'")"

# 3. the conversation exists but the contact does not yet (opened by
#    upsert_conversation, or before the update to 0.2.0): the first messages
#    race to create the contact
q -c "select switchboard.upsert_conversation('$A1', '+81 90 9999 0000')" >/dev/null
q -c "update switchboard.tiers set monthly_limit = 5 where agent_id = '$A1' and tier = 'free'"
sqls=()
for i in $(seq 1 $N); do
    sqls+=("select decision from switchboard.record_inbound('$A1', '+819099990000', 'first $i.1'); select decision from switchboard.record_inbound('$A1', '+819099990000', 'first $i.2');")
done
out=$(release "${sqls[@]}")
check "existing conversation, new contact: no error" 0 "$(echo "$out" | grep -c ERROR)"
check "existing conversation, new contact: exactly the limit (5) accepted" 5 "$(echo "$out" | grep -c '^accepted$')"
check "existing conversation, new contact: the counter is the limit" 5 \
      "$(q -c "select monthly_requests from switchboard.contacts where agent_id = '$A1' and phone = '+819099990000'")"

# 4. has_tiers: the one holding the agent's row first commits after a sleep;
#    the other waits for it and must see its rows when it recomputes.
A3=d0000000-0000-0000-0000-000000000003
q -c "insert into switchboard.agents (agent_id, sms_enabled) values ('$A3', true)" \
  -c "insert into switchboard.tiers (agent_id, tier, monthly_limit) values ('$A3', 'free', 1)"
race() {  # first (holds the agent's row 1 s), second (runs meanwhile)
    psql -X -q -v ON_ERROR_STOP=1 -c "begin" -c "$1" -c "select pg_sleep(1)" -c "commit" >/dev/null &
    local first=$!
    holding 1
    q -c "$2" >/dev/null
    wait "$first"
}
race "delete from switchboard.tiers where agent_id = '$A3'" \
     "insert into switchboard.tiers (agent_id, tier, monthly_limit) values ('$A3', 'pro', 2)"
check "last tier deleted while another is added: has_tiers" "true|1" \
      "$(q -c "select a.has_tiers || '|' || (select count(*) from switchboard.tiers t where t.agent_id = a.agent_id)
                 from switchboard.agents a where a.agent_id = '$A3'")"
race "insert into switchboard.tiers (agent_id, tier, monthly_limit) values ('$A3', 'free', 1)" \
     "delete from switchboard.tiers where agent_id = '$A3' and tier = 'pro'"
check "a tier added while the last one is deleted: has_tiers" "true|1" \
      "$(q -c "select a.has_tiers || '|' || (select count(*) from switchboard.tiers t where t.agent_id = a.agent_id)
                 from switchboard.agents a where a.agent_id = '$A3'")"
check "... and its limit holds on the event path" "accepted quota_exceeded" \
      "$(q -c "select decision from switchboard.record_inbound('$A3', '+14155550199', 'a')" \
           -c "select decision from switchboard.record_inbound('$A3', '+14155550199', 'b')" | tr '\n' ' ' | sed 's/ $//')"

psql -X -q -d postgres -c "drop database if exists $DB" >/dev/null
echo "$passed passed, $failed failed"
