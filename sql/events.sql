-- The event path: record_inbound, record_outbound, check_rate_limit,
-- upsert_conversation, the triggers, every decision and every error text.
-- Random ids (conversation_id, session_id) are shown as comparisons only.
set search_path = switchboard, public;
set timezone = 'UTC';

insert into agents (agent_id, display_name, sms_enabled, rate_limit_per_hour, max_daily_conversations,
                    session_timeout_minutes)
values ('a0000000-0000-0000-0000-000000000001', 'limits', true, 3, 2, 30),
       ('a0000000-0000-0000-0000-000000000002', 'disabled', false, 10, 50, 30),
       ('a0000000-0000-0000-0000-000000000003', 'silent', true, 10, 50, 30);
update agents set auto_respond = false where agent_id = 'a0000000-0000-0000-0000-000000000003';

-- agents: default_region upper-cased, unknown regions and time zones refused
insert into agents (agent_id, default_region, timezone)
values ('a0000000-0000-0000-0000-000000000004', 'gb', 'Europe/London')
returning default_region, timezone;
insert into agents (default_region) values ('XX');
\echo :LAST_ERROR_SQLSTATE
insert into agents (default_region) values ('USA');
insert into agents (default_region) values ('');
insert into agents (timezone) values ('Mars/Olympus_Mons');
\echo :LAST_ERROR_SQLSTATE
insert into agents (timezone) values ('EST5EDT,M3.2.0,M11.1.0');
insert into agents (timezone) values ('');
update agents set timezone = 'America/Nowhere' where agent_id = 'a0000000-0000-0000-0000-000000000004';
update agents set timezone = 'America/New_York' where agent_id = 'a0000000-0000-0000-0000-000000000004'
returning timezone;

-- first message: a new conversation, a new session, the welcome message
select decision, conversation_id is not null as has_conversation, session_id is not null as has_session,
       message_id > 0 as stored, is_new_conversation, is_new_session, reply, retry_after, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '(415) 555-0100', 'hi', '{"sid": "SM1"}',
                    '2025-03-01 10:00:00+00');

-- the same number spelled differently: the same conversation, no welcome
select decision, is_new_conversation, is_new_session, reply, retry_after, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '+1 415-555-0100', 'again', '{}',
                    '2025-03-01 10:10:00+00');
select decision, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '415.555.0100', 'third', '{}',
                    '2025-03-01 10:20:00+00');

-- the hourly limit: the 4th in an hour is refused until 10:00 leaves the window
select decision, is_new_conversation, reply, retry_after, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '4155550100', 'fourth', '{}',
                    '2025-03-01 10:30:00+00');
select * from check_rate_limit('a0000000-0000-0000-0000-000000000001', '4155550100', '2025-03-01 10:59:59+00');
select * from check_rate_limit('a0000000-0000-0000-0000-000000000001', '4155550100', '2025-03-01 11:00:00+00');
-- the refused message counted for nothing: at 11:00 it is accepted
select decision, is_new_session, retry_after, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '4155550100', 'fifth', '{}',
                    '2025-03-01 11:00:00+00');

-- the daily limit (2 new conversations a day)
select decision, is_new_conversation, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '4155550101', 'hello', '{}',
                    '2025-03-01 12:00:00+00');
select decision, conversation_id, session_id, is_new_conversation, reply, retry_after, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '4155550102', 'hello', '{}',
                    '2025-03-01 12:00:00+00');
select * from check_rate_limit('a0000000-0000-0000-0000-000000000001', '4155550102', '2025-03-01 12:00:00+00');
-- the next day it opens
select decision, is_new_conversation, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '4155550102', 'hello', '{}',
                    '2025-03-02 00:00:00+00');
select day, new_conversations from agent_daily_counters
where agent_id = 'a0000000-0000-0000-0000-000000000001' order by day;

-- session rollover after session_timeout_minutes (30) of silence
select decision, is_new_conversation, is_new_session
from record_inbound('a0000000-0000-0000-0000-000000000001', '4155550101', 'back', '{}',
                    '2025-03-01 12:30:00+00');
select decision, is_new_conversation, is_new_session
from record_inbound('a0000000-0000-0000-0000-000000000001', '4155550101', 'later', '{}',
                    '2025-03-01 13:00:01+00');

-- blocked: any spelling blocks the number; the message is stored
insert into blocked_numbers (agent_id, phone, reason)
values ('a0000000-0000-0000-0000-000000000001', '(415) 555-0199', 'spam')
returning phone, reason;
select decision, conversation_id, is_new_conversation, reply, retry_after, remaining
from record_inbound('a0000000-0000-0000-0000-000000000001', '+14155550199', 'buy now', '{}',
                    '2025-03-01 12:00:00+00');
select * from check_rate_limit('a0000000-0000-0000-0000-000000000001', '415 555 0199');
insert into blocked_numbers (agent_id, phone) values ('a0000000-0000-0000-0000-000000000001', '12');
\echo :LAST_ERROR_SQLSTATE
insert into blocked_numbers (agent_id, phone) values ('a0000000-0000-0000-0000-000000000099', '4155550100');
\echo :LAST_ERROR_SQLSTATE
-- with a GB agent, a national spelling is British
insert into blocked_numbers (agent_id, phone) values ('a0000000-0000-0000-0000-000000000004', '07400 123456')
returning phone;

-- disabled agent: stored, nothing opened
select decision, conversation_id, is_new_conversation, reply, retry_after, remaining
from record_inbound('a0000000-0000-0000-0000-000000000002', '4155550100', 'hi', '{}',
                    '2025-03-01 10:00:00+00');
select * from check_rate_limit('a0000000-0000-0000-0000-000000000002', '4155550100');

-- auto_respond off: no reply
select decision, is_new_conversation, reply
from record_inbound('a0000000-0000-0000-0000-000000000003', '4155550100', 'hi', '{}',
                    '2025-03-01 10:00:00+00');

-- record_outbound bumps the conversation
select record_outbound('a0000000-0000-0000-0000-000000000001', conversation_id, 'How can I help?',
                       '{"tokens_used": 42, "processing_ms": 310, "category": "support", "success": true}',
                       '2025-03-01 11:01:00+00') > 0 as stored
from conversations where phone = '+14155550100' and agent_id = 'a0000000-0000-0000-0000-000000000001';

-- every message is stored, rejected ones with their decision
select m.phone, m.direction, m.body, m.decision, m.conversation_id is not null as has_conversation,
       m.session_id = c.session_id as current_session, m.metadata, m.created_at
from messages m left join conversations c using (agent_id, conversation_id)
where m.agent_id = 'a0000000-0000-0000-0000-000000000001' order by m.message_id;

select phone, message_count, inbound_count, outbound_count, first_message_at, last_message_at,
       last_inbound_at, rate_window, status, is_active
from conversations where agent_id = 'a0000000-0000-0000-0000-000000000001' order by phone;

-- upsert_conversation: continues, opens, rolls the session over
select is_new_conversation, is_new_session
from upsert_conversation('a0000000-0000-0000-0000-000000000001', '4155550100', '2025-03-01 11:05:00+00');
select is_new_conversation, is_new_session
from upsert_conversation('a0000000-0000-0000-0000-000000000003', '4155550177', '2025-03-01 11:05:00+00');
select is_new_conversation, is_new_session
from upsert_conversation('a0000000-0000-0000-0000-000000000003', '4155550177', '2025-03-01 11:06:00+00');
select is_new_conversation, is_new_session
from upsert_conversation('a0000000-0000-0000-0000-000000000001', '4155550100', '2025-03-01 18:00:00+00');

-- a message inserted directly bumps its conversation as record_* do, with its session
insert into messages (agent_id, conversation_id, direction, phone, body, created_at)
select agent_id, conversation_id, 'inbound', phone, 'direct', '2025-03-01 18:01:00+00'
from conversations where agent_id = 'a0000000-0000-0000-0000-000000000001' and phone = '+14155550100'
returning direction, body, session_id is not null as has_session, decision;
select message_count, inbound_count, outbound_count, last_message_at, last_inbound_at, rate_window
from conversations where agent_id = 'a0000000-0000-0000-0000-000000000001' and phone = '+14155550100';
insert into messages (agent_id, conversation_id, direction, phone)
values ('a0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000000', 'outbound', '+14155550100');
\echo :LAST_ERROR_SQLSTATE

-- errors
select * from record_inbound('a0000000-0000-0000-0000-000000000099', '4155550100', 'hi');
\echo :LAST_ERROR_SQLSTATE
select * from record_inbound('a0000000-0000-0000-0000-000000000001', 'not a phone', 'hi');
\echo :LAST_ERROR_SQLSTATE
select * from record_inbound('a0000000-0000-0000-0000-000000000001', '12', 'hi');
select * from record_inbound('a0000000-0000-0000-0000-000000000001', null, 'hi');
select * from check_rate_limit('a0000000-0000-0000-0000-000000000099', '4155550100');
select * from check_rate_limit('a0000000-0000-0000-0000-000000000001', '+999');
select * from upsert_conversation('a0000000-0000-0000-0000-000000000099', '4155550100');
select * from upsert_conversation('a0000000-0000-0000-0000-000000000001', '1');
select record_outbound('a0000000-0000-0000-0000-000000000001', 'c0000000-0000-0000-0000-000000000000', 'x');
\echo :LAST_ERROR_SQLSTATE
select record_outbound('a0000000-0000-0000-0000-000000000099', 'c0000000-0000-0000-0000-000000000000', 'x');
\echo :LAST_ERROR_SQLSTATE
