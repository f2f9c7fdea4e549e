-- Voice calls: record_call, the call-status state machine (trigger
-- enforce_call_status) and the generic touch_updated_at trigger.
\set SHOW_CONTEXT never
set timezone = 'UTC';
insert into switchboard.agents (agent_id, display_name)
values ('c0000000-0000-0000-0000-000000000001', 'calls agent');
insert into switchboard.agents (agent_id, display_name, default_region)
values ('c0000000-0000-0000-0000-000000000002', 'calls agent in GB', 'GB'),
       ('c0000000-0000-0000-0000-000000000003', 'agent with a bad region', 'ZZ');

-- the life of a call: ringing -> in_progress -> completed
select call_id > 0 as has_id, conversation_id is not null as has_conversation, status, is_new_call
  from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA100', '(201) 555-0123',
                               'ringing', '2025-03-01 10:00:00+00');
select status, is_new_call
  from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA100', '201-555-0123',
                               'in-progress', '2025-03-01 10:00:04+00', null, '{"leg": "a"}');
select status, is_new_call
  from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA100', '+1 201 555 0123',
                               'completed', '2025-03-01 10:01:34.9+00', null, '{"recording": "RE1"}');
select caller, status, started_at, answered_at, ended_at, duration_seconds, metadata
  from switchboard.calls where call_sid = 'CA100';
-- the caller's conversation exists, counts nothing and is linked
select v.phone, v.message_count, v.inbound_count, v.outbound_count, v.first_message_at,
       v.conversation_id = c.conversation_id as linked
  from switchboard.conversations v
  join switchboard.calls c on c.agent_id = v.agent_id and c.call_sid = 'CA100'
 where v.agent_id = 'c0000000-0000-0000-0000-000000000001';
select count(*) as daily_counter_rows from switchboard.agent_daily_counters
 where agent_id = 'c0000000-0000-0000-0000-000000000001';
-- the same final event again is an idempotent no-op; the provider's duration wins
select status, is_new_call
  from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA100', '+12015550123',
                               'COMPLETED', '2025-03-01 10:01:40+00', 91);
select status, ended_at, duration_seconds from switchboard.calls where call_sid = 'CA100';
-- a late event of an earlier state does not move the call back (webhooks race)
select status, is_new_call
  from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA100', '+12015550123',
                               'ringing', '2025-03-01 09:59:58+00', null, '{"late": true}');
select status, started_at, metadata from switchboard.calls where call_sid = 'CA100';
-- a second call from the same caller shares the conversation
select status, is_new_call from switchboard.record_call('c0000000-0000-0000-0000-000000000001',
       'CA101', '2015550123', 'answered', '2025-03-01 11:00:00+00');
select a.conversation_id = b.conversation_id as same_conversation
  from switchboard.calls a, switchboard.calls b
 where a.call_sid = 'CA100' and b.call_sid = 'CA101';

-- provider spellings of every status
select s as given, (switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA2' || n,
                    '+12015550124', s, '2025-03-01 12:00:00+00')).status as stored
  from unnest(array['ringing', 'queued', 'initiated', 'answered', 'In Progress', 'in-progress',
                    'completed', 'failed', 'busy', 'no-answer', 'No_Answer', 'canceled',
                    'Cancelled']) with ordinality as t(s, n);

-- a call first seen when it ends, with the provider's duration
select status from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA300',
       '+12015550125', 'completed', '2025-03-01 13:00:40+00', 40);
select started_at, answered_at, ended_at, duration_seconds from switchboard.calls where call_sid = 'CA300';
-- unanswered final states last 0 seconds
select status from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA301',
       '+12015550125', 'ringing', '2025-03-01 13:10:00+00');
select status from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA301',
       '+12015550125', 'no-answer', '2025-03-01 13:10:30+00');
select answered_at, ended_at, duration_seconds from switchboard.calls where call_sid = 'CA301';
-- the agent's default region reads national spellings
select status from switchboard.record_call('c0000000-0000-0000-0000-000000000002', 'CA400',
       '07400 123456', 'ringing', '2025-03-01 14:00:00+00');
select c.caller, v.phone from switchboard.calls c
  join switchboard.conversations v using (agent_id, conversation_id)
 where c.call_sid = 'CA400';
-- defaults: at = now(), metadata = {}
begin;
select status, is_new_call from switchboard.record_call('c0000000-0000-0000-0000-000000000001',
       'CA500', '+12015550126', 'in_progress');
select started_at = now() as started_now, answered_at = now() as answered_now, metadata
  from switchboard.calls where call_sid = 'CA500';
commit;

-- errors
select * from switchboard.record_call('c0000000-0000-0000-0000-0000000000ff', 'CA1', '+12015550123', 'ringing');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', '12', 'ringing');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', 'call me', 'ringing');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000003', 'CA1', '+12015550123', 'ringing');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', '+12015550123', 'hung up');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', '+12015550123', '');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', '', '+12015550123', 'ringing');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', '+12015550123', 'completed', now(), -1);
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', '+12015550123', 'ringing', now(), null, '[1]');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', '+12015550123', 'ringing', 'infinity');
select * from switchboard.record_call(null, 'CA1', '+12015550123', 'ringing');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', null, '+12015550123', 'ringing');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', null, 'ringing');
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', '+12015550123', null);
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA1', '+12015550123', 'ringing', null);
-- a contradicting final status
select * from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA100', '+12015550123', 'failed');
-- nothing was written by the failed calls
select count(*) from switchboard.calls where call_sid = 'CA1';

-- the trigger on direct DML
insert into switchboard.calls (agent_id, call_sid, caller)
values ('c0000000-0000-0000-0000-000000000001', 'CA600', '+12015550127');
begin;
update switchboard.calls set status = 'answered' where call_sid = 'CA600';
select status, answered_at = now() as answered_now, ended_at, duration_seconds
  from switchboard.calls where call_sid = 'CA600';
commit;
update switchboard.calls set status = 'ringing' where call_sid = 'CA600';
update switchboard.calls set status = 'completed', ended_at = answered_at + interval '75.5 seconds'
 where call_sid = 'CA600';
select status, ended_at - answered_at as talked, duration_seconds from switchboard.calls where call_sid = 'CA600';
update switchboard.calls set status = 'busy' where call_sid = 'CA600';
update switchboard.calls set status = 'in_progress' where call_sid = 'CA600';
update switchboard.calls set status = 'completed', summary = 'asked about opening hours' where call_sid = 'CA600';
update switchboard.calls set status = 'hung up' where call_sid = 'CA600';
insert into switchboard.calls (agent_id, call_sid, caller, status)
values ('c0000000-0000-0000-0000-000000000001', 'CA601', '+12015550127', 'picked up');
-- explicit values are kept
insert into switchboard.calls (agent_id, call_sid, caller, status, started_at, ended_at, duration_seconds)
values ('c0000000-0000-0000-0000-000000000001', 'CA602', '+12015550127', 'canceled',
        '2025-03-01 15:00:00+00', '2025-03-01 15:00:09+00', 3);
select status, answered_at, ended_at, duration_seconds from switchboard.calls where call_sid = 'CA602';

-- misuse of the trigger function
select switchboard.enforce_call_status();
create table public.not_calls (id int, status text);
create trigger t before insert on public.not_calls
    for each row execute function switchboard.enforce_call_status();
insert into public.not_calls values (1, 'ringing');
drop table public.not_calls;
create table public.after_calls (like switchboard.calls including defaults);
create trigger t after insert on public.after_calls
    for each row execute function switchboard.enforce_call_status();
insert into public.after_calls (agent_id, call_id, call_sid, caller)
values ('c0000000-0000-0000-0000-000000000001', 1, 'X', '+12015550123');
drop trigger t on public.after_calls;
create trigger t before insert on public.after_calls
    for each statement execute function switchboard.enforce_call_status();
insert into public.after_calls (agent_id, call_id, call_sid, caller)
values ('c0000000-0000-0000-0000-000000000001', 1, 'X', '+12015550123');
drop trigger t on public.after_calls;
create trigger t before delete on public.after_calls
    for each row execute function switchboard.enforce_call_status();
insert into public.after_calls (agent_id, call_id, call_sid, caller)
values ('c0000000-0000-0000-0000-000000000001', 1, 'X', '+12015550123');
delete from public.after_calls;
select count(*) as not_deleted from public.after_calls;
drop table public.after_calls;

-- touch_updated_at: agents, conversations, calls
update switchboard.agents set updated_at = '2000-01-01', created_at = '2000-01-01'
 where agent_id = 'c0000000-0000-0000-0000-000000000001';
select updated_at from switchboard.agents where agent_id = 'c0000000-0000-0000-0000-000000000001';
begin;
update switchboard.agents set display_name = 'renamed' where agent_id = 'c0000000-0000-0000-0000-000000000001';
select updated_at = now() as touched from switchboard.agents
 where agent_id = 'c0000000-0000-0000-0000-000000000001';
commit;
update switchboard.conversations set updated_at = '2000-01-01' where agent_id = 'c0000000-0000-0000-0000-000000000001';
begin;
update switchboard.conversations set status = 'closed' where agent_id = 'c0000000-0000-0000-0000-000000000001';
select count(*) as conversations, bool_and(updated_at = now()) as touched from switchboard.conversations
 where agent_id = 'c0000000-0000-0000-0000-000000000001';
commit;
update switchboard.calls set updated_at = '2000-01-01' where call_sid = 'CA100';
select updated_at from switchboard.calls where call_sid = 'CA100';
begin;
select status from switchboard.record_call('c0000000-0000-0000-0000-000000000001', 'CA100',
       '+12015550123', 'completed', '2025-03-01 10:01:40+00');
select updated_at = now() as touched from switchboard.calls where call_sid = 'CA100';
commit;

-- touch_updated_at on a table of one's own, and with another column name
create table public.notes (id int primary key, body text,
                           updated_at timestamptz not null default now(),
                           modified timestamp);
create trigger notes_touch before update on public.notes
    for each row execute function switchboard.touch_updated_at();
create trigger notes_touch_modified before update on public.notes
    for each row execute function switchboard.touch_updated_at('modified');
insert into public.notes values (1, 'first', '2000-01-01', '2000-01-01');
begin;
update public.notes set body = 'second';
select updated_at = now() as touched, modified = now()::timestamp as modified_touched from public.notes;
commit;
begin;
update public.notes set body = 'third', updated_at = '2020-02-02';
select body, updated_at, modified = now()::timestamp as modified_touched from public.notes;
update public.notes set updated_at = null;
select updated_at = now() as null_means_now from public.notes;
commit;
drop table public.notes;

-- misuse of touch_updated_at
select switchboard.touch_updated_at();
create table public.touchy (id int, updated_at timestamptz, stamp date);
create trigger t after update on public.touchy
    for each row execute function switchboard.touch_updated_at();
insert into public.touchy values (1, now(), current_date);
update public.touchy set id = 2;
drop trigger t on public.touchy;
create trigger t before update on public.touchy
    for each statement execute function switchboard.touch_updated_at();
update public.touchy set id = 2;
drop trigger t on public.touchy;
create trigger t before insert on public.touchy
    for each row execute function switchboard.touch_updated_at();
insert into public.touchy values (1, now(), current_date);
drop trigger t on public.touchy;
create trigger t before delete on public.touchy
    for each row execute function switchboard.touch_updated_at();
delete from public.touchy;
drop trigger t on public.touchy;
create trigger t before update on public.touchy
    for each row execute function switchboard.touch_updated_at('changed_at');
update public.touchy set id = 2;
drop trigger t on public.touchy;
create trigger t before update on public.touchy
    for each row execute function switchboard.touch_updated_at('stamp');
update public.touchy set id = 2;
drop trigger t on public.touchy;
create trigger t before update on public.touchy
    for each row execute function switchboard.touch_updated_at('updated_at', 'stamp');
update public.touchy set id = 2;
drop table public.touchy;

-- clean up
delete from switchboard.agents where agent_id::text like 'c0000000-%';
