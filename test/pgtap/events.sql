-- The event path: each decision, session rollover, settings changes, time
-- zones around midnight, out-of-order events, rejected messages stored, the
-- messages trigger, no double bump.
begin;
select plan(53);
set local search_path = switchboard, public;
set local timezone = 'UTC';

insert into agents (agent_id, sms_enabled, rate_limit_per_hour, max_daily_conversations, session_timeout_minutes)
values ('b0000000-0000-0000-0000-000000000001', true, 3, 1000, 30);

create temp table r as
select * from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'one', '{}', '2025-05-01 10:00+00');
select is((select decision from r), 'accepted', 'first message accepted');
select ok((select is_new_conversation and is_new_session from r), 'first message opens a conversation and a session');
select is((select reply from r), 'Hello! I''m an AI agent. How can I help you today?', 'reply is the default welcome message');
select is((select remaining from r), 2, 'remaining counts this message');
select is((select message_count from conversations where conversation_id = (select conversation_id from r)), 1,
          'record_inbound bumps once (the messages trigger does not bump again)');

-- decisions
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'two', '{}', '2025-05-01 10:01+00')),
          'accepted', 'second accepted');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'three', '{}', '2025-05-01 10:02+00')),
          'accepted', 'third accepted');
select results_eq($$select decision, retry_after, remaining from switchboard.record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'four', '{}', '2025-05-01 10:03+00')$$,
                  $$values ('rate_limited'::text, interval '57 minutes', 0)$$, 'fourth rate_limited, retry when 10:00 leaves');
select results_eq($$select decision, retry_after, remaining from switchboard.check_rate_limit('b0000000-0000-0000-0000-000000000001', '+14155550100', '2025-05-01 11:00+00')$$,
                  $$values ('accepted'::text, null::interval, 0)$$, 'check_rate_limit: accepted once 10:00 left');
select is((select message_count from conversations where conversation_id = (select conversation_id from r)), 3,
          'rejected message counted for nothing');
select is((select count(*)::int from messages where conversation_id = (select conversation_id from r) and decision = 'rate_limited'), 1,
          'rejected message stored with its decision');

-- settings take effect on the next event
update agents set rate_limit_per_hour = 5 where agent_id = 'b0000000-0000-0000-0000-000000000001';
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'five', '{}', '2025-05-01 10:04+00')),
          'accepted', 'raising rate_limit_per_hour: accepted on the next event');
update agents set rate_limit_per_hour = 1 where agent_id = 'b0000000-0000-0000-0000-000000000001';
select results_eq($$select decision, retry_after from switchboard.record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'six', '{}', '2025-05-01 10:05+00')$$,
                  $$values ('rate_limited'::text, interval '59 minutes 1 second' - interval '1 second')$$,
                  'lowering it: refused until all but 0 of the hour left (10:04 + 1h)');
update agents set sms_enabled = false where agent_id = 'b0000000-0000-0000-0000-000000000001';
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'x', '{}', '2025-05-01 12:00+00')),
          'disabled', 'sms_enabled off: disabled on the next event');
update agents set sms_enabled = true, rate_limit_per_hour = 10 where agent_id = 'b0000000-0000-0000-0000-000000000001';
insert into blocked_numbers (agent_id, phone) values ('b0000000-0000-0000-0000-000000000001', '+1-415-555-0100');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'x', '{}', '2025-05-01 12:00+00')),
          'blocked', 'blocking a number: blocked on the next event');
select is((select decision from check_rate_limit('b0000000-0000-0000-0000-000000000001', '4155550100')),
          'blocked', 'check_rate_limit: blocked');
delete from blocked_numbers where agent_id = 'b0000000-0000-0000-0000-000000000001';
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0100', 'x', '{}', '2025-05-01 12:00+00')),
          'accepted', 'unblocking: accepted on the next event');
update agents set welcome_message = 'Hi there', session_timeout_minutes = 5 where agent_id = 'b0000000-0000-0000-0000-000000000001';
select is((select reply from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0111', 'x', '{}', '2025-05-01 12:00+00')),
          'Hi there', 'a new welcome_message is used on the next new conversation');

-- session rollover with the new timeout (5 minutes)
select is((select is_new_session from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0111', 'x', '{}', '2025-05-01 12:05+00')),
          false, 'exactly the timeout later: same session');
select is((select is_new_session from record_inbound('b0000000-0000-0000-0000-000000000001', '415 555 0111', 'x', '{}', '2025-05-01 12:10:01+00')),
          true, 'more than the timeout later: new session');
select is((select count(distinct session_id)::int from messages where phone = '+14155550111'), 2,
          'messages carry their session');
select is((select count(*)::int from messages where phone = '+14155550111' and decision = 'accepted' and
                  session_id = (select session_id from conversations where phone = '+14155550111')), 1,
          'the conversation holds the current session');

-- out-of-order events: the invariant holds for the later message too
insert into agents (agent_id, sms_enabled, rate_limit_per_hour) values ('b0000000-0000-0000-0000-000000000002', true, 2);
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000002', '4155550100', 'x', '{}', '2025-05-01 10:30+00')),
          'accepted', 'out of order: 10:30 accepted');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000002', '4155550100', 'x', '{}', '2025-05-01 10:00+00')),
          'accepted', 'out of order: a late 10:00 accepted (10:30 still has only 2 in its hour)');
select results_eq($$select decision, retry_after from switchboard.record_inbound('b0000000-0000-0000-0000-000000000002', '4155550100', 'x', '{}', '2025-05-01 10:15+00')$$,
                  $$values ('rate_limited'::text, interval '45 minutes')$$,
                  'out of order: a late 10:15 refused (the hour before 10:30 would hold 3)');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000002', '4155550100', 'x', '{}', '2025-05-01 11:00+00')),
          'accepted', '11:00 accepted (10:00 left)');
select is((select last_message_at from conversations where agent_id = 'b0000000-0000-0000-0000-000000000002'),
          '2025-05-01 11:00+00'::timestamptz, 'last_message_at is the latest, not the last to arrive');
select is((select first_message_at from conversations where agent_id = 'b0000000-0000-0000-0000-000000000002'),
          '2025-05-01 10:00+00'::timestamptz, 'first_message_at is the earliest');

-- the daily limit in the agent's time zone, around midnight
insert into agents (agent_id, sms_enabled, max_daily_conversations, timezone)
values ('b0000000-0000-0000-0000-000000000003', true, 1, 'America/New_York'),
       ('b0000000-0000-0000-0000-000000000004', true, 1, 'UTC');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000003', '4155550201', 'x', '{}', '2025-03-01 04:59+00')),
          'accepted', 'New York: 23:59 on Feb 28 opens the day''s one conversation');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000003', '4155550202', 'x', '{}', '2025-03-01 05:00:30+00')),
          'accepted', 'New York: 00:00:30 on Mar 1 is a new day');
select results_eq($$select decision, retry_after from switchboard.record_inbound('b0000000-0000-0000-0000-000000000003', '4155550203', 'x', '{}', '2025-03-01 05:01+00')$$,
                  $$values ('daily_limit'::text, interval '23 hours 59 minutes')$$,
                  'New York: the third refused until the next New York midnight');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000004', '4155550201', 'x', '{}', '2025-03-01 04:59+00')),
          'accepted', 'UTC: 04:59 opens the day''s one conversation');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000004', '4155550202', 'x', '{}', '2025-03-01 05:00:30+00')),
          'daily_limit', 'UTC: 05:00:30 is the same day');
select results_eq($$select day, new_conversations from switchboard.agent_daily_counters where agent_id = 'b0000000-0000-0000-0000-000000000003' order by day$$,
                  $$values ('2025-02-28'::date, 1), ('2025-03-01'::date, 1)$$, 'counters by New York day');
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000004', '4155550201', 'x', '{}', '2025-03-01 05:30+00')),
          'accepted', 'an existing conversation is not held by the daily limit');
update agents set timezone = 'Asia/Tokyo' where agent_id = 'b0000000-0000-0000-0000-000000000004';
select is((select decision from record_inbound('b0000000-0000-0000-0000-000000000004', '4155550202', 'x', '{}', '2025-03-01 15:00:30+00')),
          'accepted', 'changing the timezone: Tokyo is already on Mar 2');
select is((select count(*)::int from messages where agent_id = 'b0000000-0000-0000-0000-000000000004' and decision = 'daily_limit' and conversation_id is null), 1,
          'the refused opening is stored without a conversation');

-- record_outbound
select lives_ok($$select switchboard.record_outbound('b0000000-0000-0000-0000-000000000002', conversation_id, 'reply', '{"tokens_used": 12}', '2025-05-01 11:01+00') from switchboard.conversations where agent_id = 'b0000000-0000-0000-0000-000000000002'$$,
                 'record_outbound');
select results_eq($$select message_count, inbound_count, outbound_count from switchboard.conversations where agent_id = 'b0000000-0000-0000-0000-000000000002'$$,
                  $$values (4, 3, 1)$$, 'record_outbound bumps message_count and outbound_count once');
select throws_ok($$select switchboard.record_outbound('b0000000-0000-0000-0000-000000000002', 'c0000000-0000-0000-0000-000000000000', 'x')$$,
                 'P0002', 'conversation "c0000000-0000-0000-0000-000000000000" does not exist', 'record_outbound: unknown conversation');

-- upsert_conversation + direct inserts: the trigger bumps as record_* do
insert into agents (agent_id, sms_enabled) values ('b0000000-0000-0000-0000-000000000005', true);
create temp table u as select * from upsert_conversation('b0000000-0000-0000-0000-000000000005', '+44 7400 123456', '2025-05-01 10:00+00');
select ok((select is_new_conversation and is_new_session from u), 'upsert_conversation opens');
insert into messages (agent_id, conversation_id, session_id, direction, phone, body, created_at)
select 'b0000000-0000-0000-0000-000000000005', conversation_id, session_id, 'inbound', '+447400123456', 'in', '2025-05-01 10:00+00' from u;
insert into messages (agent_id, conversation_id, direction, phone, body, created_at)
select 'b0000000-0000-0000-0000-000000000005', conversation_id, 'outbound', '+447400123456', 'out', '2025-05-01 10:01+00' from u;
select results_eq($$select message_count, inbound_count, outbound_count, first_message_at, last_message_at, last_inbound_at, cardinality(rate_window) from switchboard.conversations where agent_id = 'b0000000-0000-0000-0000-000000000005'$$,
                  $$values (2, 1, 1, '2025-05-01 10:00+00'::timestamptz, '2025-05-01 10:01+00'::timestamptz, '2025-05-01 10:00+00'::timestamptz, 1)$$,
                  'direct inserts bump counters, times and the hourly log');
select is((select count(*)::int from messages where agent_id = 'b0000000-0000-0000-0000-000000000005' and session_id = (select session_id from u)), 2,
          'a direct insert without session_id gets the current session');
select is((select decision from check_rate_limit('b0000000-0000-0000-0000-000000000005', '+447400123456', '2025-05-01 10:02+00')),
          'accepted', 'check_rate_limit sees the direct insert');
insert into messages (agent_id, conversation_id, direction, phone, body, decision, created_at)
select 'b0000000-0000-0000-0000-000000000005', conversation_id, 'inbound', '+447400123456', 'spam', 'blocked', '2025-05-01 10:03+00' from u;
select is((select message_count from conversations where agent_id = 'b0000000-0000-0000-0000-000000000005'), 2,
          'a directly inserted rejected message bumps nothing');
select is((select is_new_session from upsert_conversation('b0000000-0000-0000-0000-000000000005', '+447400123456', '2025-05-01 11:00+00')),
          true, 'upsert_conversation rolls the session after the timeout');

-- validation
select throws_ok($$insert into switchboard.agents (timezone) values ('Nowhere/Land')$$, '22023',
                 'unknown time zone "Nowhere/Land"', 'agents: unknown timezone');
select throws_ok($$insert into switchboard.agents (default_region) values ('QQ')$$, '22023',
                 'unknown region "QQ"', 'agents: unknown region');

-- the value rules of the columns every event writes (domains since 0.4.0):
-- still 23514 for a value outside them, on a direct write
select throws_ok($$insert into switchboard.messages (agent_id, conversation_id, direction, phone)
                   select agent_id, conversation_id, 'sideways', phone from switchboard.conversations
                    where agent_id = 'b0000000-0000-0000-0000-000000000002' limit 1$$,
                 '23514', null, 'messages: direction outside inbound/outbound');
select throws_ok($$insert into switchboard.messages (agent_id, conversation_id, direction, phone, decision)
                   select agent_id, conversation_id, 'inbound', phone, 'maybe' from switchboard.conversations
                    where agent_id = 'b0000000-0000-0000-0000-000000000002' limit 1$$,
                 '23514', null, 'messages: an unknown decision');
select throws_ok($$update switchboard.conversations set status = 'open'
                    where agent_id = 'b0000000-0000-0000-0000-000000000002'$$,
                 '23514', null, 'conversations: status outside active/closed');
select throws_ok($$update switchboard.conversations set phone = '4155550100'
                    where agent_id = 'b0000000-0000-0000-0000-000000000002'$$,
                 '23514', null, 'conversations: a phone not in E.164');
select is((select count(*)::int from switchboard.messages m join switchboard.conversations c using (agent_id, conversation_id)
            where m.agent_id = 'b0000000-0000-0000-0000-000000000002' and m.direction = 'inbound'
              and m.decision = 'accepted' and c.status = 'active' and c.phone = '+14155550100'),
          3, 'the domain-typed columns compare with text as before');

select * from finish();
rollback;
