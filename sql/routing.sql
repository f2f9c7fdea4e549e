-- Routing by dialed number, business hours, tiered monthly quotas (0.2.0):
-- the outputs of route_inbound, route_call, is_open, set_contact_tier, agent_uses and
-- record_inbound's new columns, and every error text.
-- Random ids (conversation_id, session_id) are shown as comparisons only.
set search_path = switchboard, public;
set timezone = 'UTC';

insert into agents (agent_id, display_name, sms_enabled, timezone, default_region, after_hours_message)
values ('f0000000-0000-0000-0000-000000000001', 'front desk', true, 'Europe/Paris', 'FR', 'Closed. We open at 9.'),
       ('f0000000-0000-0000-0000-000000000002', 'quota', true, 'America/Los_Angeles', 'US', null);

-- phone_numbers: any spelling, stored in E.164 with the agent's default_region
insert into phone_numbers (number, agent_id, friendly_name, kind)
values ('+1 (415) 555-2671', 'f0000000-0000-0000-0000-000000000001', 'sms line', 'sms'),
       ('+1 415-555-2672', 'f0000000-0000-0000-0000-000000000001', 'voice line', 'voice'),
       ('tel:+1-415-555-2673', 'f0000000-0000-0000-0000-000000000002', 'both', 'both')
returning number, friendly_name, kind, is_active;
insert into phone_numbers (number, agent_id) values ('415 555 2671', 'f0000000-0000-0000-0000-000000000002');
insert into phone_numbers (number, agent_id, friendly_name) values ('01 23 45 67 89', 'f0000000-0000-0000-0000-000000000001', 'national, read as FR')
returning number;
insert into phone_numbers (number, agent_id) values ('555', 'f0000000-0000-0000-0000-000000000002');
\set VERBOSITY terse
-- (terse: the failing row's created_at would change every run)
insert into phone_numbers (number, agent_id, kind) values ('+14155550000', 'f0000000-0000-0000-0000-000000000001', 'mms');
\set VERBOSITY default
insert into phone_numbers (number, agent_id) values ('+14155550000', 'f0000000-0000-0000-0000-0000000000ff');

-- business hours: Mon-Fri 09:00-18:00 Paris, Saturday 22:00-03:00 overnight
insert into business_hours (agent_id, day_of_week, open_time, close_time)
select 'f0000000-0000-0000-0000-000000000001', d, '09:00', '18:00' from generate_series(1, 5) d;
insert into business_hours (agent_id, day_of_week, open_time, close_time)
values ('f0000000-0000-0000-0000-000000000001', 6, '22:00', '03:00');
insert into business_hours (agent_id, day_of_week, open_time, close_time)
values ('f0000000-0000-0000-0000-000000000001', 7, '09:00', '10:00');
insert into business_hours (agent_id, day_of_week, open_time, close_time)
values ('f0000000-0000-0000-0000-000000000001', 1, '09:00', '09:00');
insert into business_hours (agent_id, day_of_week) values ('f0000000-0000-0000-0000-000000000001', 1);
insert into closed_dates (agent_id, day, reason) values ('f0000000-0000-0000-0000-000000000001', '2026-05-01', 'Fête du Travail');

-- is_open (2026-04-30 is a Thursday; Paris is UTC+2 in spring)
select t, is_open('f0000000-0000-0000-0000-000000000001', t)
  from unnest(array['2026-04-30 06:59+00', '2026-04-30 07:00+00', '2026-04-30 15:59+00', '2026-04-30 16:00+00',
                    '2026-05-01 08:00+00', '2026-05-02 20:30+00', '2026-05-03 00:59+00', '2026-05-03 01:00+00',
                    '2026-05-03 08:00+00']::timestamptz[]) t;
select is_open('f0000000-0000-0000-0000-000000000002', '2026-05-03 08:00+00') as no_hours_open;
select is_open('f0000000-0000-0000-0000-0000000000ff', '2026-05-03 08:00+00');
select is_open(null, now());
select is_open('f0000000-0000-0000-0000-000000000002', null);

-- route_inbound: record_inbound's row plus agent_id
select decision, conversation_id is not null as has_conversation, message_id is not null as has_message,
       is_new_conversation, is_new_session, reply, retry_after, remaining, after_hours, quota_remaining, agent_id
  from route_inbound('+1 (415) 555-2671', '+33 6 12 34 56 78', 'bonjour', '{"sid": "SM1"}', '2026-04-30 08:00+00');
select decision, is_new_conversation, reply, after_hours, agent_id
  from route_inbound('+14155552671', '06 12 34 56 78', 'encore', '{}', '2026-04-30 20:00+00');
select m.body, m.decision, m.after_hours, m.phone from messages m
 where m.agent_id = 'f0000000-0000-0000-0000-000000000001' order by m.message_id;

-- route_inbound errors: nothing recorded
select * from route_inbound('+14155559999', '+33612345678', 'x');
select * from route_inbound('+14155552672', '+33612345678', 'x');
update phone_numbers set is_active = false where number = '+14155552673';
select * from route_inbound('+14155552673', '+33612345678', 'x');
update phone_numbers set is_active = true where number = '+14155552673';
select * from route_inbound('415 555 2671', '+33612345678', 'x');
select * from route_inbound('+14155552671', 'not a number', 'x');
select * from route_inbound(null, '+33612345678', 'x');
select * from route_inbound('+14155552671', null, 'x');
create temp table null_body as
select * from route_inbound('+14155552671', '+33612345678', null, '{}', '2026-04-30 08:30+00');
select decision, after_hours, agent_id from null_body;
select body = '' as empty_body from messages where message_id = (select message_id from null_body);
select * from route_inbound('+14155552671', '+33612345678', 'x', null);
select * from route_inbound('+14155552671', '+33612345678', 'x', '{}', null);
select count(*) as messages from messages where agent_id::text like 'f0000000-%';

-- route_call
select call_id is not null as has_call, conversation_id is not null as has_conversation, status, is_new_call,
       agent_id, after_hours
  from route_call('+1 415 555 2672', 'CA100', '+33 6 12 34 56 78', 'ringing', '2026-05-02 21:00+00');
select status, is_new_call, after_hours
  from route_call('+14155552672', 'CA100', '+33612345678', 'completed', '2026-05-02 21:02+00', 120);
select * from route_call('+14155552671', 'CA101', '+33612345678', 'ringing');
select * from route_call('+14155559999', 'CA101', '+33612345678', 'ringing');
select * from route_call('+14155552672', 'CA101', '+33612345678', 'dialing');
select * from route_call(null, null, null, null, null, null, null);
select * from route_call('+14155552672', 'CA102', null, 'ringing');

-- quotas: tiers per agent, set_contact_tier with any spelling
insert into tiers (agent_id, tier, monthly_limit) values ('f0000000-0000-0000-0000-000000000002', 'free', 1),
                                                        ('f0000000-0000-0000-0000-000000000002', 'pro', 3);
\set VERBOSITY terse
insert into tiers (agent_id, tier, monthly_limit) values ('f0000000-0000-0000-0000-000000000002', 'Gold', 3);
insert into tiers (agent_id, tier, monthly_limit) values ('f0000000-0000-0000-0000-000000000002', 'gold', -1);
\set VERBOSITY default
select decision, retry_after, remaining, quota_remaining
  from record_inbound('f0000000-0000-0000-0000-000000000002', '(650) 555-0101', 'one', '{}', '2026-04-30 23:00-07');
select decision, retry_after, remaining, quota_remaining
  from record_inbound('f0000000-0000-0000-0000-000000000002', '(650) 555-0101', 'two', '{}', '2026-04-30 23:30-07');
select * from check_rate_limit('f0000000-0000-0000-0000-000000000002', '650-555-0101', '2026-04-30 23:45-07');
select decision, quota_remaining
  from record_inbound('f0000000-0000-0000-0000-000000000002', '(650) 555-0101', 'may', '{}', '2026-05-01 00:00-07');
select agent_id, phone, tier, total_requests, monthly_requests, requests_month
  from set_contact_tier('f0000000-0000-0000-0000-000000000002', '650.555.0101', 'PRO');
select decision, quota_remaining
  from record_inbound('f0000000-0000-0000-0000-000000000002', '(650) 555-0101', 'pro', '{}', '2026-05-01 00:10-07');
select tier, total_requests, monthly_requests, requests_month, last_active_at
  from contacts where agent_id = 'f0000000-0000-0000-0000-000000000002';
select m.body, m.decision from messages m where m.agent_id = 'f0000000-0000-0000-0000-000000000002' order by m.message_id;
select set_contact_tier('f0000000-0000-0000-0000-000000000002', '12', 'pro');
select set_contact_tier('f0000000-0000-0000-0000-000000000002', '650 555 0101', '');
select set_contact_tier('f0000000-0000-0000-0000-000000000002', '650 555 0101', 'Gold Plus');
select set_contact_tier('f0000000-0000-0000-0000-0000000000ff', '650 555 0101', 'pro');
select set_contact_tier(null, '650 555 0101', 'pro');
select set_contact_tier('f0000000-0000-0000-0000-000000000002', null, 'pro');
select set_contact_tier('f0000000-0000-0000-0000-000000000002', '650 555 0101', null);
insert into contacts (agent_id, phone) values ('f0000000-0000-0000-0000-000000000002', '(650) 555-0102') returning phone, tier;
insert into contacts (agent_id, phone) values ('f0000000-0000-0000-0000-000000000002', 'nope');

-- daily stats count after-hours and quota_exceeded messages (agent's days)
select day, inbound, accepted, disabled, quota_exceeded, after_hours
  from daily_stats('f0000000-0000-0000-0000-000000000001', '2026-04-30', '2026-05-01');
select day, inbound, accepted, disabled, quota_exceeded, after_hours
  from daily_stats('f0000000-0000-0000-0000-000000000002', '2026-04-30', '2026-05-01');
select inbound, quota_exceeded, after_hours from agent_summary('f0000000-0000-0000-0000-000000000002', 400);

-- 0.5.0: agents.has_schedule and has_tiers, derived from the rows (agent_uses)
select a.display_name, a.has_schedule, a.has_tiers, u.has_schedule as uses_schedule, u.has_tiers as uses_tiers
  from agents a, agent_uses(a.agent_id) u
 where a.agent_id in ('f0000000-0000-0000-0000-000000000001', 'f0000000-0000-0000-0000-000000000002')
 order by a.agent_id;
select * from agent_uses('f0000000-0000-0000-0000-0000000000ff');
select * from agent_uses(null);
