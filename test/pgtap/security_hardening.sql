-- CVE-2018-1058 class: look-alike functions and operators in a schema that
-- comes BEFORE pg_catalog on the caller's search_path.  switchboard's functions,
-- triggers and policies must ignore them.  This file runs in a fresh backend
-- (pg_prove starts one psql per file), so the event functions prepare their
-- kept SPI plans for the first time here, under the hostile search_path.
--
-- The statements under test run with the hostile path and only store what
-- they return in pg_temp.got; the assertions run after the path is restored,
-- because pgTAP's own functions would use the look-alikes too.
begin;
select plan(26);

-- fixture, with the normal search_path
insert into switchboard.agents (agent_id, owner_id, sms_enabled, rate_limit_per_hour)
values ('a0000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-000000000001', true, 2),
       ('b0000000-0000-4000-8000-00000000000b', '0b000000-0000-4000-8000-000000000002', true, 10);
create role sb_hardening_app nologin;
select from switchboard.grant_usage('sb_hardening_app');
grant usage on schema public to sb_hardening_app;

-- the look-alikes
create function public.normalize_phone(text, text default null) returns text
    language sql as $$ select '+19990000000' $$;
create function public.try_normalize_phone(text, text default null) returns text
    language sql as $$ select '+19990000000' $$;
create function public.lower(text) returns text language sql as $$ select 'evil' $$;
create function public.upper(text) returns text language sql as $$ select 'EV' $$;
create function public.now() returns timestamptz language sql as $$ select '2000-01-01 00:00+00'::timestamptz $$;
create function public.gen_random_uuid() returns uuid
    language sql as $$ select 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'::uuid $$;
create function public.current_setting(text) returns text
    language sql as $$ select '{"sub":"0b000000-0000-4000-8000-000000000002"}' $$;
create function public.current_setting(text, boolean) returns text
    language sql as $$ select '{"sub":"0b000000-0000-4000-8000-000000000002"}' $$;
create function public.evil_eq(uuid, uuid) returns boolean language sql as $$ select true $$;
create function public.evil_eq(text, text) returns boolean language sql as $$ select true $$;
create function public.evil_eq(bigint, bigint) returns boolean language sql as $$ select true $$;
create function public.evil_eq(date, date) returns boolean language sql as $$ select true $$;
create function public.evil_cmp(timestamptz, timestamptz) returns boolean language sql as $$ select true $$;
create function public.evil_cmp(integer, integer) returns boolean language sql as $$ select true $$;
create function public.evil_plus(integer, integer) returns integer language sql as $$ select 1000 $$;
create function public.evil_arrow(jsonb, text) returns text
    language sql as $$ select '0b000000-0000-4000-8000-000000000002' $$;
create function public.evil_concat(jsonb, jsonb) returns jsonb language sql as $$ select '{"evil":true}'::jsonb $$;
create operator public.= (leftarg = uuid, rightarg = uuid, function = public.evil_eq);
create operator public.= (leftarg = text, rightarg = text, function = public.evil_eq);
create operator public.= (leftarg = bigint, rightarg = bigint, function = public.evil_eq);
create operator public.= (leftarg = date, rightarg = date, function = public.evil_eq);
create operator public.< (leftarg = timestamptz, rightarg = timestamptz, function = public.evil_cmp);
create operator public.> (leftarg = timestamptz, rightarg = timestamptz, function = public.evil_cmp);
create operator public.>= (leftarg = integer, rightarg = integer, function = public.evil_cmp);
create operator public.> (leftarg = integer, rightarg = integer, function = public.evil_cmp);
create operator public.+ (leftarg = integer, rightarg = integer, function = public.evil_plus);
create operator public.->> (leftarg = jsonb, rightarg = text, function = public.evil_arrow);
create operator public.|| (leftarg = jsonb, rightarg = jsonb, function = public.evil_concat);

create temp table got (k text primary key, v text);
grant all on got to sb_hardening_app;

-- as the app role (row-level security applies), with the caller's JWT
create function pg_temp.as_app(sub text, query text) returns text language plpgsql as $$
declare
    result text;
begin
    begin
        perform pg_catalog.set_config('request.jwt.claims', pg_catalog.format('{"sub":"%s"}', sub), true);
        perform pg_catalog.set_config('role', 'sb_hardening_app', true);
        execute query into result;
        raise sqlstate 'SBOK0';
    exception when others then
        if sqlstate operator(pg_catalog.<>) 'SBOK0' then
            result := sqlstate operator(pg_catalog.||) ': ' operator(pg_catalog.||) sqlerrm;
        end if;
    end;
    return result;
end
$$;

-- as the current user, any error caught
create function pg_temp.try_sql(query text) returns text language plpgsql as $$
declare
    result text;
begin
    execute query into result;
    return result;
exception when others then
    return sqlstate operator(pg_catalog.||) ': ' operator(pg_catalog.||) sqlerrm;
end
$$;

-- ===== hostile search_path from here ===========================================
set local search_path = public, pg_catalog, switchboard;

-- the trap is armed: unqualified SQL does pick the look-alikes
insert into got values ('armed_uuid', ('a0000000-0000-4000-8000-00000000000a'::uuid = 'b0000000-0000-4000-8000-00000000000b'::uuid)::text);
insert into got values ('armed_text', ('a'::text = 'b'::text)::text);
insert into got values ('armed_normalize', normalize_phone('(201) 555-0123', 'US'));

-- triggers: blocked_numbers normalizes with the agent's region; agents upper-cases it
insert into switchboard.blocked_numbers (agent_id, phone, reason)
values ('a0000000-0000-4000-8000-00000000000a', '(201) 555-0111', 'spam');
insert into got select 'blocked_phone', phone from switchboard.blocked_numbers;
insert into switchboard.agents (agent_id, default_region) values ('c0000000-0000-4000-8000-00000000000c', 'gb');
insert into got select 'agent_region', default_region from switchboard.agents
 where agent_id operator(pg_catalog.=) 'c0000000-0000-4000-8000-00000000000c';

-- the event path as the superuser (no row-level security)
insert into got select 'in_blocked', decision
  from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '201-555-0111', 'x');
insert into got select 'in_1', decision || ',' || is_new_conversation || ',' || remaining
  from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '+1 201 555 0142', 'one');
insert into got select 'in_2', decision || ',' || is_new_conversation || ',' || remaining
  from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '+1 201 555 0142', 'two');
insert into got select 'in_3', decision from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '+12015550142', 'three');
insert into got select 'check_new', decision || ',' || remaining
  from switchboard.check_rate_limit('a0000000-0000-4000-8000-00000000000a', '+12015550143');
insert into got select 'upsert', (conversation_id operator(pg_catalog.=) 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'::uuid)::text || ',' || is_new_conversation
  from switchboard.upsert_conversation('a0000000-0000-4000-8000-00000000000a', '+12015550144');
insert into got select 'outbound', (switchboard.record_outbound('a0000000-0000-4000-8000-00000000000a',
        (select conversation_id from switchboard.conversations
          where agent_id operator(pg_catalog.=) 'a0000000-0000-4000-8000-00000000000a'::uuid
            and phone operator(pg_catalog.=) '+12015550142'), 'reply', '{"k":1}') operator(pg_catalog.>) 0)::text;
insert into got select 'call', status || ',' || is_new_call
  from switchboard.record_call('a0000000-0000-4000-8000-00000000000a', 'CA-h', '(201) 555-0142', 'ringing');
insert into got select 'call_2', status || ',' || is_new_call
  from switchboard.record_call('a0000000-0000-4000-8000-00000000000a', 'CA-h', '(201) 555-0142', 'in_progress', pg_catalog.now(), null, '{"b":2}');
insert into got select 'call_meta', metadata::text from switchboard.calls where call_sid operator(pg_catalog.=) 'CA-h';
insert into got values ('unknown', pg_temp.try_sql($q$select decision from switchboard.record_inbound('f0000000-0000-4000-8000-00000000000f', '+12015550142', 'x')$q$));

-- as the app role: the policies, current_user_id and the 42501 path
insert into got values ('app_agents', pg_temp.as_app('0a000000-0000-4000-8000-000000000001',
    'select pg_catalog.count(*) from switchboard.agents'));
insert into got values ('app_uid', pg_temp.as_app('0a000000-0000-4000-8000-000000000001',
    'select switchboard.current_user_id()'));
insert into got values ('app_owner_inbound', pg_temp.as_app('0a000000-0000-4000-8000-000000000001',
    $q$select decision from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '+12015550145', 'hi')$q$));
insert into got values ('app_other_inbound', pg_temp.as_app('0b000000-0000-4000-8000-000000000002',
    $q$select decision from switchboard.record_inbound('a0000000-0000-4000-8000-00000000000a', '+12015550145', 'hi')$q$));
insert into got values ('app_other_unknown', pg_temp.as_app('0b000000-0000-4000-8000-000000000002',
    $q$select decision from switchboard.record_inbound('f0000000-0000-4000-8000-00000000000f', '+12015550145', 'hi')$q$));
insert into got values ('app_other_conversations', pg_temp.as_app('0b000000-0000-4000-8000-000000000002',
    'select pg_catalog.count(*) from switchboard.conversations'));
insert into got values ('app_other_messages', pg_temp.as_app('0b000000-0000-4000-8000-000000000002',
    'select pg_catalog.count(*) from switchboard.messages'));

-- ===== back to a sane path (pg_catalog first) for the assertions ================
set local search_path = pg_catalog, public;
create function pg_temp.got(text) returns text language sql as $$ select v from pg_temp.got where k = $1 $$;

select is(pg_temp.got('armed_uuid'), 'true', 'the trap is armed: an unqualified uuid = uses public.=');
select is(pg_temp.got('armed_text'), 'true', 'the trap is armed: an unqualified text = uses public.=');
select is(pg_temp.got('armed_normalize'), '+19990000000', 'the trap is armed: unqualified normalize_phone is the look-alike');

select is(pg_temp.got('blocked_phone'), '+12015550111', 'blocked_numbers trigger normalizes with switchboard''s normalizer');
select is(pg_temp.got('agent_region'), 'GB', 'agents trigger upper-cases the region itself');
select is(pg_temp.got('in_blocked'), 'blocked', 'record_inbound: the blocked number is blocked');
select is(pg_temp.got('in_1'), 'accepted,true,1', 'record_inbound: first message opens a conversation, 1 left');
select is(pg_temp.got('in_2'), 'accepted,false,0', 'record_inbound: second message continues it, 0 left');
select is(pg_temp.got('in_3'), 'rate_limited', 'record_inbound: third message in the hour is limited');
select is(pg_temp.got('check_new'), 'accepted,1', 'check_rate_limit: a new number would be accepted');
select is(pg_temp.got('upsert'), 'false,true', 'upsert_conversation: new conversation, id from the real gen_random_uuid');
select is(pg_temp.got('outbound'), 'true', 'record_outbound stores a message');
select is(pg_temp.got('call'), 'ringing,true', 'record_call: new call');
select is(pg_temp.got('call_2'), 'in_progress,false', 'record_call: same call moves on');
select is(pg_temp.got('call_meta')::jsonb, '{"b": 2}'::jsonb, 'record_call merges metadata with the real ||');
select is(pg_temp.got('unknown'), 'P0002: agent "f0000000-0000-4000-8000-00000000000f" does not exist',
          'an unknown agent is still unknown (the agent lookup is not hijacked)');
select is((select array[inbound_count, outbound_count, message_count] from switchboard.conversations
            where agent_id = 'a0000000-0000-4000-8000-00000000000a' and phone = '+12015550142'),
          array[2, 1, 3], 'conversation counters use the real +');
select is((select count(*)::int from switchboard.messages where agent_id = 'a0000000-0000-4000-8000-00000000000a'),
          5, 'every message is stored for the agent (blocked, 2 accepted, rate-limited, outbound)');
select is((select count(*)::int from switchboard.messages where created_at < '2001-01-01'), 0,
          'no time comes from the look-alike now()');
select is((select count(*)::int from switchboard.conversations
            where session_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee' or conversation_id = 'eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee'),
          0, 'no id comes from the look-alike gen_random_uuid()');

select is(pg_temp.got('app_agents'), '1', 'RLS: the owner sees only its agent (policy = is not hijacked)');
select is(pg_temp.got('app_uid'), '0a000000-0000-4000-8000-000000000001',
          'current_user_id ignores public.current_setting and public.->>');
select is(pg_temp.got('app_owner_inbound'), 'accepted', 'the owner records through RLS');
select is(pg_temp.got('app_other_inbound'), '42501: permission denied for agent "a0000000-0000-4000-8000-00000000000a"',
          'another owner still gets 42501');
select is(pg_temp.got('app_other_unknown'), '42501: permission denied for agent "f0000000-0000-4000-8000-00000000000f"',
          'and the same for an unknown agent');
select is(pg_temp.got('app_other_conversations') || '/' || pg_temp.got('app_other_messages'), '0/0',
          'another owner sees no conversation and no message');

select * from finish();
rollback;
