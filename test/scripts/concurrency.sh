#!/usr/bin/env bash
# The event path's limits under real concurrency: 16 connections (separate psql
# processes) released at once by an advisory lock.
#   1. 16 first messages from one new number: one conversation, opened once.
#   2. 16 connections x 4 messages from one number: exactly rate_limit_per_hour accepted.
#   3. 16 connections opening conversations with 16 different numbers: exactly
#      max_daily_conversations opened, the daily counter agrees.
#   4. the same through check_rate_limit afterwards: the hourly log holds the limit.
#   5. a setting changed while an opening waits for the day's counter counts for it.
#   6. rebuild_stats with an event waiting for it: both finish (no deadlock),
#      whether or not the event's conversation is marked.
#   7. record_* and plain INSERTs into messages on the same conversations at once.
#   8. rebuild_stats with a plain-INSERT transaction open: both finish (0.8.0;
#      up to 0.7.0 a deadlock).
#   9. rebuild_stats when a held conversation's mark no longer matches the raw
#      messages (edited by hand): 55P03, nothing half-done; a retry succeeds.
#  10. two rebuild_stats of every agent while record_* run: no error, no deadlock.
# Ends with "N passed, N failed".
set -u
. "$(dirname "$0")/lib/holding.sh"
DB=sb_concurrency
TMP_HOLDER=$(mktemp)
trap 'rm -f "$TMP_HOLDER"' EXIT
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

# matches_rebuild NAME AGENT: the agent's incremental figures (yesterday to
# tomorrow) equal what rebuild_stats recomputes from the raw rows.
matches_rebuild() {
    local days="switchboard.daily_stats('$2', current_date - 1, current_date + 1) d" inc
    inc=$(q -c "select row(d.*)::text from $days")
    q -c "select switchboard.rebuild_stats('$2')" >/dev/null
    check "$1: incremental figures equal a rebuild" "$inc" "$(q -c "select row(d.*)::text from $days")"
}
# counted_once NAME AGENT: the figures count each stored message once.
counted_once() {
    check "$1: every message counted once" \
          "$(q -c "select count(*) filter (where direction = 'inbound') || '/' || count(*) filter (where direction = 'outbound')
                     from switchboard.messages where agent_id = '$2'")" \
          "$(q -c "select sum(inbound) || '/' || sum(outbound) from switchboard.daily_stats('$2', current_date - 1, current_date + 1)")"
}

A1=c0000000-0000-0000-0000-000000000001
A2=c0000000-0000-0000-0000-000000000002
q -c "insert into switchboard.agents (agent_id, sms_enabled, rate_limit_per_hour, max_daily_conversations)
      values ('$A1', true, 10, 1000), ('$A2', true, 100, 5)"

# release SQL...: runs each SQL in its own connection, all released at once.
release() {
    local dir
    dir=$(mktemp -d)
    psql -X -q -At -c "select pg_advisory_lock(4242)" -c "select pg_sleep(1.5)" >/dev/null &
    local holder=$!
    sleep 0.3
    local i=0 pids=()
    for sql in "$@"; do
        psql -X -q -At -v ON_ERROR_STOP=1 -c "select pg_advisory_lock_shared(4242)" \
             -c "select pg_advisory_unlock_shared(4242)" -c "$sql" >"$dir/$i.out" 2>&1 &
        pids+=($!)
        i=$((i + 1))
    done
    wait "$holder"
    local rc=0
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    cat "$dir"/*.out | grep -v '^$' | grep -v '^t$' | sed 's/^$//' ; rm -rf "$dir"
    return $rc
}

# 1. 16 first messages from one new number at once.
sqls=()
for i in $(seq 1 $N); do
    sqls+=("select decision || ' ' || is_new_conversation from switchboard.record_inbound('$A1', '+1 415 555 0100', 'first $i')")
done
out=$(release "${sqls[@]}")
check "16 concurrent first messages: no error" 0 "$(echo "$out" | grep -c ERROR)"
check "16 concurrent first messages: opened once" 1 "$(echo "$out" | grep -c 'accepted true')"
check "16 concurrent first messages: 10 accepted" 10 "$(echo "$out" | grep -c '^accepted')"
check "16 concurrent first messages: 6 rate_limited" 6 "$(echo "$out" | grep -c '^rate_limited')"
check "one conversation row" 1 "$(q -c "select count(*) from switchboard.conversations where agent_id = '$A1'")"
check "daily counter counts it once" 1 "$(q -c "select sum(new_conversations) from switchboard.agent_daily_counters where agent_id = '$A1'")"

# 2. 16 connections x 4 messages from another number (its conversation exists).
q -c "select decision from switchboard.record_inbound('$A1', '+14155550101', 'open', '{}', now() - interval '2 hours')" >/dev/null
sqls=()
for i in $(seq 1 $N); do
    s=""
    for k in 1 2 3 4; do
        s+="select decision from switchboard.record_inbound('$A1', '(415) 555-0101', 'burst $i.$k');"
    done
    sqls+=("$s")
done
out=$(release "${sqls[@]}")
check "64 concurrent messages: no error" 0 "$(echo "$out" | grep -c ERROR)"
check "64 concurrent messages: exactly 10 accepted" 10 "$(echo "$out" | grep -c '^accepted')"
check "64 concurrent messages: 54 rate_limited" 54 "$(echo "$out" | grep -c '^rate_limited')"
check "stored: 64 messages of this hour" 64 "$(q -c "select count(*) from switchboard.messages where phone = '+14155550101' and created_at > now() - interval '1 hour'")"
check "hourly log holds 10" 10 "$(q -c "select cardinality(rate_window) from switchboard.conversations where phone = '+14155550101'")"
check "inbound_count counts accepted only" 11 "$(q -c "select inbound_count from switchboard.conversations where phone = '+14155550101'")"
# the invariant over the stored accepted messages: no hour holds more than 10
check "no hour holds more than 10 accepted" 0 "$(q -c "
    select count(*) from switchboard.messages m
    where m.phone = '+14155550101' and m.decision = 'accepted' and
          (select count(*) from switchboard.messages o
            where o.phone = m.phone and o.decision = 'accepted'
              and o.created_at > m.created_at - interval '1 hour' and o.created_at <= m.created_at) > 10")"
check "check_rate_limit agrees: rate_limited" rate_limited "$(q -c "select decision from switchboard.check_rate_limit('$A1', '4155550101')")"

# 3. 16 connections opening conversations with 16 numbers; the agent may open 5 a day.
sqls=()
for i in $(seq 1 $N); do
    sqls+=("select decision from switchboard.record_inbound('$A2', '+1 415 555 $(printf '%04d' $((200 + i)))', 'hello')")
done
out=$(release "${sqls[@]}")
check "16 concurrent openings: no error" 0 "$(echo "$out" | grep -c ERROR)"
check "16 concurrent openings: exactly 5 accepted" 5 "$(echo "$out" | grep -c '^accepted')"
check "16 concurrent openings: 11 daily_limit" 11 "$(echo "$out" | grep -c '^daily_limit')"
check "5 conversations" 5 "$(q -c "select count(*) from switchboard.conversations where agent_id = '$A2'")"
check "daily counter 5" 5 "$(q -c "select sum(new_conversations) from switchboard.agent_daily_counters where agent_id = '$A2'")"
check "rejected openings stored without a conversation" 11 "$(q -c "select count(*) from switchboard.messages where agent_id = '$A2' and decision = 'daily_limit' and conversation_id is null")"

# 4. repeat 1-3 style bursts a few times with mixed numbers: never above the limits.
for round in 1 2 3; do
    sqls=()
    for i in $(seq 1 $N); do
        sqls+=("select decision from switchboard.record_inbound('$A1', '+1415555$(printf '%04d' $((1000 * round + i % 3)))', 'mixed');
                select decision from switchboard.record_inbound('$A1', '+1415555$(printf '%04d' $((1000 * round + i % 3)))', 'mixed')")
    done
    release "${sqls[@]}" >/dev/null
done
check "mixed rounds: no number above 10 accepted" 0 "$(q -c "
    select count(*) from (select phone, count(*) from switchboard.messages
     where agent_id = '$A1' and decision = 'accepted' and body = 'mixed' group by phone having count(*) > 10) x")"
check "mixed rounds: each number exactly 10 (32 tries over 3 numbers)" 9 "$(q -c "
    select count(*) from (select phone from switchboard.messages
     where agent_id = '$A1' and decision = 'accepted' and body = 'mixed' group by phone having count(*) = 10) x")"

# 5. A change made while an opening waits for the day's counter counts for
#    that opening: session 1 opens a conversation and keeps its transaction
#    open (the agent's counter row of the day stays locked); session 2's first
#    message from another number waits for that lock; session 1 then disables
#    the agent and commits.  Session 2 reads the agent again after the wait:
#    'disabled', no conversation.
A3=c0000000-0000-0000-0000-000000000003
q -c "insert into switchboard.agents (agent_id, sms_enabled) values ('$A3', true)"
psql -X -q -At -v ON_ERROR_STOP=1 -c "begin" \
     -c "select decision from switchboard.record_inbound('$A3', '+14155550301', 'holder')" \
     -c "select pg_sleep(1.2)" \
     -c "update switchboard.agents set sms_enabled = false where agent_id = '$A3'" -c "commit" >"$TMP_HOLDER" 2>&1 &
holder=$!
holding 1.2
t0=$(date +%s%N)
out=$(q -c "select decision || ' ' || coalesce(conversation_id::text, 'none')
              from switchboard.record_inbound('$A3', '+14155550302', 'waiter')" 2>&1)
waited_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
wait "$holder"
check "settings changed during the wait: the holder opened its conversation" "accepted" "$(head -n 1 "$TMP_HOLDER")"
check "the waiting opening waited for the day's counter" "yes" "$([ "$waited_ms" -ge 300 ] && echo yes || echo "no (${waited_ms} ms)")"
check "the waiting opening saw the agent disabled, opened nothing" "disabled none" "$out"
check "one conversation of that agent" 1 "$(q -c "select count(*) from switchboard.conversations where agent_id = '$A3'")"

# 6. rebuild_stats while an event waits for it: the rebuild holds messages in
#    SHARE mode; an event locks its conversation's row and waits for messages.
#    (0.6.0 to 0.8.0 kept analytics marks on the conversations that the rebuild
#    had to skip there, or deadlock.)  Both finish, the event is stored and
#    counted once, and the figures equal a rebuild.
A4=c0000000-0000-0000-0000-000000000004
q -c "insert into switchboard.agents (agent_id, sms_enabled, rate_limit_per_hour) values ('$A4', true, 100)"
q -c "select switchboard.record_inbound('$A4', '+14155550401', 'one')" \
  -c "select switchboard.record_inbound('$A4', '+14155550401', 'two')" >/dev/null
psql -X -q -At -v ON_ERROR_STOP=1 -c "begin" \
     -c "lock table switchboard.messages in share mode" \
     -c "select pg_sleep(0.8)" \
     -c "select 'rebuilt ' || switchboard.rebuild_stats('$A4')" -c "commit" >"$TMP_HOLDER" 2>&1 &
holder=$!
holding 0.8
out=$(q -c "select decision from switchboard.record_inbound('$A4', '+14155550401', 'during the rebuild')" 2>&1)
wait "$holder"
check "rebuild_stats with an event waiting on it: the rebuild finished" "rebuilt 1" \
      "$(grep -v '^$' "$TMP_HOLDER" | tail -n 1)"
check "rebuild_stats with an event waiting on it: the event was accepted" "accepted" "$out"
check "rebuild_stats with an event waiting on it: 3 messages stored" 3 \
      "$(q -c "select count(*) from switchboard.messages where agent_id = '$A4'")"
matches_rebuild "rebuild_stats with an event waiting on it" "$A4"
check "rebuild_stats with an event waiting on it: 3 inbound counted" 3 \
      "$(q -c "select sum(inbound) from switchboard.daily_stats('$A4', current_date - 1, current_date + 1)")"

# 7. record_* and plain INSERTs into messages on the same conversations at
#    once (the per-conversation advisory lock orders their analytics; record_*
#    also hold the conversation's row): 8 connections of
#    record_inbound/record_outbound and 8 of plain INSERTs (one transaction
#    each) on two conversations, all released at once.  No error, every message
#    counted once, the figures equal a rebuild.
A5=c0000000-0000-0000-0000-000000000005
q -c "insert into switchboard.agents (agent_id, sms_enabled, rate_limit_per_hour) values ('$A5', true, 100)"
for p in 501 502; do
    q -c "select switchboard.record_inbound('$A5', '+14155550$p', 'one')" \
      -c "select switchboard.record_inbound('$A5', '+14155550$p', 'two')" >/dev/null
done
sqls=()
for i in $(seq 8); do
    p=$((501 + i % 2))
    sqls+=("do \$\$ begin for i in 1 .. 10 loop
              perform switchboard.record_inbound('$A5', '+14155550$p', 'r$i/' || i);
              perform switchboard.record_outbound('$A5', c.conversation_id, 'o$i/' || i, '{\"tokens_used\": 3}')
                 from switchboard.conversations c where c.agent_id = '$A5' and c.phone = '+14155550$p';
              commit; end loop; end \$\$")
    sqls+=("do \$\$ begin for i in 1 .. 10 loop
              insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, body, metadata)
              select c.agent_id, c.conversation_id, c.session_id, case when i % 2 = 0 then 'inbound' else 'outbound' end,
                     c.phone, 'p$i/' || i, '{\"tokens_used\": 5}'
                from switchboard.conversations c where c.agent_id = '$A5' and c.phone = '+14155550$p';
              commit; end loop; end \$\$")
done
out=$(release "${sqls[@]}" 2>&1)
check "record_* and plain INSERTs at once: no error" 0 "$(echo "$out" | grep -c ERROR)"
check "record_* and plain INSERTs at once: every message stored" 244 \
      "$(q -c "select count(*) from switchboard.messages where agent_id = '$A5'")"
counted_once "record_* and plain INSERTs at once" "$A5"
matches_rebuild "record_* and plain INSERTs at once" "$A5"

# 8. rebuild_stats while a plain-INSERT transaction is open (its first INSERT
#    into another agent's conversation): the rebuild waits for that
#    transaction's lock on messages, and the transaction's next INSERT, into a
#    conversation of the rebuilt agent, takes that row in
#    messages_bump_conversation.  Up to 0.7.0 the rebuild had cleared its
#    analytics marks (row locks) before waiting, and Postgres failed one of the
#    two (a deadlock); 0.8.0 cleared them after its lock, and 0.9.0 keeps no
#    marks: both finish, the transaction's messages are stored and counted
#    once, and the figures equal a rebuild.
q -c "select switchboard.record_inbound('$A5', '+14155550503', 'one')" \
  -c "select switchboard.record_inbound('$A5', '+14155550503', 'two')" >/dev/null
before=$(q -c "select count(*) from switchboard.messages where body like 'held %'")
psql -X -q -At -v ON_ERROR_STOP=1 -c "begin" \
     -c "insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, body)
         select agent_id, conversation_id, session_id, 'inbound', phone, 'held 1' from switchboard.conversations
          where agent_id = '$A4' and phone = '+14155550401'" \
     -c "select pg_sleep(0.8)" \
     -c "insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, body)
         select agent_id, conversation_id, session_id, 'inbound', phone, 'held 2' from switchboard.conversations
          where agent_id = '$A5' and phone = '+14155550503'" \
     -c "commit" -c "select 'committed'" >"$TMP_HOLDER" 2>&1 &
holder=$!
holding 0.8
rebuilt=$(q -c "select 'rebuilt ' || (switchboard.rebuild_stats('$A5') > 0)" 2>&1)
wait "$holder"
check "rebuild_stats with a plain-INSERT transaction open: no error" 0 \
      "$( (echo "$rebuilt"; cat "$TMP_HOLDER") | grep -c ERROR)"
check "rebuild_stats with a plain-INSERT transaction open: the transaction committed" 1 \
      "$(grep -c '^committed$' "$TMP_HOLDER")"
check "rebuild_stats with a plain-INSERT transaction open: the rebuild finished" "rebuilt true" "$rebuilt"
check "rebuild_stats with a plain-INSERT transaction open: its messages stored" \
      "$((before + 2))" "$(q -c "select count(*) from switchboard.messages where body like 'held %'")"
for a in $A4 $A5; do
    matches_rebuild "rebuild_stats with a plain-INSERT transaction open ($a)" "$a"
done

# 9. (0.9.0) A reader's fold and an open writer.  The fold reads the agent's
#    highest message_id, then waits for the transactions writing messages at
#    that moment (at most switchboard.fold_wait_ms, 200 ms by default), so no
#    message below its watermark can commit later.  A reader whose own
#    transaction has written does not wait (that could deadlock): it counts its
#    own message and not the open one, on the fly.  An autocommit reader gives
#    up after 200 ms and reads on the fly, without the open one; with a longer
#    fold_wait_ms it waits for the writer and counts its message once it
#    committed.  A rollup() afterwards folds everything, each message once.
A6=c0000000-0000-0000-0000-000000000006
q -c "insert into switchboard.agents (agent_id, sms_enabled, rate_limit_per_hour) values ('$A6', true, 100)"
q -c "select switchboard.record_inbound('$A6', '+14155550601', 'one')" \
  -c "select switchboard.record_inbound('$A6', '+14155550602', 'one')" >/dev/null
hold_inbound() {  # body: a transaction that stores a message, then sleeps 1.5 s
    psql -X -q -At -v ON_ERROR_STOP=1 -c "begin" \
         -c "select decision from switchboard.record_inbound('$A6', '+14155550601', '$1')" \
         -c "select pg_sleep(1.5)" -c "commit" >/dev/null 2>&1
}
hold_inbound held & holder=$!
holding 1.5
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -c "begin" \
           -c "select decision from switchboard.record_inbound('$A6', '+14155550602', 'own')" \
           -c "select sum(inbound) || ' ' || (clock_timestamp() - now() < interval '0.1 second')
                 from switchboard.daily_stats('$A6', current_date - 1, current_date + 1)" \
           -c "rollback" 2>&1)
check "a reader that has written, with a writer open: no wait, its own message counted, not the open one" \
      "accepted
3 true" "$out"
out=$(q -c "select sum(inbound) || ' ' || (clock_timestamp() - now() between interval '0.15 second' and interval '1 second')
              from switchboard.daily_stats('$A6', current_date - 1, current_date + 1)" 2>&1)
check "an autocommit reader with a writer open 1.5 s: it waited 200 ms, then read without the open message" "2 true" "$out"
wait "$holder"
hold_inbound held2 & holder=$!
holding 1.5
out=$(psql -X -q -At -v ON_ERROR_STOP=1 -c "set switchboard.fold_wait_ms = 10000" \
           -c "select sum(inbound) || ' ' || (clock_timestamp() - now() > interval '0.5 second')
                 from switchboard.daily_stats('$A6', current_date - 1, current_date + 1)" 2>&1)
wait "$holder"
check "a reader with switchboard.fold_wait_ms = 10000 and a writer open: it waited, then counted the writer's message" \
      "4 true" "$out"
check "the watermark is below that message (it was open when the fold read the highest id)" t \
      "$(q -c "select folded_through < (select message_id from switchboard.messages where agent_id = '$A6' and body = 'held2')
                 from switchboard.stats_watermark where agent_id = '$A6'")"
check "an invalid switchboard.fold_wait_ms is an error that names it" \
      'ERROR:  invalid value for switchboard.fold_wait_ms: "soon"' \
      "$(psql -X -q -At -c "set switchboard.fold_wait_ms = 'soon'" \
              -c "select switchboard.rollup('$A6')" 2>&1 | head -n 1)"
check "rollup() folds that message" 1 "$(q -c "select switchboard.rollup('$A6')")"
counted_once "a reader's fold and an open writer" "$A6"
matches_rebuild "a reader's fold and an open writer" "$A6"

# 10. Two rebuild_stats() of every agent at once, and two readers folding in a
#     loop, while 6 connections run record_inbound/record_outbound on two
#     agents: nothing waits in a cycle.  No error, every event stored and
#     counted once, the figures equal a rebuild.
sqls=("select switchboard.rebuild_stats() >= 0" "select switchboard.rebuild_stats() >= 0")
for a in $A5 $A6; do
    sqls+=("do \$\$ begin for i in 1 .. 20 loop
              perform * from switchboard.daily_stats('$a', current_date - 1, current_date + 1);
              commit; end loop; end \$\$")
done
for i in $(seq 6); do
    a=$A5; [ $((i % 2)) = 0 ] && a=$A6
    p=$((501 + i % 2)); [ $a = "$A6" ] && p=$((601 + i % 2))
    sqls+=("do \$\$ begin for i in 1 .. 20 loop
              perform switchboard.record_inbound('$a', '+14155550$p', 'x$i/' || i);
              perform switchboard.record_outbound('$a', c.conversation_id, 'y$i/' || i)
                 from switchboard.conversations c where c.agent_id = '$a' and c.phone = '+14155550$p';
              commit; end loop; end \$\$")
done
before=$(q -c "select count(*) from switchboard.messages where agent_id in ('$A5', '$A6')")
out=$(release "${sqls[@]}" 2>&1)
check "two rebuilds of every agent during events: no error" 0 "$(echo "$out" | grep -c ERROR)"
check "two rebuilds of every agent during events: every event stored" $((before + 240)) \
      "$(q -c "select count(*) from switchboard.messages where agent_id in ('$A5', '$A6')")"
for a in $A5 $A6; do
    counted_once "two rebuilds of every agent during events ($a)" "$a"
    matches_rebuild "two rebuilds of every agent during events ($a)" "$a"
done

psql -X -q -d postgres -c "drop database $DB" >/dev/null
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
