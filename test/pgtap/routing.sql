-- Routing by dialed number, business hours, tiered monthly quotas (0.2.0):
-- routing errors and kinds, inactive numbers, overnight hours, holidays, the
-- after-hours reply, the month boundary in a non-UTC time zone, tier changes
-- through set_contact_tier, rejected messages counting nothing.
begin;
select plan(89);
set local search_path = switchboard, public;
set local timezone = 'UTC';

-- r1: New York, Mon-Fri 09:00-12:00 and 13:00-17:00, Fri 22:00-02:00 overnight
insert into agents (agent_id, sms_enabled, timezone, after_hours_message)
values ('e0000000-0000-0000-0000-000000000001', true, 'America/New_York', 'We are closed, back at 9.');
-- r2: Tokyo, no hours (always open), quotas
insert into agents (agent_id, sms_enabled, timezone, default_region, rate_limit_per_hour)
values ('e0000000-0000-0000-0000-000000000002', true, 'Asia/Tokyo', 'JP', 100);

-- phone_numbers: normalized on insert with the agent's region, one agent per number
insert into phone_numbers (number, agent_id, friendly_name, kind)
values ('(415) 555-0001', 'e0000000-0000-0000-0000-000000000001', 'front desk', 'sms'),
       ('+1 415 555 0002', 'e0000000-0000-0000-0000-000000000001', 'voice line', 'voice'),
       ('+1 415.555.0003', 'e0000000-0000-0000-0000-000000000002', 'main', 'both'),
       ('+1 415-555-0004', 'e0000000-0000-0000-0000-000000000002', 'old', 'both');
update phone_numbers set is_active = false where number = '+14155550004';
select results_eq($$select number from switchboard.phone_numbers order by 1$$,
                  $$values ('+14155550001'), ('+14155550002'), ('+14155550003'), ('+14155550004')$$,
                  'numbers stored in E.164');
select throws_ok($$insert into switchboard.phone_numbers (number, agent_id) values ('415 555 0003', 'e0000000-0000-0000-0000-000000000001')$$,
                 '23505', null, 'a number routes to one agent (any spelling)');
select throws_ok($$insert into switchboard.phone_numbers (number, agent_id) values ('12', 'e0000000-0000-0000-0000-000000000001')$$,
                 '22023', 'invalid phone number "12"', 'a bad number is refused');
select throws_ok($$insert into switchboard.phone_numbers (number, agent_id, kind) values ('+14155550009', 'e0000000-0000-0000-0000-000000000001', 'fax')$$,
                 '23514', null, 'kind is sms, voice or both');

-- routing errors: nothing is recorded
select throws_ok($$select * from switchboard.route_inbound('+1 415 555 0099', '+12015550100', 'x')$$,
                 'P0002', 'phone number "+14155550099" is not provisioned', 'unknown number: P0002 naming it');
select throws_ok($$select * from switchboard.route_inbound('tel:+1-415-555-0004', '+12015550100', 'x')$$,
                 'P0002', 'phone number "+14155550004" is not active', 'inactive number: P0002');
select throws_ok($$select * from switchboard.route_inbound('+14155550002', '+12015550100', 'x')$$,
                 'P0002', 'phone number "+14155550002" does not take SMS', 'a voice number routes no SMS');
select throws_ok($$select * from switchboard.route_call('+14155550001', 'CA-x', '+12015550100', 'ringing')$$,
                 'P0002', 'phone number "+14155550001" does not take calls', 'an sms number routes no call');
select throws_ok($$select * from switchboard.route_call('+14155550004', 'CA-x', '+12015550100', 'ringing')$$,
                 'P0002', 'phone number "+14155550004" is not active', 'inactive number: no call either');
select throws_ok($$select * from switchboard.route_inbound('415 555 0001', '+12015550100', 'x')$$,
                 '22023', 'invalid phone number "415 555 0001"', 'the dialed number must carry its country code');
select throws_ok($$select * from switchboard.route_inbound('+14155550001', '12', 'x')$$,
                 '22023', 'invalid phone number "12"', 'a bad sender: 22023');
select is((select count(*)::int from messages) + (select count(*)::int from conversations) + (select count(*)::int from calls),
          0, 'failed routings recorded nothing');

-- route_inbound is record_inbound for the number's agent, plus agent_id
create temp table routed as
select * from route_inbound('+1 (415) 555-0003', '+1 201 555 0100', 'hello', '{"sid": "SM1"}', '2026-01-10 10:00+00');
select is((select agent_id from routed), 'e0000000-0000-0000-0000-000000000002'::uuid, 'agent_id of the dialed number');
select is((select decision from routed), 'accepted', 'routed message accepted');
select ok((select is_new_conversation from routed), 'routed message opens the conversation');
select is((select m.agent_id from messages m where m.message_id = (select message_id from routed)),
          'e0000000-0000-0000-0000-000000000002'::uuid, 'stored under the agent');
select results_eq($$select decision, conversation_id, is_new_conversation from switchboard.record_inbound('e0000000-0000-0000-0000-000000000002', '+1 201-555-0100', 'again', '{}', '2026-01-10 10:01+00')$$,
                  $$select 'accepted'::text, conversation_id, false from routed$$,
                  'record_inbound continues the routed conversation');
select is((select array_agg(attname::text order by attnum) from pg_attribute
            where attrelid = 'pg_temp.routed'::regclass and attnum > 0),
          (select array_agg(n order by o) from unnest(array['decision', 'conversation_id', 'session_id', 'message_id',
                 'is_new_conversation', 'is_new_session', 'reply', 'retry_after', 'remaining', 'after_hours',
                 'quota_remaining', 'agent_id']) with ordinality as x(n, o)),
          'route_inbound: record_inbound''s columns, then agent_id');

-- route_call
create temp table rc as
select * from route_call('+14155550003', 'CA-1', '+1 (201) 555-0100', 'ringing', '2026-01-10 10:05+00');
select results_eq($$select status, is_new_call, agent_id, after_hours, conversation_id from rc$$,
                  $$select 'ringing'::text, true, 'e0000000-0000-0000-0000-000000000002'::uuid, false, conversation_id from routed$$,
                  'route_call records the call for the number''s agent, on the caller''s conversation');
select is((select status from route_call('+14155550003', 'CA-1', '+12015550100', 'completed', '2026-01-10 10:07+00')),
          'completed', 'route_call follows the call''s state machine');

-- business hours: no rows = always open
select ok(is_open('e0000000-0000-0000-0000-000000000002', '2026-01-11 03:00+00'), 'no hours: open');
select throws_ok($$select switchboard.is_open('e0000000-0000-0000-0000-0000000000ff', now())$$,
                 'P0002', null, 'is_open of an unknown agent: P0002');
insert into business_hours (agent_id, day_of_week, open_time, close_time)
select 'e0000000-0000-0000-0000-000000000001', d, t.o, t.c
  from generate_series(1, 5) d, (values ('09:00'::time, '12:00'::time), ('13:00', '17:00')) t(o, c);
insert into business_hours (agent_id, day_of_week, open_time, close_time)
values ('e0000000-0000-0000-0000-000000000001', 5, '22:00', '02:00');
insert into business_hours (agent_id, day_of_week, is_closed)
values ('e0000000-0000-0000-0000-000000000001', 0, true);
select results_eq($$select has_schedule, has_tiers from agents where agent_id = 'e0000000-0000-0000-0000-000000000001'$$,
                  $$values (true, false)$$, '0.5.0: business hours set agents.has_schedule');
-- 2026-01-09 is a Friday; New York is UTC-5 in January
select ok(is_open('e0000000-0000-0000-0000-000000000001', '2026-01-09 09:00-05'), 'opens at 09:00 local');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-09 08:59:59-05'), 'closed before');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-09 12:30-05'), 'closed between two intervals');
select ok(is_open('e0000000-0000-0000-0000-000000000001', '2026-01-09 13:00-05'), 'second interval of the day');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-09 17:00-05'), 'close_time is exclusive');
select ok(is_open('e0000000-0000-0000-0000-000000000001', '2026-01-09 23:30-05'), 'overnight: Friday 23:30');
select ok(is_open('e0000000-0000-0000-0000-000000000001', '2026-01-10 01:59-05'), 'overnight: Saturday 01:59');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-10 02:00-05'), 'overnight ends at 02:00');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-10 10:00-05'), 'Saturday closed');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-11 10:00-05'), 'Sunday is_closed row opens nothing');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-09 01:00-05'),
          'Thursday has no overnight interval: Friday 01:00 closed');
select ok(is_open('e0000000-0000-0000-0000-000000000001', '2026-07-10 09:30-04'), 'in summer time too (local wall clock)');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-09 13:30+00'), 'the agent''s time zone: 13:30 UTC is 08:30 in New York');

-- holidays: the intervals starting that day do not open
insert into closed_dates (agent_id, day, reason) values ('e0000000-0000-0000-0000-000000000001', '2026-01-16', 'holiday');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-16 10:00-05'), 'closed date: closed');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-16 23:00-05'), 'closed date: its overnight interval too');
select ok(not is_open('e0000000-0000-0000-0000-000000000001', '2026-01-17 01:00-05'), 'closed date: ... also after midnight');
insert into closed_dates (agent_id, day, reason) values ('e0000000-0000-0000-0000-000000000001', '2026-01-24', 'the day after');
select ok(is_open('e0000000-0000-0000-0000-000000000001', '2026-01-24 01:00-05'),
          'Friday''s overnight interval runs into a closed Saturday');
insert into closed_dates (agent_id, day) values ('e0000000-0000-0000-0000-000000000002', '2026-01-01');
select ok(not is_open('e0000000-0000-0000-0000-000000000002', '2026-01-01 12:00+09'), 'no hours but a closed date: closed that day');
select ok((select has_schedule from agents where agent_id = 'e0000000-0000-0000-0000-000000000002'), 'a closed date alone sets has_schedule');
select is((select decision || ' ' || after_hours from record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0009', 'new year', '{}', '2026-01-01 12:00+09')),
          'accepted true', 'record_inbound reads a closed date of an agent without hours');

-- after hours: accepted, stored, after_hours, the after-hours message as reply
create temp table ah as
select * from route_inbound('+14155550001', '+12025550100', 'late', '{}', '2026-01-09 20:00-05');
select results_eq($$select decision, after_hours, reply from ah$$,
                  $$values ('accepted'::text, true, 'We are closed, back at 9.'::text)$$,
                  'after hours: accepted with the after-hours message');
select ok((select after_hours from messages where message_id = (select message_id from ah)), 'stored with after_hours');
select results_eq($$select decision, after_hours, reply from switchboard.record_inbound('e0000000-0000-0000-0000-000000000001', '+12025550100', 'again', '{}', '2026-01-09 20:01-05')$$,
                  $$values ('accepted'::text, true, 'We are closed, back at 9.'::text)$$,
                  'every accepted after-hours message gets it');
select results_eq($$select decision, after_hours, reply from switchboard.record_inbound('e0000000-0000-0000-0000-000000000001', '+12025550100', 'morning', '{}', '2026-01-12 09:30-05')$$,
                  $$values ('accepted'::text, false, null::text)$$,
                  'in hours: no reply on an existing conversation');
update agents set after_hours_message = null where agent_id = 'e0000000-0000-0000-0000-000000000001';
select results_eq($$select after_hours, reply from switchboard.record_inbound('e0000000-0000-0000-0000-000000000001', '+12025550199', 'new', '{}', '2026-01-12 20:00-05')$$,
                  $$values (true, 'Hello! I''m an AI agent. How can I help you today?'::text)$$,
                  'no after-hours message: the welcome rule');

-- after-hours calls: stored on the call by route_call and record_call alike,
-- from the call's start; later events keep the flag; counted once per call
select results_eq($$select status, is_new_call, after_hours from switchboard.route_call('+14155550002', 'CA-ah1', '+12025550100', 'ringing', '2026-01-09 20:00-05')$$,
                  $$values ('ringing'::text, true, true)$$, 'route_call after hours: after_hours');
select ok((select after_hours from calls where call_sid = 'CA-ah1'), 'route_call stores after_hours on the call');
select results_eq($$select status, is_new_call, after_hours from switchboard.route_call('+14155550002', 'CA-ah1', '+12025550100', 'completed', '2026-01-12 10:00-05')$$,
                  $$values ('completed'::text, false, true)$$, 'a later event in hours: the call stays after hours (its start)');
select ok(not (select after_hours from calls where call_sid = 'CA-1'), 'an agent without hours: no call after hours');
create temp table rcall as
select * from switchboard.record_call('e0000000-0000-0000-0000-000000000001', 'CA-in', '+12025550100', 'ringing', '2026-01-12 10:00-05');
select is((select array_agg(attname::text order by attnum) from pg_attribute
            where attrelid = 'pg_temp.rcall'::regclass and attnum > 0),
          array['call_id', 'conversation_id', 'status', 'is_new_call'], 'record_call''s result columns are unchanged');
select ok(not (select after_hours from calls where call_sid = 'CA-in'), 'record_call in hours: not after hours');
select is((select status from switchboard.record_call('e0000000-0000-0000-0000-000000000001', 'CA-out', '+12025550101', 'completed', '2026-01-16 10:00-05', 30)),
          'completed', 'record_call on a closed date: recorded');
select ok((select after_hours from calls where call_sid = 'CA-out'), 'record_call on a closed date: stored after hours');
select results_eq($$select day, calls_total, calls_after_hours from switchboard.daily_stats('e0000000-0000-0000-0000-000000000001', '2026-01-09', '2026-01-16') where calls_total > 0$$,
                  $$values ('2026-01-09'::date, 1::bigint, 1::bigint), ('2026-01-12', 1, 0), ('2026-01-16', 1, 1)$$,
                  'daily stats count after-hours calls once, on the day they started');
select is((select calls_after_hours from switchboard.agent_summary('e0000000-0000-0000-0000-000000000001', 36600)), 2::bigint,
          'agent_summary counts them too');

-- quotas: month boundary in Asia/Tokyo (UTC+9)
insert into tiers (agent_id, tier, monthly_limit) values ('e0000000-0000-0000-0000-000000000002', 'free', 2),
                                                        ('e0000000-0000-0000-0000-000000000002', 'pro', 4);
select ok((select has_tiers from agents where agent_id = 'e0000000-0000-0000-0000-000000000002'), 'tiers set has_tiers');
select results_eq($$select decision, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0001', 'a', '{}', '2026-01-31 23:00+09')$$,
                  $$values ('accepted'::text, 1)$$, 'free: first of 2');
select results_eq($$select decision, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0001', 'b', '{}', '2026-01-31 23:10+09')$$,
                  $$values ('accepted'::text, 0)$$, 'free: second of 2');
select results_eq($$select decision, retry_after, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0001', 'c', '{}', '2026-01-31 23:20+09')$$,
                  $$values ('quota_exceeded'::text, interval '40 minutes', 0)$$, 'quota_exceeded until the local month ends');
select results_eq($$select decision, retry_after from switchboard.check_rate_limit('e0000000-0000-0000-0000-000000000002', '+819000000001', '2026-01-31 23:30+09')$$,
                  $$values ('quota_exceeded'::text, interval '30 minutes')$$, 'check_rate_limit sees the quota');
select results_eq($$select decision, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0001', 'd', '{}', '2026-01-31 15:00+00')$$,
                  $$values ('accepted'::text, 1)$$, 'Feb 1st 00:00 Tokyo (Jan 31st UTC): a new month, no job');
select results_eq($$select monthly_requests, requests_month, total_requests from switchboard.contacts where phone = '+819000000001'$$,
                  $$values (1, date '2026-02-01', 3::bigint)$$, 'the counter carries its month; rejected ones counted nothing');

-- tier changes: any spelling of the phone, the tier case-insensitive
select is((select tier from set_contact_tier('e0000000-0000-0000-0000-000000000002', '090-0000-0002', ' PRO ')), 'pro',
          'set_contact_tier creates the contact with a lower-cased tier');
select is((select count(*)::int from contacts where phone = '+819000000002' and tier = 'pro'), 1, 'the phone read with the agent''s default_region (JP)');
select results_eq($$select decision, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0001', 'e', '{}', '2026-02-01 10:00+09')$$,
                  $$values ('accepted'::text, 0)$$, 'free: 2 of 2 in February');
select is((select decision from record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0001', 'f', '{}', '2026-02-01 10:01+09')),
          'quota_exceeded', 'free: the third is refused');
select is((select tier from set_contact_tier('e0000000-0000-0000-0000-000000000002', '+81 (90) 0000-0001', 'Pro')), 'pro',
          'upgrade to pro, another spelling');
select results_eq($$select decision, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0001', 'g', '{}', '2026-02-01 10:02+09')$$,
                  $$values ('accepted'::text, 1)$$, 'pro: 3 of 4, the count kept');
select is((select tier from set_contact_tier('e0000000-0000-0000-0000-000000000002', '+819000000001', 'vip')), 'vip',
          'a tier without a row');
select results_eq($$select decision, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000002', '+81 90 0000 0001', 'h', '{}', '2026-02-01 10:03+09')$$,
                  $$values ('accepted'::text, null::int)$$, 'no tier row: unlimited');
select throws_ok($$select switchboard.set_contact_tier('e0000000-0000-0000-0000-000000000002', '+819000000001', 'no such tier!')$$,
                 '22023', 'invalid tier "no such tier!"', 'a tier is a plain word');
select throws_ok($$select switchboard.set_contact_tier('e0000000-0000-0000-0000-0000000000ff', '+819000000001', 'pro')$$,
                 'P0002', null, 'set_contact_tier: unknown agent');

-- a rejected message counts nothing: rate_limited is not counted
update agents set rate_limit_per_hour = 1 where agent_id = 'e0000000-0000-0000-0000-000000000002';
select set_contact_tier('e0000000-0000-0000-0000-000000000002', '+819000000003', 'free');
select is((select decision from record_inbound('e0000000-0000-0000-0000-000000000002', '+819000000003', '1', '{}', '2026-02-02 10:00+09')), 'accepted', 'hourly 1: accepted');
select is((select decision from record_inbound('e0000000-0000-0000-0000-000000000002', '+819000000003', '2', '{}', '2026-02-02 10:01+09')), 'rate_limited', 'hourly 1: rate_limited');
select results_eq($$select monthly_requests, total_requests from switchboard.contacts where phone = '+819000000003'$$,
                  $$values (1, 1::bigint)$$, 'rate_limited counted nothing');
-- 0.5.0: agents.has_schedule and has_tiers stay derived from the rows
update agents set has_schedule = false, has_tiers = false;
select is((select count(*)::int from agents a, agent_uses(a.agent_id) u
            where (a.has_schedule, a.has_tiers) is distinct from (u.has_schedule, u.has_tiers)), 0,
          'a hand-set flag does not stick: an UPDATE of an agent derives both again');
select results_eq($$select agent_id::text, has_schedule, has_tiers from agents order by 1$$,
                  $$values ('e0000000-0000-0000-0000-000000000001', true, false), ('e0000000-0000-0000-0000-000000000002', true, true)$$,
                  'the flags as the rows say');
delete from business_hours where agent_id = 'e0000000-0000-0000-0000-000000000001' and day_of_week = 1;
select ok((select has_schedule from agents where agent_id = 'e0000000-0000-0000-0000-000000000001'), 'deleting some hours keeps has_schedule');
delete from business_hours where agent_id = 'e0000000-0000-0000-0000-000000000001';
select ok((select has_schedule from agents where agent_id = 'e0000000-0000-0000-0000-000000000001'), '... its closed dates still count');
delete from closed_dates where agent_id = 'e0000000-0000-0000-0000-000000000001';
select ok(not (select has_schedule from agents where agent_id = 'e0000000-0000-0000-0000-000000000001'), 'no hours, no closed dates: has_schedule false');
select results_eq($$select decision, after_hours, reply from switchboard.record_inbound('e0000000-0000-0000-0000-000000000001', '+12025550100', 'night', '{}', '2026-01-11 03:00-05')$$,
                  $$values ('accepted'::text, false, null::text)$$, 'without a schedule the agent is always open');
update tiers set agent_id = 'e0000000-0000-0000-0000-000000000001' where agent_id = 'e0000000-0000-0000-0000-000000000002' and tier = 'free';
select results_eq($$select agent_id::text, has_tiers from agents order by 1$$,
                  $$values ('e0000000-0000-0000-0000-000000000001', true), ('e0000000-0000-0000-0000-000000000002', true)$$,
                  'a tier moved to another agent: both agents have tiers');
select results_eq($$select decision, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000001', '+12025550177', 'quota', '{}', '2026-02-03 10:00-05')$$,
                  $$values ('accepted'::text, 1)$$, 'the moved free tier limits its new agent at once (1 of 2)');
truncate tiers;
select is((select count(*)::int from agents where has_tiers), 0, 'TRUNCATE tiers clears has_tiers');
select results_eq($$select decision, quota_remaining from switchboard.record_inbound('e0000000-0000-0000-0000-000000000001', '+12025550177', 'no quota', '{}', '2026-02-03 10:01-05')$$,
                  $$values ('accepted'::text, null::int)$$, 'no tiers: unlimited');
truncate closed_dates;
select is((select count(*)::int from agents where has_schedule), 0, 'TRUNCATE closed_dates clears has_schedule');
select * from finish();
rollback;
