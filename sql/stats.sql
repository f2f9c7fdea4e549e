-- analytics: daily_stats, agent_summary, rollup, rebuild_stats, purge
set timezone = 'UTC';
set datestyle = 'ISO, YMD';
insert into switchboard.agents (agent_id, display_name, timezone) values
    ('00000000-0000-0000-0000-00000000005a', 'stats', 'America/Chicago');
insert into switchboard.conversations (agent_id, conversation_id, phone, session_id) values
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c1', '+12015550101', '00000000-0000-0000-0000-0000000005e1'),
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c2', '+12015550102', '00000000-0000-0000-0000-0000000005e2');
-- Chicago is UTC-6 in January: 05:59 UTC on 11 January is still 10 January there
insert into switchboard.messages (agent_id, conversation_id, session_id, direction, phone, decision, metadata, created_at) values
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c1', '00000000-0000-0000-0000-0000000005e1', 'inbound', '+12015550101', 'accepted', '{}', '2026-01-11 05:59:00+00'),
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c1', '00000000-0000-0000-0000-0000000005e1', 'outbound', '+12015550101', 'accepted',
     '{"tokens_used": 120, "processing_ms": 850, "success": true, "category": "billing"}', '2026-01-11 05:59:30+00'),
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c1', '00000000-0000-0000-0000-0000000005e1', 'inbound', '+12015550101', 'accepted', '{}', '2026-01-11 06:00:00+00'),
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c1', '00000000-0000-0000-0000-0000000005e1', 'outbound', '+12015550101', 'accepted',
     '{"tokens_used": 80, "processing_ms": 450, "success": false, "category": "billing"}', '2026-01-11 06:01:00+00'),
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c2', '00000000-0000-0000-0000-0000000005e2', 'inbound', '+12015550102', 'accepted', '{}', '2026-01-11 12:00:00+00'),
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c2', '00000000-0000-0000-0000-0000000005e2', 'outbound', '+12015550102', 'accepted',
     '{"tokens_used": 40, "success": true, "category": "support"}', '2026-01-11 12:00:20+00'),
    ('00000000-0000-0000-0000-00000000005a', null, null, 'inbound', '+12015550103', 'blocked', '{}', '2026-01-11 13:00:00+00'),
    ('00000000-0000-0000-0000-00000000005a', '00000000-0000-0000-0000-0000000005c2', '00000000-0000-0000-0000-0000000005e2', 'inbound', '+12015550102', 'rate_limited', '{}', '2026-01-11 13:05:00+00'),
    ('00000000-0000-0000-0000-00000000005a', null, null, 'inbound', '+12015550104', 'daily_limit', '{}', '2026-01-11 14:00:00+00'),
    ('00000000-0000-0000-0000-00000000005a', null, null, 'inbound', '+12015550105', 'disabled', '{}', '2026-01-11 15:00:00+00');
-- calls: completed, busy, still ringing; status moves count each call once;
-- durations are those of completed calls
insert into switchboard.calls (agent_id, call_sid, caller, status, started_at) values
    ('00000000-0000-0000-0000-00000000005a', 'CA-r1', '+12015550101', 'ringing', '2026-01-11 16:00:00+00'),
    ('00000000-0000-0000-0000-00000000005a', 'CA-r2', '+12015550101', 'ringing', '2026-01-11 17:00:00+00'),
    ('00000000-0000-0000-0000-00000000005a', 'CA-r3', '+12015550106', 'ringing', '2026-01-11 18:00:00+00');
update switchboard.calls set status = 'in_progress', answered_at = started_at + interval '4 seconds' where call_sid = 'CA-r1';
update switchboard.calls set status = 'completed', ended_at = started_at + interval '94 seconds', duration_seconds = 90 where call_sid = 'CA-r1';
update switchboard.calls set status = 'busy', ended_at = started_at + interval '10 seconds' where call_sid = 'CA-r2';
\x on
select * from switchboard.daily_stats('00000000-0000-0000-0000-00000000005a', '2026-01-10', '2026-01-12');
\x off
select day, inbound, outbound, unique_phones, replies, reply_latency_avg, categories
  from switchboard.daily_stats('00000000-0000-0000-0000-00000000005a', '2026-01-09', '2026-01-12');
-- the summary window ends today; move the rows into it to show it
update switchboard.calls set started_at = now() - interval '2 days' where agent_id = '00000000-0000-0000-0000-00000000005a';
select switchboard.rebuild_stats('00000000-0000-0000-0000-00000000005a') > 0 as rebuilt;
\x on
select to_day = (now() at time zone 'America/Chicago')::date as to_is_today, to_day - from_day as span,
       calls_total, calls_answered, calls_completed, calls_busy, answer_rate, call_duration_total,
       call_duration_avg, unique_callers
  from switchboard.agent_summary('00000000-0000-0000-0000-00000000005a');
select inbound, accepted, blocked, rate_limited, daily_limit, disabled, outbound, new_conversations,
       new_sessions, unique_phones, replies, reply_latency_avg, ai_tasks, tokens_used, processing_ms_avg, success_rate
  from switchboard.agent_summary('00000000-0000-0000-0000-00000000005a', 36600);
\x off
-- rollup folds the new message (0.9.0: from the raw rows, above the agent's watermark)
insert into switchboard.messages (agent_id, direction, phone, created_at)
values ('00000000-0000-0000-0000-00000000005a', 'inbound', '+12015550109', '2026-01-12 12:00+00');
select switchboard.rollup('00000000-0000-0000-0000-00000000005a');
select switchboard.rollup() >= 0 as folded_all;
-- rebuild over a range, then purge everything older than a day
select switchboard.rebuild_stats('00000000-0000-0000-0000-00000000005a', '2026-01-10', '2026-01-12');
select switchboard.purge('1 day') >= 14 as purged;
select (select count(*) from switchboard.messages where agent_id = '00000000-0000-0000-0000-00000000005a')
     + (select count(*) from switchboard.calls where agent_id = '00000000-0000-0000-0000-00000000005a') as raw_rows_left;
select count(*) as conversations_kept from switchboard.conversations where agent_id = '00000000-0000-0000-0000-00000000005a';
select day, inbound, outbound from switchboard.daily_stats('00000000-0000-0000-0000-00000000005a', '2026-01-10', '2026-01-12');
select switchboard.rebuild_stats('00000000-0000-0000-0000-00000000005a', '2026-01-10', '2026-01-12') as days_rebuilt;
select day, inbound, outbound from switchboard.daily_stats('00000000-0000-0000-0000-00000000005a', '2026-01-10', '2026-01-12');
-- errors
\set VERBOSITY terse
select * from switchboard.daily_stats('00000000-0000-0000-0000-00000000dead', '2026-01-10', '2026-01-12');
select * from switchboard.daily_stats('00000000-0000-0000-0000-00000000005a', '2026-01-12', '2026-01-10');
select * from switchboard.agent_summary('00000000-0000-0000-0000-00000000005a', 0);
select switchboard.rebuild_stats('00000000-0000-0000-0000-00000000dead');
select switchboard.purge('-1 hour');
\set VERBOSITY default
-- a tokens_used the analytics cannot add up (messages_tokens_used_check)
select switchboard.tokens_used_fits(m) from (values ('{}'::jsonb), ('[1]'), ('7'), ('{"tokens_used": "a lot"}'),
       ('{"tokens_used": 9223372036854775807.4}'), ('{"tokens_used": -9223372036854775808}')) v(m);
select switchboard.tokens_used_fits('{"tokens_used": 9223372036854775807.5}');
insert into switchboard.messages (agent_id, direction, phone, metadata)
values ('00000000-0000-0000-0000-00000000005a', 'outbound', '+12015550109', '{"tokens_used": 1e300}');
\set VERBOSITY terse
delete from switchboard.agents where agent_id = '00000000-0000-0000-0000-00000000005a';
select (select count(*) from switchboard.stats_daily where agent_id = '00000000-0000-0000-0000-00000000005a')
     + (select count(*) from switchboard.stats_seen where agent_id = '00000000-0000-0000-0000-00000000005a')
     + (select count(*) from switchboard.stats_delta where agent_id = '00000000-0000-0000-0000-00000000005a')
     + (select count(*) from switchboard.stats_first where agent_id = '00000000-0000-0000-0000-00000000005a')
     + (select count(*) from switchboard.stats_watermark where agent_id = '00000000-0000-0000-0000-00000000005a') as stats_rows_left;
